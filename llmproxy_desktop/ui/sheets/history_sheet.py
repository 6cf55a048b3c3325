"""History (issue #5 §2): the applied revisions, newest first, and "Restore…" of one of them.

Restoring does not apply anything: the controller stages the changes that bring the Master back
to the chosen revision, and the admin reviews and applies them like any other edit. The sheet
asks first (a window-modal QMessageBox opened with `open()`, kept in `confirm_box` while it is
open), then emits `restore_requested(revision_id)`; the controller answers in `show_message`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...store.records import RevisionInfo, format_time
from ..theme import TextStyle, text_font
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, secondary_label

__all__ = ["CURRENT_FILE_TEXT", "HistorySheet", "RevisionTableModel", "restore_question"]

CURRENT_FILE_TEXT: Final = "current file"
REVISION_ROLE: Final = Qt.ItemDataRole.UserRole + 1
_HEADERS: Final = ("Revision", "When", "Who", "Summary", "config.yaml")
_ID, _WHEN, _WHO, _SUMMARY, _FILE = range(len(_HEADERS))

_Index = QModelIndex | QPersistentModelIndex


def restore_question(revision_id: int) -> str:
    """The confirmation's text."""
    return f"Stage the changes that restore revision {revision_id}?"


class RevisionTableModel(QAbstractTableModel):
    """Revisions as rows; the one config.yaml holds (by SHA-256) is marked "current file"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._revisions: tuple[RevisionInfo, ...] = ()
        self._current_sha256: str | None = None

    def set_revisions(self, revisions: Sequence[RevisionInfo], current_sha256: str | None) -> None:
        """Replace the rows."""
        self.beginResetModel()
        self._revisions = tuple(revisions)
        self._current_sha256 = current_sha256
        self.endResetModel()

    def revision(self, row: int) -> RevisionInfo:
        """The revision shown in `row`."""
        return self._revisions[row]

    def is_current(self, revision: RevisionInfo) -> bool:
        """True when config.yaml on the server is this revision's render."""
        return self._current_sha256 is not None and revision.rendered_sha256 == self._current_sha256

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Qt: one row per revision."""
        return 0 if parent.isValid() else len(self._revisions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Qt: id, when, who, summary, file marker."""
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        """Qt: column titles."""
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Qt: the cell's text, tooltip, font or revision id."""
        if not index.isValid():
            return None
        revision = self._revisions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(revision, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == _WHEN:
            return format_time(revision.created_at)  # UTC: unambiguous across admins
        if role == Qt.ItemDataRole.FontRole and self.is_current(revision):
            font = QFont()
            font.setBold(True)
            return font
        if role == REVISION_ROLE:
            return revision.id
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == _ID:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, revision: RevisionInfo, column: int) -> str:
        if column == _ID:
            return str(revision.id)
        if column == _WHEN:
            return revision.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if column == _WHO:
            return str(revision.created_by)
        if column == _SUMMARY:
            return revision.summary
        return CURRENT_FILE_TEXT if self.is_current(revision) else ""


class HistorySheet(QDialog):
    """The revision table with Restore… and Close."""

    restore_requested = Signal(int)

    def __init__(
        self,
        revisions: Sequence[RevisionInfo],
        current_sha256: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("History")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumSize(640, 400)
        self.confirm_box: QMessageBox | None = None  # the restore question, while asking
        self.confirm_button: QPushButton | None = None
        self.table_model = RevisionTableModel(self)
        self._build()
        self.set_revisions(revisions, current_sha256)

    # ------------------------------------------------------------------ public API

    def set_revisions(self, revisions: Sequence[RevisionInfo], current_sha256: str | None) -> None:
        """Show (new) revisions, e.g. after an Apply added one."""
        self.table_model.set_revisions(revisions, current_sha256)
        self.empty_label.setVisible(not revisions)
        self._refresh_buttons()

    def selected_revision(self) -> RevisionInfo | None:
        """The one revision selected, if exactly one is."""
        rows = self.table.selectionModel().selectedRows()
        return self.table_model.revision(rows[0].row()) if len(rows) == 1 else None

    def select_revision(self, revision_id: int) -> None:
        """Select the row of `revision_id` (for keyboard-free callers and tests)."""
        for row in range(self.table_model.rowCount()):
            if self.table_model.revision(row).id == revision_id:
                self.table.selectRow(row)
                return

    @Slot(str)
    def show_message(self, text: str) -> None:
        """The controller's answer to a restore: "Staged 3 changes" or why it did not stage."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        headline = QLabel("Applied revisions")
        headline.setFont(text_font(TextStyle.HEADLINE))
        layout.addWidget(headline)
        layout.addWidget(
            secondary_label(
                "Restoring stages the changes that bring the configuration back to a revision; "
                "nothing reaches the gateway until you apply."
            )
        )
        self.table = self._build_table()
        layout.addWidget(self.table, 1)
        self.empty_label = secondary_label("Nothing has been applied yet.")
        layout.addWidget(self.empty_label)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        layout.addWidget(self.message_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restore_button = buttons.addButton("Restore…", QDialogButtonBox.ButtonRole.ActionRole)
        self.restore_button.clicked.connect(self._ask_restore)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.table_model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(_SUMMARY, QHeaderView.ResizeMode.Stretch)
        table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        table.doubleClicked.connect(self._ask_restore)
        return table

    # ------------------------------------------------------------------ actions

    def _refresh_buttons(self) -> None:
        self.restore_button.setEnabled(self.selected_revision() is not None)

    def _ask_restore(self) -> None:
        revision = self.selected_revision()
        if revision is None or self.confirm_box is not None:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(restore_question(revision.id))
        box.setInformativeText(
            f"Revision {revision.id}: {revision.summary}, applied by {revision.created_by} at "
            f"{format_time(revision.created_at)}. Nothing is applied until you Apply."
        )
        self.confirm_button = box.addButton("Stage Changes", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        # Staging is reversible (Discard), so the action may be the default; Esc still cancels.
        box.setDefaultButton(self.confirm_button)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _result: self._restore_answered(box, revision.id))
        self.confirm_box = box
        box.open()

    def _restore_answered(self, box: QMessageBox, revision_id: int) -> None:
        confirmed = self.confirm_button is not None and box.clickedButton() is self.confirm_button
        self.confirm_box = None
        self.confirm_button = None
        box.deleteLater()
        if confirmed:
            self.message_label.clear()
            self.restore_requested.emit(revision_id)
