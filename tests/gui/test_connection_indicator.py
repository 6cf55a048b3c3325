"""The connection indicator: the session's states, a word for each, the reason one click away."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.ui.connection_indicator import (
    STATE_TEXT,
    ConnectionIndicator,
    ConnectionState,
    state_colour,
)
from llmproxy_desktop.ui.theme import ThemeController, scheme_palette


def _indicator(qtbot: QtBot) -> ConnectionIndicator:
    indicator = ConnectionIndicator()
    qtbot.addWidget(indicator)
    indicator.show()
    qtbot.waitExposed(indicator)
    return indicator


def test_the_states_are_the_ssh_sessions_own() -> None:
    assert ConnectionState is SessionStatus
    assert set(STATE_TEXT) == set(SessionStatus)


def test_starts_disconnected(qtbot: QtBot) -> None:
    indicator = _indicator(qtbot)

    assert indicator.state is ConnectionState.DISCONNECTED
    assert indicator.text() == "Not Connected"
    assert indicator.toolTip() == "Not Connected"


@pytest.mark.parametrize("state", list(ConnectionState))
def test_every_state_has_its_own_words_and_a_dot(qtbot: QtBot, state: ConnectionState) -> None:
    indicator = _indicator(qtbot)

    indicator.set_state(state)

    assert indicator.state is state
    assert indicator.text() == STATE_TEXT[state]
    assert indicator.accessibleName() == f"Connection: {STATE_TEXT[state]}"
    assert not indicator.icon().isNull()


def test_a_failure_reason_is_in_the_tooltip_and_in_the_popup_on_click(qtbot: QtBot) -> None:
    indicator = _indicator(qtbot)
    reason = "gave up reconnecting after 5 attempts: connection refused"

    indicator.set_state(ConnectionState.FAILED, reason)
    assert indicator.toolTip() == f"Connection Failed: {reason}"
    assert indicator.reason == reason

    qtbot.mouseClick(indicator, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(indicator.details.isVisible)
    assert indicator.details.title_label.text() == "Connection Failed"
    assert indicator.details.reason_label.text() == reason
    flags = indicator.details.reason_label.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    indicator.details.close()


def test_a_new_state_clears_the_old_reason(qtbot: QtBot) -> None:
    indicator = _indicator(qtbot)
    indicator.set_state(ConnectionState.FAILED, "refused")

    indicator.set_state(ConnectionState.CONNECTED)

    assert indicator.reason is None
    assert indicator.toolTip() == "Connected"


def test_post_state_from_another_thread_lands_on_the_gui_thread(qtbot: QtBot) -> None:
    indicator = _indicator(qtbot)
    seen_on: list[QThread] = []
    original = indicator.set_state

    def recording_set_state(state: ConnectionState, reason: str | None = None) -> None:
        seen_on.append(QThread.currentThread())
        original(state, reason)

    indicator._state_posted.disconnect()
    indicator._state_posted.connect(recording_set_state, Qt.ConnectionType.QueuedConnection)
    # What SshSession does: call its status listener from its watchdog thread.
    worker = threading.Thread(
        target=indicator.post_state, args=(ConnectionState.RECONNECTING, "link dropped")
    )
    worker.start()
    worker.join(timeout=10)

    qtbot.waitUntil(lambda: indicator.state is ConnectionState.RECONNECTING)
    assert indicator.reason == "link dropped"
    assert seen_on == [QApplication.instance().thread()]  # type: ignore[union-attr]


def test_states_differ_in_colour_and_colours_follow_dark_mode() -> None:
    light, dark = scheme_palette(Qt.ColorScheme.Light), scheme_palette(Qt.ColorScheme.Dark)
    colours = {state_colour(state, light).name() for state in ConnectionState}
    # Connecting and reconnecting share a colour; their words tell them apart.
    assert len(colours) == len(ConnectionState) - 1
    good_light = state_colour(ConnectionState.CONNECTED, light)
    good_dark = state_colour(ConnectionState.CONNECTED, dark)
    assert good_dark.lightnessF() > good_light.lightnessF()


def test_the_dot_is_redrawn_when_the_scheme_changes(
    qapp: QApplication, qtbot: QtBot, theme: ThemeController
) -> None:
    indicator = _indicator(qtbot)
    indicator.set_state(ConnectionState.CONNECTED)

    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: indicator.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.5)
    dark_dot = indicator.icon().pixmap(10, 10).toImage().pixelColor(5, 5)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: indicator.palette().color(QPalette.ColorRole.Window).lightnessF() > 0.5)
    light_dot = indicator.icon().pixmap(10, 10).toImage().pixelColor(5, 5)

    assert dark_dot.lightnessF() > light_dot.lightnessF()
