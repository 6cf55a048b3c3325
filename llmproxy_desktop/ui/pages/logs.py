"""The Logs page (issue #6 §4): the LiteLLM container's log through the socket-proxy, live.

A `LogsService` follows the log (from its last N lines) and hands batches of lines back on the
GUI thread; the page keeps at most `MAX_LINES` of them (older ones drop off the top), can pause
(lines arriving meanwhile wait, as bounded), search (every match highlighted, Next/Previous), copy
and clear. Following runs while the page is shown and the stack connected: hiding the page stops
the stream, showing it or reconnecting starts it again from the last N lines (so nothing is
doubled and what came meanwhile is there). A stream that ends by itself (LiteLLM stopped or
restarted) says so and offers Follow.

The debug-logging switch stages `litellm_settings.set_verbose` through the `StagingEditor`, and
says what applying it means: a restart, and debug output that may hold request content.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Final, Protocol

import shiboken6
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QPalette,
    QShortcut,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.items import EffectiveItem
from llmproxy_desktop.core.maintenance_settings import DEBUG_LOGGING, debug_logging_item
from llmproxy_desktop.ui.diff_highlighter import monospace_font
from llmproxy_desktop.ui.staging import StagingEditor
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    staged_accent,
    status_colour,
    text_font,
)

__all__ = ["DEBUG_WARNING", "MAX_LINES", "TAIL_CHOICES", "LogsPage", "LogsService"]

MAX_LINES: Final = 10_000  # the view's bound, and the bound of lines held while paused
TAIL_CHOICES: Final = (100, 500, 1_000, 5_000)
DEFAULT_TAIL: Final = 500
MAX_HIGHLIGHTS: Final = 1_000
DEBUG_WARNING: Final = (
    "Applying this restarts LiteLLM. Debug output may contain request and response content "
    "(prompts, completions, headers): turn it off when done."
)
DISCONNECTED_TEXT: Final = "Disconnected: the log resumes when the stack is connected again."
ENDED_TEXT: Final = "The log stream ended (LiteLLM stopped or restarted). Follow to resume."

OnLines = Callable[[list[str]], None]
OnEnd = Callable[[str | None], None]


class LogsService(Protocol):
    """Follows the LiteLLM container's log. Calls return at once; the callbacks run later on
    the GUI thread."""

    def start_follow(self, tail: int, on_lines: OnLines, on_end: OnEnd) -> None:
        """Follow from the last `tail` lines: `on_lines(batch)` per batch (a few a second at
        most), then `on_end` exactly once: None when the stream ended by itself or was stopped,
        else the sentence saying why it failed (e.g. the connection dropped)."""
        ...

    def stop_follow(self) -> None:
        """Stop the current follow, if any (its `on_end` still comes, with None)."""
        ...


class LogsPage(QWidget):
    """The live log with pause, search, copy and the debug-logging switch."""

    def __init__(
        self, service: LogsService, editor: StagingEditor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("logsPage")
        self._service = service
        self._editor = editor
        self._connected = True
        self._shown = False
        self._generation = 0  # which follow the callbacks belong to; older ones are ignored
        self._following = False
        self._wanted = True  # False after the admin pressed Stop
        self._held: deque[str] = deque(maxlen=MAX_LINES)
        self._debug: EffectiveItem | None = None
        self._saving = False
        self._build()
        self._update_controls()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        title = QLabel("Logs")
        title.setFont(text_font(TextStyle.TITLE_2))
        self.tail_combo = QComboBox()
        for lines in TAIL_CHOICES:
            self.tail_combo.addItem(f"Last {lines:,} lines", lines)
        self.tail_combo.setCurrentIndex(TAIL_CHOICES.index(DEFAULT_TAIL))
        self.tail_combo.setAccessibleName("Lines to start with")
        self.tail_combo.currentIndexChanged.connect(self._tail_changed)
        self.follow_button = QPushButton("Follow")
        self.follow_button.clicked.connect(self._follow_clicked)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selection, or the whole log when nothing is selected")
        self.copy_button.clicked.connect(self.copy)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        for widget in (
            self.tail_combo,
            self.follow_button,
            self.pause_button,
            self.copy_button,
            self.clear_button,
        ):
            header.addWidget(widget)

        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Search the log")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.textChanged.connect(self._highlight)
        self.search_field.returnPressed.connect(self.find_next)
        self.previous_button = QPushButton("Previous")
        self.previous_button.clicked.connect(self.find_previous)
        self.next_button = QPushButton("Next")
        self.next_button.clicked.connect(self.find_next)
        self.matches_label = QLabel()
        search = QHBoxLayout()
        search.addWidget(self.search_field, 1)
        search.addWidget(self.matches_label)
        search.addWidget(self.previous_button)
        search.addWidget(self.next_button)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)

        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setFont(monospace_font())
        self.view.setAccessibleName("LiteLLM log")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        self.debug_check = QCheckBox("Debug logging (set_verbose)")
        self.debug_check.toggled.connect(self._debug_toggled)
        self.debug_flag = QLabel()
        self.debug_warning = QLabel(DEBUG_WARNING)
        self.debug_warning.setWordWrap(True)
        self.debug_error = QLabel()
        self.debug_error.setWordWrap(True)
        debug = QHBoxLayout()
        debug.addWidget(self.debug_check)
        debug.addWidget(self.debug_flag)
        debug.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addLayout(header)
        layout.addLayout(search)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(debug)
        layout.addWidget(self.debug_warning)
        layout.addWidget(self.debug_error)

    # ------------------------------------------------------------------ inputs

    def set_connected(self, connected: bool) -> None:
        """The stack's connection: following stops when it drops and resumes when it returns."""
        if connected == self._connected:
            return
        self._connected = connected
        if not connected:
            self._stop(DISCONNECTED_TEXT)
        else:
            self.status_label.setText("")
            self._start_if_wanted()
        self._update_controls()

    def set_items(self, effective: Sequence[EffectiveItem]) -> None:
        """The effective items: the debug switch's current (staged or applied) state."""
        self._debug = next((e for e in effective if e.item.key == DEBUG_LOGGING), None)
        on = (
            self._debug is not None and not self._debug.is_deleted and self._debug.item.data is True
        )
        self.debug_check.blockSignals(True)
        self.debug_check.setChecked(on)
        self.debug_check.blockSignals(False)
        flag = self._debug.flag if self._debug is not None else None
        self.debug_flag.setText(f"Staged ({flag.value}): Apply to use it" if flag else "")
        palette = QPalette(self.palette())
        palette.setColor(QPalette.ColorRole.WindowText, staged_accent(palette))
        self.debug_flag.setPalette(palette)

    @property
    def following(self) -> bool:
        return self._following

    @property
    def paused(self) -> bool:
        return self.pause_button.isChecked()

    def tail_lines(self) -> int:
        """How many lines a follow starts with."""
        return int(self.tail_combo.currentData())

    def lines(self) -> list[str]:
        """The lines shown now."""
        text = self.view.toPlainText()
        return text.split("\n") if text else []

    # ------------------------------------------------------------------ following

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._shown = True
        self._start_if_wanted()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._shown = False
        self._stop("")

    def follow(self) -> None:
        """Follow again (from the last N lines) if the page is shown and connected; e.g. after
        an Apply restarted LiteLLM and Docker ended the stream."""
        self._wanted = True
        self._start_if_wanted()

    def stop(self) -> None:
        """Stop following (the window calls this when the page or the stack goes away)."""
        self._wanted = False
        self._stop("Stopped. Follow to resume.")

    def _follow_clicked(self) -> None:
        if self._following:
            self.stop()
        else:
            self.follow()

    def _tail_changed(self, _index: int) -> None:
        if self._following:
            self._stop("")
            self._start_if_wanted()

    def _start_if_wanted(self) -> None:
        if self._following or not (self._wanted and self._shown and self._connected):
            self._update_controls()
            return
        self._generation += 1
        generation = self._generation
        self._following = True
        self.view.clear()  # the follow brings the last N lines again: nothing doubled
        self._held.clear()
        self.status_label.setText("Following…")
        self._paint_status(None)
        self._update_controls()

        def on_lines(batch: list[str]) -> None:
            if shiboken6.isValid(self) and generation == self._generation:
                self._add_lines(batch)

        def on_end(error: str | None) -> None:
            if shiboken6.isValid(self) and generation == self._generation:
                self._ended(error)

        self._service.start_follow(self.tail_lines(), on_lines, on_end)

    def _stop(self, status: str) -> None:
        was_following = self._following
        self._generation += 1  # whatever the old follow still sends is ignored
        self._following = False
        if was_following:
            self._service.stop_follow()
        if status:
            self.status_label.setText(status)
            self._paint_status(None)
        if shiboken6.isValid(self.follow_button):
            self._update_controls()

    def _ended(self, error: str | None) -> None:
        self._following = False
        self._generation += 1
        if error is None:
            self.status_label.setText(ENDED_TEXT)
            self._paint_status(None)
        else:
            self.status_label.setText(f"The log stream stopped: {error}")
            self._paint_status(StatusColour.BAD)
        self._update_controls()

    def _add_lines(self, batch: list[str]) -> None:
        if not batch:
            return
        if self.paused:
            self._held.extend(batch)
            self.status_label.setText(f"Paused: {len(self._held):,} new lines waiting.")
            return
        self._append(batch)

    def _append(self, batch: Sequence[str]) -> None:
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        self.view.appendPlainText("\n".join(batch))
        if at_bottom:
            bar.setValue(bar.maximum())
        if self.search_field.text():
            self._highlight()

    def set_paused(self, paused: bool) -> None:
        """Pause: new lines wait (the newest MAX_LINES of them); resume shows them."""
        if self.pause_button.isChecked() != paused:
            self.pause_button.setChecked(paused)  # comes back here through toggled
            return
        if not paused:
            held = list(self._held)
            self._held.clear()
            if held:
                self._append(held)
            if self._following:
                self.status_label.setText("Following…")
        elif self._following:
            self.status_label.setText("Paused.")
        self._update_controls()

    # ------------------------------------------------------------------ copy, clear, search

    def copy(self) -> None:
        """Copy the selection, or the whole log when nothing is selected."""
        cursor = self.view.textCursor()
        text = cursor.selectedText().replace("\u2029", "\n") if cursor.hasSelection() else None
        QGuiApplication.clipboard().setText(text if text is not None else self.view.toPlainText())

    def clear(self) -> None:
        """Empty the view (the stream goes on)."""
        self.view.clear()
        self._held.clear()
        self._highlight()

    def _focus_search(self) -> None:
        self.search_field.setFocus()
        self.search_field.selectAll()

    def find_next(self) -> bool:
        """Select the next match after the cursor, wrapping around; False if there is none."""
        return self._find(QTextDocument.FindFlag(0))

    def find_previous(self) -> bool:
        """Select the previous match, wrapping around; False if there is none."""
        return self._find(QTextDocument.FindFlag.FindBackward)

    def _find(self, flags: QTextDocument.FindFlag) -> bool:
        needle = self.search_field.text()
        if not needle:
            return False
        if self.view.find(needle, flags):
            return True
        cursor = self.view.textCursor()
        backward = bool(flags & QTextDocument.FindFlag.FindBackward)
        cursor.movePosition(
            QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
        )
        self.view.setTextCursor(cursor)
        return self.view.find(needle, flags)

    def match_count(self) -> int:
        """How many matches are highlighted (at most MAX_HIGHLIGHTS)."""
        return len(self.view.extraSelections())

    def _highlight(self, *_args: object) -> None:
        needle = self.search_field.text()
        selections: list[QTextEdit.ExtraSelection] = []
        if needle:
            document = self.view.document()
            colour = QColor(status_colour(StatusColour.STAGED, self.palette()))
            colour.setAlpha(90)
            fmt = QTextCharFormat()
            fmt.setBackground(colour)
            cursor = document.find(needle, 0)
            while not cursor.isNull() and len(selections) < MAX_HIGHLIGHTS:
                selection = QTextEdit.ExtraSelection()
                selection.cursor = cursor
                selection.format = fmt
                selections.append(selection)
                cursor = document.find(needle, cursor)
        self.view.setExtraSelections(selections)
        count = len(selections)
        more = "+" if count >= MAX_HIGHLIGHTS else ""
        self.matches_label.setText(f"{count}{more} matches" if needle else "")
        self._update_controls()

    # ------------------------------------------------------------------ debug logging

    def _debug_toggled(self, on: bool) -> None:
        if self._saving:
            return
        entry = self._debug
        version = entry.version if entry is not None else 0
        self.debug_error.setText("")
        self._saving = True
        self._update_controls()
        if not on and entry is not None and entry.flag is not None and entry.flag.value == "new":
            self._editor.discard([DEBUG_LOGGING], self._debug_saved)  # never applied: drop it
        else:
            self._editor.stage([(debug_logging_item(on), version)], self._debug_saved)

    def _debug_saved(self, sentence: str | None) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        if sentence:
            self.debug_error.setText(sentence)
            palette = QPalette(self.palette())
            palette.setColor(
                QPalette.ColorRole.WindowText, status_colour(StatusColour.BAD, palette)
            )
            self.debug_error.setPalette(palette)
            self.set_items([self._debug] if self._debug is not None else [])  # back to stored
        self._update_controls()

    # ------------------------------------------------------------------ drawing

    def _update_controls(self) -> None:
        self.follow_button.setText("Stop" if self._following else "Follow")
        self.follow_button.setEnabled(self._connected)
        self.pause_button.setEnabled(self._following or self.paused)
        has_needle = bool(self.search_field.text())
        self.next_button.setEnabled(has_needle)
        self.previous_button.setEnabled(has_needle)
        self.debug_check.setEnabled(self._connected and not self._saving)

    def _paint_status(self, tone: StatusColour | None) -> None:
        palette = QPalette(self.palette())
        if tone is not None:
            palette.setColor(QPalette.ColorRole.WindowText, status_colour(tone, palette))
        self.status_label.setPalette(palette)
