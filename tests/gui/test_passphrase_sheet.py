"""The change-passphrase sheet: inline checks (length, repeat), `submitted(old, new)`, an error
answered inline, and the typed passphrases forgotten on success."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.sheets.passphrase_sheet import (
    MISMATCH_MESSAGE,
    SAME_MESSAGE,
    TOO_SHORT_MESSAGE,
    PassphraseSheet,
)
from tests.gui.discard_prompt import cancel_and_discard, close_and_keep_editing
from tests.gui.widget_texts import all_texts

OLD = "old passphrase 1"
NEW = "a brand new passphrase"


@pytest.fixture
def sheet(qtbot: QtBot) -> PassphraseSheet:
    sheet = PassphraseSheet()
    qtbot.addWidget(sheet)
    sheet.show()
    qtbot.waitExposed(sheet)
    return sheet


def _type(edit: QLineEdit, text: str) -> None:
    edit.setText(text)
    edit.textEdited.emit(text)


def _fill(sheet: PassphraseSheet, old: str, new: str, repeat: str) -> None:
    _type(sheet.old_edit, old)
    _type(sheet.new_edit, new)
    _type(sheet.repeat_edit, repeat)


def test_fields_are_password_fields_and_save_waits_for_all_three(sheet: PassphraseSheet) -> None:
    for edit in (sheet.old_edit, sheet.new_edit, sheet.repeat_edit):
        assert edit.echoMode() is QLineEdit.EchoMode.Password
    assert sheet.save_button.text() == "Change Passphrase"
    assert not sheet.save_button.isEnabled()
    _fill(sheet, OLD, NEW, "")
    assert not sheet.save_button.isEnabled()


def test_a_short_new_passphrase_is_refused_inline(sheet: PassphraseSheet) -> None:
    _fill(sheet, OLD, "short", "short")
    assert sheet.new_error.isVisible() and sheet.new_error.text() == TOO_SHORT_MESSAGE
    assert not sheet.save_button.isEnabled()
    _type(sheet.new_edit, "twelve chars")
    _type(sheet.repeat_edit, "twelve chars")
    assert not sheet.new_error.isVisible()
    assert sheet.save_button.isEnabled()


def test_the_repeat_must_match_and_the_new_must_differ(sheet: PassphraseSheet) -> None:
    _fill(sheet, OLD, NEW, NEW + "x")
    assert sheet.repeat_error.isVisible() and sheet.repeat_error.text() == MISMATCH_MESSAGE
    assert not sheet.save_button.isEnabled()
    _fill(sheet, OLD, OLD, OLD)
    assert sheet.new_error.text() == SAME_MESSAGE
    assert not sheet.save_button.isEnabled()


def test_submit_hands_both_passphrases_on_and_an_error_is_shown_inline(
    qtbot: QtBot, sheet: PassphraseSheet
) -> None:
    _fill(sheet, OLD, NEW, NEW)
    with qtbot.waitSignal(sheet.submitted) as submitted:
        sheet.save_button.click()
    assert submitted.args == [OLD, NEW]
    assert not sheet.save_button.isEnabled()  # waiting for the answer
    sheet.show_error("Wrong passphrase. Check for typos, Caps Lock and the keyboard layout.")
    assert sheet.isVisible()
    assert sheet.submit_error.isVisible()
    assert sheet.submit_error.text().startswith("Wrong passphrase")
    assert sheet.save_button.isEnabled()
    texts = all_texts(sheet)
    assert not any(OLD in t or NEW in t for t in texts)


def test_success_forgets_the_passphrases_and_closes(qtbot: QtBot, sheet: PassphraseSheet) -> None:
    _fill(sheet, OLD, NEW, NEW)
    sheet.save_button.click()
    sheet.succeeded()
    qtbot.waitUntil(lambda: not sheet.isVisible())
    assert not any(OLD in t or NEW in t for t in all_texts(sheet, include_secret_fields=True))
    assert not sheet.is_dirty()


def test_closing_with_unsaved_edits_asks_first(qtbot: QtBot, sheet: PassphraseSheet) -> None:
    submitted: list[tuple[str, str]] = []
    sheet.submitted.connect(lambda old, new: submitted.append((old, new)))
    _fill(sheet, OLD, NEW, "")

    close_and_keep_editing(qtbot, sheet)
    assert (sheet.old_edit.text(), sheet.new_edit.text()) == (OLD, NEW)

    cancel_and_discard(qtbot, sheet, sheet.cancel_button.click)
    assert submitted == []


def test_esc_on_an_untouched_sheet_closes_it_without_asking(
    qtbot: QtBot, sheet: PassphraseSheet
) -> None:
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)

    assert sheet.discard_prompt is None
    assert not sheet.isVisible()
    assert sheet.result() == QDialog.DialogCode.Rejected
