"""The Apply bar (issue #5 §2): the amber banner that says how many changes are staged and offers
Review, Discard and Apply; it also carries the drift badge and, while an Apply runs, its progress.

Pure UI: the stack controller feeds it plain values (a count, a DriftReport, progress triples)
and listens to its signals. The bar is visible when there is something to say: staged changes,
drift, or an Apply in progress; otherwise it takes no room at all.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QPainter, QPaintEvent, QPalette, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolButton,
    QWidget,
)

from ..ops.drift_report import DriftReport, DriftState
from .sheets.drift_sheet import drift_title
from .theme import CONTROL_SPACING, TextStyle, staged_accent, text_font

__all__ = ["ApplyBar", "staged_text"]

_TINT_ALPHA = 40  # the accent shows through as a faint wash behind the bar's contents
_PROGRESS_STEPS = 1000


def staged_text(count: int) -> str:
    """ "1 staged change", "3 staged changes"."""
    return f"{count} staged change" if count == 1 else f"{count} staged changes"


class ApplyBar(QWidget):
    """Staged count, Review Changes… / Discard… / Apply, History…, drift badge, Apply progress."""

    review_requested = Signal()
    discard_requested = Signal()
    apply_requested = Signal()
    history_requested = Signal()
    drift_details_requested = Signal()
    progress_requested = Signal()  # "Show Progress": bring back a hidden Apply progress sheet

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count = 0
        self._busy = False
        self._drift: DriftReport | None = None
        self._build()
        self._connect()
        self._refresh()

    # ------------------------------------------------------------------ public API

    def staged_count(self) -> int:
        """The count last set."""
        return self._count

    def is_busy(self) -> bool:
        """True while an Apply runs (as last told by `set_busy`)."""
        return self._busy

    @Slot(int)
    def set_staged_count(self, count: int) -> None:
        """Show `count` staged changes; at 0 the Apply buttons go (the bar may stay for drift)."""
        self._count = max(0, count)
        self._refresh()

    @Slot(bool)
    def set_busy(self, busy: bool) -> None:
        """While an Apply runs, no second Apply, Review or Discard; progress shows instead."""
        self._busy = busy
        if busy:
            self.progress_bar.setValue(0)
            self.progress_label.setText("Applying…")
        self._refresh()

    @Slot(str, float, str)
    def on_progress(self, step: str, fraction: float, message: str) -> None:
        """Follow the running Apply: the step's title and the share done."""
        # Step values are their titles ("restart LiteLLM"), so the string reads as it comes.
        self.progress_label.setText(f"Applying: {step}…")
        self.progress_label.setToolTip(message)
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * _PROGRESS_STEPS))

    @Slot(object)
    def set_drift(self, report: DriftReport | None) -> None:
        """Show the drift badge for any state but in sync; None (not checked yet) hides it."""
        self._drift = report
        drifted = report is not None and report.state is not DriftState.IN_SYNC
        if report is not None and drifted:
            self.drift_badge.setText(drift_title(report.state))
            self.drift_badge.setToolTip(report.sentence() + " Click for details.")
        self._refresh()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QHBoxLayout(self)
        layout.setContentsMargins(CONTROL_SPACING * 2, CONTROL_SPACING, CONTROL_SPACING * 2, 8)
        layout.setSpacing(CONTROL_SPACING)
        self.drift_badge = QToolButton()
        self.drift_badge.setObjectName("driftBadge")
        self.drift_badge.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        )
        self.drift_badge.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.drift_badge.setAutoRaise(True)
        self.drift_badge.setFont(text_font(TextStyle.CALLOUT))
        self.count_label = QLabel()
        self.count_label.setFont(text_font(TextStyle.HEADLINE))
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _PROGRESS_STEPS)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumWidth(160)
        self.show_progress_button = QPushButton("Show Progress")
        self.history_button = QPushButton("History…")
        self.review_button = QPushButton("Review Changes…")
        self.discard_button = QPushButton("Discard…")
        self.apply_button = QPushButton("Apply")
        # Outside a dialog `default` only paints the button as the default one; Ctrl+Return
        # below is what triggers it from the keyboard.
        self.apply_button.setDefault(True)
        self.apply_button.setToolTip(f"Apply ({_shortcut_text()})")
        for widget in (self.drift_badge, self.count_label, self.progress_label, self.progress_bar):
            layout.addWidget(widget)
        layout.addWidget(self.show_progress_button)
        layout.addStretch(1)
        for button in (
            self.history_button,
            self.review_button,
            self.discard_button,
            self.apply_button,
        ):
            layout.addWidget(button)
        self._apply_accent()

    def _connect(self) -> None:
        self.review_button.clicked.connect(self.review_requested)
        self.discard_button.clicked.connect(self.discard_requested)
        self.apply_button.clicked.connect(self.apply_requested)
        self.history_button.clicked.connect(self.history_requested)
        self.drift_badge.clicked.connect(self.drift_details_requested)
        self.show_progress_button.clicked.connect(self.progress_requested)
        # Ctrl+Return is Cmd+Return on macOS (Qt maps Ctrl to Command there); the keypad's
        # Enter too. Window-wide, but `_apply_shortcut` checks the bar is showing its Apply.
        self.apply_shortcuts: list[QShortcut] = []
        for key in ("Return", "Enter"):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{key}"), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self._apply_shortcut)
            self.apply_shortcuts.append(shortcut)

    def _apply_shortcut(self) -> None:
        if self.isVisible() and self.apply_button.isVisible() and self.apply_button.isEnabled():
            self.apply_button.click()

    def _refresh(self) -> None:
        staged = self._count > 0
        drifted = self._drift is not None and self._drift.state is not DriftState.IN_SYNC
        self.count_label.setText(staged_text(self._count))
        self.count_label.setVisible(staged)
        self.drift_badge.setVisible(drifted)
        for widget in (self.progress_label, self.progress_bar, self.show_progress_button):
            widget.setVisible(self._busy)
        for button in (self.review_button, self.discard_button, self.apply_button):
            button.setVisible(staged)
            button.setEnabled(not self._busy)
        self.history_button.setEnabled(not self._busy)
        self.drift_badge.setEnabled(not self._busy)
        self.setVisible(staged or drifted or self._busy)

    # ------------------------------------------------------------------ colour

    def _apply_accent(self) -> None:
        palette = self.count_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, staged_accent(self.palette()))
        self.count_label.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        """Light/dark switch: the accent has a colour per scheme."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_accent()

    def paintEvent(self, event: QPaintEvent) -> None:
        """A faint wash of the staged accent with a full-strength rule along the top."""
        painter = QPainter(self)
        accent = staged_accent(self.palette())
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
        accent.setAlpha(_TINT_ALPHA)
        painter.fillRect(self.rect(), accent)
        accent.setAlpha(255)
        painter.fillRect(0, 0, self.width(), 2, accent)
        painter.end()
        super().paintEvent(event)


def _shortcut_text() -> str:
    return QKeySequence("Ctrl+Return").toString(QKeySequence.SequenceFormat.NativeText)
