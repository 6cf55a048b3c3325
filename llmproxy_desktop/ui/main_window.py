"""The main window: for now a menu bar and the welcome page; it remembers its geometry."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from llmproxy_desktop.ui.pages.welcome import (
    ADD_STACK_TEXT,
    ADD_STACK_TOOLTIP,
    APP_NAME,
    WelcomePage,
)
from llmproxy_desktop.ui.resources import app_icon

GEOMETRY_KEY = "main_window/geometry"
STATE_KEY = "main_window/state"
DEFAULT_SIZE = (960, 640)
MINIMUM_SIZE = (640, 420)


class MainWindow(QMainWindow):
    """The application window; ``settings`` is where its geometry is kept between runs."""

    def __init__(
        self,
        settings: QSettings,
        parent: QWidget | None = None,
        *,
        keyring_warning: str | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)

        self.welcome_page = WelcomePage(keyring_warning)
        self.setCentralWidget(self.welcome_page)
        self._build_menus()
        self._restore_geometry()

    def _build_menus(self) -> None:
        # HIG: every command lives in a menu, even while it is disabled.
        file_menu = self.menuBar().addMenu("&File")
        self.add_stack_action = QAction(ADD_STACK_TEXT, self)
        self.add_stack_action.setEnabled(False)
        self.add_stack_action.setStatusTip(ADD_STACK_TOOLTIP)
        file_menu.addAction(self.add_stack_action)
        file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        # Closing (rather than QApplication.quit) lets closeEvent save the geometry.
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

    def _restore_geometry(self) -> None:
        geometry = self._settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(*DEFAULT_SIZE)
        state = self._settings.value(STATE_KEY)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_geometry(self) -> None:
        """Write the window geometry and toolbar/dock state to the settings."""
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.setValue(STATE_KEY, self.saveState())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the geometry, then close."""
        self.save_geometry()
        super().closeEvent(event)
