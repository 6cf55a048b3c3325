"""The Logs page with a fake log service (tests/housekeeping/fakes.py) and the recording staging
editor: follows while shown and connected, bounded, pause/search/copy, resumes on reconnect, and
the debug-logging switch staged with its warning."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind
from llmproxy_desktop.core.maintenance_settings import DEBUG_LOGGING
from llmproxy_desktop.ui.pages.logs import (
    DEBUG_WARNING,
    DISCONNECTED_TEXT,
    ENDED_TEXT,
    MAX_LINES,
    LogsPage,
)
from tests.gui.staging_fakes import RecordingEditor

from .fakes import FakeLogs

pytestmark = pytest.mark.gui


@pytest.fixture
def service() -> FakeLogs:
    return FakeLogs()


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def page(qtbot: QtBot, service: FakeLogs, editor: RecordingEditor) -> LogsPage:
    page = LogsPage(service, editor)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_showing_the_page_follows_from_the_last_lines(page: LogsPage, service: FakeLogs) -> None:
    assert len(service.follows) == 1
    assert service.current.tail == 500
    assert page.following and page.follow_button.text() == "Stop"

    service.send("INFO: started", "GET /health/liveliness 200")

    assert page.lines() == ["INFO: started", "GET /health/liveliness 200"]


def test_the_view_keeps_a_bounded_number_of_lines(page: LogsPage, service: FakeLogs) -> None:
    for start in range(0, MAX_LINES + 2_000, 1_000):
        service.send(*(f"line {n}" for n in range(start, start + 1_000)))

    lines = page.lines()
    assert len(lines) == MAX_LINES
    assert lines[-1] == f"line {MAX_LINES + 1_999}"


def test_hiding_the_page_ends_the_stream_and_showing_it_starts_afresh(
    page: LogsPage, service: FakeLogs, qtbot: QtBot
) -> None:
    service.send("old line")
    page.hide()

    assert service.stops == 1 and service.follows[0].stopped
    assert not page.following

    page.show()
    qtbot.waitExposed(page)
    assert len(service.follows) == 2
    assert page.lines() == []  # the new follow brings the last lines again: nothing doubled


def test_a_dropped_connection_stops_and_reconnecting_resumes(
    page: LogsPage, service: FakeLogs
) -> None:
    page.set_connected(False)

    assert service.stops == 1 and not page.following
    assert page.status_label.text() == DISCONNECTED_TEXT
    assert not page.follow_button.isEnabled()

    page.set_connected(True)

    assert len(service.follows) == 2 and page.following


def test_lines_of_a_stopped_follow_are_ignored(page: LogsPage, service: FakeLogs) -> None:
    first = service.current
    page.stop()
    first.on_lines(["late line from the old stream"])

    assert page.lines() == []
    assert "Stopped" in page.status_label.text()


def test_a_stream_that_ends_by_itself_offers_follow(page: LogsPage, service: FakeLogs) -> None:
    service.end(None)

    assert not page.following
    assert page.status_label.text() == ENDED_TEXT
    assert page.follow_button.text() == "Follow"
    page.follow_button.click()
    assert len(service.follows) == 2


def test_a_failed_stream_says_why(page: LogsPage, service: FakeLogs) -> None:
    service.end("Logs failed: the socket-proxy at 127.0.0.1:2375 is unreachable.")

    assert "unreachable" in page.status_label.text()


def test_stop_stays_stopped_until_follow(page: LogsPage, service: FakeLogs) -> None:
    page.follow_button.click()  # Stop
    page.set_connected(False)
    page.set_connected(True)

    assert len(service.follows) == 1 and not page.following


def test_choosing_another_line_count_follows_again(page: LogsPage, service: FakeLogs) -> None:
    page.tail_combo.setCurrentIndex(page.tail_combo.findData(5_000))

    assert [f.tail for f in service.follows] == [500, 5_000]
    assert service.follows[0].stopped


def test_pause_holds_new_lines_until_resumed(page: LogsPage, service: FakeLogs) -> None:
    service.send("before")
    page.pause_button.click()
    service.send("during 1", "during 2")

    assert page.lines() == ["before"]
    assert "2 new lines waiting" in page.status_label.text()

    page.pause_button.click()

    assert page.lines() == ["before", "during 1", "during 2"]


def test_search_highlights_every_match_and_steps_through_them(
    page: LogsPage, service: FakeLogs
) -> None:
    service.send("GET /health 200", "POST /chat/completions 500", "GET /health 200")
    page.search_field.setText("health")

    assert page.match_count() == 2
    assert page.matches_label.text() == "2 matches"
    assert page.find_next()
    assert page.view.textCursor().selectedText() == "health"
    first = page.view.textCursor().position()
    assert page.find_next()
    second = page.view.textCursor().position()
    assert second > first
    assert page.find_next()  # wraps around
    assert page.view.textCursor().position() == first
    page.search_field.setText("not there")
    assert page.match_count() == 0 and not page.find_next()


def test_copy_takes_the_selection_or_everything(page: LogsPage, service: FakeLogs) -> None:
    service.send("one", "two")
    page.copy_button.click()
    assert QGuiApplication.clipboard().text() == "one\ntwo"

    page.search_field.setText("two")
    page.find_next()
    page.copy_button.click()
    assert QGuiApplication.clipboard().text() == "two"


def test_debug_logging_switch_stages_set_verbose_and_warns(
    page: LogsPage, editor: RecordingEditor
) -> None:
    page.set_items([])
    assert page.debug_warning.text() == DEBUG_WARNING
    assert "restarts LiteLLM" in DEBUG_WARNING and "request and response content" in DEBUG_WARNING

    page.debug_check.setChecked(True)

    assert editor.staged == [(Item(ItemKind.LITELLM_SETTING, "set_verbose", True), 0)]


def test_turning_off_a_never_applied_switch_discards_it(
    page: LogsPage, editor: RecordingEditor
) -> None:
    page.set_items([EffectiveItem(Item(DEBUG_LOGGING.kind, "set_verbose", True), Flag.NEW, 3)])
    assert page.debug_check.isChecked()
    assert page.debug_flag.text() == "Staged (new): Apply to use it"

    page.debug_check.setChecked(False)

    assert editor.discarded == [DEBUG_LOGGING] and editor.staged == []


def test_turning_off_an_applied_switch_stages_false(
    page: LogsPage, editor: RecordingEditor
) -> None:
    page.set_items([EffectiveItem(Item(DEBUG_LOGGING.kind, "set_verbose", True), None, 4)])
    page.debug_check.setChecked(False)

    assert editor.staged == [(Item(ItemKind.LITELLM_SETTING, "set_verbose", False), 4)]


def test_a_refused_switch_goes_back_and_says_why(page: LogsPage, editor: RecordingEditor) -> None:
    editor.answer = "The Master refused: someone else changed it."
    page.set_items([])
    page.debug_check.setChecked(True)

    assert not page.debug_check.isChecked()
    assert page.debug_error.text() == "The Master refused: someone else changed it."
