"""The Dashboard's usage cards: spend today / 7 d / 30 d, requests and error rate of the last
24 hours, and the top models of the last 7 days. Shows a `DashboardUsage` (ops/usage.py); the
owner of the stack fetches it and calls `set_usage`."""

from __future__ import annotations

from typing import Final

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from llmproxy_desktop.ops.usage import DashboardUsage
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    text_font,
)

__all__ = ["UsageCards", "money"]

ERROR_RATE_WARNING: Final = 0.05  # above this share of failed requests the figure turns red
COLUMNS: Final = 4  # as the Dashboard's figure cards above, so the two grids line up


def money(value: float) -> str:
    """Spend as dollars: cents, or four decimals below one dollar (LLM calls are cheap)."""
    return f"${value:,.2f}" if abs(value) >= 1 or value == 0 else f"${value:,.4f}"


class _Card(QFrame):
    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value_label = QLabel("—")
        self.value_label.setFont(text_font(TextStyle.TITLE_1))
        self.caption_label = QLabel(caption)
        self.caption_label.setFont(text_font(TextStyle.CALLOUT))
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        layout.addWidget(self.value_label)
        layout.addWidget(self.caption_label)
        layout.addStretch(1)


class UsageCards(QWidget):
    """Five figure cards and a top-models card, in the Dashboard's four columns (six cards in a
    row would not fit the window's default width)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = _Card("Spend today")
        self.week = _Card("Spend, last 7 days")
        self.month = _Card("Spend, last 30 days")
        self.requests = _Card("Requests, last 24 h")
        self.error_rate = _Card("Failed, last 24 h")
        self.top_models = _Card("Top models, last 7 days")
        self.top_models.value_label.setFont(text_font(TextStyle.BODY))
        self.zone_label = QLabel()
        self.zone_label.setFont(text_font(TextStyle.FOOTNOTE))
        grid = QGridLayout(self)
        # The Dashboard page's margins and spacing, so the cards line up with its own.
        grid.setContentsMargins(WINDOW_MARGIN, 0, WINDOW_MARGIN, WINDOW_MARGIN)
        grid.setSpacing(CONTROL_SPACING * 2)
        figures = (self.today, self.week, self.month, self.requests, self.error_rate)
        for index, card in enumerate(figures):
            grid.addWidget(card, index // COLUMNS, index % COLUMNS)
        last = len(figures)
        grid.addWidget(
            self.top_models, last // COLUMNS, last % COLUMNS, 1, COLUMNS - last % COLUMNS
        )
        grid.addWidget(self.zone_label, last // COLUMNS + 1, 0, 1, COLUMNS)
        for column in range(COLUMNS):
            grid.setColumnStretch(column, 1)

    def set_usage(self, usage: DashboardUsage) -> None:
        """Show `usage`."""
        self.today.value_label.setText(money(usage.spend_today))
        self.week.value_label.setText(money(usage.spend_7d))
        self.month.value_label.setText(money(usage.spend_30d))
        self.requests.value_label.setText(f"{usage.requests_24h:,}")
        self.error_rate.value_label.setText(f"{usage.error_rate_24h:.1%}")
        self.error_rate.caption_label.setText(f"Failed, last 24 h ({usage.errors_24h:,})")
        palette = self.error_rate.value_label.palette()
        if usage.error_rate_24h > ERROR_RATE_WARNING:
            from llmproxy_desktop.ui.theme import status_colour

            palette.setColor(
                self.error_rate.value_label.foregroundRole(),
                status_colour(StatusColour.BAD, self.palette()),
            )
            self.error_rate.value_label.setPalette(palette)
        else:
            self.error_rate.value_label.setPalette(self.palette())
        lines = [f"{m.label}  {money(m.spend)}" for m in usage.top_models]
        self.top_models.value_label.setText("\n".join(lines) or "No requests")
        self.zone_label.setText(f"Days in {usage.zone_name}")
