"""Review Changes (issue #5 §2): what the next Apply would change, before it does.

Three views of the same staged state, all plain data handed in by the controller:

- Changes: one row per staged item (flag in the staged accent, deletions struck through);
  expanding a row lists its changed fields, before → after. Values arrive redacted (core.diff
  puts *** in place of every secret) and are only ever formatted, never looked up.
- config.yaml diff: the unified diff of the rendered file, highlighted.
- Findings: what validation says; any error blocks Apply, and the sheet says why.

"Apply" emits `apply_requested` and closes the sheet (the progress sheet takes over).
"Discard Selected…" asks, then emits `discard_requested` with the chosen keys; the controller
discards them and calls `set_content` with what is left.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyle,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.diff import FieldChange, ItemChange
from ...core.findings import Finding, Severity
from ...core.items import REDACTED, Flag, ItemKey, JSONValue
from ..diff_highlighter import DiffView
from ..incremental_text import IncrementalText
from ..theme import StatusColour, TextStyle, staged_accent, status_colour, text_font
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, secondary_label
from .discard_sheet import make_discard_box

__all__ = ["KEY_ROLE", "ReviewChangesSheet", "format_value"]

KEY_ROLE: Final = Qt.ItemDataRole.UserRole + 1  # the ItemKey on a change's top-level row
_ABSENT: Final = "—"  # a field that is not there on one side (new or removed)
_MAX_VALUE_CHARS: Final = 200
_CHANGES_TAB, _DIFF_TAB, _FINDINGS_TAB = 0, 1, 2


def format_value(value: JSONValue) -> str:
    """One field value as a short line. None means absent on that side.

    `default=str` is a safety net, not the path values take: a stray `Secret` formats as ***.
    """
    if value is None:
        return _ABSENT
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


class ReviewChangesSheet(QDialog):
    """The staged changes, the config.yaml diff and the findings; Apply, Discard Selected, Close."""

    apply_requested = Signal()
    discard_requested = Signal(list)  # list[ItemKey]

    def __init__(
        self,
        changes: Sequence[ItemChange],
        labels: Mapping[ItemKey, str],
        unified_diff: str,
        findings: Sequence[Finding],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review Changes")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumSize(720, 480)
        self.confirm_box: QMessageBox | None = None  # the discard question, while asking
        self.confirm_button: QPushButton | None = None
        self._changes: tuple[ItemChange, ...] = ()
        self._findings: tuple[Finding, ...] = ()
        self._build()
        self.set_content(changes, labels, unified_diff, findings)

    # ------------------------------------------------------------------ public API

    def set_content(
        self,
        changes: Sequence[ItemChange],
        labels: Mapping[ItemKey, str],
        unified_diff: str,
        findings: Sequence[Finding],
    ) -> None:
        """Show a (new) staged state, e.g. after some changes were discarded."""
        self._changes = tuple(changes)
        self._findings = tuple(findings)
        self._fill_changes(labels)
        self._diff_text.set_text(unified_diff)
        self._fill_findings()
        self.headline.setText(_headline(len(self._changes)))
        self.tabs.setTabText(_FINDINGS_TAB, f"Findings ({len(self._findings)})")
        if self._error_count():
            self.tabs.setCurrentIndex(_FINDINGS_TAB)  # the reason Apply is off, in plain view
        self._refresh_buttons()

    @Slot(str)
    def show_message(self, text: str) -> None:
        """An inline note from the controller, e.g. why a discard did not happen."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def selected_keys(self) -> list[ItemKey]:
        """The keys of the changes selected (a selected field row counts for its item)."""
        keys: list[ItemKey] = []
        for row in self.changes_tree.selectedItems():
            top = row.parent() or row
            key = top.data(0, KEY_ROLE)
            if isinstance(key, ItemKey) and key not in keys:
                keys.append(key)
        return keys

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        self.headline = QLabel()
        self.headline.setFont(text_font(TextStyle.HEADLINE))
        layout.addWidget(self.headline)
        layout.addWidget(
            secondary_label("Nothing reaches the gateway until you apply. Secrets show as ***.")
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_changes_tree(), "Changes")
        self.diff_view = DiffView()
        # A diff of hundreds of changes runs to thousands of lines: filled a slice at a time.
        self._diff_text = IncrementalText(self.diff_view)
        self.tabs.addTab(self.diff_view, "config.yaml Diff")
        self.tabs.addTab(self._build_findings_tree(), "Findings")
        layout.addWidget(self.tabs, 1)
        self.message_label = secondary_label()
        self.message_label.hide()
        layout.addWidget(self.message_label)
        self.blocked_label = QLabel()
        self.blocked_label.setWordWrap(True)
        self.blocked_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.blocked_label)
        layout.addWidget(self._build_buttons())
        self._apply_colours()

    def _build_changes_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(["Item", "Change", "Before", "After"])
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setUniformRowHeights(True)
        tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        tree.itemSelectionChanged.connect(self._refresh_buttons)
        self.changes_tree = tree
        return tree

    def _build_findings_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(["Severity", "Where", "Finding"])
        tree.setRootIsDecorated(False)
        tree.setWordWrap(True)
        tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.findings_tree = tree
        return tree

    def _build_buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button: QPushButton = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.discard_button = buttons.addButton(
            "Discard Selected…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.apply_button = buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self._apply)
        self.discard_button.clicked.connect(self._ask_discard)
        buttons.rejected.connect(self.reject)
        return buttons

    # ------------------------------------------------------------------ content

    def _fill_changes(self, labels: Mapping[ItemKey, str]) -> None:
        tree = self.changes_tree
        tree.clear()
        accent = staged_accent(self.palette())
        for change in self._changes:
            row = QTreeWidgetItem([labels.get(change.key, str(change.key)), change.flag.value])
            row.setData(0, KEY_ROLE, change.key)
            row.setToolTip(0, str(change.key))
            row.setForeground(1, accent)
            if change.flag is Flag.DELETED:
                font = row.font(0)
                font.setStrikeOut(True)
                row.setFont(0, font)
            row.addChildren([_field_row(field) for field in change.fields])
            tree.addTopLevelItem(row)
        # Small change sets read best opened; large ones would bury the item list.
        if sum(len(c.fields) for c in self._changes) <= 30:
            tree.expandAll()

    def _fill_findings(self) -> None:
        tree = self.findings_tree
        tree.clear()
        style = self.style()
        icons = {
            Severity.ERROR: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            Severity.WARNING: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        # Errors first: they are what stands between the admin and Apply.
        ordered = sorted(self._findings, key=lambda f: f.severity is not Severity.ERROR)
        for finding in ordered:
            row = QTreeWidgetItem([finding.severity.value, finding.path or "—", finding.message])
            row.setIcon(0, icons[finding.severity])
            row.setToolTip(2, f"{finding.message} ({finding.rule})")
            tree.addTopLevelItem(row)
        if not self._findings:
            tree.addTopLevelItem(
                QTreeWidgetItem(["", "", "No findings: the configuration is valid."])
            )

    def _error_count(self) -> int:
        return sum(1 for f in self._findings if f.severity is Severity.ERROR)

    def _refresh_buttons(self) -> None:
        errors = self._error_count()
        self.apply_button.setEnabled(errors == 0)
        if errors:
            noun = "error blocks" if errors == 1 else "errors block"
            self.blocked_label.setText(
                f"{errors} {noun} Apply: fix the findings marked error, then review again."
            )
        self.blocked_label.setVisible(errors > 0)
        self.discard_button.setEnabled(bool(self.selected_keys()))

    # ------------------------------------------------------------------ actions

    def _apply(self) -> None:
        if not self.apply_button.isEnabled():
            return
        self.apply_requested.emit()
        self.accept()

    def _ask_discard(self) -> None:
        keys = self.selected_keys()
        if not keys or self.confirm_box is not None:
            return
        box, self.confirm_button = make_discard_box(self, len(keys), selected=True)
        box.finished.connect(lambda _result: self._discard_answered(box, keys))
        self.confirm_box = box
        box.open()

    def _discard_answered(self, box: QMessageBox, keys: list[ItemKey]) -> None:
        confirmed = self.confirm_button is not None and box.clickedButton() is self.confirm_button
        self.confirm_box = None
        self.confirm_button = None
        box.deleteLater()
        if confirmed:
            self.discard_requested.emit(keys)

    # ------------------------------------------------------------------ colour

    def _apply_colours(self) -> None:
        palette = self.blocked_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, status_colour(StatusColour.BAD, palette))
        self.blocked_label.setPalette(palette)
        accent = staged_accent(self.palette())
        for index in range(self.changes_tree.topLevelItemCount()):
            item = self.changes_tree.topLevelItem(index)
            if item is not None:
                item.setForeground(1, accent)

    def changeEvent(self, event: QEvent) -> None:
        """Light/dark switch: the accent and the error colour come in pairs per scheme."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colours()


def _field_row(field: FieldChange) -> QTreeWidgetItem:
    before, after = format_value(field.before), format_value(field.after)
    if field.secret:
        # A changed secret shows *** on both sides; say what happened instead of "*** → ***".
        before = REDACTED if field.before is not None else _ABSENT
        after = REDACTED if field.after is not None else _ABSENT
    row = QTreeWidgetItem([field.path, _secret_note(field), before, after])
    row.setToolTip(2, before)
    row.setToolTip(3, after)
    return row


def _secret_note(field: FieldChange) -> str:
    if not field.secret:
        return ""
    if field.before is None:
        return "secret added"
    if field.after is None:
        return "secret removed"
    return "secret changed"


def _headline(count: int) -> str:
    if count == 0:
        return "Nothing is staged"
    return f"{count} staged change" if count == 1 else f"{count} staged changes"
