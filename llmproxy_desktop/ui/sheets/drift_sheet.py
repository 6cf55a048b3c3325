"""The drift sheet (issue #5 §2): why config.yaml on the server is not what the Master applied,
the difference, and the ways out the report offers.

The sheet only shows a `DriftReport` and asks; the stack controller runs the action:

- "Finish Apply" (`finish_requested`): record the revision an interrupted Apply did not record.
- "Re-render…" (`rerender_requested`): a normal Apply of the Master, which overwrites the file and
  restarts LiteLLM, so it is confirmed first with a button naming exactly that. Staged changes go
  out with it, and the question says so.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...ops.drift_report import DriftAction, DriftReport, DriftState
from ..diff_highlighter import DiffView
from ..theme import TextStyle, text_font
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, secondary_label

__all__ = ["FINISH_BUTTON_TEXT", "RERENDER_BUTTON_TEXT", "DriftSheet", "drift_title"]

FINISH_BUTTON_TEXT: Final = "Finish Apply"
RERENDER_BUTTON_TEXT: Final = "Re-render…"
RERENDER_CONFIRM_TEXT: Final = "Overwrite and Restart"

# Short names of the states, for the Apply bar's badge and this sheet's headline.
_TITLES: Final[dict[DriftState, str]] = {
    DriftState.IN_SYNC: "config.yaml in sync",
    DriftState.FOLD_PENDING: "Apply not finished",
    DriftState.OLDER_REVISION: "older revision",
    DriftState.EDITED_BY_HAND: "config.yaml edited by hand",
    DriftState.UNKNOWN_FILE: "unknown file",
}


def drift_title(state: DriftState) -> str:
    """A few words naming the state, e.g. "config.yaml edited by hand"."""
    return _TITLES[state]


class DriftSheet(QDialog):
    """Show one drift report and offer what resolves it. Signals fire once; the sheet closes."""

    finish_requested = Signal()
    rerender_requested = Signal()

    def __init__(self, report: DriftReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setWindowTitle("config.yaml on the server")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(600)
        self.confirm_box: QMessageBox | None = None  # the re-render question, while asking
        self.confirm_button: QPushButton | None = None
        self.finish_button: QPushButton | None = None
        self.rerender_button: QPushButton | None = None
        self._build()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        headline = QLabel(_headline_text(self.report))
        headline.setFont(text_font(TextStyle.HEADLINE))
        layout.addWidget(headline)
        self.sentence_label = QLabel(self.report.sentence())
        self.sentence_label.setWordWrap(True)
        self.sentence_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.sentence_label)
        self.diff_view = DiffView(self.report.diff)
        self.diff_view.setVisible(bool(self.report.diff))
        self.diff_view.setMinimumHeight(260)
        layout.addWidget(self.diff_view, 1)
        if not self.report.diff and self.report.state is not DriftState.IN_SYNC:
            layout.addWidget(secondary_label("There is no difference of content to show."))
        layout.addWidget(self._button_box())

    def _button_box(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        offers = self.report.offers
        if DriftAction.RERENDER in offers:
            self.rerender_button = buttons.addButton(
                RERENDER_BUTTON_TEXT, QDialogButtonBox.ButtonRole.ActionRole
            )
            self.rerender_button.clicked.connect(self._ask_rerender)
        if DriftAction.FINISH in offers:
            # Finishing records what the file already says: the least surprising way out.
            self.finish_button = buttons.addButton(
                FINISH_BUTTON_TEXT, QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.finish_button.setDefault(True)
            self.finish_button.clicked.connect(self._finish)
        return buttons

    # ------------------------------------------------------------------ actions

    def _finish(self) -> None:
        self.finish_requested.emit()
        self.accept()

    def _ask_rerender(self) -> None:
        if self.confirm_box is not None:  # already asking
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(f"Overwrite {self.report.location} with the Master's configuration?")
        box.setInformativeText(_rerender_consequences(self.report))
        self.confirm_button = box.addButton(
            RERENDER_CONFIRM_TEXT, QMessageBox.ButtonRole.DestructiveRole
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _result: self._rerender_answered(box))
        self.confirm_box = box
        box.open()

    def _rerender_answered(self, box: QMessageBox) -> None:
        confirmed = self.confirm_button is not None and box.clickedButton() is self.confirm_button
        self.confirm_box = None
        self.confirm_button = None
        box.deleteLater()
        if confirmed:
            self.rerender_requested.emit()
            self.accept()


def _headline_text(report: DriftReport) -> str:
    if report.state is DriftState.IN_SYNC:
        return drift_title(report.state)
    title = drift_title(report.state)
    return title[0].upper() + title[1:]


def _rerender_consequences(report: DriftReport) -> str:
    text = (
        f"Re-rendering replaces {report.location} on the server with what the Master renders, "
        "then restarts LiteLLM: requests in flight are dropped."
    )
    if report.state is DriftState.EDITED_BY_HAND:
        text += " The edits made by hand are lost."
    if report.staged_count:
        noun = "change is" if report.staged_count == 1 else "changes are"
        text += f" The {report.staged_count} staged {noun} applied with it."
    return text
