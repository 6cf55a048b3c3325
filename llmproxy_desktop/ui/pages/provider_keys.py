"""The Provider Keys page: the vault's credentials, which models use them, and the vault actions.

Plain data in (`set_items`, `set_vault_state`), edits out through the injected `StagingEditor`;
the page never reaches the Master itself. A credential's values never reach a cell, tooltip or
label: keys are listed with *** (an ``os.environ/`` reference, which is not a secret, is shown
as written). Staged state comes from the effective items' flags, in the one accent colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.items import (
    REDACTED,
    EffectiveItem,
    Flag,
    Item,
    ItemKind,
    is_env_reference,
    model_group,
)
from llmproxy_desktop.ui.sheets.credential_sheet import PROVIDER_INFO_KEY, CredentialSheet
from llmproxy_desktop.ui.staging import StagingEditor
from llmproxy_desktop.ui.theme import CONTROL_SPACING, WINDOW_MARGIN, staged_accent

_AnyIndex = QModelIndex | QPersistentModelIndex

ITEM_ROLE: Final = Qt.ItemDataRole.UserRole
LOCKED_TEXT: Final = "The credential vault is locked"
EMPTY_TEXT: Final = "No credentials yet. Add one to share a provider key between models."
HEADERS: Final = ("Credential", "Provider", "Keys", "Used by", "Status")
_STATUS_TEXT: Final[Mapping[Flag | None, str]] = {
    None: "applied",
    Flag.NEW: "new",
    Flag.CHANGED: "changed",
    Flag.DELETED: "deleted",
}


class Column(IntEnum):
    """The credentials table's columns, in display order."""

    NAME = 0
    PROVIDER = 1
    KEYS = 2
    USED_BY = 3
    STATUS = 4


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def credential_users(effective: Sequence[EffectiveItem]) -> dict[str, list[str]]:
    """Credential name → the model groups of the live (not deleted) models that use it."""
    users: dict[str, set[str]] = {}
    for entry in effective:
        item = entry.item
        if entry.is_deleted or item.kind is not ItemKind.MODEL:
            continue
        name = _mapping(_mapping(item.data).get("litellm_params")).get("litellm_credential_name")
        if isinstance(name, str):
            users.setdefault(name, set()).add(model_group(item) or item.name)
    return {name: sorted(groups, key=str.casefold) for name, groups in users.items()}


def keys_text(item: Item) -> str:
    """The keys a credential holds, values masked: "api_key ***, api_base ***"."""
    values = _mapping(_mapping(item.data).get("credential_values"))
    shown = [
        f"{key} {value if is_env_reference(value) else REDACTED}" for key, value in values.items()
    ]
    return ", ".join(shown)


def delete_blocked_text(name: str, groups: Sequence[str]) -> str:
    """Why a credential in use cannot be deleted, naming the model groups that use it."""
    return (
        f"Credential {name} is used by {', '.join(groups)}. "
        "Point those models at another credential before deleting it."
    )


@dataclass(frozen=True)
class CredentialRow:
    """The display values of one credential, computed once per `set_items`."""

    effective: EffectiveItem
    cells: tuple[str, str, str, str, str]
    users: tuple[str, ...]


