"""Apply progress (issue #5 §2): the seven steps as they run, then what happened and what to do.

The sheet listens only: the stack controller forwards the job's `progress(step, fraction,
message)` to `on_progress`, and its end to `on_finished(ApplyResult)` or `on_failed(sentence)`
(the job raised, e.g. "Apply in progress by bob@host"). No traceback is ever shown.

While the Apply runs, a step is marked running when its progress first arrives and done when a
later step starts; progress cannot tell success from failure, so the final outcomes (and the
timings) come from the ApplyResult.

Cancel is offered until the commit point: once the upload was read back (progress reports its
end) or the commit step starts, ops.apply ignores the token, so the button goes.

Closing while the Apply runs (Esc, the window's close button, "Hide") only hides the sheet:
the Apply keeps running on the stack's worker, the Apply bar shows its progress, and the bar's
"Show Progress" brings the sheet back (the controller calls `show()`); `hidden_while_running`
tells the controller it went. After the end the sheet closes normally.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import Enum
from typing import Final

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ...core.findings import Severity
from ...ops.apply import ApplyResult, Outcome, Step
from ..theme import StatusColour, TextStyle, status_colour, text_font
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, secondary_label

__all__ = ["ApplyProgressSheet", "StepState", "result_summary"]

_STEPS: Final = tuple(Step)
_PROGRESS_STEPS: Final = 1000
_MAX_LISTED_FINDINGS: Final = 5
_SERVED: Final = re.compile(r"^(\d+) model group")


class StepState(Enum):
    """What a step row shows: (symbol, word)."""

    WAITING = ("○", "waiting")
    RUNNING = ("…", "running")
    OK = ("✓", "done")
    FAILED = ("✕", "failed")
    SKIPPED = ("—", "skipped")
    CANCELLED = ("⊘", "cancelled")


_FROM_OUTCOME: Final = {
    Outcome.OK: StepState.OK,
    Outcome.FAILED: StepState.FAILED,
    Outcome.SKIPPED: StepState.SKIPPED,
    Outcome.CANCELLED: StepState.CANCELLED,
}


@dataclass
class _Row:
    """The widgets of one step's row and when the step started (monotonic seconds)."""

    symbol: QLabel
    title: QLabel
    status: QLabel
    busy: QProgressBar
    timing: QLabel
    detail: QLabel
    state: StepState = StepState.WAITING
    started: float | None = None


def result_summary(result: ApplyResult) -> tuple[str, str]:
    """A headline and a paragraph that say plainly what an Apply did and what to do next."""
    if result.cancelled:
        return "Apply cancelled", result.advice or "Nothing was changed."
    if not result.ok:
        return _failure_summary(result)
    served = _served_text(result)
    if result.noop and result.revision_id is None:
        return (
            "Nothing to apply",
            "config.yaml on the server already holds this configuration; LiteLLM was not "
            f"restarted.{served}",
        )
    if result.noop:
        return (
            "Apply finished",
            f"Recorded revision {result.revision_id}: config.yaml already held it, and LiteLLM "
            f"was restarted to load it.{served}",
        )
    served_count = _served_count(result)
    groups = (
        f", {served_count} model group{'' if served_count == 1 else 's'} served"
        if served_count is not None
        else ""
    )
    return "Applied", f"Applied: revision {result.revision_id}{groups}.{_warnings_text(result)}"


def _failure_summary(result: ApplyResult) -> tuple[str, str]:
    failed = next((s for s in result.steps if s.outcome is Outcome.FAILED), None)
    headline = f"Apply failed: {failed.step.value}" if failed else "Apply failed"
    parts: list[str] = []
    if result.advice:
        parts.append(result.advice)
    if result.missing_groups:
        parts.append("Not served by LiteLLM: " + ", ".join(result.missing_groups) + ".")
    if result.unexpected_groups:
        parts.append("Served but not applied: " + ", ".join(result.unexpected_groups) + ".")
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    for finding in errors[:_MAX_LISTED_FINDINGS]:
        parts.append(f"• {finding.path or finding.rule}: {finding.message}")
    if len(errors) > _MAX_LISTED_FINDINGS:
        parts.append(f"… and {len(errors) - _MAX_LISTED_FINDINGS} more; see Review Changes.")
    if failed is not None and not parts:
        parts.append(f"The step reported: {failed.detail}")
    return headline, "\n".join(parts)


