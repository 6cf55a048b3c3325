"""The Virtual Keys page: paged listing with Load More, debounced alias search that drops stale
answers, blocked rows marked, the create sheet with inline validation and LiteLLM's sentences,
the show-once sheet with Copy, and confirmations that name the key. Everything through the
RecordingKeysService double (tests/gui/keys_fakes.py): the page never reaches a stack."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.virtual_keys import CreatedKey, KeyPage, VirtualKey
from llmproxy_desktop.ui.pages.virtual_keys import Column, VirtualKeysPage
from llmproxy_desktop.ui.sheets.key_sheet import INHERIT_TEXT, KeySheet
from llmproxy_desktop.ui.theme import StatusColour, status_colour
from tests.gui.discard_prompt import cancel_and_discard, close_and_keep_editing
from tests.gui.keys_fakes import RecordingKeysService
from tests.gui.widget_texts import all_texts

GROUPS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet"]
SECRET = "sk-brand-new-secret-7Hq2"


def key(alias: str, **fields: object) -> VirtualKey:
    token = f"{alias:0<64}"[:64]
    return VirtualKey(token=token, key_name=f"sk-...{alias[-4:]:>4}", alias=alias, **fields)  # type: ignore[arg-type]


def page_of(keys: list[VirtualKey], page: int = 1, pages: int = 1, total: int = 0) -> KeyPage:
    return KeyPage(tuple(keys), total or len(keys), page, pages)


@pytest.fixture
def service() -> RecordingKeysService:
    return RecordingKeysService()


@pytest.fixture
def page(qtbot: QtBot, service: RecordingKeysService) -> VirtualKeysPage:
    view = VirtualKeysPage(service)
    qtbot.addWidget(view)
    view.set_model_groups(GROUPS)
    view.resize(1100, 500)
    view.show()
    qtbot.waitExposed(view)
    return view


def column(page: VirtualKeysPage, col: Column) -> list[str]:
    model = page.table_model
    return [model.index(r, col).data() for r in range(model.rowCount())]


def loaded(page: VirtualKeysPage, service: RecordingKeysService, *keys: VirtualKey) -> None:
    page.reload()
    service.pending("list_page")[-1].answer(page_of(list(keys)))


def test_pages_load_more_until_every_key_is_shown(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    page.reload()
    first = service.last("list_page")
    assert first.args == (1, "")
    first.answer(page_of([key("a"), key("b")], page=1, pages=2, total=3))
    assert column(page, Column.ALIAS) == ["a", "b"]
    assert page.more_button.isVisible()
    assert page.count_label.text() == "Showing 2 of 3 keys"

    page.more_button.click()
    second = service.last("list_page")
    assert second.args == (2, "")
    second.answer(page_of([key("c")], page=2, pages=2, total=3))

    assert column(page, Column.ALIAS) == ["a", "b", "c"]
    assert not page.more_button.isVisible()
    assert page.count_label.text() == "Showing 3 of 3 keys"


def test_columns_show_budget_period_expiry_limits_and_blocked_rows(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    soon = datetime.now(UTC) + timedelta(days=3)
    loaded(
        page,
        service,
        key(
            "svc",
            models=("gpt-4o",),
            spend=1.5,
            max_budget=10.0,
            budget_duration="30d",
            expires=soon,
            rpm_limit=60,
            tpm_limit=100000,
        ),
        key("blocked", blocked=True),
    )
    model = page.table_model
    assert column(page, Column.SPEND) == ["$1.50 / $10.00", "$0.00 / no budget"]
    assert column(page, Column.PERIOD) == ["30d", ""]
    assert column(page, Column.EXPIRES)[1] == "Never"
    assert column(page, Column.MODELS) == ["gpt-4o", "All models"]
    assert column(page, Column.RPM) == ["60", ""]
    assert column(page, Column.TPM) == ["100,000", ""]
    assert column(page, Column.STATUS) == ["Active", "Blocked"]
    assert column(page, Column.LAST_ACTIVE) == ["Never used", "Never used"]
    red = status_colour(StatusColour.BAD, page.palette())
    colour = model.index(1, Column.ALIAS).data(Qt.ItemDataRole.ForegroundRole)
    assert isinstance(colour, QColor) and colour == red
    assert model.index(0, Column.ALIAS).data(Qt.ItemDataRole.ForegroundRole) is None


def test_search_is_debounced_and_a_stale_answer_is_dropped(
    qtbot: QtBot, page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    loaded(page, service, key("alpha"), key("beta"))
    page.search_edit.setText("al")
    assert page._search_timer.isActive()
    assert service.pending("list_page") == []  # nothing asked while typing
    page.search_edit.setText("alp")
    qtbot.waitUntil(lambda: bool(service.pending("list_page")))
    (request,) = service.pending("list_page")
    assert request.args == (1, "alp")

    page.search_edit.setText("beta")
    page.reload()  # Return pressed: the newer search goes out at once
    request.answer(page_of([key("alpha")]))  # the old answer arrives late: dropped
    service.pending("list_page")[-1].answer(page_of([key("beta")]))
    assert column(page, Column.ALIAS) == ["beta"]


def test_an_empty_search_result_says_so(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    page.search_edit.setText("zzz")
    page.reload()
    service.last("list_page").answer(page_of([]))
    assert page.empty_label.isVisible()
    assert "zzz" in page.empty_label.text()


def test_a_failed_listing_is_a_sentence(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    page.reload()
    service.last("list_page").fail("LiteLLM did not list the keys: it has no database.")
    assert page.error_label.isVisible()
    assert page.error_label.text() == "LiteLLM did not list the keys: it has no database."


def open_new_sheet(page: VirtualKeysPage) -> KeySheet:
    page.new_button.click()
    assert page.sheet is not None
    return page.sheet


def check_model(sheet: KeySheet, name: str) -> None:
    for row in range(sheet.models_list.count()):
        item = sheet.models_list.item(row)
        if item.text() == name:
            item.setCheckState(Qt.CheckState.Checked)


def test_create_validates_inline_and_sends_the_spec(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    sheet = open_new_sheet(page)
    assert [sheet.models_list.item(r).text() for r in range(3)] == sorted(GROUPS)
    assert not sheet.save_button.isEnabled()  # no alias yet
    sheet.alias_edit.setText("billing")
    sheet.alias_edit.textEdited.emit("billing")
    sheet.budget_edit.setText("ten")
    sheet.budget_edit.textEdited.emit("ten")
    assert "The budget must be a number." in sheet.problems_label.text()
    assert not sheet.save_button.isEnabled()

    sheet.budget_edit.setText("10")
    sheet.budget_edit.textEdited.emit("10")
    check_model(sheet, "gpt-4o")
    sheet.period_combo.setCurrentText("30d")
    sheet.expiry_combo.setCurrentText("7d")
    sheet.metadata_edit.setPlainText('{"owner": "alice"}')
    sheet.aliases_edit.setPlainText("fast = gpt-4o-mini")
    sheet.strategy_combo.setCurrentText("least-busy")
    assert sheet.save_button.isEnabled(), sheet.problems_label.text()
    sheet.save_button.click()

    spec = service.last("create_key").args[0]
    assert spec.alias == "billing"
    assert spec.models == ("gpt-4o",)
    assert (spec.max_budget, spec.budget_duration, spec.duration) == (10.0, "30d", "7d")
    assert spec.metadata == {"owner": "alice"}
    assert spec.aliases == {"fast": "gpt-4o-mini"}
    assert spec.routing is not None and spec.routing.strategy == "least-busy"


def test_fallbacks_outside_the_keys_models_are_refused_inline(page: VirtualKeysPage) -> None:
    sheet = open_new_sheet(page)
    sheet.alias_edit.setText("x")
    check_model(sheet, "gpt-4o")
    sheet.fallbacks_edit.setPlainText("gpt-4o: claude-sonnet")
    assert "limited to the key's models" in sheet.problems_label.text()
    assert not sheet.save_button.isEnabled()


def test_litellms_refusal_stays_in_the_open_sheet(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    sheet = open_new_sheet(page)
    sheet.alias_edit.setText("dup")
    sheet.alias_edit.textEdited.emit("dup")
    sheet.save_button.click()
    sentence = "LiteLLM did not create the key: Key with alias 'dup' already exists."
    service.last("create_key").fail(sentence)
    assert sheet.isVisible()
    assert sheet.save_error.text() == sentence
    assert sheet.save_button.isEnabled()


def test_the_new_key_is_shown_once_with_copy(
    qtbot: QtBot, page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    sheet = open_new_sheet(page)
    sheet.alias_edit.setText("fresh")
    sheet.alias_edit.textEdited.emit("fresh")
    sheet.save_button.click()
    service.last("create_key").answer(CreatedKey(key("fresh"), SECRET))

    shown = page.secret_sheet
    assert shown is not None and shown.isVisible()
    assert shown.secret_edit.text() == SECRET
    assert shown.secret_edit.isReadOnly()
    shown.copy_button.click()
    assert QGuiApplication.clipboard().text() == SECRET
    assert service.pending("list_page")  # the list is read again
    assert not any(SECRET in text for text in all_texts(page.table))

    shown.close_button.click()
    assert shown.secret_edit.text() == ""
    QGuiApplication.clipboard().clear()


def test_edit_prefills_the_form_and_sends_removed_metadata(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    existing = key(
        "svc",
        models=("gpt-4o", "fast"),
        aliases={"fast": "gpt-4o-mini"},
        metadata={"owner": "a", "ticket": "T-1"},
        rpm_limit=5,
    )
    loaded(page, service, existing)
    page.table.selectRow(0)
    page.edit_button.click()
    sheet = page.sheet
    assert sheet is not None
    assert sheet.checked_models() == ("gpt-4o",)  # alias names are not shown as models
    assert sheet.aliases_edit.toPlainText() == "fast = gpt-4o-mini"
    assert sheet.strategy_combo.currentText() == INHERIT_TEXT
    sheet.metadata_edit.setPlainText('{"owner": "b"}')
    sheet.save_button.click()

    token, spec = service.last("update_key").args
    assert token == existing.token
    assert spec.metadata == {"owner": "b"}
    assert spec.metadata_removed == ("ticket",)
    assert spec.duration is None  # "Keep the current expiry"
    service.last("update_key").answer(replace(existing, rpm_limit=5))
    assert page.sheet is None or not sheet.isVisible()


def test_closing_the_key_sheet_with_unsaved_edits_asks_first(
    qtbot: QtBot, page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    sheet = open_new_sheet(page)
    sheet.alias_edit.setText("half-typed")
    sheet.alias_edit.textEdited.emit("half-typed")

    close_and_keep_editing(qtbot, sheet)
    assert sheet.alias_edit.text() == "half-typed"

    cancel_and_discard(qtbot, sheet, sheet.cancel_button.click)
    assert service.pending("create_key") == []


def test_esc_on_an_untouched_edit_sheet_closes_it_without_asking(
    qtbot: QtBot, page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    existing = key("svc", models=("gpt-4o",), metadata={"owner": "a"}, rpm_limit=5)
    loaded(page, service, existing)
    page.table.selectRow(0)
    page.edit_button.click()
    sheet = page.sheet
    assert sheet is not None and sheet.isVisible()
    assert not sheet.is_dirty()  # prefilling the form is not an edit

    qtbot.keyClick(sheet, Qt.Key.Key_Escape)

    assert sheet.discard_prompt is None
    assert not sheet.isVisible()
    assert sheet.result() == QDialog.DialogCode.Rejected
    assert service.pending("update_key") == []


def test_block_toggles_with_the_row_and_reloads(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    loaded(page, service, key("b", blocked=True))
    page.table.selectRow(0)
    assert page.block_button.text() == "Unblock"
    page.block_button.click()
    call = service.last("set_blocked")
    assert call.args == (key("b").token, False)
    call.answer(None)
    assert service.pending("list_page")


@pytest.mark.parametrize(
    ("button", "method", "label"),
    [
        ("delete_button", "delete_key", "Delete Key"),
        ("regenerate_button", "regenerate_key", "Regenerate Key"),
    ],
)
def test_destructive_actions_confirm_with_a_button_naming_the_key(
    page: VirtualKeysPage, service: RecordingKeysService, button: str, method: str, label: str
) -> None:
    loaded(page, service, key("prod-bot"))
    page.table.selectRow(0)
    getattr(page, button).click()
    box = page.confirm_box
    assert box is not None
    destructive = [
        b for b in box.buttons() if box.buttonRole(b) is QMessageBox.ButtonRole.DestructiveRole
    ]
    assert [b.text() for b in destructive] == [f"{label} prod-bot"]
    assert box.defaultButton() is not destructive[0]
    destructive[0].click()
    assert service.last(method).args == (key("prod-bot").token,)


def test_cancelling_a_delete_sends_nothing(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    loaded(page, service, key("keep"))
    page.table.selectRow(0)
    page.delete_button.click()
    box = page.confirm_box
    assert box is not None
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert service.pending("delete_key") == []
    assert not [c for c in service.calls if c.method == "delete_key"]


def test_a_regenerate_refusal_is_shown_above_the_table(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    loaded(page, service, key("r"))
    page.table.selectRow(0)
    page.regenerate_button.click()
    assert page.confirm_box is not None
    next(b for b in page.confirm_box.buttons() if b.text().startswith("Regenerate")).click()
    service.last("regenerate_key").fail("LiteLLM did not regenerate the key: Enterprise only.")
    assert page.error_label.text() == "LiteLLM did not regenerate the key: Enterprise only."


def test_scrolling_to_the_end_fetches_the_next_page(
    page: VirtualKeysPage, service: RecordingKeysService
) -> None:
    page.reload()
    many = [key(f"k{n:03}") for n in range(60)]
    service.last("list_page").answer(page_of(many, page=1, pages=2, total=61))
    bar = page.table.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    request = service.last("list_page")
    assert request.args == (2, "")
    bar.setValue(bar.maximum())  # a second nudge while loading asks nothing more
    assert len(service.pending("list_page")) == 1
    request.answer(page_of([key("last")], page=2, pages=2, total=61))
    assert page.table_model.rowCount() == 61