class CredentialsTableModel(QAbstractTableModel):
    """Credential items as rows, sorted by name; staged rows in the accent colour."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[CredentialRow] = []
        self._accent_palette = QPalette()

    def set_items(self, effective: Sequence[EffectiveItem], palette: QPalette) -> None:
        """Rebuild the rows from the effective items (other kinds feed the usage counts)."""
        users = credential_users(effective)
        rows = [
            _row(e, users.get(e.item.name, []))
            for e in effective
            if e.item.kind is ItemKind.CREDENTIAL
        ]
        self.beginResetModel()
        self.rows = sorted(rows, key=lambda r: r.effective.item.name.casefold())
        self._accent_palette = palette
        self.endResetModel()

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

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
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[index.column()]
        if role == ITEM_ROLE:
            return row.effective
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == Column.USED_BY:
            return ", ".join(row.users) if row.users else "No model uses this credential."
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == Column.KEYS:
            return row.cells[Column.KEYS]  # masked like the cell; the cell may be elided
        if role == Qt.ItemDataRole.ForegroundRole and row.effective.flag is not None:
            return staged_accent(self._accent_palette)
        if role == Qt.ItemDataRole.FontRole and row.effective.is_deleted:
            font = QFont()
            font.setStrikeOut(True)
            return font
        return None


def _row(effective: EffectiveItem, users: Sequence[str]) -> CredentialRow:
    item = effective.item
    info = _mapping(_mapping(item.data).get("credential_info"))
    provider = info.get(PROVIDER_INFO_KEY)
    count = len(users)
    used = "not used" if count == 0 else f"{count} model group" + ("s" if count > 1 else "")
    cells = (
        item.name,
        provider if isinstance(provider, str) else "",
        keys_text(item),
        used,
        _STATUS_TEXT[effective.flag],
    )
    return CredentialRow(effective, cells, tuple(users))


class ProviderKeysPage(QWidget):
    """Credentials table with Add / Rotate / Delete, the vault actions and the locked banner."""

    change_passphrase_requested = Signal()
    rotate_data_key_requested = Signal()
    unlock_requested = Signal()

    def __init__(self, editor: StagingEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("providerKeysPage")
        self._editor = editor
        self._effective: list[EffectiveItem] = []
        self._locked = False
        self.sheet: CredentialSheet | None = None
        self.confirm_box: QMessageBox | None = None
        self.confirm_button: QPushButton | None = None
        self.table_model = CredentialsTableModel(self)
        self._build()
        self._connect()
        self._refresh_state()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.banner = self._make_banner()
        self.add_button = QPushButton("Add Credential…")
        self.rotate_button = QPushButton("Rotate…")
        self.delete_button = QPushButton("Delete…")
        self.passphrase_button = QPushButton("Change Passphrase…")
        self.data_key_button = QPushButton("Rotate Data Key…")
        toolbar = QHBoxLayout()
        for button in (self.add_button, self.rotate_button, self.delete_button):
            toolbar.addWidget(button)
        toolbar.addStretch(1)
        toolbar.addWidget(self.passphrase_button)
        toolbar.addWidget(self.data_key_button)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.table = self._make_table()
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addWidget(self.banner)
        layout.addLayout(toolbar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)

    def _make_banner(self) -> QFrame:
        banner = QFrame()
        banner.setFrameShape(QFrame.Shape.StyledPanel)
        banner.setAutoFillBackground(True)
        banner.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.banner_label = QLabel(LOCKED_TEXT)
        font = self.banner_label.font()
        font.setBold(True)
        self.banner_label.setFont(font)
        self.unlock_button = QPushButton("Unlock…")
        row = QHBoxLayout(banner)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.unlock_button)
        banner.hide()
        return banner

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
        # The Keys column takes the slack, so Status stays in view at the default window size.
        header.setSectionResizeMode(Column.KEYS, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (Column.NAME, 170),
            (Column.PROVIDER, 100),
            (Column.USED_BY, 130),
            (Column.STATUS, 80),
        ):
            table.setColumnWidth(column, width)
        return table

    def _connect(self) -> None:
        self.add_button.clicked.connect(self.add_credential)
        self.rotate_button.clicked.connect(self.rotate_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.passphrase_button.clicked.connect(self.change_passphrase_requested)
        self.data_key_button.clicked.connect(self.rotate_data_key_requested)
        self.unlock_button.clicked.connect(self.unlock_requested)
        self.table.activated.connect(lambda _index: self.rotate_selected())
        self.table.selectionModel().selectionChanged.connect(self._refresh_state)

    # ------------------------------------------------------------------ data

    def set_items(self, effective: list[EffectiveItem]) -> None:
        """Show the credentials of these effective items; the models feed "Used by"."""
        selected = self.selected_credential()
        self._effective = list(effective)
        self.table_model.set_items(self._effective, self.palette())
        if selected is not None:
            self.select_credential(selected.item.name)
        self._refresh_state()

    def set_vault_state(self, locked: bool) -> None:
        """A locked vault cannot seal new values: show the banner and disable editing."""
        self._locked = locked
        self.banner.setVisible(locked)
        self._refresh_state()

    def selected_credential(self) -> EffectiveItem | None:
        """The credential of the selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        entry = self.table_model.data(rows[0], ITEM_ROLE)
        return entry if isinstance(entry, EffectiveItem) else None

    def select_credential(self, name: str) -> None:
        """Select the row of credential `name` (nothing when it is not listed)."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        for index, row in enumerate(self.table_model.rows):
            if row.effective.item.name == name:
                flags = (
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                selection.select(self.table_model.index(index, 0), flags)
                return

    def show_error(self, text: str) -> None:
        """Show a sentence above the table (empty text hides it)."""
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def changeEvent(self, event: QEvent) -> None:
        """Repaint staged rows in the accent of the new palette when light/dark switches."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.table_model.rows:
            self.table_model.set_items(self._effective, self.palette())

    def _refresh_state(self) -> None:
        selected = self.selected_credential()
        live = selected is not None and not selected.is_deleted
        editable = not self._locked
        self.add_button.setEnabled(editable)
        self.rotate_button.setEnabled(editable and live)
        self.delete_button.setEnabled(editable and live)
        has_rows = bool(self.table_model.rows)
        self.table.setVisible(has_rows)
        self.empty_label.setVisible(not has_rows)

    # ------------------------------------------------------------------ actions

    def add_credential(self) -> None:
        """Open the sheet for a new credential."""
        self._open_sheet(None)

    def rotate_selected(self) -> None:
        """Open the sheet on the selected credential: new values replace, empty ones keep."""
        selected = self.selected_credential()
        if selected is None or self._locked:
            return
        if selected.is_deleted:
            self.show_error("This credential is staged for deletion; discard that change first.")
            return
        self._open_sheet(selected)

    def _open_sheet(self, rotate: EffectiveItem | None) -> None:
        if self._locked:
            return
        self.show_error("")
        taken = [row.effective.item.name for row in self.table_model.rows]
        sheet = CredentialSheet(self._editor, taken_names=taken, rotate=rotate, parent=self)
        sheet.finished.connect(lambda _result: self._sheet_closed(sheet))
        self.sheet = sheet
        sheet.open()

    def _sheet_closed(self, sheet: CredentialSheet) -> None:
        if self.sheet is sheet:
            self.sheet = None
        sheet.deleteLater()

    def delete_selected(self) -> None:
        """Refuse while live models use the credential; otherwise confirm, then stage it."""
        target = self.selected_credential()
        if target is None or target.is_deleted or self._locked:
            return
        name = target.item.name
        users = credential_users(self._effective).get(name, [])
        if users:
            self.show_error(delete_blocked_text(name, users))
            return
        self.show_error("")
        self._confirm_delete(target)

    def _confirm_delete(self, target: EffectiveItem) -> None:
        action = f"Delete credential {target.item.name}"
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(f"{action}?")
        box.setInformativeText("The deletion is staged: the gateway keeps it until Apply.")
        confirm = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _r: self._delete_answered(box, target))
        self.confirm_box, self.confirm_button = box, confirm
        box.open()

    def _delete_answered(self, box: QMessageBox, target: EffectiveItem) -> None:
        confirmed = box.clickedButton() is self.confirm_button
        self.confirm_box = self.confirm_button = None
        box.deleteLater()
        if confirmed:
            self._editor.delete([(target.item.key, target.version)], self._edit_answered)

    def _edit_answered(self, sentence: str | None) -> None:
        if shiboken6.isValid(self):  # the page may be gone when a slow answer arrives
            self.show_error(sentence or "")
