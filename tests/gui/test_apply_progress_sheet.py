"""Apply progress: the seven steps as progress arrives, Cancel only before the commit point,
and after the end a plain account of what happened and what to do."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ops.apply import ApplyResult, Step
from llmproxy_desktop.ui.sheets.apply_progress_sheet import (
    ApplyProgressSheet,
    StepState,
    result_summary,
)
from tests.gui.apply_data import (
    ERROR,
    cancelled_result,
    noop_result,
    ok_result,
    validation_failed_result,
    verify_failed_result,
    visible_texts,
)

STEPS = tuple(Step)


@pytest.fixture
def sheet(qtbot: QtBot) -> ApplyProgressSheet:
    progress = ApplyProgressSheet()
    qtbot.addWidget(progress)
    progress.open()
    qtbot.waitExposed(progress)
    return progress


def begin(sheet: ApplyProgressSheet, step: Step, message: str = "working") -> None:
    """What ops.apply reports when a step starts (its share of the steps before it)."""
    sheet.on_progress(step.value, STEPS.index(step) / len(STEPS), message)


def end(sheet: ApplyProgressSheet, step: Step, detail: str = "done") -> None:
    """What ops.apply reports when a step is recorded."""
    sheet.on_progress(step.value, (STEPS.index(step) + 1) / len(STEPS), detail)


def test_all_seven_steps_wait_at_first(sheet: ApplyProgressSheet) -> None:
    assert [sheet.step_state(step) for step in Step] == [StepState.WAITING] * 7
    texts = visible_texts(sheet)
    for step in Step:
        assert step.value[0].upper() + step.value[1:] in texts
    assert sheet.cancel_button.isEnabled()


def test_progress_marks_the_running_step_and_the_ones_before_it_done(
    sheet: ApplyProgressSheet,
) -> None:
    begin(sheet, Step.LOCK)
    assert sheet.step_state(Step.LOCK) is StepState.RUNNING
    end(sheet, Step.LOCK, "held by alice@laptop")
    begin(sheet, Step.RENDER, "rendering the effective configuration")
    assert sheet.step_state(Step.LOCK) is StepState.OK
    assert sheet.step_state(Step.RENDER) is StepState.RUNNING
    assert sheet.step_state(Step.UPLOAD) is StepState.WAITING
    assert sheet.message_label.text() == "rendering the effective configuration"
    assert sheet.progress_bar.value() == round(1 / 7 * sheet.progress_bar.maximum())
    assert sheet._rows[Step.RENDER].busy.isVisible()
    assert not sheet._rows[Step.LOCK].busy.isVisible()
    assert sheet._rows[Step.LOCK].timing.text().endswith(" s")


def test_cancel_is_offered_until_the_upload_was_read_back(
    qtbot: QtBot, sheet: ApplyProgressSheet
) -> None:
    for step in (Step.LOCK, Step.RENDER):
        begin(sheet, step)
        end(sheet, step)
    begin(sheet, Step.UPLOAD)
    assert sheet.cancel_button.isEnabled()
    end(sheet, Step.UPLOAD, "900 bytes read back equal")
    assert not sheet.cancel_button.isEnabled()


def test_cancel_goes_when_the_commit_starts(sheet: ApplyProgressSheet) -> None:
    begin(sheet, Step.COMMIT, "replacing config.yaml (commit point)")
    assert not sheet.cancel_button.isEnabled()


def test_cancel_asks_once(qtbot: QtBot, sheet: ApplyProgressSheet) -> None:
    begin(sheet, Step.RENDER)
    with qtbot.waitSignal(sheet.cancel_requested, timeout=1000):
        sheet.cancel_button.click()
    assert not sheet.cancel_button.isEnabled()
    assert sheet.cancel_button.text() == "Cancelling…"


def test_closing_while_running_hides_the_sheet_and_keeps_the_apply(
    qtbot: QtBot, sheet: ApplyProgressSheet
) -> None:
    begin(sheet, Step.RESTART)
    assert sheet.close_button.text() == "Hide"
    with qtbot.waitSignal(sheet.hidden_while_running, timeout=1000):
        qtbot.keyClick(sheet, Qt.Key.Key_Escape)
    assert not sheet.isVisible() and sheet.is_running()
    sheet.show()  # "Show Progress" on the bar
    end(sheet, Step.RESTART)
    sheet.on_finished(ok_result())
    assert sheet.close_button.text() == "Close"
    with qtbot.waitSignal(sheet.rejected, timeout=1000):
        sheet.close_button.click()


def test_a_successful_apply_names_the_revision_and_the_groups_served(
    sheet: ApplyProgressSheet,
) -> None:
    begin(sheet, Step.VERIFY)
    sheet.on_finished(ok_result())
    assert [sheet.step_state(step) for step in Step] == [StepState.OK] * 7
    assert sheet.headline.text() == "Applied"
    assert sheet.outcome_label.text() == "Applied: revision 12, 2 model groups served."
    assert sheet.progress_bar.value() == sheet.progress_bar.maximum()
    assert sheet._rows[Step.FOLD].timing.text() == "0.5 s"
    assert not sheet.cancel_button.isVisible()


def test_a_no_op_says_nothing_was_applied(sheet: ApplyProgressSheet) -> None:
    sheet.on_finished(noop_result())
    assert sheet.headline.text() == "Nothing to apply"
    assert "already holds this configuration" in sheet.outcome_label.text()
    assert "LiteLLM was not restarted" in sheet.outcome_label.text()
    assert sheet.step_state(Step.COMMIT) is StepState.SKIPPED
    assert sheet._rows[Step.COMMIT].timing.text() == ""


def test_a_failed_verify_names_the_missing_and_unexpected_groups(
    sheet: ApplyProgressSheet,
) -> None:
    result = verify_failed_result()
    sheet.on_finished(result)
    assert sheet.step_state(Step.VERIFY) is StepState.FAILED
    assert sheet.step_state(Step.FOLD) is StepState.OK
    assert sheet.headline.text() == "Apply failed: verify"
    text = sheet.outcome_label.text()
    assert result.advice is not None and result.advice in text
    assert "Not served by LiteLLM: claude-3." in text
    assert "Served but not applied: legacy." in text


def test_a_cancelled_apply_says_nothing_changed(sheet: ApplyProgressSheet) -> None:
    begin(sheet, Step.UPLOAD)
    sheet.on_finished(cancelled_result())
    assert sheet.step_state(Step.UPLOAD) is StepState.CANCELLED
    assert sheet.step_state(Step.COMMIT) is StepState.SKIPPED
    assert sheet.headline.text() == "Apply cancelled"
    assert sheet.outcome_label.text().startswith("Cancelled: config.yaml")


def test_a_validation_failure_lists_the_errors(sheet: ApplyProgressSheet) -> None:
    sheet.on_finished(validation_failed_result())
    assert sheet.step_state(Step.RENDER) is StepState.FAILED
    assert f"{ERROR.path}: {ERROR.message}" in sheet.outcome_label.text()


def test_a_job_that_raised_shows_its_sentence_and_no_traceback(
    sheet: ApplyProgressSheet,
) -> None:
    sheet.on_progress(Step.LOCK.value, 0.0, "Apply in progress by bob@host; waiting up to 5 s")
    sheet.on_failed("Apply in progress by bob@host")
    assert not sheet.is_running()
    assert sheet.headline.text() == "Apply did not run"
    assert sheet.outcome_label.text() == "Apply in progress by bob@host"
    assert sheet.step_state(Step.LOCK) is StepState.FAILED
    assert not any("Traceback" in text for text in visible_texts(sheet))


def test_progress_after_the_end_changes_nothing(sheet: ApplyProgressSheet) -> None:
    sheet.on_finished(ok_result())
    begin(sheet, Step.LOCK)
    assert sheet.step_state(Step.LOCK) is StepState.OK


@pytest.mark.parametrize(
    ("result", "headline"),
    [
        (ok_result(), "Applied"),
        (noop_result(), "Nothing to apply"),
        (verify_failed_result(), "Apply failed: verify"),
        (cancelled_result(), "Apply cancelled"),
    ],
)
def test_result_summary_headlines(result: ApplyResult, headline: str) -> None:
    assert result_summary(result)[0] == headline
