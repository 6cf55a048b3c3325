"""History: the revisions with the current file marked, and Restore… that stages only after the
admin confirms (a window-modal QMessageBox the sheet opens and keeps in `confirm_box`)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.sheets.history_sheet import CURRENT_FILE_TEXT, HistorySheet
from tests.gui.apply_data import revision, visible_texts

CURRENT = "c" * 64
REVISIONS = (
    revision(3, "3" * 64, "0 new, 1 changed, 0 deleted"),
    revision(2, CURRENT, "1 new, 0 changed, 0 deleted"),
    revision(1, "1" * 64, "imported"),
)


@pytest.fixture
def sheet(qtbot: QtBot) -> HistorySheet:
    history = HistorySheet(REVISIONS, CURRENT)
    qtbot.addWidget(history)
    history.open()
    qtbot.waitExposed(history)
    return history


def cell(sheet: HistorySheet, row: int, column: int) -> str:
    model = sheet.table_model
    return str(model.data(model.index(row, column)))


def test_the_table_lists_id_when_who_and_summary(sheet: HistorySheet) -> None:
    assert sheet.table_model.rowCount() == 3
    assert [cell(sheet, 0, c) for c in (0, 2, 3)] == ["3", "alice@laptop", REVISIONS[0].summary]
    when = sheet.table_model.index(0, 1)
    assert cell(sheet, 0, 1).startswith("2026-11-")
    assert sheet.table_model.data(when, 3) == "2026-11-27 09:03:00 UTC"  # tooltip: UTC


def test_the_revision_config_yaml_holds_is_marked_current(sheet: HistorySheet) -> None:
    assert [cell(sheet, row, 4) for row in range(3)] == ["", CURRENT_FILE_TEXT, ""]


def test_no_known_file_marks_no_revision(qtbot: QtBot) -> None:
    history = HistorySheet(REVISIONS, None)
    qtbot.addWidget(history)
    assert CURRENT_FILE_TEXT not in visible_texts(history)


def test_restore_needs_a_selection(sheet: HistorySheet) -> None:
    assert not sheet.restore_button.isEnabled()
    sheet.select_revision(2)
    assert sheet.restore_button.isEnabled()


def test_restore_asks_then_emits_the_revision(qtbot: QtBot, sheet: HistorySheet) -> None:
    sheet.select_revision(1)
    with qtbot.assertNotEmitted(sheet.restore_requested):
        sheet.restore_button.click()
        box, button = sheet.confirm_box, sheet.confirm_button
        assert box is not None and button is not None
        qtbot.waitUntil(box.isVisible)
    assert box.text() == "Stage the changes that restore revision 1?"
    assert "Nothing is applied until you Apply." in box.informativeText()
    assert box.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole
    with qtbot.waitSignal(sheet.restore_requested, timeout=1000) as emitted:
        button.click()
    assert emitted.args == [1]
    assert sheet.confirm_box is None


def test_cancelling_the_question_restores_nothing(qtbot: QtBot, sheet: HistorySheet) -> None:
    sheet.select_revision(3)
    sheet.restore_button.click()
    box = sheet.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    with qtbot.assertNotEmitted(sheet.restore_requested):
        box.escapeButton().click()
    assert sheet.isVisible()


def test_the_controllers_answer_shows_inline(sheet: HistorySheet) -> None:
    assert not sheet.message_label.isVisible()
    sheet.show_message("Staged 3 changes; review and apply them.")
    assert sheet.message_label.isVisible()
    assert sheet.message_label.text() == "Staged 3 changes; review and apply them."


def test_an_empty_history_says_so(qtbot: QtBot) -> None:
    history = HistorySheet((), None)
    qtbot.addWidget(history)
    history.open()
    qtbot.waitExposed(history)
    assert history.empty_label.isVisible()
    assert not history.restore_button.isEnabled()
