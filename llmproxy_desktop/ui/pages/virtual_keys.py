"""The Virtual Keys page (issue #6 §1): every key of the stack's LiteLLM, page by page, with
search by alias, and create / edit / block / regenerate / delete.

The page talks to the stack only through a `KeysService` (defined here; the window implements
it with jobs on the stack's worker, so each answer arrives on the GUI thread). After every
change the list is read again from LiteLLM: what the table shows comes from LiteLLM, never from
widget state. Answers to a search or page request that an admin has since replaced (typing on)
are dropped, so a slow old answer never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import IntEnum
from typing import Final, Protocol

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.virtual_keys import CreatedKey, KeyPage, KeySpec, VirtualKey
from llmproxy_desktop.ui.sheets._form_sheet import error_label, show_error
from llmproxy_desktop.ui.sheets.key_sheet import KeySheet, ShowOnceSheet, confirm_key_action
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    status_colour,
)

__all__ = ["Column", "KeysService", "KeysTableModel", "VirtualKeysPage"]

_AnyIndex = QModelIndex | QPersistentModelIndex
KEY_ROLE: Final = Qt.ItemDataRole.UserRole
SEARCH_DELAY_MS: Final = 300
EMPTY_TEXT: Final = "No virtual keys yet. Create one with New Key."
NO_MATCH_TEXT: Final = "No key's alias contains {text!r}."

Failed = Callable[[str], None]


class KeysService(Protocol):
    """What the page asks of the stack. Every method returns at once; exactly one of `done` or
    `failed` is called later on the GUI thread (`failed` with one sentence)."""

    def list_page(
        self, page: int, search: str, done: Callable[[KeyPage], None], failed: Failed
    ) -> None:
        """One page of keys (1-based, newest first); `search` filters aliases ("" = all)."""
        ...

    def create_key(self, spec: KeySpec, done: Callable[[CreatedKey], None], failed: Failed) -> None:
        """Create a key (ops.keys.create_key with the applied model groups)."""
        ...

    def update_key(
        self, token: str, spec: KeySpec, done: Callable[[VirtualKey], None], failed: Failed
    ) -> None:
        """Edit a key (ops.keys.update_key); `done` gets the key as LiteLLM now holds it."""
        ...

    def set_blocked(
        self, token: str, blocked: bool, done: Callable[[None], None], failed: Failed
    ) -> None:
        """Block or unblock a key."""
        ...

    def regenerate_key(
        self, token: str, done: Callable[[CreatedKey], None], failed: Failed
    ) -> None:
        """A new secret for a key (LiteLLM Enterprise only; otherwise `failed` says so)."""
        ...

    def delete_key(self, token: str, done: Callable[[None], None], failed: Failed) -> None:
        """Delete a key."""
        ...


class Column(IntEnum):
    """The keys table's columns, in display order."""

    ALIAS = 0
    KEY = 1
    MODELS = 2
    SPEND = 3
    PERIOD = 4
    RESETS = 5
    EXPIRES = 6
    RPM = 7
    TPM = 8
    STATUS = 9
    LAST_ACTIVE = 10


HEADERS: Final = (
    "Alias",
    "Key",
    "Models",
    "Spend / Budget",
    "Period",
    "Resets",
    "Expires",
    "RPM",
    "TPM",
    "Status",
    "Last Active",
)


def _when(value: datetime | None, empty: str = "") -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else empty


def status_text(key: VirtualKey, now: datetime) -> str:
    """ "Blocked", "Expired" or "Active", as LiteLLM derives a key's status."""
    if key.blocked:
        return "Blocked"
    return "Expired" if key.is_expired(now) else "Active"


def cells(key: VirtualKey, now: datetime) -> tuple[str, ...]:
    """The display values of one key, by Column."""
    budget = "no budget" if key.max_budget is None else f"${key.max_budget:,.2f}"
    return (
        key.alias or "",
        key.key_name,
        ", ".join(key.models) or "All models",
        f"${key.spend:,.2f} / {budget}",
        key.budget_duration or "",
        _when(key.budget_reset_at),
        _when(key.expires, "Never"),
        "" if key.rpm_limit is None else f"{key.rpm_limit:,}",
        "" if key.tpm_limit is None else f"{key.tpm_limit:,}",
        status_text(key, now),
        _when(key.last_active, "Never used"),
    )