def _served_count(result: ApplyResult) -> int | None:
    # ApplyResult has no count of served groups; the verify step's detail carries it.
    verify = next((s for s in result.steps if s.step is Step.VERIFY), None)
    if verify is None or verify.outcome is not Outcome.OK:
        return None
    match = _SERVED.match(verify.detail)
    return int(match.group(1)) if match else None


def _served_text(result: ApplyResult) -> str:
    count = _served_count(result)
    if count is None:
        return ""
    return f" LiteLLM serves {count} model group{'' if count == 1 else 's'}."


def _warnings_text(result: ApplyResult) -> str:
    warnings = sum(1 for f in result.findings if f.severity is Severity.WARNING)
    if not warnings:
        return ""
    return f" {warnings} validation warning{'' if warnings == 1 else 's'} remain."


class ApplyProgressSheet(QDialog):
    """The Apply's steps with status and timing, a progress bar, Cancel until the commit point,
    then the outcome in words."""

    cancel_requested = Signal()
    hidden_while_running = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Apply")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(560)
        self._running = True
        self._cancel_possible = True
        self._rows: dict[Step, _Row] = {}
        self._build()
        self._refresh_buttons()

    # ------------------------------------------------------------------ public API

    def is_running(self) -> bool:
        """True until `on_finished` or `on_failed`."""
        return self._running

    def step_state(self, step: Step) -> StepState:
        """What the row of `step` shows now."""
        return self._rows[step].state

    @Slot(str, float, str)
    def on_progress(self, step: str, fraction: float, message: str) -> None:
        """One progress report of the running Apply."""
        if not self._running:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * _PROGRESS_STEPS))
        self.message_label.setText(message)
        try:
            current = Step(step)
        except ValueError:  # not one of Apply's steps: the message and the bar are all we show
            return
        index = _STEPS.index(current)
        for earlier in _STEPS[:index]:
            # The pipeline moves on only after a step ended well; the result may refine it.
            if self._rows[earlier].state is StepState.RUNNING:
                self._set_state(earlier, StepState.OK, self._elapsed(earlier))
        if self._rows[current].state is StepState.WAITING:
            self._rows[current].started = time.monotonic()
            self._set_state(current, StepState.RUNNING)
        ended = fraction >= (index + 1) / len(_STEPS) - 1e-9
        if index >= _STEPS.index(Step.COMMIT) or (current is Step.UPLOAD and ended):
            self._cancel_possible = False
        self._refresh_buttons()

    @Slot(object)
    def on_finished(self, result: ApplyResult) -> None:
        """The Apply returned: every step's outcome and time, and what happened in words."""
        self._end()
        for step_result in result.steps:
            seconds = step_result.seconds
            timing = _seconds_text(seconds) if step_result.outcome is not Outcome.SKIPPED else ""
            self._set_state(step_result.step, _FROM_OUTCOME[step_result.outcome], timing)
            self._rows[step_result.step].detail.setText(step_result.detail)
        if result.ok:
            self.progress_bar.setValue(_PROGRESS_STEPS)
        headline, body = result_summary(result)
        self._show_outcome(headline, body, good=result.ok)

    @Slot(str)
    def on_failed(self, sentence: str) -> None:
        """The Apply raised instead of returning a result (e.g. another admin holds the lock)."""
        self._end()
        for step, row in self._rows.items():
            if row.state is StepState.RUNNING:
                self._set_state(step, StepState.FAILED, self._elapsed(step))
        self._show_outcome("Apply did not run", sentence, good=False)

    # ------------------------------------------------------------------ closing

    def reject(self) -> None:
        """Esc, the close button or Hide: while running only hide (the Apply goes on)."""
        if self._running:
            self.hide()
            self.hidden_while_running.emit()
            return
        super().reject()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        self.headline = QLabel("Applying changes…")
        self.headline.setFont(text_font(TextStyle.HEADLINE))
        layout.addWidget(self.headline)
        layout.addLayout(self._build_steps())
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _PROGRESS_STEPS)
        self.progress_bar.setTextVisible(False)
        layout.addWidget(self.progress_bar)
        self.message_label = secondary_label()
        layout.addWidget(self.message_label)
        self.outcome_label = QLabel()
        self.outcome_label.setWordWrap(True)
        self.outcome_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome_label.hide()
        layout.addWidget(self.outcome_label)
        buttons = QDialogButtonBox()
        # Not the dialog's reject: Esc must hide the sheet, never cancel the Apply.
        self.cancel_button = buttons.addButton(
            "Cancel Apply", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.close_button = buttons.addButton("Hide", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.clicked.connect(self._cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _build_steps(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(SHEET_SPACING * 2)
        grid.setColumnStretch(5, 1)
        for line, step in enumerate(_STEPS):
            row = _Row(
                symbol=QLabel(),
                title=QLabel(step.value[0].upper() + step.value[1:]),
                status=QLabel(),
                busy=_busy_indicator(),
                timing=secondary_label(),
                detail=secondary_label(),
            )
            row.detail.setWordWrap(False)
            for column, widget in enumerate(
                (row.symbol, row.title, row.status, row.busy, row.timing, row.detail)
            ):
                grid.addWidget(widget, line, column)
            self._rows[step] = row
            self._set_state(step, StepState.WAITING)
        return grid

    # ------------------------------------------------------------------ state

    def _set_state(self, step: Step, state: StepState, timing: str = "") -> None:
        row = self._rows[step]
        row.state = state
        symbol, word = state.value
        row.symbol.setText(symbol)
        row.status.setText(word)
        row.busy.setVisible(state is StepState.RUNNING)
        row.timing.setText(timing)
        colour = {StepState.OK: StatusColour.GOOD, StepState.FAILED: StatusColour.BAD}.get(state)
        palette = self.palette()
        if colour is not None:
            palette.setColor(QPalette.ColorRole.WindowText, status_colour(colour, palette))
        row.symbol.setPalette(palette)
        row.status.setPalette(palette)

    def _elapsed(self, step: Step) -> str:
        started = self._rows[step].started
        return _seconds_text(time.monotonic() - started) if started is not None else ""

    def _end(self) -> None:
        self._running = False
        self._cancel_possible = False
        self.close_button.setText("Close")
        self._refresh_buttons()

    def _show_outcome(self, headline: str, body: str, *, good: bool) -> None:
        self.headline.setText(headline)
        self.message_label.clear()
        self.outcome_label.setText(body)
        self.outcome_label.setVisible(bool(body))
        palette = self.palette()
        if not good:
            palette.setColor(
                QPalette.ColorRole.WindowText, status_colour(StatusColour.BAD, palette)
            )
        self.headline.setPalette(palette)

    def _refresh_buttons(self) -> None:
        self.cancel_button.setEnabled(self._running and self._cancel_possible)
        self.cancel_button.setVisible(self._running)

    def _cancel(self) -> None:
        if not (self._running and self._cancel_possible):
            return
        self._cancel_possible = False  # once is enough; the Apply stops at its next check
        self.cancel_button.setText("Cancelling…")
        self._refresh_buttons()
        self.cancel_requested.emit()

    def changeEvent(self, event: QEvent) -> None:
        """Light/dark switch: recolour the step marks."""
        super().changeEvent(event)
        rows: dict[Step, _Row] = getattr(self, "_rows", {})  # not yet there while constructing
        if event.type() == QEvent.Type.PaletteChange:
            for step, row in rows.items():
                self._set_state(step, row.state, row.timing.text())


def _busy_indicator() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)  # indeterminate: Qt animates it
    bar.setTextVisible(False)
    bar.setMaximumWidth(48)
    bar.setMaximumHeight(10)
    bar.hide()
    return bar


def _seconds_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"
