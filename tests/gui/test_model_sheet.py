"""The Add / Edit Model sheet: catalog pickers, inline validation, exact round-trips of what the
form does not model, the "Discard changes?" question and store refusals shown as sentences."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import Item, ItemKey, ItemKind, Secret
from llmproxy_desktop.store.errors import Conflict, StagingConflict
from llmproxy_desktop.ui.sheets.model_sheet import KEY_ENV, ModelSheet
from tests.gui.discard_prompt import cancel_and_discard, close_and_keep_editing
from tests.gui.model_fakes import CREDENTIALS, SECRET_VALUE, FakeEditor
from tests.gui.staging_fakes import RecordingEditor

SheetFactory = Callable[..., ModelSheet]


@pytest.fixture
def editor() -> FakeEditor:
    return FakeEditor()


@pytest.fixture
def make_sheet(qtbot: QtBot, editor: FakeEditor) -> SheetFactory:
    """Open a sheet that stages through `editor` with expected version 0."""

    def make(**kwargs: object) -> ModelSheet:
        sheet = ModelSheet(
            lambda item, done: editor.stage([(item, 0)], done),
            credential_names=CREDENTIALS,
            **kwargs,  # type: ignore[arg-type]
        )
        qtbot.addWidget(sheet)
        sheet.open()
        qtbot.waitExposed(sheet)
        return sheet

    return make


def _rich_item() -> Item:
    """An imported model with much the form does not model, in an unusual key order."""
    return Item(
        ItemKind.MODEL,
        "9b1c0c1e-0000-4000-8000-000000000001",
        {
            "model_name": "claude",
            "litellm_params": {
                "model": "anthropic/claude-haiku-4-5",
                "api_key": Secret(SECRET_VALUE),
                "rpm": "100",  # a string LiteLLM accepts; the form must not turn it into 100
                "tags": ["prod", {"team": "a"}],
                "custom_header_thing": {"x-Trace": True, "n": 1.5e-07},
                "max_retries": 3,
            },
            "model_info": {"base_model": "claude-3", "input_cost_per_token": 3e-06},
            "blocked": False,
        },
    )


def _all_texts(root: QWidget) -> list[str]:
    """Every text the sheet shows: fields, labels, combo entries, tooltips, the extras box."""
    texts = [root.windowTitle(), root.toolTip()]
    for widget in root.findChildren(QWidget):
        texts.append(widget.toolTip())
        if isinstance(widget, QLineEdit):
            texts += [widget.text(), widget.placeholderText()]
        elif isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QPlainTextEdit):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
    return texts


def test_add_builds_the_model_from_the_catalog_pickers(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    sheet = make_sheet()
    assert not sheet.save_button.isEnabled()
    assert sheet.provider.findText("anthropic") >= 0

    sheet.provider.setCurrentText("anthropic")
    assert sheet.model.findText("claude-haiku-4-5") >= 0  # the provider's catalog models
    sheet.model.setCurrentText("claude-haiku-4-5")
    assert sheet.group.text() == "claude-haiku-4-5"  # the group follows until typed in
    assert "200,000 input tokens" in sheet.catalog_hint.text()
    sheet.key_source.setCurrentIndex(sheet.key_source.findData("credential:anthropic-prod"))
    sheet.numbers["rpm"].setText("600")
    sheet.numbers["timeout"].setText("2.5")
    assert sheet.save_button.isEnabled()
    sheet.save_button.click()

    assert sheet.result() == QDialog.DialogCode.Accepted
    ((item, version),) = editor.staged
    assert version == 0
    assert item.kind is ItemKind.MODEL and item.name == sheet.item_name
    assert item.data == {
        "model_name": "claude-haiku-4-5",
        "litellm_params": {
            "model": "anthropic/claude-haiku-4-5",
            "litellm_credential_name": "anthropic-prod",
            "rpm": 600,
            "timeout": 2.5,
        },
    }


def test_an_api_version_is_saved_into_litellm_params(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    sheet = make_sheet()
    sheet.provider.setCurrentText("azure")
    sheet.model.setCurrentText("gpt-4o")
    sheet.api_version.setText("2024-10-21")
    assert sheet.save_button.isEnabled()
    sheet.save_button.click()

    assert sheet.result() == QDialog.DialogCode.Accepted
    ((item, _version),) = editor.staged
    params = item.data["litellm_params"]
    assert params["model"] == "azure/gpt-4o"
    assert params["api_version"] == "2024-10-21"


def test_editing_shows_the_stored_api_version_and_saves_a_new_one(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    original = _rich_item()
    assert isinstance(original.data, dict)
    params = original.data["litellm_params"]
    assert isinstance(params, dict)
    stored_params = {**params, "api_version": "2024-06-01"}
    stored = Item(original.kind, original.name, {**original.data, "litellm_params": stored_params})
    sheet = make_sheet(item=stored)
    assert sheet.api_version.text() == "2024-06-01"

    sheet.api_version.setText("2025-01-01")
    sheet.save_button.click()

    ((item, _version),) = editor.staged
    saved = item.data["litellm_params"]
    assert saved == {**params, "api_version": "2025-01-01"}


def test_a_model_outside_the_catalog_is_allowed_and_said_so(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    sheet = make_sheet()
    sheet.provider.setCurrentText("openai")
    sheet.model.setCurrentText("gpt-99-preview")
    assert "Not in the catalog" in sheet.catalog_hint.text()
    sheet.save_button.click()
    assert editor.staged[0][0].data["litellm_params"]["model"] == "openai/gpt-99-preview"


def test_env_reference_needs_a_valid_variable_name(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    sheet = make_sheet()
    sheet.provider.setCurrentText("openai")
    sheet.model.setCurrentText("gpt-4o")
    assert sheet.fields["env"].isHidden()  # only asked for when the key comes from the env
    sheet.key_source.setCurrentIndex(sheet.key_source.findData(KEY_ENV))
    assert not sheet.fields["env"].isHidden()
    assert sheet.fields["env"].message.text().startswith("Enter the environment variable")
    assert not sheet.save_button.isEnabled()

    sheet.env_var.setText("1-BAD NAME")
    assert "is not a valid variable name" in sheet.fields["env"].message.text()
    assert not sheet.save_button.isEnabled()

    sheet.env_var.setText("os.environ/OPENAI_KEY")  # pasted whole: the prefix is understood
    assert sheet.fields["env"].message.isHidden()
    qtbot_click_save(sheet)
    assert editor.staged[0][0].data["litellm_params"]["api_key"] == "os.environ/OPENAI_KEY"


def qtbot_click_save(sheet: ModelSheet) -> None:
    assert sheet.save_button.isEnabled()
    sheet.save_button.click()


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("rpm", "abc", "Enter a whole number of 0 or more."),
        ("tpm", "1.5", "Enter a whole number of 0 or more."),
        ("timeout", "-1", "Enter a number of 0 or more."),
        ("input_cost_per_token", "nan", "Enter a number of 0 or more."),
    ],
)
def test_bad_numbers_show_a_message_under_the_field_and_block_save(
    make_sheet: SheetFactory, editor: FakeEditor, field: str, text: str, message: str
) -> None:
    sheet = make_sheet()
    sheet.provider.setCurrentText("openai")
    sheet.model.setCurrentText("gpt-4o")
    assert sheet.save_button.isEnabled()

    sheet.numbers[field].setText(text)
    assert sheet.fields[field].message.text() == message
    assert not sheet.fields[field].message.isHidden()
    assert not sheet.save_button.isEnabled()
    sheet.buttons.accepted.emit()  # Save by keyboard/default button is refused too
    assert editor.staged == []

    sheet.numbers[field].setText("")
    assert sheet.fields[field].message.isHidden()
    assert sheet.save_button.isEnabled()


def test_group_and_model_are_required(make_sheet: SheetFactory) -> None:
    sheet = make_sheet()
    sheet.provider.setCurrentText("openai")
    sheet.model.setCurrentText("gpt-4o")
    sheet.group.setText("")
    assert sheet.fields["group"].message.text().startswith("Enter the model group name")
    assert not sheet.save_button.isEnabled()
    sheet.group.setText("gpt")
    sheet.model.setCurrentText("")
    assert sheet.fields["model"].message.text().startswith("Choose or type the model")
    assert not sheet.save_button.isEnabled()


def test_core_validation_warns_inline_about_an_unknown_provider(make_sheet: SheetFactory) -> None:
    sheet = make_sheet()
    sheet.provider.setCurrentText("no_such_provider")
    sheet.model.setCurrentText("m1")
    assert "not a provider LiteLLM knows" in sheet.fields["model"].message.text()
    assert sheet.save_button.isEnabled()  # a warning does not block


def test_edit_keeps_everything_it_does_not_show_exactly(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    original = _rich_item()
    sheet = make_sheet(item=original)
    assert sheet.windowTitle() == "Edit Model"
    assert not sheet.is_dirty
    assert sheet.numbers["input_cost_per_token"].text() == "3e-06"  # read from model_info
    assert "custom_header_thing" in sheet.extra.toPlainText()
    assert "base_model" in sheet.extra.toPlainText()

    sheet.group.setText("claude-eu")
    sheet.save_button.click()

    ((item, _),) = editor.staged
    assert item.name == original.name
    expected = {**original.data, "model_name": "claude-eu"}
    assert item.data == expected
    assert list(item.data) == list(expected)
    params, before = item.data["litellm_params"], original.data["litellm_params"]
    assert list(params) == list(before)
    for key in before:  # the very same values: nothing re-parsed, nothing re-typed
        assert params[key] is before[key]
    assert params["rpm"] == "100"
    assert item.data["model_info"] == original.data["model_info"]


def test_edited_cost_stays_where_the_item_keeps_it(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    sheet = make_sheet(item=_rich_item())
    sheet.numbers["input_cost_per_token"].setText("4e-06")
    sheet.mode.setCurrentText("chat")
    sheet.save_button.click()
    data = editor.staged[0][0].data
    assert data["model_info"] == {
        "base_model": "claude-3",
        "input_cost_per_token": 4e-06,
        "mode": "chat",
    }
    assert "input_cost_per_token" not in data["litellm_params"]


def test_switching_to_a_credential_replaces_the_stored_key(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    sheet = make_sheet(item=_rich_item())
    assert sheet.key_source.currentText() == "Keep the stored key (***)"
    sheet.key_source.setCurrentIndex(sheet.key_source.findData("credential:anthropic-prod"))
    sheet.save_button.click()
    params = editor.staged[0][0].data["litellm_params"]
    assert "api_key" not in params
    assert params["litellm_credential_name"] == "anthropic-prod"


def test_no_secret_value_appears_anywhere_in_the_sheet(make_sheet: SheetFactory) -> None:
    item = _rich_item()
    item.data["litellm_params"]["aws_secret_access_key"] = SECRET_VALUE  # a literal extra
    sheet = make_sheet(item=item)
    sheet.advanced_toggle.click()
    texts = _all_texts(sheet)
    assert not any(SECRET_VALUE in text for text in texts)
    assert 'aws_secret_access_key: "***"' in sheet.extra.toPlainText()


def test_duplicate_gets_a_new_id_and_the_suggested_group(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    original = _rich_item()
    sheet = make_sheet(item=original, duplicate_as="claude-copy")
    assert sheet.windowTitle() == "Duplicate Model"
    assert sheet.group.text() == "claude-copy"
    sheet.save_button.click()
    ((item, version),) = editor.staged
    assert version == 0
    assert item.name != original.name
    assert item.data == {**original.data, "model_name": "claude-copy"}
    assert item.data["litellm_params"]["tags"] is not original.data["litellm_params"]["tags"]


def test_escape_without_edits_closes_at_once(qtbot: QtBot, make_sheet: SheetFactory) -> None:
    sheet = make_sheet(item=_rich_item())
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not sheet.isVisible())
    assert sheet.discard_prompt is None
    assert sheet.result() == QDialog.DialogCode.Rejected


def test_closing_with_unsaved_edits_asks_first(qtbot: QtBot, make_sheet: SheetFactory) -> None:
    sheet = make_sheet(item=_rich_item())
    sheet.group.setText("changed")

    close_and_keep_editing(qtbot, sheet)
    assert sheet.group.text() == "changed"

    cancel_and_discard(qtbot, sheet, sheet.buttons.rejected.emit)  # Cancel


def test_a_staging_conflict_is_shown_as_a_sentence_and_keeps_the_edits(
    make_sheet: SheetFactory, editor: FakeEditor
) -> None:
    original = _rich_item()
    editor.fail_with = StagingConflict(
        [Conflict(ItemKey(ItemKind.MODEL, original.name), 1, 2, None)]
    )
    sheet = make_sheet(item=original)
    sheet.group.setText("claude-eu")
    sheet.save_button.click()

    assert sheet.isVisible()
    assert not sheet.error_label.isHidden()
    text = sheet.error_label.text()
    assert text.startswith("Someone changed this since you loaded it")
    assert "Traceback" not in text
    assert sheet.group.text() == "claude-eu"
    assert editor.staged == []


def test_ctrl_s_saves(qtbot: QtBot, make_sheet: SheetFactory, editor: FakeEditor) -> None:
    sheet = make_sheet(item=_rich_item())
    sheet.group.setText("claude-2")
    sheet.activateWindow()
    qtbot.waitUntil(sheet.isActiveWindow)
    qtbot.keyClick(sheet.group, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(editor.staged) == 1)
    assert editor.staged[0][0].data["model_name"] == "claude-2"


def test_save_waits_for_the_editors_answer_with_save_disabled(qtbot: QtBot) -> None:
    editor = RecordingEditor(hold=True)  # the stack's worker has not answered yet
    sheet = ModelSheet(
        lambda item, done: editor.stage([(item, 3)], done), item=_rich_item(), credential_names=[]
    )
    qtbot.addWidget(sheet)
    sheet.open()
    sheet.group.setText("claude-2")

    sheet.save_button.click()
    assert sheet.pending and not sheet.save_button.isEnabled() and sheet.isVisible()

    editor.finish_pending("Stage failed: the connection to the stack was lost.")
    assert not sheet.pending and sheet.save_button.isEnabled() and sheet.isVisible()
    assert sheet.error_label.text() == "Stage failed: the connection to the stack was lost."

    with qtbot.waitSignal(sheet.saved):
        sheet.save_button.click()
        editor.finish_pending(None)
    assert sheet.result() == QDialog.DialogCode.Accepted
    assert [version for _item, version in editor.staged] == [3, 3]
