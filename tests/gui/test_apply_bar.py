"""The Apply bar: hidden with nothing to say, the staged count in the accent colour, its buttons,
the Ctrl/Cmd+Return shortcut, the drift badge and the running Apply's progress."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ops.apply import Step
from llmproxy_desktop.ops.drift import DriftReport, DriftState
from llmproxy_desktop.ui.apply_bar import ApplyBar
from llmproxy_desktop.ui.theme import staged_accent
from tests.gui.apply_data import revision


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    """A shown window holding the bar, as the main window will."""
    host = QWidget()
    qtbot.addWidget(host)
    QVBoxLayout(host).addWidget(ApplyBar(host))
    host.show()
    qtbot.waitExposed(host)
    return host


@pytest.fixture
def bar(window: QWidget) -> ApplyBar:
    found = window.findChild(ApplyBar)
    assert found is not None
    return found


def drift(state: DriftState) -> DriftReport:
    last = revision(7, "a" * 64)
    matched = revision(5, "b" * 64) if state is DriftState.OLDER_REVISION else None
    return DriftReport(state, "/srv/litellm/config.yaml", "c" * 64, last, matched)


def test_the_bar_is_hidden_with_nothing_staged_and_shows_the_count(bar: ApplyBar) -> None:
    assert not bar.isVisible()
    bar.set_staged_count(3)
    assert bar.isVisible()
    assert bar.count_label.text() == "3 staged changes"
    bar.set_staged_count(1)
    assert bar.count_label.text() == "1 staged change"
    bar.set_staged_count(0)
    assert not bar.isVisible()


def test_the_count_is_drawn_in_the_staged_accent(bar: ApplyBar) -> None:
    bar.set_staged_count(2)
    colour = bar.count_label.palette().color(QPalette.ColorRole.WindowText)
    assert colour == staged_accent(bar.palette())


@pytest.mark.parametrize(
    ("button", "signal"),
    [
        ("review_button", "review_requested"),
        ("discard_button", "discard_requested"),
        ("apply_button", "apply_requested"),
        ("history_button", "history_requested"),
    ],
)
def test_each_button_asks_for_its_action(
    qtbot: QtBot, bar: ApplyBar, button: str, signal: str
) -> None:
    bar.set_staged_count(2)
    with qtbot.waitSignal(getattr(bar, signal), timeout=1000):
        qtbot.mouseClick(getattr(bar, button), Qt.MouseButton.LeftButton)


def test_apply_looks_like_the_default_and_the_buttons_are_named_by_action(bar: ApplyBar) -> None:
    bar.set_staged_count(2)
    assert bar.apply_button.isDefault()
    assert [b.text() for b in (bar.review_button, bar.discard_button, bar.apply_button)] == [
        "Review Changes…",
        "Discard…",
        "Apply",
    ]


def test_ctrl_return_applies_only_while_the_bar_offers_apply(
    qtbot: QtBot, window: QWidget, bar: ApplyBar
) -> None:
    window.activateWindow()
    qtbot.waitActive(window)
    with qtbot.assertNotEmitted(bar.apply_requested):
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    bar.set_staged_count(1)
    with qtbot.waitSignal(bar.apply_requested, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    bar.set_busy(True)
    with qtbot.assertNotEmitted(bar.apply_requested):
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_while_busy_the_buttons_are_off_and_progress_shows(qtbot: QtBot, bar: ApplyBar) -> None:
    bar.set_staged_count(2)
    bar.set_busy(True)
    assert not any(b.isEnabled() for b in (bar.review_button, bar.discard_button, bar.apply_button))
    assert bar.progress_bar.isVisible()
    bar.on_progress(Step.RESTART.value, 5 / 7, "restarting litellm")
    assert bar.progress_label.text() == "Applying: restart LiteLLM…"
    assert bar.progress_bar.value() == round(5 / 7 * bar.progress_bar.maximum())
    with qtbot.waitSignal(bar.progress_requested, timeout=1000):
        bar.show_progress_button.click()
    bar.set_busy(False)
    assert bar.apply_button.isEnabled()
    assert not bar.progress_bar.isVisible()


def test_a_running_apply_keeps_the_bar_even_with_nothing_staged(bar: ApplyBar) -> None:
    bar.set_busy(True)  # e.g. a re-render, which applies with nothing staged
    assert bar.isVisible()
    assert not bar.apply_button.isVisible()
    bar.set_busy(False)
    assert not bar.isVisible()


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (DriftState.EDITED_BY_HAND, "config.yaml edited by hand"),
        (DriftState.UNKNOWN_FILE, "unknown file"),
        (DriftState.FOLD_PENDING, "Apply not finished"),
        (DriftState.OLDER_REVISION, "older revision"),
    ],
)
def test_drift_shows_a_badge_even_with_nothing_staged(
    qtbot: QtBot, bar: ApplyBar, state: DriftState, text: str
) -> None:
    report = drift(state)
    bar.set_drift(report)
    assert bar.isVisible()
    assert bar.drift_badge.isVisible() and bar.drift_badge.text() == text
    assert report.sentence() in bar.drift_badge.toolTip()
    assert not bar.count_label.isVisible()
    assert not bar.apply_button.isVisible()
    with qtbot.waitSignal(bar.drift_details_requested, timeout=1000):
        qtbot.mouseClick(bar.drift_badge, Qt.MouseButton.LeftButton)


def test_in_sync_or_unchecked_shows_no_badge(bar: ApplyBar) -> None:
    bar.set_drift(drift(DriftState.EDITED_BY_HAND))
    bar.set_drift(drift(DriftState.IN_SYNC))
    assert not bar.isVisible()
    bar.set_staged_count(1)
    bar.set_drift(None)
    assert bar.isVisible() and not bar.drift_badge.isVisible()
