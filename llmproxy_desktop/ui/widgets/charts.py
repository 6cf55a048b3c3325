"""Two small bar charts drawn with QPainter (no QtCharts): stacked bars per day, bars per hour.

They draw whatever plain numbers they are given; the Usage page hands them `SpendPerDay` and
`RequestsPerHour` from ops/usage.py. Colours come from a fixed, colour-blind-friendly palette
(Okabe-Ito) with a legend, so a series is never told apart by colour alone; axes and text use
palette roles and follow light/dark mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from llmproxy_desktop.ui.theme import TextStyle, text_font

__all__ = ["BarChart", "Series", "StackedBarChart", "series_colour"]

# Okabe-Ito, then greys for the rest ("other" is always the last series).
_COLOURS: Final = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
_OTHER: Final = "#9a9a9a"
_MARGIN: Final = 6.0


def series_colour(index: int, is_other: bool = False) -> QColor:
    """The colour of the `index`-th series (grey for the 'other' series)."""
    return QColor(_OTHER if is_other or index >= len(_COLOURS) else _COLOURS[index])


@dataclass(frozen=True)
class Series:
    """One stacked series: a name (legend) and one value per bar."""

    name: str
    values: tuple[float, ...]
    is_other: bool = False


def _nice_max(value: float) -> float:
    """A round axis maximum >= value (1, 2, 2.5, 5 times 10^n)."""
    if value <= 0:
        return 1.0
    exponent = 10.0 ** math.floor(math.log10(value))
    return next(step * exponent for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * exponent >= value)


class _Chart(QWidget):
    """Shared frame: title, y-axis maximum, x labels every few bars, legend."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.labels: tuple[str, ...] = ()
        self.value_format = "{:,.0f}"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(160)

    def sizeHint(self) -> QSize:
        return QSize(420, 200)

    def totals(self) -> list[float]:
        raise NotImplementedError

    def legend(self) -> Sequence[tuple[str, QColor]]:
        return ()

    def draw_bars(self, painter: QPainter, plot: QRectF, maximum: float) -> None:
        raise NotImplementedError

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        small = text_font(TextStyle.FOOTNOTE, self.font())
        metrics = QFontMetricsF(small)
        line = metrics.height()
        painter.setFont(text_font(TextStyle.HEADLINE, self.font()))
        painter.setPen(text)
        area = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        painter.drawText(area, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.title)
        painter.setFont(small)
        top = area.top() + line * 1.6
        legend = list(self.legend())
        if legend:
            x = area.left()
            for name, colour in legend:
                width = metrics.horizontalAdvance(name) + line + 10
                if x + width > area.right():
                    x = area.left()
                    top += line
                painter.fillRect(QRectF(x, top + 2, line - 4, line - 4), colour)
                painter.setPen(faint)
                painter.drawText(QPointF(x + line, top + metrics.ascent()), name)
                x += width
            top += line * 1.3
        totals = self.totals()
        maximum = _nice_max(max(totals, default=0.0))
        axis_text = self.value_format.format(maximum)
        left = area.left() + metrics.horizontalAdvance(axis_text) + 6
        plot = QRectF(left, top + line / 2, area.right() - left, area.bottom() - top - line * 2)
        if plot.height() < 10 or plot.width() < 10:
            painter.end()
            return
        painter.setPen(faint)
        painter.drawText(QPointF(area.left(), plot.top() + metrics.ascent() / 2), axis_text)
        painter.drawText(QPointF(area.left(), plot.bottom()), self.value_format.format(0))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        if not totals:
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No requests in this range")
            painter.end()
            return
        self.draw_bars(painter, plot, maximum)
        # X labels: as many as fit without overlapping, evenly spaced.
        painter.setPen(faint)
        count = len(self.labels)
        if count:
            widest = max(metrics.horizontalAdvance(label) for label in self.labels) + 8
            every = max(1, int(widest * count / max(plot.width(), 1.0)) + 1)
            slot = plot.width() / count
            for i in range(0, count, every):
                x = plot.left() + i * slot
                painter.drawText(QPointF(x, plot.bottom() + line), self.labels[i])
        painter.end()


class StackedBarChart(_Chart):
    """One bar per day, stacked by series (e.g. spend per day by model)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.series: tuple[Series, ...] = ()
        self.value_format = "{:,.2f}"

    def set_data(self, labels: Sequence[str], series: Sequence[Series]) -> None:
        self.labels = tuple(labels)
        self.series = tuple(series)
        self.setToolTip(
            "\n".join(f"{s.name}: {self.value_format.format(sum(s.values))}" for s in self.series)
        )
        self.update()

    def totals(self) -> list[float]:
        if not self.series or not any(any(s.values) for s in self.series):
            return []
        return [sum(s.values[i] for s in self.series) for i in range(len(self.labels))]

    def legend(self) -> Sequence[tuple[str, QColor]]:
        return [(s.name, series_colour(i, s.is_other)) for i, s in enumerate(self.series)]

    def draw_bars(self, painter: QPainter, plot: QRectF, maximum: float) -> None:
        slot = plot.width() / max(len(self.labels), 1)
        width = max(1.0, slot * 0.75)
        for i in range(len(self.labels)):
            bottom = plot.bottom()
            for index, series in enumerate(self.series):
                height = plot.height() * series.values[i] / maximum
                if height > 0:
                    rect = QRectF(plot.left() + i * slot, bottom - height, width, height)
                    painter.fillRect(rect, series_colour(index, series.is_other))
                    bottom -= height


class BarChart(_Chart):
    """One bar per slot (e.g. requests per hour), failures drawn over it in a second colour."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.values: tuple[float, ...] = ()
        self.highlight: tuple[float, ...] = ()

    def set_data(
        self, labels: Sequence[str], values: Sequence[float], highlight: Sequence[float] = ()
    ) -> None:
        self.labels = tuple(labels)
        self.values = tuple(values)
        self.highlight = tuple(highlight)
        self.setToolTip(
            f"{self.value_format.format(sum(self.values))} requests, "
            f"{self.value_format.format(sum(self.highlight))} failed"
        )
        self.update()

    def totals(self) -> list[float]:
        return list(self.values) if any(self.values) else []

    def legend(self) -> Sequence[tuple[str, QColor]]:
        return [("requests", series_colour(0)), ("failed", series_colour(5))]

    def draw_bars(self, painter: QPainter, plot: QRectF, maximum: float) -> None:
        slot = plot.width() / max(len(self.values), 1)
        width = max(1.0, slot * 0.8)
        for i, value in enumerate(self.values):
            height = plot.height() * value / maximum
            left = plot.left() + i * slot
            painter.fillRect(QRectF(left, plot.bottom() - height, width, height), series_colour(0))
            failed = self.highlight[i] if i < len(self.highlight) else 0.0
            if failed:
                fail_height = plot.height() * failed / maximum
                painter.fillRect(
                    QRectF(left, plot.bottom() - fail_height, width, fail_height),
                    series_colour(5),
                )
