"""The theme: the staged-state accent and status colours read well in light and dark."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.theme import (
    StatusColour,
    ThemeController,
    scheme_palette,
    staged_accent,
    status_colour,
)

Role = QPalette.ColorRole
SCHEMES = [Qt.ColorScheme.Light, Qt.ColorScheme.Dark]


def _contrast(first: QColor, second: QColor) -> float:
    """The WCAG contrast ratio of two colours."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(c) for c in colour.getRgbF()[:3])
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES, ids=["light", "dark"])
@pytest.mark.parametrize("status", list(StatusColour))
def test_status_colours_are_readable_as_text_on_window_and_base(
    scheme: Qt.ColorScheme, status: StatusColour
) -> None:
    palette = scheme_palette(scheme)
    colour = status_colour(status, palette)

    for role in (Role.Window, Role.Base, Role.AlternateBase):
        assert _contrast(colour, palette.color(role)) >= 4.5, role


def test_the_staged_accent_is_one_colour_per_scheme() -> None:
    light = staged_accent(scheme_palette(Qt.ColorScheme.Light))
    dark = staged_accent(scheme_palette(Qt.ColorScheme.Dark))

    assert light == status_colour(StatusColour.STAGED, scheme_palette(Qt.ColorScheme.Light))
    assert light != dark
    assert dark.lightnessF() > light.lightnessF()
    # Not the selection colour: a staged row must stay recognisable when it is selected too.
    assert light != scheme_palette(Qt.ColorScheme.Light).color(Role.Highlight)


def test_the_controller_says_when_a_scheme_was_applied(
    qapp: QApplication, qtbot: QtBot, theme: ThemeController
) -> None:
    with qtbot.waitSignal(theme.scheme_applied) as blocker:
        qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)

    assert blocker.args == [Qt.ColorScheme.Dark]
    assert staged_accent(qapp.palette()) == staged_accent(scheme_palette(Qt.ColorScheme.Dark))
