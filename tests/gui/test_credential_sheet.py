"""The credential sheet: typed values become vault Secrets, rotation keeps what is left empty,
inline validation, and the editor's answer (success closes, a refusal is shown in the sheet)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Item, ItemKind, Secret
from llmproxy_desktop.ui.sheets.credential_sheet import CredentialSheet
from tests.gui.discard_prompt import cancel_and_discard, close_and_keep_editing
from tests.gui.staging_fakes import RecordingEditor
from tests.gui.widget_texts import all_texts

TYPED_SECRET = "sk-typed-0123456789abcdef"
SheetFactory = Callable[..., CredentialSheet]


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def make_sheet(qtbot: QtBot, editor: RecordingEditor) -> SheetFactory:
    def make(**kwargs: object) -> CredentialSheet:
        sheet = CredentialSheet(editor, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(sheet)
        sheet.show()
        qtbot.waitExposed(sheet)
        return sheet

    return make


def _type(edit: QLineEdit, text: str) -> None:
    edit.setText(text)
    edit.textEdited.emit(text)


def stored_credential(version: int = 4) -> EffectiveItem:
    data = {
        "credential_values": {"api_key": Secret("old-key"), "api_base": Secret("old-base")},
        "credential_info": {"custom_llm_provider": "openai", "team": "ml"},
    }
    return EffectiveItem(Item(ItemKind.CREDENTIAL, "openai-prod", data), None, version)


def test_new_credential_is_staged_with_secret_values(
    qtbot: QtBot, make_sheet: SheetFactory, editor: RecordingEditor
) -> None:
    sheet = make_sheet(taken_names=["other"])
    assert not sheet.save_button.isEnabled()
    _type(sheet.name_edit, "openai-dev")
    sheet.provider.setEditText("openai")
    key, value = sheet.rows[0]
    assert key.currentText() == "api_key"
    assert value.echoMode() is QLineEdit.EchoMode.Password
    _type(value, TYPED_SECRET)
    assert sheet.save_button.isEnabled()
    with qtbot.waitSignal(sheet.staged) as staged:
        sheet.save_button.click()
    [(item, version)] = editor.staged
    assert version == 0
    assert item == staged.args[0]
    assert item.kind is ItemKind.CREDENTIAL and item.name == "openai-dev"
    api_key = item.data["credential_values"]["api_key"]
    assert isinstance(api_key, Secret) and api_key == Secret(TYPED_SECRET)
    assert item.data["credential_info"] == {"custom_llm_provider": "openai"}
    qtbot.waitUntil(lambda: not sheet.isVisible())
    assert not any(TYPED_SECRET in text for text in all_texts(sheet, include_secret_fields=True))


def test_an_environment_reference_stays_a_reference(
    qtbot: QtBot, make_sheet: SheetFactory, editor: RecordingEditor
) -> None:
    sheet = make_sheet()
    _type(sheet.name_edit, "azure")
    _type(sheet.rows[0][1], "os.environ/AZURE_KEY")
    sheet.save_button.click()
    qtbot.waitUntil(lambda: bool(editor.staged))
    assert editor.staged[0][0].data["credential_values"] == {"api_key": "os.environ/AZURE_KEY"}


def test_rotation_replaces_typed_values_and_keeps_the_rest(
    qtbot: QtBot, make_sheet: SheetFactory, editor: RecordingEditor
) -> None:
    stored = stored_credential()
    sheet = make_sheet(taken_names=["openai-prod"], rotate=stored)
    assert sheet.name_edit.isReadOnly() and sheet.name_edit.text() == "openai-prod"
    keys = [key.currentText() for key, _value in sheet.rows]
    assert keys == ["api_key", "api_base"]
    assert all(value.text() == "" for _key, value in sheet.rows)
    assert sheet.save_button.isEnabled()  # a taken name is fine: it is this credential's
    _type(sheet.rows[0][1], TYPED_SECRET)
    sheet.save_button.click()
    qtbot.waitUntil(lambda: bool(editor.staged))
    [(item, version)] = editor.staged
    assert version == 4
    values = item.data["credential_values"]
    assert values["api_key"] == Secret(TYPED_SECRET)
    assert values["api_base"] is stored.item.data["credential_values"]["api_base"]
    assert item.data["credential_info"] == {"custom_llm_provider": "openai", "team": "ml"}


def test_name_and_values_are_checked_inline(make_sheet: SheetFactory) -> None:
    sheet = make_sheet(taken_names=["openai-prod"])
    _type(sheet.name_edit, "openai-prod")
    assert sheet.name_error.isVisible()
    assert "exists already" in sheet.name_error.text()
    _type(sheet.name_edit, "fresh")
    assert not sheet.name_error.isVisible()
    assert "Enter a value for api_key" in sheet.values_error.text()
    assert not sheet.save_button.isEnabled()
    sheet.add_value_button.click()
    _type(sheet.rows[0][1], "x")
    assert "Every value needs a key" in sheet.values_error.text()
    sheet.rows[1][0].setEditText("api_key")
    assert "listed twice" in sheet.values_error.text()
    assert not sheet.save_button.isEnabled()


def test_a_refusal_is_shown_in_the_sheet_which_stays_open(
    qtbot: QtBot, make_sheet: SheetFactory, editor: RecordingEditor
) -> None:
    editor.hold = True
    sheet = make_sheet(rotate=stored_credential())
    _type(sheet.rows[0][1], TYPED_SECRET)
    sheet.save_button.click()
    assert not sheet.save_button.isEnabled()  # in flight: no second submission
    editor.finish_pending("The vault is locked; unlock it to store secrets.")
    assert sheet.isVisible()
    assert sheet.save_error.isVisible()
    assert sheet.save_error.text() == "The vault is locked; unlock it to store secrets."
    assert sheet.save_button.isEnabled()
    assert sheet.rows[0][1].text() == TYPED_SECRET  # the admin's edit is kept


def test_closing_with_unsaved_edits_asks_first(
    qtbot: QtBot, make_sheet: SheetFactory, editor: RecordingEditor
) -> None:
    sheet = make_sheet(rotate=stored_credential())
    _type(sheet.rows[0][1], TYPED_SECRET)

    close_and_keep_editing(qtbot, sheet)
    assert sheet.rows[0][1].text() == TYPED_SECRET  # the edit is still there

    cancel_and_discard(qtbot, sheet, sheet.cancel_button.click)
    assert editor.staged == []


def test_esc_on_an_untouched_sheet_closes_it_without_asking(
    qtbot: QtBot, make_sheet: SheetFactory, editor: RecordingEditor
) -> None:
    sheet = make_sheet(rotate=stored_credential())  # filling the form is not an edit
    assert not sheet.is_dirty()
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)

    assert sheet.discard_prompt is None
    assert not sheet.isVisible()
    assert sheet.result() == QDialog.DialogCode.Rejected
    assert editor.staged == []