class KeysTableModel(QAbstractTableModel):
    """Keys as rows in LiteLLM's order (newest first); blocked and expired rows in red."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keys: list[VirtualKey] = []
        self._cells: list[tuple[str, ...]] = []
        self._palette = QPalette()

    def set_keys(self, keys: Sequence[VirtualKey], palette: QPalette, now: datetime) -> None:
        """Show exactly these keys."""
        self.beginResetModel()
        self.keys = list(keys)
        self._cells = [cells(k, now) for k in self.keys]
        self._palette = palette
        self.endResetModel()

    def append_keys(self, keys: Sequence[VirtualKey], now: datetime) -> None:
        """Add a further page's keys (those not shown yet) at the end."""
        shown = {k.token for k in self.keys}
        fresh = [k for k in keys if k.token not in shown]
        if not fresh:
            return
        first = len(self.keys)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self.keys.extend(fresh)
        self._cells.extend(cells(k, now) for k in fresh)
        self.endInsertRows()

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.keys)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self._cells[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row[index.column()]
        if role == KEY_ROLE:
            return self.keys[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == Column.MODELS:
            return row[Column.MODELS]
        if role == Qt.ItemDataRole.ForegroundRole and row[Column.STATUS] != "Active":
            return status_colour(StatusColour.BAD, self._palette)
        return None


class VirtualKeysPage(QWidget):
    """The keys table with search, Load More, and the key actions."""

    def __init__(self, service: KeysService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("virtualKeysPage")
        self._service = service
        self._groups: list[str] = []
        self._generation = 0  # bumps on every new listing; stale answers are dropped
        self._page: KeyPage | None = None
        self._loading = False
        self.sheet: KeySheet | None = None
        self.secret_sheet: ShowOnceSheet | None = None
        self.confirm_box: QMessageBox | None = None
        self.table_model = KeysTableModel(self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self._build()
        self._connect()
        self._refresh_state()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search aliases")
        self.search_edit.setClearButtonEnabled(True)
        self.new_button = QPushButton("New Key…")
        self.edit_button = QPushButton("Edit…")
        self.block_button = QPushButton("Block")
        self.regenerate_button = QPushButton("Regenerate…")
        self.delete_button = QPushButton("Delete…")
        self.refresh_button = QPushButton("Refresh")
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.search_edit, 1)
        for button in (
            self.new_button,
            self.edit_button,
            self.block_button,
            self.regenerate_button,
            self.delete_button,
            self.refresh_button,
        ):
            toolbar.addWidget(button)
        self.error_label = error_label()
        self.table = self._make_table()
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.count_label = QLabel()
        self.count_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.more_button = QPushButton("Load More")
        footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.more_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addLayout(toolbar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addLayout(footer)

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.table_model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Eleven columns scroll sideways at the window's default width: a stretched Models
        # column would shrink to nothing, so the last column takes any room left instead.
        header.setStretchLastSection(True)
        stamp = table.fontMetrics().horizontalAdvance("0000-00-00 00:00") + 2 * CONTROL_SPACING
        for column, width in (
            (Column.ALIAS, 170),
            (Column.KEY, 90),
            (Column.MODELS, 200),
            (Column.SPEND, 170),
            (Column.PERIOD, 60),
            (Column.RESETS, stamp),
            (Column.EXPIRES, stamp),
            (Column.RPM, 60),
            (Column.TPM, 90),
            (Column.STATUS, 70),
            (Column.LAST_ACTIVE, stamp),
        ):
            table.setColumnWidth(column, width)
        return table

    def _connect(self) -> None:
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        self.new_button.clicked.connect(self.new_key)
        self.edit_button.clicked.connect(self.edit_selected)
        self.block_button.clicked.connect(self.toggle_block_selected)
        self.regenerate_button.clicked.connect(self.regenerate_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.refresh_button.clicked.connect(self.reload)
        self.more_button.clicked.connect(self.load_more)
        self.table.activated.connect(lambda _index: self.edit_selected())
        # Scrolling to the end fetches the next page too (Load More stays for the keyboard).
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.table.selectionModel().selectionChanged.connect(self._refresh_state)

    # ------------------------------------------------------------------ data

    def set_model_groups(self, groups: list[str]) -> None:
        """The applied model groups: what the create/edit sheet offers as models."""
        self._groups = sorted(set(groups), key=str.casefold)

    def reload(self) -> None:
        """Read the first page again (with the current search); drops any older answer."""
        self._search_timer.stop()
        self._generation += 1
        self._fetch(1, replace=True)

    def load_more(self) -> None:
        """Fetch the next page and add it below the rows shown."""
        if self._page is None or not self._page.has_more or self._loading:
            return
        self._fetch(self._page.page + 1, replace=False)

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if value > 0 and value >= bar.maximum():
            self.load_more()

    def _fetch(self, page: int, *, replace: bool) -> None:
        generation = self._generation
        self._loading = True
        self._refresh_state()

        def done(result: KeyPage) -> None:
            if shiboken6.isValid(self) and generation == self._generation:
                self._show_page(result, replace=replace)

        def failed(sentence: str) -> None:
            if shiboken6.isValid(self) and generation == self._generation:
                self._loading = False
                self.show_error(sentence)
                self._refresh_state()

        self._service.list_page(page, self.search_edit.text().strip(), done, failed)

    def _show_page(self, page: KeyPage, *, replace: bool) -> None:
        self._loading = False
        self._page = page
        now = datetime.now(UTC)
        selected = self.selected_key()
        if replace:
            self.table_model.set_keys(page.keys, self.palette(), now)
        else:
            self.table_model.append_keys(page.keys, now)
        if selected is not None:
            self._select(selected.token)
        self.show_error("")
        self._refresh_state()

    def _select(self, token: str) -> None:
        for row, key in enumerate(self.table_model.keys):
            if key.token == token:
                self.table.selectRow(row)
                return

    def selected_key(self) -> VirtualKey | None:
        """The key of the selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        key = rows[0].data(KEY_ROLE)
        return key if isinstance(key, VirtualKey) else None

    def show_error(self, sentence: str) -> None:
        """Show a sentence above the table ("" hides it)."""
        show_error(self.error_label, sentence or None)

    def _refresh_state(self) -> None:
        key = self.selected_key()
        for button in (self.edit_button, self.block_button, self.regenerate_button):
            button.setEnabled(key is not None)
        self.delete_button.setEnabled(key is not None)
        self.block_button.setText("Unblock" if key is not None and key.blocked else "Block")
        shown = len(self.table_model.keys)
        page = self._page
        self.more_button.setVisible(page is not None and page.has_more)
        self.more_button.setEnabled(not self._loading)
        empty = page is not None and shown == 0
        search = self.search_edit.text().strip()
        self.empty_label.setText(NO_MATCH_TEXT.format(text=search) if search else EMPTY_TEXT)
        self.empty_label.setVisible(empty)
        self.table.setVisible(not empty)
        if self._loading and page is None:
            self.count_label.setText("Loading keys…")
        elif page is not None:
            self.count_label.setText(f"Showing {shown} of {page.total_count} keys")

    # ------------------------------------------------------------------ actions

    def new_key(self) -> None:
        """Open the create sheet; the new key is then shown once."""
        self._open_sheet(None)

    def edit_selected(self) -> None:
        """Open the edit sheet for the selected key."""
        key = self.selected_key()
        if key is not None:
            self._open_sheet(key)

    def _open_sheet(self, key: VirtualKey | None) -> None:
        self.show_error("")
        sheet = KeySheet(self._service, self._groups, key, self)
        sheet.created.connect(self._show_secret)
        sheet.saved.connect(lambda _key: self.reload())
        sheet.finished.connect(lambda _r: self._sheet_closed(sheet))
        self.sheet = sheet
        sheet.open()

    def _sheet_closed(self, sheet: KeySheet) -> None:
        if self.sheet is sheet:
            self.sheet = None
        sheet.deleteLater()

    def _show_secret(self, created: CreatedKey) -> None:
        secret = ShowOnceSheet(created, self)
        secret.finished.connect(lambda _r: self._secret_closed(secret))
        self.secret_sheet = secret
        secret.open()
        self.reload()

    def _secret_closed(self, sheet: ShowOnceSheet) -> None:
        if self.secret_sheet is sheet:
            self.secret_sheet = None
        sheet.deleteLater()

    def toggle_block_selected(self) -> None:
        """Block the selected key, or unblock it when it is blocked."""
        key = self.selected_key()
        if key is None:
            return
        self.show_error("")
        self._service.set_blocked(
            key.token, not key.blocked, lambda _none: self._changed(), self._failed
        )

    def regenerate_selected(self) -> None:
        """Confirm, then give the selected key a new secret (shown once)."""
        key = self.selected_key()
        if key is None:
            return

        def answered(confirmed: bool) -> None:
            self.confirm_box = None
            if confirmed:
                self._service.regenerate_key(key.token, self._show_secret, self._failed)

        self.confirm_box = confirm_key_action(
            self,
            "Regenerate Key",
            key,
            "Its current secret stops working at once; every client using it needs the new one.",
            answered,
        )

    def delete_selected(self) -> None:
        """Confirm, then delete the selected key."""
        key = self.selected_key()
        if key is None:
            return

        def answered(confirmed: bool) -> None:
            self.confirm_box = None
            if confirmed:
                self._service.delete_key(key.token, lambda _none: self._changed(), self._failed)

        self.confirm_box = confirm_key_action(
            self,
            "Delete Key",
            key,
            "Requests with this key fail from now on. This cannot be undone.",
            answered,
        )

    def _changed(self) -> None:
        if shiboken6.isValid(self):
            self.reload()

    def _failed(self, sentence: str) -> None:
        if shiboken6.isValid(self):
            self.show_error(sentence)
