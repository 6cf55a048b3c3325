"""The Models page: grouped rows with staged flags, debounced search, Add / Edit / Duplicate /
Delete through the editor protocol, and store refusals shown as sentences."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import Flag, ItemKey, ItemKind
from llmproxy_desktop.store.errors import Conflict, StagingConflict
from llmproxy_desktop.ui.models_table import HEADERS, ITEM_ROLE, Column
from llmproxy_desktop.ui.pages.models import EMPTY_TEXT, ModelsPage
from llmproxy_desktop.ui.sheets.model_sheet import ModelSheet
from llmproxy_desktop.ui.staging import TestAnswer
from llmproxy_desktop.ui.theme import scheme_palette, staged_accent
from tests.gui.model_fakes import SECRET_VALUE, FakeEditor, sample_items

ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.StatusTipRole,
    Qt.ItemDataRole.AccessibleTextRole,
)


@pytest.fixture
def editor() -> FakeEditor:
    return FakeEditor()


@pytest.fixture
def page(qtbot: QtBot, editor: FakeEditor) -> ModelsPage:
    page = ModelsPage(editor)
    qtbot.addWidget(page)
    page.set_items(sample_items())
    page.resize(900, 400)
    page.show()
    qtbot.waitExposed(page)
    return page


def _column(page: ModelsPage, column: Column) -> list[str]:
    proxy = page.proxy
    return [proxy.index(r, column).data() for r in range(proxy.rowCount())]


def _row_of(page: ModelsPage, name: str) -> int:
    names = [e.item.name for e in page.visible_items()]
    return names.index(name)


def test_rows_are_grouped_by_model_group_and_show_each_column(page: ModelsPage) -> None:
    assert [page.proxy.headerData(c, Qt.Orientation.Horizontal) for c in Column] == list(HEADERS)
    assert _column(page, Column.GROUP) == ["claude", "embed", "gpt-4o", "gpt-4o", "legacy"]
    assert _column(page, Column.PROVIDER) == ["anthropic", "openai", "azure", "openai", "openai"]
    assert _column(page, Column.CREDENTIAL) == [
        "anthropic-prod",
        "",
        "***",
        "os.environ/OPENAI_KEY",
        "***",
    ]
    assert _column(page, Column.STATUS) == ["new", "deleted", "changed", "applied", "applied"]
    assert page.empty_label.isHidden()  # the credential item is not a row: only models are


def test_new_and_changed_rows_use_the_accent_and_deleted_rows_are_struck_through(
    page: ModelsPage,
) -> None:
    accent = staged_accent(QGuiApplication.palette())
    for name, flag in (("id-1", Flag.NEW), ("id-2", Flag.CHANGED)):
        row = _row_of(page, name)
        for column in Column:
            brush = page.proxy.index(row, column).data(Qt.ItemDataRole.ForegroundRole)
            assert isinstance(brush, QBrush) and brush.color() == accent, flag
    deleted = _row_of(page, "id-3")
    for column in Column:
        font = page.proxy.index(deleted, column).data(Qt.ItemDataRole.FontRole)
        assert isinstance(font, QFont) and font.strikeOut()
    applied = _row_of(page, "id-4")
    assert page.proxy.index(applied, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert page.proxy.index(applied, 0).data(Qt.ItemDataRole.FontRole) is None


def test_no_secret_value_reaches_any_cell_or_tooltip(page: ModelsPage) -> None:
    proxy = page.proxy
    for row in range(proxy.rowCount()):
        for column in Column:
            for role in ROLES:
                value = proxy.index(row, column).data(role)
                assert SECRET_VALUE not in str(value)


def test_search_filters_group_model_and_provider_after_a_pause(
    qtbot: QtBot, page: ModelsPage
) -> None:
    qtbot.keyClicks(page.search, "GPT")
    assert page.proxy.rowCount() == 5  # debounced: nothing filtered while typing
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 3)  # two gpt-4o rows + gpt-3.5-turbo
    page.search.setText("azure")  # provider
    qtbot.waitUntil(lambda: _column(page, Column.MODEL) == ["azure/gpt-4o-eu"])
    page.search.setText("openai embedding")  # every word must match somewhere
    qtbot.waitUntil(lambda: _column(page, Column.GROUP) == ["embed"])
    page.search.setText("nothing-like-this")
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 0)
    assert page.table.isHidden()
    assert page.empty_label.text() == "No models match “nothing-like-this”."
    page.search.clear()
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 5)
    assert page.table.isVisible()


def test_empty_state_without_models(qtbot: QtBot, editor: FakeEditor) -> None:
    page = ModelsPage(editor)
    qtbot.addWidget(page)
    page.show()
    assert page.empty_label.text() == EMPTY_TEXT
    assert page.empty_label.isVisible() and page.table.isHidden()
    assert not page.delete_button.isEnabled() and not page.duplicate_button.isEnabled()


def test_ctrl_f_puts_the_cursor_in_the_search_field(qtbot: QtBot, page: ModelsPage) -> None:
    page.activateWindow()
    page.table.setFocus()
    qtbot.waitUntil(page.isActiveWindow)
    qtbot.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.search)


def test_add_model_stages_a_new_item_with_version_zero(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    page.add_button.click()
    sheet = page.sheet
    assert sheet is not None and sheet.windowTitle() == "Add Model"
    qtbot.waitExposed(sheet)
    assert sheet.key_source.findData("credential:openai-prod") >= 0  # from the editor
    sheet.provider.setCurrentText("openai")
    sheet.model.setCurrentText("gpt-4o-mini")
    sheet.group.setText("mini")
    with qtbot.waitSignal(page.staged):
        sheet.save_button.click()
    ((item, version),) = editor.staged
    assert version == 0
    assert item.key == ItemKey(ItemKind.MODEL, sheet.item_name)
    assert item.data == {"model_name": "mini", "litellm_params": {"model": "openai/gpt-4o-mini"}}


def test_editing_a_row_stages_with_its_version(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    index = page.proxy.index(_row_of(page, "id-1"), Column.MODEL)
    rect = page.table.visualRect(index)
    viewport = page.table.viewport()
    # A real double click: the view opens only the row the first click pressed.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: page.sheet is not None)
    assert len(page.findChildren(ModelSheet)) == 1  # one double click, one sheet
    sheet = page.sheet
    assert sheet is not None and sheet.windowTitle() == "Edit Model"
    sheet.numbers["rpm"].setText("60")
    with qtbot.waitSignal(page.staged):
        sheet.save_button.click()
    ((item, version),) = editor.staged
    assert (item.name, version) == ("id-1", 7)
    assert item.data["litellm_params"]["rpm"] == 60


def test_duplicate_suggests_a_free_group_name(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    page.select_rows([_row_of(page, "id-4")])
    assert page.duplicate_button.isEnabled()
    page.duplicate_button.click()
    sheet = page.sheet
    assert sheet is not None and sheet.group.text() == "gpt-4o-copy"
    sheet.save_button.click()
    ((item, version),) = editor.staged
    assert version == 0 and item.name != "id-4"
    assert item.data["litellm_params"] == {
        "model": "openai/gpt-4o",
        "api_key": "os.environ/OPENAI_KEY",
    }


def test_delete_asks_with_a_button_naming_the_action(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    page.select_rows([_row_of(page, "id-1"), _row_of(page, "id-4")])
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    button = page.confirm_button
    assert button is not None and button.text() == "Delete 2 models"
    assert box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
    with qtbot.waitSignal(page.staged):
        button.click()
    assert sorted(editor.deleted, key=lambda d: d[0].name) == [
        (ItemKey(ItemKind.MODEL, "id-1"), 7),
        (ItemKey(ItemKind.MODEL, "id-4"), 1),
    ]


def test_delete_of_one_names_the_model_and_cancel_does_nothing(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    page.select_rows([_row_of(page, "id-1")])
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    assert page.confirm_button is not None
    assert page.confirm_button.text() == "Delete model claude"
    cancel = box.escapeButton()
    assert cancel is not None
    cancel.click()
    qtbot.waitUntil(lambda: page.confirm_box is None)
    assert editor.deleted == []


def test_rows_staged_for_deletion_cannot_be_deleted_or_duplicated(page: ModelsPage) -> None:
    page.select_rows([_row_of(page, "id-3")])
    assert not page.delete_button.isEnabled()
    assert not page.duplicate_button.isEnabled()
    page.edit(page.selected_items()[0])
    assert page.sheet is None
    assert "staged for deletion" in page.error_label.text()


def test_a_refused_delete_is_shown_as_a_sentence(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    editor.fail_with = StagingConflict([Conflict(ItemKey(ItemKind.MODEL, "id-4"), 1, 2, None)])
    page.select_rows([_row_of(page, "id-4")])
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    button = page.confirm_button
    assert button is not None
    with qtbot.assertNotEmitted(page.staged):
        button.click()
    assert page.error_label.isVisible()
    assert page.error_label.text().startswith("Someone changed this since you loaded it")


def test_a_refused_save_stays_in_the_sheet(
    qtbot: QtBot, page: ModelsPage, editor: FakeEditor
) -> None:
    editor.fail_with = StagingConflict([Conflict(ItemKey(ItemKind.MODEL, "id-1"), 7, 8, None)])
    page.edit(page.visible_items()[_row_of(page, "id-1")])
    sheet = page.sheet
    assert sheet is not None
    sheet.group.setText("claude-2")
    with qtbot.assertNotEmitted(page.staged):
        sheet.save_button.click()
    assert sheet.isVisible() and sheet.result() != QDialog.DialogCode.Accepted
    assert "Someone changed this" in sheet.error_label.text()


def test_set_items_replaces_the_rows_and_keeps_the_search(qtbot: QtBot, page: ModelsPage) -> None:
    page.search.setText("claude")
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 1)
    items = sample_items()
    page.set_items(items[:1])  # only the applied gpt-4o row left
    assert page.proxy.rowCount() == 0
    assert page.empty_label.text() == "No models match “claude”."
    page.search.clear()
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 1)
    assert page.proxy.index(0, 0).data(ITEM_ROLE) == items[0]


def test_the_accent_follows_a_light_dark_switch(qapp: QApplication, page: ModelsPage) -> None:
    index = page.proxy.index(_row_of(page, "id-1"), Column.GROUP)
    before = qapp.palette()
    try:
        for scheme in (Qt.ColorScheme.Light, Qt.ColorScheme.Dark):
            qapp.setPalette(scheme_palette(scheme))
            brush = index.data(Qt.ItemDataRole.ForegroundRole)
            assert brush.color() == staged_accent(scheme_palette(scheme))
    finally:
        qapp.setPalette(before)


class HeldTester:
    """Test double of the controller's ModelTester: records the groups and answers when told."""

    def __init__(self) -> None:
        self.groups: list[str] = []
        self.answers: list[TestAnswer] = []

    def test_model(self, model_group: str, answer: TestAnswer) -> None:
        self.groups.append(model_group)
        self.answers.append(answer)


