"""The source-list sidebar: pages grouped under section titles, at most two levels (HIG).

Only registered pages appear, and a section appears with its first page, so the list never shows
an empty group. Section titles are not selectable and keyboard navigation skips them.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from llmproxy_desktop.ui.theme import TextStyle, text_font

# The sections in the order they are shown; a section not listed here comes after them.
SECTIONS = ("Overview", "Configuration", "Operations")
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_ROW_HEIGHT = 28
_TITLE_HEIGHT = 26
# No indentation: as in Finder, titles and pages share one left edge (and a branch area would
# draw a seam inside the selection).
_INDENT = 0
_INSET = 8

AnyIndex = QModelIndex | QPersistentModelIndex


class _SidebarDelegate(QStyledItemDelegate):
    """Draws section titles small, semibold and in the secondary colour, pages at body size."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """Give section titles their own font and colour; they are disabled only to be skipped."""
        super().initStyleOption(option, index)
        if index.parent().isValid():
            return
        font = text_font(TextStyle.SUBHEADLINE, option.font)
        font.setWeight(font.Weight.DemiBold)
        option.font = font
        palette = QPalette(option.palette)
        # Disabled text would look greyed out; a title is secondary, not unavailable.
        secondary = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText)
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, secondary)
        option.palette = palette

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        """Even rows: fixed heights keep the list calm however the font renders."""
        hint = super().sizeHint(option, index)
        minimum = _ROW_HEIGHT if index.parent().isValid() else _TITLE_HEIGHT
        return QSize(hint.width(), max(hint.height(), minimum))


class Sidebar(QTreeView):
    """Pages under section titles; emits ``page_selected(key)`` when the selection moves."""

    page_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAccessibleName("Sidebar")
        self._model = QStandardItemModel(self)
        self._sections: dict[str, QStandardItem] = {}
        self._pages: dict[str, QStandardItem] = {}
        self.setModel(self._model)
        self.setItemDelegate(_SidebarDelegate(self))
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setExpandsOnDoubleClick(False)
        self.setIndentation(_INDENT)
        self.setUniformRowHeights(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFrameShape(QTreeView.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A tone of its own, from the palette: the source list reads as chrome, not content, and
        # follows light/dark without custom colours.
        self.viewport().setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setAutoFillBackground(True)
        self.selectionModel().currentChanged.connect(self._on_current_changed)

    def updateGeometries(self) -> None:
        """Inset the rows, so titles and the selection do not touch the window edge.

        QTreeView resets the viewport margins here (for its header), so they are set after it.
        """
        super().updateGeometries()
        inset = QMargins(_INSET, _INSET // 2, _INSET, _INSET)
        if self.viewportMargins() != inset:  # setting them lays out again: no loop
            self.setViewportMargins(inset)

    def add_page(self, section: str, key: str, title: str, icon: QIcon | None = None) -> None:
        """Add a page entry under ``section`` (created when needed); ``key`` must be new."""
        if key in self._pages:
            raise ValueError(f"a page with the key {key!r} is already in the sidebar")
        item = QStandardItem(title)
        item.setData(key, KEY_ROLE)
        item.setToolTip(title)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        if icon is not None:
            item.setIcon(icon)
        parent = self._section_item(section)
        parent.appendRow(item)
        self._pages[key] = item
        self.expand(parent.index())

    def _section_item(self, section: str) -> QStandardItem:
        existing = self._sections.get(section)
        if existing is not None:
            return existing
        item = QStandardItem(section)
        item.setAccessibleText(section)
        # No flags: disabled items are skipped by the keyboard and cannot be selected.
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self._model.insertRow(self._section_row(section), item)
        self._sections[section] = item
        return item

    def _section_row(self, section: str) -> int:
        """Where a new section goes: known sections in SECTIONS order, others at the end."""
        if section not in SECTIONS:
            return self._model.rowCount()
        rank = SECTIONS.index(section)
        shown = [self._model.item(row).text() for row in range(self._model.rowCount())]
        return sum(1 for name in shown if name in SECTIONS and SECTIONS.index(name) < rank)

    def sections(self) -> list[str]:
        """The section titles shown, top to bottom."""
        return [self._model.item(row).text() for row in range(self._model.rowCount())]

    def page_keys(self, section: str | None = None) -> list[str]:
        """The page keys shown (in ``section`` only, if given), top to bottom."""
        keys: list[str] = []
        for row in range(self._model.rowCount()):
            parent = self._model.item(row)
            if section is not None and parent.text() != section:
                continue
            keys.extend(str(parent.child(i).data(KEY_ROLE)) for i in range(parent.rowCount()))
        return keys

    def select(self, key: str) -> None:
        """Select the page ``key``; raises KeyError for a page never added."""
        index = self._pages[key].index()
        self.setCurrentIndex(index)

    def current_key(self) -> str | None:
        """The key of the selected page, or None before any page is selected."""
        index = self.currentIndex()
        key = index.data(KEY_ROLE) if index.isValid() else None
        return str(key) if key is not None else None

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = current.data(KEY_ROLE)
        if key is not None:
            self.page_selected.emit(str(key))
