"""The Rendered config page: what Apply would write, next to what the server has, and drift.

Both texts arrive redacted (the render with `redact=True`, the server's file through
`ops.drift.redact_config_text`), so nothing here can show a secret. The header says in one
coloured sentence whether the server's file is what the Master last applied; "Show differences"
swaps the two panes for a unified diff: the drift report's own when it has one, else one computed
between the two texts shown.

The panes of a 2,000-model stack hold ~14,000 lines each: they are filled a slice per event-loop
turn (`IncrementalText`), and a refresh that brings the same text does not fill them again.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.ops.drift_report import DriftReport, DriftState
from llmproxy_desktop.ui.deferred import DeferredWhileHidden
from llmproxy_desktop.ui.diff_highlighter import DiffView, monospace_font
from llmproxy_desktop.ui.incremental_text import IncrementalText
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    is_dark,
    status_colour,
    text_font,
)
from llmproxy_desktop.ui.yaml_highlighter import YamlHighlighter

NOT_READ_TEXT: Final = "The server's config.yaml has not been read yet. Refresh to read it."
NO_DIFFERENCES_TEXT: Final = "No differences."
COMPARING_TEXT: Final = "Comparing…"
HIGHLIGHT_MAX_LINES: Final = 3000

DiffRunner = Callable[[str, "str | None", "DriftReport | None", Callable[[str], None]], None]
"""`runner(render, remote, report, done)`: compute `differences(...)` and call `done(diff)` on the
GUI thread."""
RENDER_LABEL: Final = "master/config.yaml"
REMOTE_LABEL: Final = "server/config.yaml"


def drift_tone(state: DriftState | None) -> StatusColour | None:
    """The colour of the drift sentence: good when in sync, a warning otherwise, none before the
    first check."""
    if state is None:
        return None
    # The theme has no separate warning colour and amber is reserved for staged state, so
    # every kind of drift reads as "needs attention".
    return StatusColour.GOOD if state is DriftState.IN_SYNC else StatusColour.BAD


def differences(render: str, remote: str | None, report: DriftReport | None) -> str:
    """The diff to show: the report's when it has one, else render → server computed here."""
    if report is not None and report.diff:
        return report.diff
    if remote is None:
        return ""
    return "".join(
        difflib.unified_diff(
            render.splitlines(keepends=True),
            remote.splitlines(keepends=True),
            RENDER_LABEL,
            REMOTE_LABEL,
        )
    )


def _code_pane(name: str) -> QPlainTextEdit:
    pane = QPlainTextEdit()
    pane.setReadOnly(True)
    pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    pane.setFont(monospace_font())
    pane.setAccessibleName(name)
    pane.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return pane


