"""The Provider Keys page: credentials with masked keys and usage, Add / Rotate through the
credential sheet, Delete refused while models use a credential, the vault actions and the
locked-vault banner. Everything through the RecordingEditor: the page never reaches a store."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKey, ItemKind, Secret
from llmproxy_desktop.ui.pages.provider_keys import LOCKED_TEXT, Column, ProviderKeysPage
from llmproxy_desktop.ui.theme import staged_accent
from tests.gui.staging_fakes import RecordingEditor
from tests.gui.widget_texts import all_texts

STORED_SECRET = "sk-stored-secret-value-42"
TYPED_SECRET = "sk-typed-secret-value-77"


def _model(name: str, group: str, credential: str, flag: Flag | None = None) -> EffectiveItem:
    data = {
        "model_name": group,
        "litellm_params": {"model": f"openai/{group}", "litellm_credential_name": credential},
    }
    return EffectiveItem(Item(ItemKind.MODEL, name, data), flag, 1)


def _credential(name: str, version: int, flag: Flag | None = None) -> EffectiveItem:
    data = {
        "credential_values": {
            "api_key": Secret(STORED_SECRET),
            "api_base": "os.environ/OPENAI_BASE",
        },
        "credential_info": {"custom_llm_provider": "openai"},
    }
    return EffectiveItem(Item(ItemKind.CREDENTIAL, name, data), flag, version)


def sample_items() -> list[EffectiveItem]:
    return [
        _credential("openai-prod", 3),
        _credential("spare", 5),
        _credential("legacy", 2),
        _model("m1", "gpt-4o", "openai-prod"),
        _model("m2", "gpt-4o-mini", "openai-prod"),
        _model("m3", "gpt-4o", "openai-prod"),
        _model("m4", "old", "legacy", Flag.DELETED),  # staged for deletion: no longer a user
    ]


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def page(qtbot: QtBot, editor: RecordingEditor) -> ProviderKeysPage:
    page = ProviderKeysPage(editor)
    qtbot.addWidget(page)
    page.set_items(sample_items())
    page.resize(900, 400)
    page.show()
    qtbot.waitExposed(page)
    return page


def _cells(page: ProviderKeysPage, column: Column) -> list[str]:
    model = page.table_model
    return [model.index(r, column).data() for r in range(model.rowCount())]


def _no_secret_shown(page: ProviderKeysPage) -> None:
    texts = all_texts(page)
    assert not any(STORED_SECRET in t or TYPED_SECRET in t for t in texts)


def test_rows_show_provider_masked_keys_and_usage(page: ProviderKeysPage) -> None:
    assert _cells(page, Column.NAME) == ["legacy", "openai-prod", "spare"]
    assert _cells(page, Column.PROVIDER) == ["openai"] * 3
    assert _cells(page, Column.KEYS)[0] == "api_key ***, api_base os.environ/OPENAI_BASE"
    assert _cells(page, Column.USED_BY) == ["not used", "2 model groups", "not used"]
    tip = page.table_model.index(1, Column.USED_BY).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "gpt-4o, gpt-4o-mini"
    _no_secret_shown(page)


def test_staged_rows_use_the_accent_and_deleted_ones_are_struck_through(
    page: ProviderKeysPage,
) -> None:
    page.set_items([_credential("new-one", 1, Flag.NEW), _credential("gone", 2, Flag.DELETED)])
    model = page.table_model
    accent = staged_accent(page.palette())
    for row in (0, 1):
        colour = model.index(row, Column.NAME).data(Qt.ItemDataRole.ForegroundRole)
        assert isinstance(colour, QColor) and colour == accent
    font = model.index(0, Column.NAME).data(Qt.ItemDataRole.FontRole)  # "gone" sorts first
    assert isinstance(font, QFont) and font.strikeOut()
    assert _cells(page, Column.STATUS) == ["deleted", "new"]


def test_add_credential_stages_a_secret_that_no_widget_shows(
    qtbot: QtBot, page: ProviderKeysPage, editor: RecordingEditor
) -> None:
    page.add_button.click()
    sheet = page.sheet
    assert sheet is not None
    qtbot.waitUntil(sheet.isVisible)
    sheet.name_edit.setText("anthropic-prod")
    sheet.name_edit.textEdited.emit("anthropic-prod")
    value: QLineEdit = sheet.rows[0][1]
    value.setText(TYPED_SECRET)
    value.textEdited.emit(TYPED_SECRET)
    sheet.save_button.click()
    qtbot.waitUntil(lambda: page.sheet is None)
    [(item, version)] = editor.staged
    assert (item.kind, item.name, version) == (ItemKind.CREDENTIAL, "anthropic-prod", 0)
    secret = item.data["credential_values"]["api_key"]
    assert isinstance(secret, Secret) and secret == Secret(TYPED_SECRET)
    # The controller pushes the new effective items: the row shows, the value does not.
    page.set_items([*sample_items(), EffectiveItem(item, Flag.NEW, 1)])
    assert "anthropic-prod" in _cells(page, Column.NAME)
    _no_secret_shown(page)


def test_rotate_keeps_the_values_left_empty(
    qtbot: QtBot, page: ProviderKeysPage, editor: RecordingEditor
) -> None:
    page.select_credential("spare")
    page.rotate_button.click()
    sheet = page.sheet
    assert sheet is not None and sheet.name_edit.isReadOnly()
    qtbot.waitUntil(sheet.isVisible)
    api_key = sheet.rows[0][1]
    api_key.setText(TYPED_SECRET)
    api_key.textEdited.emit(TYPED_SECRET)
    sheet.save_button.click()
    qtbot.waitUntil(lambda: page.sheet is None)
    [(item, version)] = editor.staged
    assert (item.name, version) == ("spare", 5)
    assert item.data["credential_values"] == {
        "api_key": Secret(TYPED_SECRET),
        "api_base": "os.environ/OPENAI_BASE",
    }


def test_delete_is_refused_while_models_use_the_credential(
    page: ProviderKeysPage, editor: RecordingEditor
) -> None:
    page.select_credential("openai-prod")
    page.delete_button.click()
    assert page.confirm_box is None
    assert page.error_label.isVisible()
    text = page.error_label.text()
    assert "openai-prod" in text and "gpt-4o" in text and "gpt-4o-mini" in text
    assert editor.deleted == []


def test_delete_of_an_unused_credential_asks_with_a_destructive_button(
    qtbot: QtBot, page: ProviderKeysPage, editor: RecordingEditor
) -> None:
    page.select_credential("legacy")  # its only model is staged for deletion
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    button = page.confirm_button
    assert button is not None and button.text() == "Delete credential legacy"
    assert box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
    button.click()
    qtbot.waitUntil(lambda: page.confirm_box is None)
    assert editor.deleted == [(ItemKey(ItemKind.CREDENTIAL, "legacy"), 2)]


def test_cancelling_the_delete_does_nothing_and_a_refusal_is_shown(
    qtbot: QtBot, page: ProviderKeysPage, editor: RecordingEditor
) -> None:
    page.select_credential("spare")
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    cancel = box.escapeButton()
    assert cancel is not None
    cancel.click()
    qtbot.waitUntil(lambda: page.confirm_box is None)
    assert editor.deleted == []
    editor.answer = "Someone else changed this credential; reload and try again."
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None and page.confirm_button is not None
    qtbot.waitUntil(box.isVisible)
    page.confirm_button.click()
    qtbot.waitUntil(page.error_label.isVisible)
    assert page.error_label.text() == editor.answer


def test_a_locked_vault_shows_the_banner_and_disables_editing(
    qtbot: QtBot, page: ProviderKeysPage
) -> None:
    page.select_credential("spare")
    assert page.rotate_button.isEnabled() and page.delete_button.isEnabled()
    assert not page.banner.isVisible()
    page.set_vault_state(locked=True)
    assert page.banner.isVisible()
    assert page.banner_label.text() == LOCKED_TEXT
    for button in (page.add_button, page.rotate_button, page.delete_button):
        assert not button.isEnabled()
    page.rotate_selected()  # also refused when called directly (Enter on a row)
    assert page.sheet is None
    with qtbot.waitSignal(page.unlock_requested):
        page.unlock_button.click()
    page.set_vault_state(locked=False)
    assert not page.banner.isVisible()
    assert page.add_button.isEnabled() and page.rotate_button.isEnabled()


def test_vault_actions_are_handed_to_the_window(qtbot: QtBot, page: ProviderKeysPage) -> None:
    assert page.passphrase_button.text() == "Change Passphrase…"
    assert page.data_key_button.text() == "Rotate Data Key…"
    with qtbot.waitSignal(page.change_passphrase_requested):
        page.passphrase_button.click()
    with qtbot.waitSignal(page.rotate_data_key_requested):
        page.data_key_button.click()
