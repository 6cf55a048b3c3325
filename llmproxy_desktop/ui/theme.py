"""Look and feel: follow the OS light/dark colour scheme, and a type scale from the app font.

The native style already follows the OS on macOS and Windows; there the controller changes
nothing. Where the platform palette does not match the scheme the OS reports (Linux with the
Fusion style, for instance), it applies a light or dark palette modelled on the macOS colours.
Custom colours elsewhere in the UI come from palette roles, so they follow along; the few
colours with a meaning (the staged-state accent, good/bad) come in light and dark pairs chosen
by the palette they are drawn on (``staged_accent``, ``status_colour``).
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

# HIG spacing: window/page margins and the space between controls, in device-independent pixels.
WINDOW_MARGIN = 20
CONTROL_SPACING = 8

# Role -> (light, dark) colours. Secondary text uses PlaceholderText throughout the UI.
_SCHEME_COLOURS: dict[QPalette.ColorRole, tuple[str, str]] = {
    Role.Window: ("#ececec", "#1e1e1e"),
    Role.WindowText: ("#1d1d1f", "#e8e8ea"),
    Role.Base: ("#ffffff", "#282828"),
    Role.AlternateBase: ("#f4f4f5", "#2f2f2f"),
    Role.Text: ("#1d1d1f", "#e8e8ea"),
    Role.PlaceholderText: ("#6e6e73", "#98989d"),
    Role.Button: ("#fbfbfb", "#3a3a3c"),
    Role.ButtonText: ("#1d1d1f", "#e8e8ea"),
    Role.BrightText: ("#ffffff", "#ffffff"),
    Role.Light: ("#ffffff", "#4a4a4c"),
    Role.Midlight: ("#f2f2f2", "#404042"),
    Role.Mid: ("#c8c8c8", "#2c2c2e"),
    Role.Dark: ("#a0a0a0", "#141414"),
    Role.Shadow: ("#6e6e6e", "#000000"),
    Role.Highlight: ("#0a64d6", "#0a84ff"),
    Role.HighlightedText: ("#ffffff", "#ffffff"),
    Role.Accent: ("#0a64d6", "#0a84ff"),
    Role.Link: ("#0a64d6", "#4ca0ff"),
    Role.LinkVisited: ("#7a3fc4", "#b48cff"),
    Role.ToolTipBase: ("#fbfbfb", "#3a3a3c"),
    Role.ToolTipText: ("#1d1d1f", "#e8e8ea"),
}

# Disabled text and controls: readable but clearly inactive.
_DISABLED_COLOURS: dict[QPalette.ColorRole, tuple[str, str]] = {
    Role.WindowText: ("#a1a1a6", "#6e6e73"),
    Role.Text: ("#a1a1a6", "#6e6e73"),
    Role.ButtonText: ("#a1a1a6", "#6e6e73"),
    Role.Button: ("#f2f2f2", "#2c2c2e"),
    Role.Highlight: ("#c8c8c8", "#3a3a3c"),
}


def is_dark(palette: QPalette) -> bool:
    """Return whether a palette is a dark one (its window colour is darker than mid-grey)."""
    return palette.color(Group.Active, Role.Window).lightnessF() < 0.5


def scheme_palette(scheme: Qt.ColorScheme) -> QPalette:
    """Return the full light or dark palette for ``scheme`` (Unknown counts as light)."""
    index = 1 if scheme == Qt.ColorScheme.Dark else 0
    palette = QPalette()
    for role, colours in _SCHEME_COLOURS.items():
        palette.setColor(role, QColor(colours[index]))
    for role, colours in _DISABLED_COLOURS.items():
        palette.setColor(Group.Disabled, role, QColor(colours[index]))
    return palette


class StatusColour(Enum):
    """Colours that carry meaning, as (light, dark) pairs; always shown next to text or a shape.

    Each reaches a 4.5:1 contrast on the window and base colours of its scheme, so it can colour
    text as well as a dot.
    """

    # The one accent for staged (not yet applied) state; amber, as the reference's Apply bar.
    STAGED = ("#a35200", "#ffb340")
    GOOD = ("#18702e", "#30d158")
    BAD = ("#b3261e", "#ff6961")


def status_colour(status: StatusColour, palette: QPalette) -> QColor:
    """Return the light or dark variant of ``status`` that reads well on ``palette``."""
    light, dark = status.value
    return QColor(dark if is_dark(palette) else light)


def staged_accent(palette: QPalette) -> QColor:
    """The accent colour that marks staged state (rows, badges, the Apply bar) on ``palette``.

    Pages call this with their own ``palette()`` when they paint, so the colour follows light and
    dark mode without listening for changes themselves.
    """
    return status_colour(StatusColour.STAGED, palette)


class ThemeController(QObject):
    """Keeps the application palette in step with the OS colour scheme while it lives.

    ``scheme_applied`` tells non-widget listeners (widgets get a PaletteChange event anyway)
    that the palette now matches a new scheme.
    """

    scheme_applied = Signal(Qt.ColorScheme)

    def __init__(self, app: QGuiApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._scheme = Qt.ColorScheme.Unknown
        app.styleHints().colorSchemeChanged.connect(self.apply)
        self.apply(app.styleHints().colorScheme())

    @property
    def scheme(self) -> Qt.ColorScheme:
        """The scheme last applied."""
        return self._scheme

    @Slot(Qt.ColorScheme)
    def apply(self, scheme: Qt.ColorScheme) -> None:
        """Make the application palette match ``scheme``; Unknown keeps the platform palette."""
        self._scheme = scheme
        # Back to the platform's own palette first: it may already match (macOS, Windows).
        self._app.setPalette(QPalette())
        if scheme == Qt.ColorScheme.Unknown:
            self.scheme_applied.emit(scheme)
            return
        if is_dark(self._app.palette()) != (scheme == Qt.ColorScheme.Dark):
            self._app.setPalette(scheme_palette(scheme))
        self.scheme_applied.emit(scheme)

    def stop(self) -> None:
        """Stop following the OS and restore the platform palette."""
        self._app.styleHints().colorSchemeChanged.disconnect(self.apply)
        self.apply(Qt.ColorScheme.Unknown)


class TextStyle(Enum):
    """The macOS text styles (size at a 13 pt body, weight), scaled to the app font."""

    LARGE_TITLE = (26, QFont.Weight.Bold)
    TITLE_1 = (22, QFont.Weight.Bold)
    TITLE_2 = (17, QFont.Weight.Bold)
    TITLE_3 = (15, QFont.Weight.DemiBold)
    HEADLINE = (13, QFont.Weight.Bold)
    BODY = (13, QFont.Weight.Normal)
    CALLOUT = (12, QFont.Weight.Normal)
    SUBHEADLINE = (11, QFont.Weight.Normal)
    FOOTNOTE = (10, QFont.Weight.Normal)


def text_font(style: TextStyle, base: QFont | None = None) -> QFont:
    """Return ``base`` (default: the application font) resized and weighted for ``style``.

    Sizes keep the macOS ratios to a 13 pt body, so the scale follows the user's font size
    instead of hard-coding points or a font family.
    """
    font = QFont(base if base is not None else QGuiApplication.font())
    size, weight = style.value
    body = font.pointSizeF() if font.pointSizeF() > 0 else 13.0
    font.setPointSizeF(body * size / 13.0)
    font.setWeight(weight)
    return font
