"""The Rendered config page: both texts side by side, the drift sentence coloured by state, the
differences toggle, Copy and Refresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtGui import QGuiApplication, QTextCursor
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ops.drift import DriftReport, DriftState
from llmproxy_desktop.store.actor import Actor
from llmproxy_desktop.store.records import RevisionInfo
from llmproxy_desktop.ui.pages.rendered_config import (
    NO_DIFFERENCES_TEXT,
    NOT_READ_TEXT,
    RenderedConfigPage,
)
from llmproxy_desktop.ui.theme import StatusColour, status_colour

RENDER = "model_list:\n- model_name: gpt-4o\n  litellm_params:\n    api_key: '***'\n"
REMOTE = "model_list:\n- model_name: gpt-4o-mini\n  litellm_params:\n    api_key: '***'\n"
LONG = "model_list:\n" + "".join(
    f"- model_name: m{i}\n  litellm_params:\n    model: openai/m{i}\n" for i in range(4000)
)
"""16,000 lines: past the highlighting limit, and filled over several event-loop turns."""
REVISION = RevisionInfo(
    12, datetime(2026, 11, 27, 9, 0, tzinfo=UTC), Actor("alice", "laptop"), "1 new", "ab", 1
)


def _report(state: DriftState, diff: str = "") -> DriftReport:
    matched = REVISION if state in (DriftState.IN_SYNC, DriftState.OLDER_REVISION) else None
    return DriftReport(state, "host:/srv/litellm/config.yaml", "ab", REVISION, matched, diff)


@pytest.fixture
def page(qtbot: QtBot) -> RenderedConfigPage:
    page = RenderedConfigPage()
    qtbot.addWidget(page)
    page.resize(900, 500)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_before_reading_the_server_says_so(page: RenderedConfigPage) -> None:
    assert page.drift_label.text() == NOT_READ_TEXT
    assert page.remote_pane.toPlainText() == ""
    assert page.remote_pane.placeholderText() == NOT_READ_TEXT


def test_panes_show_both_texts_side_by_side_read_only(page: RenderedConfigPage) -> None:
    page.set_render(RENDER)
    page.set_remote(REMOTE, _report(DriftState.EDITED_BY_HAND))

    assert page.render_pane.toPlainText() == RENDER
    assert page.remote_pane.toPlainText() == REMOTE
    assert page.render_pane.isReadOnly() and page.remote_pane.isReadOnly()
    assert page.splitter.isVisible() and not page.diff_pane.isVisible()
    assert page.splitter.count() == 2


@pytest.mark.parametrize(
    ("state", "colour"),
    [
        (DriftState.IN_SYNC, StatusColour.GOOD),
        (DriftState.EDITED_BY_HAND, StatusColour.BAD),
        (DriftState.OLDER_REVISION, StatusColour.BAD),
        (DriftState.FOLD_PENDING, StatusColour.BAD),
        (DriftState.UNKNOWN_FILE, StatusColour.BAD),
    ],
)
def test_the_drift_sentence_is_coloured_by_state(
    page: RenderedConfigPage, state: DriftState, colour: StatusColour
) -> None:
    report = _report(state)
    page.set_remote(REMOTE, report)

    assert page.drift_label.text() == report.sentence()
    assert page.drift_colour() == status_colour(colour, page.palette())


def test_show_differences_computes_a_diff_when_the_report_has_none(
    page: RenderedConfigPage,
) -> None:
    page.set_render(RENDER)
    page.set_remote(REMOTE, _report(DriftState.EDITED_BY_HAND))

    page.diff_button.click()

    assert page.diff_pane.isVisible() and not page.splitter.isVisible()
    diff = page.diff_pane.toPlainText()
    assert "-- model_name: gpt-4o\n" in diff
    assert "+- model_name: gpt-4o-mini\n" in diff
    page.diff_button.click()
    assert page.splitter.isVisible()


def test_show_differences_prefers_the_reports_diff(page: RenderedConfigPage) -> None:
    report_diff = "--- revision-12/config.yaml\n+++ revision-9/config.yaml\n-a: 1\n+a: 2\n"
    page.set_render(RENDER)
    page.set_remote(REMOTE, _report(DriftState.OLDER_REVISION, report_diff))

    page.show_differences(True)

    assert page.diff_button.isChecked()
    assert page.diff_pane.toPlainText() == report_diff


def test_identical_texts_show_no_differences(page: RenderedConfigPage) -> None:
    page.set_render(RENDER)
    page.set_remote(RENDER, _report(DriftState.IN_SYNC))

    page.show_differences(True)

    assert page.diff_pane.toPlainText() == NO_DIFFERENCES_TEXT


def test_refresh_asks_and_copy_puts_the_redacted_render_on_the_clipboard(
    qtbot: QtBot, page: RenderedConfigPage
) -> None:
    page.set_render(RENDER)

    with qtbot.waitSignal(page.refresh_requested, timeout=1000):
        page.refresh_button.click()
    page.copy_button.click()

    assert QGuiApplication.clipboard().text() == RENDER


def test_with_a_runner_the_diff_is_computed_only_when_shown_and_stale_answers_are_dropped(
    page: RenderedConfigPage,
) -> None:
    calls: list[tuple[str, str | None, Callable[[str], None]]] = []
    page.set_diff_runner(lambda render, remote, _report, done: calls.append((render, remote, done)))

    page.set_render("a: 1\n")
    page.set_remote("a: 2\n", _report(DriftState.IN_SYNC))
    assert calls == []  # hidden: nothing computed on any thread

    page.show_differences(True)
    assert [(r, s) for r, s, _ in calls] == [("a: 1\n", "a: 2\n")]
    assert page.diff_pane.toPlainText() == "Comparing…"

    page.set_render("a: 3\n")  # newer data while the first diff is computed
    assert len(calls) == 2
    calls[0][2]("stale diff")
    assert page.diff_pane.toPlainText() == "Comparing…"
    calls[1][2]("-a: 3\n+a: 2\n")
    assert page.diff_pane.toPlainText() == "-a: 3\n+a: 2\n"


def _filled(qtbot: QtBot, page: RenderedConfigPage) -> None:
    qtbot.waitUntil(lambda: not page.is_filling(), timeout=10_000)


def test_a_very_long_file_is_shown_without_highlighting(
    qtbot: QtBot, page: RenderedConfigPage
) -> None:
    page.set_render(RENDER)
    assert page._highlighters[0].document() is page.render_pane.document()
    page.set_render(LONG)
    assert page._highlighters[0].document() is None
    _filled(qtbot, page)
    assert page.render_pane.toPlainText() == LONG
    page.set_render(RENDER)
    assert page._highlighters[0].document() is page.render_pane.document()
    assert page.render_pane.toPlainText() == RENDER


def test_a_large_text_arrives_complete_after_the_fill(
    qtbot: QtBot, page: RenderedConfigPage
) -> None:
    remote = LONG.replace("litellm_params", "params")
    page.set_render(LONG)
    page.set_remote(remote, _report(DriftState.EDITED_BY_HAND))
    # The first slice is there at once; the rest follows over the next event-loop turns.
    assert page.is_filling()
    assert 0 < len(page.render_pane.toPlainText()) < len(LONG)

    _filled(qtbot, page)

    assert page.render_pane.toPlainText() == LONG
    assert page.remote_pane.toPlainText() == remote


def test_a_hidden_page_fills_its_panes_only_when_shown(qtbot: QtBot) -> None:
    page = RenderedConfigPage()
    qtbot.addWidget(page)
    page.set_render(LONG)
    page.set_remote(REMOTE, _report(DriftState.EDITED_BY_HAND))
    assert page.render_pane.toPlainText() == "" and not page.is_filling()

    page.show()
    _filled(qtbot, page)

    assert page.render_pane.toPlainText() == LONG
    assert page.remote_pane.toPlainText() == REMOTE


def test_a_newer_text_replacing_an_unfinished_fill_ends_with_the_newer_only(
    qtbot: QtBot, page: RenderedConfigPage
) -> None:
    newer = LONG.replace("model_name: m", "model_name: newer-")
    page.set_render(LONG)
    assert page.is_filling()

    page.set_render(newer)
    _filled(qtbot, page)

    assert page.render_pane.toPlainText() == newer
    page.copy_button.click()
    assert QGuiApplication.clipboard().text() == newer


def test_a_refresh_with_the_same_text_keeps_the_readers_place_and_selection(
    qtbot: QtBot, page: RenderedConfigPage
) -> None:
    page.set_render(LONG)
    page.set_remote(REMOTE, _report(DriftState.EDITED_BY_HAND))
    _filled(qtbot, page)
    cursor = page.render_pane.textCursor()
    cursor.setPosition(50_000)
    cursor.setPosition(50_040, QTextCursor.MoveMode.KeepAnchor)
    page.render_pane.setTextCursor(cursor)
    page.render_pane.verticalScrollBar().setValue(2000)

    page.set_render(LONG)  # what a refresh hands over when nothing changed
    page.set_remote(REMOTE, _report(DriftState.EDITED_BY_HAND))

    assert not page.is_filling()
    assert page.render_pane.verticalScrollBar().value() == 2000
    selection = page.render_pane.textCursor()
    assert (selection.selectionStart(), selection.selectionEnd()) == (50_000, 50_040)


def test_a_refresh_with_a_changed_text_keeps_the_scroll_position(
    qtbot: QtBot, page: RenderedConfigPage
) -> None:
    page.set_render(LONG)
    _filled(qtbot, page)
    page.render_pane.verticalScrollBar().setValue(2000)

    page.set_render("# refreshed\n" + LONG)
    _filled(qtbot, page)

    assert page.render_pane.toPlainText() == "# refreshed\n" + LONG
    assert page.render_pane.verticalScrollBar().value() == 2000
