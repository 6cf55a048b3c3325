"""The main window: the welcome view until a stack exists, then a sidebar of pages.

Pages are registered by whoever builds them (``add_page``); the window only arranges them. The
toolbar holds the stack switcher and the connection indicator. The window remembers its geometry,
the sidebar width, the last stack and the last page in the QSettings it is given.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.ui.connection_indicator import ConnectionIndicator
from llmproxy_desktop.ui.pages.welcome import (
    ADD_STACK_TEXT,
    ADD_STACK_TOOLTIP,
    APP_NAME,
    WelcomePage,
)
from llmproxy_desktop.ui.resources import app_icon
from llmproxy_desktop.ui.sidebar import Sidebar
from llmproxy_desktop.ui.stack_switcher import StackSwitcher

GEOMETRY_KEY = "main_window/geometry"
STATE_KEY = "main_window/state"
SPLITTER_KEY = "main_window/splitter"
LAST_STACK_KEY = "main_window/last_stack"
LAST_PAGE_KEY = "main_window/last_page"
DEFAULT_SIZE = (960, 640)
MINIMUM_SIZE = (640, 420)
SIDEBAR_WIDTH = 200
_PAGE_SHORTCUTS = 9  # Ctrl+1 … Ctrl+9 go to the first nine pages


class MainWindow(QMainWindow):
    """The application window.

    ``settings`` keeps what the window remembers between runs; ``profile_store`` lists the stacks
    (default: the user's stacks file).

    Signals: ``add_stack_requested()`` from File ▸ Add Stack…, the welcome button and the stack
    switcher; ``stack_changed(name)`` when another stack becomes current; ``page_changed(key)``
    when another page is shown.
    """

    add_stack_requested = Signal()
    stack_changed = Signal(str)
    page_changed = Signal(str)

    def __init__(
        self,
        settings: QSettings,
        parent: QWidget | None = None,
        *,
        keyring_warning: str | None = None,
        profile_store: ProfileStore | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._page_actions: list[QAction] = []
        self._stack_commands: list[QAction] = []
        self._pages_by_key: dict[str, QWidget] = {}
        self._provisional = False  # True while showing the first page in place of the last one
        self._wanted_page = _text_setting(settings, LAST_PAGE_KEY)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)
        self.setUnifiedTitleAndToolBarOnMac(True)

        self.welcome_page = WelcomePage(keyring_warning)
        self.welcome_page.add_stack_requested.connect(self.add_stack_requested)
        self.sidebar = Sidebar()
        self.sidebar.page_selected.connect(self._on_page_selected)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.splitter = self._build_splitter()
        self._views = QStackedWidget()
        self._views.addWidget(self.welcome_page)
        self._views.addWidget(self.splitter)
        self.setCentralWidget(self._views)

        self.stack_switcher = StackSwitcher(profile_store or ProfileStore())
        self.connection_indicator = ConnectionIndicator()
        self._build_actions()
        self._build_menus()
        self.toolbar = self._build_toolbar()
        self._restore_geometry()
        self._restore_stack()
        self.stack_switcher.stack_selected.connect(self._on_stack_selected)
        self.stack_switcher.add_stack_requested.connect(self.add_stack_requested)
        self._update_view()

    # --- building -------------------------------------------------------------------------

    def _build_splitter(self) -> QSplitter:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("shell")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.sidebar)
        # The pages over an optional footer (the Apply bar), which spans the page area only.
        content = QWidget()
        content.setObjectName("content")
        self._content_layout = QVBoxLayout(content)
        self._content_layout.setContentsMargins(0, 0, 0, 0)
        self._content_layout.setSpacing(0)
        self._content_layout.addWidget(self.pages, 1)
        splitter.addWidget(content)
        splitter.setStretchFactor(1, 1)  # a wider window widens the page, not the sidebar
        splitter.setSizes([SIDEBAR_WIDTH, DEFAULT_SIZE[0] - SIDEBAR_WIDTH])
        self.sidebar.setMinimumWidth(140)
        return splitter

    def _build_actions(self) -> None:
        self.add_stack_action = QAction(ADD_STACK_TEXT, self)
        self.add_stack_action.setStatusTip(ADD_STACK_TOOLTIP)
        self.add_stack_action.triggered.connect(self.add_stack_requested)
        self.toggle_sidebar_action = QAction("Show Sidebar", self)
        self.toggle_sidebar_action.setCheckable(True)
        self.toggle_sidebar_action.setChecked(True)
        self.toggle_sidebar_action.toggled.connect(self.sidebar.setVisible)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        # Closing (rather than QApplication.quit) lets closeEvent save the geometry.
        self.quit_action.triggered.connect(self.close)

    def _build_menus(self) -> None:
        # HIG: every command lives in a menu, toolbar ones included, even while disabled.
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.add_stack_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        # The toolbar's stack switcher, as a menu: one checkable entry per stack.
        self.stack_menu = self.menuBar().addMenu("&Stack")
        self._stack_actions = QActionGroup(self)
        self._stack_actions.setExclusive(True)
        self._stack_actions.triggered.connect(lambda action: self.select_stack(action.text()))
        self.view_menu = self.menuBar().addMenu("&View")
        self.view_menu.addAction(self.toggle_sidebar_action)
        self.view_menu.addSeparator()  # page actions follow, one per registered page

    def _build_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Toolbar")
        toolbar.setObjectName("mainToolbar")  # saveState needs a name
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setContentsMargins(4, 0, 4, 0)  # line the switcher up with the sidebar rows
        toolbar.toggleViewAction().setEnabled(False)  # no empty window without a toolbar
        toolbar.addWidget(self.stack_switcher)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addWidget(self.connection_indicator)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        return toolbar

    # --- pages ----------------------------------------------------------------------------

    def set_footer(self, widget: QWidget) -> None:
        """Put `widget` under the pages (e.g. the Apply bar); it hides itself when idle."""
        self._content_layout.addWidget(widget)

    def add_page(
        self, section: str, key: str, title: str, widget: QWidget, icon: QIcon | None = None
    ) -> None:
        """Register ``widget`` as the page ``key``, listed as ``title`` under ``section``.

        The first page registered is shown, unless the page shown last time comes later.
        Raises ValueError when ``key`` is already registered.
        """
        self.sidebar.add_page(section, key, title, icon)
        widget.setObjectName(widget.objectName() or f"page_{key}")
        self.pages.addWidget(widget)
        self._pages_by_key[key] = widget
        self._add_page_action(key, title)
        if key == self._wanted_page:
            self.show_page(key)
        elif self.current_page_key() is None:
            # A stand-in until the remembered page is registered: not a choice to remember.
            self._provisional = True
            self.show_page(key)
            self._provisional = False

    def _add_page_action(self, key: str, title: str) -> None:
        action = QAction(title, self)
        if len(self._page_actions) < _PAGE_SHORTCUTS:
            action.setShortcut(QKeySequence(f"Ctrl+{len(self._page_actions) + 1}"))
        action.triggered.connect(lambda: self.show_page(key))
        self._page_actions.append(action)
        self.view_menu.addAction(action)
        self.addAction(action)  # shortcuts work while the menu bar is hidden (offscreen, tests)

    def page(self, key: str) -> QWidget:
        """The widget registered as ``key``; raises KeyError."""
        return self._pages_by_key[key]

    def page_keys(self) -> list[str]:
        """The registered page keys in sidebar order."""
        return self.sidebar.page_keys()

    def show_page(self, key: str) -> None:
        """Select ``key`` in the sidebar and show its page; raises KeyError for an unknown key."""
        if key not in self._pages_by_key:
            raise KeyError(key)
        self.sidebar.select(key)

    def current_page_key(self) -> str | None:
        """The key of the page shown, or None before any page is registered."""
        return self.sidebar.current_key()

    def _on_page_selected(self, key: str) -> None:
        self.pages.setCurrentWidget(self._pages_by_key[key])
        if not self._provisional:
            self._settings.setValue(LAST_PAGE_KEY, key)
            self._wanted_page = key
        self.page_changed.emit(key)

    # --- stacks ---------------------------------------------------------------------------

    def current_stack(self) -> str | None:
        """The name of the stack the window shows, or None when there is none."""
        return self.stack_switcher.current_stack()

    def select_stack(self, name: str) -> bool:
        """Make ``name`` the current stack; False if there is no such stack."""
        return self.stack_switcher.select_stack(name)

    def refresh_stacks(self) -> None:
        """Re-read the stacks (after one was added or removed) and switch views as needed."""
        self.stack_switcher.refresh()
        self._update_view()

    def _rebuild_stack_menu(self) -> None:
        self.stack_menu.clear()
        for action in self._stack_actions.actions():
            self._stack_actions.removeAction(action)
            action.deleteLater()
        for name in self.stack_switcher.stack_names():
            action = QAction(name, self._stack_actions)
            action.setCheckable(True)
            action.setChecked(name == self.current_stack())
            self.stack_menu.addAction(action)
        self.stack_menu.addSeparator()
        for action in self._stack_commands:
            self.stack_menu.addAction(action)
        if self._stack_commands:
            self.stack_menu.addSeparator()
        self.stack_menu.addAction(self.add_stack_action)

    def add_stack_command(self, action: QAction) -> None:
        """Add a command about the current stack to the Stack menu (it survives the menu's
        rebuilds); its shortcut works wherever the window has focus."""
        self._stack_commands.append(action)
        self.addAction(action)
        self._rebuild_stack_menu()

    def _check_stack_action(self, name: str) -> None:
        for action in self._stack_actions.actions():
            action.setChecked(action.text() == name)

    def _restore_stack(self) -> None:
        last = _text_setting(self._settings, LAST_STACK_KEY)
        if last is not None:
            self.stack_switcher.select_stack(last)  # gone since? the first stack stays

    def _on_stack_selected(self, name: str) -> None:
        self._settings.setValue(LAST_STACK_KEY, name)
        self._check_stack_action(name)
        self.stack_changed.emit(name)

    def _update_view(self) -> None:
        """The welcome view without stacks (no toolbar: there is nothing to switch or show)."""
        has_stacks = self.current_stack() is not None
        self._rebuild_stack_menu()
        self._views.setCurrentWidget(self.splitter if has_stacks else self.welcome_page)
        self.toolbar.setVisible(has_stacks)
        self.toggle_sidebar_action.setEnabled(has_stacks)
        self.welcome_page.set_store_error(self.stack_switcher.load_error)

    # --- geometry -------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self._settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(*DEFAULT_SIZE)
        state = self._settings.value(STATE_KEY)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = self._settings.value(SPLITTER_KEY)
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)

    def save_geometry(self) -> None:
        """Write the window geometry, toolbar state and sidebar width to the settings."""
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.setValue(STATE_KEY, self.saveState())
        self._settings.setValue(SPLITTER_KEY, self.splitter.saveState())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the geometry, then close."""
        self.save_geometry()
        super().closeEvent(event)


def _text_setting(settings: QSettings, key: str) -> str | None:
    """A string setting, or None when it is missing or not text (a hand-edited file)."""
    value = settings.value(key)
    return value if isinstance(value, str) and value else None
