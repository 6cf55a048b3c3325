"""Fill a QPlainTextEdit with a long text a slice per event-loop turn.

`setPlainText` of a 14,000-line config.yaml holds the GUI thread for 30 to 80 ms, and a highlighted
text costs ~30 µs more a line. Appending the text in slices of a few milliseconds each, one
slice per turn of the event loop, keeps the window responsive (issue #5 §5: no stall over 50 ms)
while the text arrives; it is complete a few turns later. Building the QTextDocument on another
thread is not an option: a document belongs to its widget's (the GUI) thread.

A text equal to the one shown (or being shown) is not filled again, so a refresh that brings
the same text costs nothing and keeps the reader's place and selection. A newer text cancels an
unfinished fill; the reader's scroll position is restored once the new text is long enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

__all__ = ["IncrementalText"]

FIRST_SLICE_CHARS: Final = 4096
"""The first slice, inserted at once: texts up to this long (~150 lines) need no later turn."""
MIN_SLICE_CHARS: Final = 1024
MAX_SLICE_CHARS: Final = 256 * 1024
SLICE_TARGET_S: Final = 0.006
"""How long one slice should hold the GUI thread; slices are sized from the last one's speed."""


class IncrementalText(QObject):
    """Shows texts in one QPlainTextEdit, long ones a slice per event-loop turn.

    `filled` is emitted when a text is complete in the pane (at once for a short one).
    """

    filled = Signal()

    def __init__(self, pane: QPlainTextEdit) -> None:
        super().__init__(pane)
        self._pane = pane
        # Read-only panes: an undo history of every slice would only cost time and memory.
        pane.document().setUndoRedoEnabled(False)
        self._text = pane.toPlainText()
        self._position = len(self._text)  # how much of `_text` is in the pane
        self._slice = FIRST_SLICE_CHARS
        self._scroll_to: int | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._insert_slice)

    def text(self) -> str:
        """The text shown, or being filled in."""
        return self._text

    def is_filling(self) -> bool:
        """True while part of the text is still to be inserted."""
        return self._position < len(self._text)

    def set_text(self, text: str, prepare: Callable[[], None] | None = None) -> bool:
        """Show `text`: the first slice now, the rest over the next turns. False (and nothing
        done) when it is the text already shown or being filled in.

        `prepare` runs on the emptied pane before the first slice (e.g. to attach or detach a
        highlighter while that costs nothing).
        """
        if text == self._text:
            return False
        self._timer.stop()
        scroll = self._pane.verticalScrollBar().value()
        self._pane.setPlainText("")
        if prepare is not None:
            prepare()
        self._text, self._position = text, 0
        self._slice = FIRST_SLICE_CHARS
        self._scroll_to = scroll or None
        self._insert_slice()
        return True

    def _insert_slice(self) -> None:
        """Insert the next slice (ending at a line end) and schedule the one after it."""
        text, start = self._text, self._position
        end = _slice_end(text, start, self._slice)
        started = time.perf_counter()
        cursor = QTextCursor(self._pane.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text[start:end])
        self._resize_slice(end - start, time.perf_counter() - started)
        self._position = end
        self._restore_scroll(done=end >= len(text))
        if end < len(text):
            self._timer.start()
        else:
            self.filled.emit()

    def _resize_slice(self, chars: int, seconds: float) -> None:
        # At most doubling: a highlighter that was waiting may start on the next slice.
        factor = min(2.0, SLICE_TARGET_S / max(seconds, 1e-4))
        self._slice = max(MIN_SLICE_CHARS, min(MAX_SLICE_CHARS, int(chars * factor)))

    def _restore_scroll(self, *, done: bool) -> None:
        """Back to where the reader was, as soon as the text reaches that far."""
        if self._scroll_to is None:
            return
        bar = self._pane.verticalScrollBar()
        if bar.maximum() >= self._scroll_to or done:
            bar.setValue(min(self._scroll_to, bar.maximum()))
            self._scroll_to = None


def _slice_end(text: str, start: int, size: int) -> int:
    """Where a slice of about `size` characters from `start` ends: after a line end, so that a
    line (and a CR LF pair) is never split between two insertions."""
    if start + size >= len(text):
        return len(text)
    newline = text.find("\n", start + size)
    return len(text) if newline < 0 else newline + 1