def _titled(title: str, pane: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(title)
    label.setFont(text_font(TextStyle.HEADLINE))
    layout.addWidget(label)
    layout.addWidget(pane, 1)
    return box


class RenderedConfigPage(DeferredWhileHidden):
    """Two read-only panes (render, server file), the drift sentence, diff, Refresh and Copy."""

    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("renderedConfigPage")
        self._render = ""
        self._remote: str | None = None
        self._report: DriftReport | None = None
        self._diff_runner: DiffRunner | None = None
        self._diff_stale = True
        self._diff_inputs: tuple[str, str | None, DriftReport | None] | None = None
        self._build()
        self._connect()
        self._show_drift()

    def _build(self) -> None:
        title = QLabel("Rendered Config")
        title.setFont(text_font(TextStyle.TITLE_2))
        self.drift_label = QLabel()
        self.drift_label.setWordWrap(True)
        self.drift_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diff_button = QPushButton("Show differences")
        self.diff_button.setCheckable(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the rendered config (secrets shown as ***).")
        self.refresh_button = QPushButton("Refresh")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        for button in (self.diff_button, self.copy_button, self.refresh_button):
            header.addWidget(button)
        dark = is_dark(self.palette())
        self.render_pane = _code_pane("Rendered config")
        self.remote_pane = _code_pane("Server's config")
        self.remote_pane.setPlaceholderText(NOT_READ_TEXT)
        self.diff_pane = DiffView()
        self.diff_pane.setAccessibleName("Differences")
        self._highlighters = [
            YamlHighlighter(self.render_pane.document(), dark=dark),
            YamlHighlighter(self.remote_pane.document(), dark=dark),
        ]
        self._fills = [IncrementalText(self.render_pane), IncrementalText(self.remote_pane)]
        self._diff_fill = IncrementalText(self.diff_pane)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(_titled("What Apply writes", self.render_pane))
        self.splitter.addWidget(_titled("On the server", self.remote_pane))
        self.splitter.setChildrenCollapsible(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.diff_pane)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addLayout(header)
        layout.addWidget(self.drift_label)
        layout.addWidget(self.stack, 1)

    def _connect(self) -> None:
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.copy_button.clicked.connect(self.copy_render)
        self.diff_button.toggled.connect(self.show_differences)

    # ------------------------------------------------------------------ data

    def set_render(self, text: str) -> None:
        """Show what Apply would write (already redacted)."""
        self._render = text
        # Highlighting a 14,000-line file costs a few hundred ms: only for a shown page.
        self.defer("render", lambda: self._set_pane(0, text))
        self._update_diff()

    def set_remote(self, text: str | None, drift: DriftReport | None) -> None:
        """Show the server's file (already redacted; None: not read) and the drift report."""
        self._remote = text
        self._report = drift
        self.defer("remote", lambda: self._set_pane(1, text or ""))
        self._show_drift()
        self._update_diff()

    def _set_pane(self, index: int, text: str) -> None:
        """Show `text` in pane `index` (0 render, 1 server), highlighted unless it is so long
        that highlighting would add much to the fill (~30 µs a line: 14,000 lines ≈ 0.4 s).
        The same text again: nothing to do (the reader keeps their place and selection)."""
        pane = (self.render_pane, self.remote_pane)[index]
        highlighter = self._highlighters[index]
        wanted = pane.document() if text.count("\n") <= HIGHLIGHT_MAX_LINES else None

        def attach() -> None:  # on the emptied pane: attaching there rehighlights nothing
            if highlighter.document() is not wanted:
                highlighter.setDocument(wanted)

        self._fills[index].set_text(text, attach)

    def is_filling(self) -> bool:
        """True while a pane is still being filled (a few event-loop turns for a long text)."""
        return any(fill.is_filling() for fill in (*self._fills, self._diff_fill))

    def copy_render(self) -> None:
        """Put the rendered (redacted) text on the clipboard."""
        QGuiApplication.clipboard().setText(self._render)

    def show_differences(self, shown: bool) -> None:
        """Swap the side-by-side panes for the diff (or back)."""
        if self.diff_button.isChecked() != shown:
            self.diff_button.setChecked(shown)  # toggled calls back here
            return
        if shown and self._diff_stale:
            self._compute_diff()
        self.stack.setCurrentWidget(self.diff_pane if shown else self.splitter)

    # ------------------------------------------------------------------ drawing

    def drift_colour(self) -> QColor:
        """The colour the drift sentence is drawn in."""
        return self.drift_label.palette().color(QPalette.ColorRole.WindowText)

    def _show_drift(self) -> None:
        report = self._report
        if report is None:
            self.drift_label.setText(
                NOT_READ_TEXT if self._remote is None else "Drift was not checked."
            )
        else:
            self.drift_label.setText(report.sentence())
        palette = QPalette(self.palette())
        tone = drift_tone(report.state if report else None)
        if tone is not None:
            palette.setColor(QPalette.ColorRole.WindowText, status_colour(tone, self.palette()))
        self.drift_label.setPalette(palette)

    def set_diff_runner(self, runner: DiffRunner | None) -> None:
        """Compute diffs with `runner(render, remote, report, done)` (e.g. on the stack's worker:
        difflib takes seconds on two 2,000-model files) instead of here on the GUI thread."""
        self._diff_runner = runner

    def _update_diff(self) -> None:
        """Refresh the diff pane: at once when the drift report carries the diff, else computed
        when the pane is (or becomes) visible."""
        if self._report is not None and self._report.diff:
            self._diff_stale = False
            self._show_diff(self._report.diff)
            return
        self._diff_stale = True
        if self.diff_button.isChecked():
            self._compute_diff()

    def _compute_diff(self) -> None:
        self._diff_stale = False
        inputs = (self._render, self._remote, self._report)
        if self._diff_runner is None:
            self._show_diff(differences(*inputs))
            return
        self._diff_fill.set_text(COMPARING_TEXT)
        self._diff_inputs = inputs

        def done(diff: str) -> None:
            if self._diff_inputs is inputs:  # not overtaken by newer data
                self._show_diff(diff)

        self._diff_runner(*inputs, done)

    def _show_diff(self, diff: str) -> None:
        if not diff:
            diff = NO_DIFFERENCES_TEXT if self._remote is not None else NOT_READ_TEXT
        self._diff_fill.set_text(diff)

    def changeEvent(self, event: QEvent) -> None:
        """Follow light/dark mode."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark(self.palette())
            for highlighter in self._highlighters:
                highlighter.set_dark(dark)
            self._show_drift()
