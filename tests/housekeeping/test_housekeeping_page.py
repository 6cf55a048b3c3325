"""The Housekeeping page with a fake service (tests/housekeeping/fakes.py) and the recording
staging editor: stats, the trim's preview → question naming the count → progress and cancel,
the retention setting staged like any setting, and the expired-keys request."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind
from llmproxy_desktop.core.maintenance_settings import RETENTION
from llmproxy_desktop.ops.housekeeping import TrimResult
from llmproxy_desktop.ui.pages.housekeeping import HousekeepingPage, format_bytes, trim_action_text
from tests.gui.staging_fakes import RecordingEditor

from .fakes import FakeHousekeeping, preview, stats

pytestmark = pytest.mark.gui


@pytest.fixture
def service() -> FakeHousekeeping:
    return FakeHousekeeping()


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def page(qtbot: QtBot, service: FakeHousekeeping, editor: RecordingEditor) -> HousekeepingPage:
    page = HousekeepingPage(service, editor)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def previewed(page: HousekeepingPage, service: FakeHousekeeping, rows: int = 1_234_567) -> None:
    page.trim_days.setValue(90)
    page.preview_button.click()
    days, on_result, _error = service.preview_calls[-1]
    assert days == 90
    on_result(preview(90, rows))


def confirm(page: HousekeepingPage, qtbot: QtBot) -> QMessageBox:
    page.trim_button.click()
    box = page.confirm_box
    assert box is not None and box.isVisible()
    return box


def delete(page: HousekeepingPage) -> None:
    button = page.delete_button
    assert button is not None
    button.click()


def test_formats_sizes_and_names_the_count_on_the_destructive_button() -> None:
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(1536) == "1.5 kB"
    assert format_bytes(3 * 1024**3) == "3.0 GB"
    assert trim_action_text(1) == "Delete 1 Spend Log"
    assert trim_action_text(1_234_567) == "Delete 1,234,567 Spend Logs"


def test_refresh_shows_size_span_and_largest_tables(
    page: HousekeepingPage, service: FakeHousekeeping
) -> None:
    page.refresh_button.click()
    assert not page.refresh_button.isEnabled()  # one read at a time
    on_result, _error = service.stats_calls[-1]
    on_result(stats())

    assert page.size_label.text() == "litellm: 3.0 GB"
    assert "2026-01-01 00:00 to 2026-11-27 09:30 UTC" in page.span_label.text()
    model = page.tables_model
    assert model.rowCount() == 3
    assert [model.index(0, c).data() for c in range(3)] == [
        "LiteLLM_SpendLogs",
        "2.0 GB",
        "5,000,000",
    ]
    assert model.index(2, 0).data() == "llmproxy.audit"
    assert model.index(2, 2).data() == "—"
    assert page.refresh_button.isEnabled()


def test_stats_failure_is_a_sentence(page: HousekeepingPage, service: FakeHousekeeping) -> None:
    page.refresh()
    service.stats_calls[-1][1]("Refresh failed: the tunnel dropped.")

    assert "the tunnel dropped" in page.size_label.text()


def test_trim_needs_a_count_first_and_the_question_names_it(
    page: HousekeepingPage, service: FakeHousekeeping, qtbot: QtBot
) -> None:
    assert not page.trim_button.isEnabled()
    previewed(page, service)

    assert "1,234,567 spend logs before 2026-08-29 12:00 UTC" in page.preview_label.text()
    assert page.trim_button.isEnabled()
    assert page.trim_button.text() == "Delete 1,234,567 Spend Logs…"
    box = confirm(page, qtbot)
    assert "1,234,567" in box.text()
    button = page.delete_button
    assert button is not None and button.text() == "Delete 1,234,567 Spend Logs"
    assert box.buttonRole(button) is QMessageBox.ButtonRole.DestructiveRole
    assert box.defaultButton() is box.escapeButton()  # Cancel: Return and Esc keep the rows

    box.escapeButton().click()

    assert service.trim_calls == []
    assert page.confirm_box is None


def test_changing_the_age_drops_the_count(
    page: HousekeepingPage, service: FakeHousekeeping
) -> None:
    previewed(page, service)
    page.trim_days.setValue(30)

    assert not page.trim_button.isEnabled()
    assert page.preview_label.text() == ""


def test_confirmed_trim_shows_progress_then_the_result_and_refreshes(
    page: HousekeepingPage, service: FakeHousekeeping, qtbot: QtBot
) -> None:
    previewed(page, service)
    confirm(page, qtbot)
    delete(page)

    asked, on_progress, on_result, _error = service.trim_calls[-1]
    assert asked.rows == 1_234_567
    assert page.progress_bar.isVisible() and page.cancel_button.isVisible()
    assert not page.preview_button.isEnabled() and not page.trim_button.isEnabled()
    on_progress("Trim", 0.5, "Deleted 617,283 of 1,234,567 rows")
    assert page.progress_bar.value() == 500
    assert page.trim_status.text() == "Deleted 617,283 of 1,234,567 rows"

    on_result(TrimResult(asked.cutoff, 1_234_567, False, 300, 12.5, 0.04))

    assert page.trim_status.text() == "Deleted 1,234,567 spend logs in 12.5 s."
    assert page.progress_bar.value() == 1000
    assert not page.cancel_button.isVisible()
    assert not page.trim_button.isEnabled()  # a new count is needed for another trim
    assert len(service.stats_calls) == 1  # the sizes are read again


def test_cancel_asks_the_service_and_reports_what_was_deleted(
    page: HousekeepingPage, service: FakeHousekeeping, qtbot: QtBot
) -> None:
    previewed(page, service, rows=1000)
    confirm(page, qtbot)
    delete(page)
    page.cancel_button.click()

    assert service.cancels == 1
    assert not page.cancel_button.isEnabled()
    assert "Stopping after the current batch" in page.trim_status.text()
    asked, _progress, on_result, _error = service.trim_calls[-1]
    on_result(TrimResult(asked.cutoff, 200, True, 2, 0.3, 0.2))
    assert page.trim_status.text() == ("Cancelled: 200 spend logs were deleted before it stopped.")
    assert page.preview_button.isEnabled()


def test_a_failed_trim_says_so_and_keeps_what_was_done(
    page: HousekeepingPage, service: FakeHousekeeping, qtbot: QtBot
) -> None:
    previewed(page, service, rows=10)
    confirm(page, qtbot)
    delete(page)
    service.trim_calls[-1][3]("Trim failed: the tunnel dropped.")

    assert "the tunnel dropped" in page.trim_status.text()
    assert "stays deleted" in page.trim_status.text()


def test_retention_is_staged_as_a_general_setting_in_days(
    page: HousekeepingPage, editor: RecordingEditor
) -> None:
    page.set_items([])
    assert not page.retention_check.isChecked()
    assert not page.retention_save.isEnabled()
    assert "keeps spend logs forever" in page.retention_current.text()

    page.retention_check.setChecked(True)
    page.retention_days.setValue(30)
    page.retention_save.click()

    assert editor.staged == [
        (Item(ItemKind.GENERAL_SETTING, "maximum_spend_logs_retention_period", "30d"), 0)
    ]


def test_retention_shows_the_current_value_and_its_flag_and_can_be_removed(
    page: HousekeepingPage, editor: RecordingEditor
) -> None:
    current = EffectiveItem(Item(RETENTION.kind, RETENTION.name, "14d"), Flag.CHANGED, 7)
    page.set_items([current])

    assert page.retention_check.isChecked()
    assert page.retention_days.value() == 14
    assert page.retention_flag.text() == "Staged (changed)"
    assert not page.retention_save.isEnabled()  # nothing edited yet

    page.retention_check.setChecked(False)
    page.retention_save.click()

    assert editor.deleted == [(RETENTION, 7)]


def test_a_retention_not_in_days_is_shown_as_written(page: HousekeepingPage) -> None:
    page.set_items([EffectiveItem(Item(RETENTION.kind, RETENTION.name, "12h"), None, 2)])

    assert "'12h'" in page.retention_current.text()
    assert page.retention_save.isEnabled()  # staging would replace it with days


def test_a_staging_failure_is_shown(page: HousekeepingPage, editor: RecordingEditor) -> None:
    editor.answer = "Someone else changed this setting; reload."
    page.set_items([])
    page.retention_check.setChecked(True)
    page.retention_save.click()

    assert page.retention_error.text() == "Someone else changed this setting; reload."


def test_delete_expired_keys_emits_the_request(page: HousekeepingPage, qtbot: QtBot) -> None:
    with qtbot.waitSignal(page.delete_expired_keys_requested, timeout=1000):
        page.expired_keys_button.click()


def test_disconnected_disables_every_action(
    page: HousekeepingPage, service: FakeHousekeeping
) -> None:
    page.set_connected(False)

    for button in (page.refresh_button, page.preview_button, page.expired_keys_button):
        assert not button.isEnabled()
    page.refresh()
    page.preview()
    assert service.stats_calls == [] and service.preview_calls == []
