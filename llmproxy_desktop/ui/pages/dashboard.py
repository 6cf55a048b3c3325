"""The Dashboard page: the stack at a glance, as calm cards with large numbers.

The page only shows a `DashboardSummary` (ops/dashboard.py builds it, and decides every text);
"Refresh" asks whoever owns the stack to gather a new one.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.ops.dashboard import DashboardSummary, Figure, FigureId, Tone
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    staged_accent,
    status_colour,
    text_font,
)

COLUMNS: Final = 4
_TONE_COLOURS: Final = {Tone.GOOD: StatusColour.GOOD, Tone.BAD: StatusColour.BAD}


def tone_colour(tone: Tone, palette: QPalette) -> QPalette:
    """A copy of `palette` whose text colour carries `tone` (unchanged for neutral)."""
    coloured = QPalette(palette)
    if tone is Tone.STAGED:
        coloured.setColor(QPalette.ColorRole.WindowText, staged_accent(palette))
    elif tone in _TONE_COLOURS:
        coloured.setColor(
            QPalette.ColorRole.WindowText, status_colour(_TONE_COLOURS[tone], palette)
        )
    return coloured


class FigureCard(QFrame):
    """One card: a large value, a caption under it and a small note; the detail as tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value_label = QLabel("—")
        self.value_label.setFont(text_font(TextStyle.LARGE_TITLE))
        self.caption_label = QLabel()
        self.caption_label.setFont(text_font(TextStyle.CALLOUT))
        self.note_label = QLabel()
        self.note_label.setFont(text_font(TextStyle.FOOTNOTE))
        self.note_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.note_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        for label in (self.value_label, self.caption_label, self.note_label):
            layout.addWidget(label)
        layout.addStretch(1)
        self._tone = Tone.NEUTRAL

    def show_figure(self, figure: Figure) -> None:
        """Show `figure`; its detail becomes the tooltip of the whole card."""
        self.value_label.setText(figure.value)
        self.caption_label.setText(figure.caption)
        self.note_label.setText(figure.note)
        self.note_label.setVisible(bool(figure.note))
        self.setToolTip(figure.detail)
        self.setAccessibleName(f"{figure.caption}: {figure.value}")
        self.setAccessibleDescription(figure.detail)
        self._tone = figure.tone
        self._paint_tone()

    @property
    def tone(self) -> Tone:
        """The tone of the figure shown."""
        return self._tone

    def _paint_tone(self) -> None:
        # The value label gets its own palette: it must follow light/dark mode, so it is rebuilt
        # from the card's palette whenever that changes.
        self.value_label.setPalette(tone_colour(self._tone, self.palette()))

    def changeEvent(self, event: QEvent) -> None:
        """Re-colour the value when the palette (light/dark) changes."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint_tone()


class DashboardPage(QWidget):
    """A grid of figure cards and a Refresh button."""

    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self.cards: dict[FigureId, FigureCard] = {}
        self._build()

    def _build(self) -> None:
        title = QLabel("Dashboard")
        title.setFont(text_font(TextStyle.TITLE_2))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.refresh_button)
        grid = QGridLayout()
        grid.setSpacing(CONTROL_SPACING * 2)
        for index, figure_id in enumerate(FigureId):
            card = FigureCard()
            card.setObjectName(f"card_{figure_id.value}")
            self.cards[figure_id] = card
            grid.addWidget(card, index // COLUMNS, index % COLUMNS)
        for column in range(COLUMNS):
            grid.setColumnStretch(column, 1)  # equal columns: the cards line up
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING * 2)
        layout.addLayout(header)
        layout.addLayout(grid)
        layout.addStretch(1)
        for card in self.cards.values():
            card.setToolTip("Not read yet: refresh to ask the stack.")

    def set_summary(self, summary: DashboardSummary) -> None:
        """Show the figures of `summary`."""
        for figure in summary.figures():
            self.cards[figure.id].show_figure(figure)

    def card_texts(self) -> dict[FigureId, tuple[str, str, str]]:
        """(value, caption, note) per card, for tests and accessibility checks."""
        return {
            fid: (c.value_label.text(), c.caption_label.text(), c.note_label.text())
            for fid, c in self.cards.items()
        }

    def set_busy(self, busy: bool) -> None:
        """While a refresh runs, Refresh is disabled (one refresh at a time)."""
        self.refresh_button.setEnabled(not busy)
        self.refresh_button.setText("Refreshing…" if busy else "Refresh")