def test_test_sends_the_selected_served_group_and_shows_the_answer(qtbot: QtBot) -> None:
    tester = HeldTester()
    page = ModelsPage(FakeEditor(), tester=tester)
    qtbot.addWidget(page)
    page.set_items(sample_items())

    page.select_rows([_row_of(page, "id-1")])  # new: LiteLLM does not serve it yet
    assert not page.test_button.isEnabled()
    page.select_rows([_row_of(page, "id-4")])
    assert page.test_button.isEnabled()

    page.test_button.click()
    assert tester.groups == ["gpt-4o"]
    assert page.test_label.text() == "Testing gpt-4o…"
    assert not page.test_button.isEnabled()  # one test at a time

    tester.answers[0](None, "answered in 0.42 s: OK")
    assert page.test_label.text() == "gpt-4o answered in 0.42 s: OK"
    assert page.test_button.isEnabled()

    page.test_button.click()
    tester.answers[1](
        "Test gpt-4o failed: LiteLLM answered POST /v1/chat/completions with HTTP 401.", ""
    )
    assert page.test_label.text().startswith("gpt-4o: Test gpt-4o failed: LiteLLM answered POST")


def test_without_a_tester_there_is_no_test_button(page: ModelsPage) -> None:
    assert page.test_button.isHidden()


def test_a_model_without_api_key_names_its_other_credential_field_never_the_value() -> None:
    from llmproxy_desktop.ui.models_table import credential_text

    assert credential_text({"aws_access_key_id": SECRET_VALUE}) == "aws_access_key_id: ***"
    assert credential_text({"aws_secret_access_key": "os.environ/AWS_SECRET"}) == (
        "os.environ/AWS_SECRET"
    )
    assert credential_text({"aws_region_name": "eu-west-1"}) == ""
