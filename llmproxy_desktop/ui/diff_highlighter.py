"""A read-only viewer for unified diffs: monospace, no wrapping, added and removed lines coloured.

Used by the Review Changes sheet (what Apply would write) and the drift sheet (what the file on
the server says instead). The text is shown as given: callers hand over diffs whose secrets are
already *** (core.diff.unified_config_diff, ops.drift), and the viewer never decodes anything.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from .theme import StatusColour, status_colour


def monospace_font() -> QFont:
    """The system's fixed-pitch font; the hints make Qt pick a monospaced one where none is set."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    return font


class DiffHighlighter(QSyntaxHighlighter):
    """Colours a unified diff line by line: + good, - bad, @@ hunks as links, file headers bold.

    Colours come from the palette given (light or dark pairs from the theme), so call
    `set_palette` when the palette changes; `DiffView` does that for you.
    """

    def __init__(self, document: QTextDocument, palette: QPalette) -> None:
        super().__init__(document)
        self._formats: dict[str, QTextCharFormat] = {}
        self._build_formats(palette)

    def set_palette(self, palette: QPalette) -> None:
        """Recolour for a new palette (light/dark switch)."""
        self._build_formats(palette)
        self.rehighlight()

    def line_kind(self, text: str) -> str | None:
        """Which format a line gets: "header", "hunk", "added", "removed" or None (context)."""
        # File headers first: "--- a" and "+++ b" would otherwise count as removed/added lines.
        if text.startswith(("+++ ", "--- ")) or text in ("+++", "---"):
            return "header"
        if text.startswith("@@"):
            return "hunk"
        if text.startswith("+"):
            return "added"
        if text.startswith("-"):
            return "removed"
        return None

    def highlightBlock(self, text: str) -> None:
        """Qt calls this per line of the document."""
        kind = self.line_kind(text)
        if kind is not None:
            self.setFormat(0, len(text), self._formats[kind])

    def _build_formats(self, palette: QPalette) -> None:
        added = QTextCharFormat()
        added.setForeground(status_colour(StatusColour.GOOD, palette))
        removed = QTextCharFormat()
        removed.setForeground(status_colour(StatusColour.BAD, palette))
        hunk = QTextCharFormat()
        hunk.setForeground(palette.color(QPalette.ColorRole.Link))
        header = QTextCharFormat()
        header.setFontWeight(QFont.Weight.Bold)
        self._formats = {"added": added, "removed": removed, "hunk": hunk, "header": header}


class DiffView(QPlainTextEdit):
    """A read-only, selectable, monospace view of one unified diff, highlighted."""

    def __init__(self, diff: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(monospace_font())
        self.highlighter = DiffHighlighter(self.document(), self.palette())
        self.setPlainText(diff)

    def changeEvent(self, event: QEvent) -> None:
        """Follow light/dark switches: the diff colours come in pairs per scheme."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_palette(self.palette())
