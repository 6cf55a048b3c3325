"""The Routing page: the allowed strategies only, numbers that may be "not set", fallback and
alias rows checked by the core validator (dangling references shown by their row), Save that
sends only the changed keys with their versions, Revert, and refusals shown inline."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKey, ItemKind
from llmproxy_desktop.core.validate import ALLOWED_ROUTING_STRATEGIES
from llmproxy_desktop.ui.pages.routing import (
    DEFAULT_STRATEGY_TEXT,
    INCOMPLETE_FALLBACK,
    NOT_SET_TEXT,
    RoutingPage,
)
from llmproxy_desktop.ui.theme import StatusColour, status_colour
from tests.gui.staging_fakes import RecordingEditor

R = ItemKind.ROUTER_SETTING


def _model(name: str, group: str) -> EffectiveItem:
    data = {"model_name": group, "litellm_params": {"model": f"openai/{group}"}}
    return EffectiveItem(Item(ItemKind.MODEL, name, data), None, 1)


def _setting(key: str, value: object, version: int, flag: Flag | None = None) -> EffectiveItem:
    return EffectiveItem(Item(R, key, value), flag, version)


def sample_items() -> list[EffectiveItem]:
    return [
        _model("m1", "gpt-4o"),
        _model("m2", "claude"),
        _model("m3", "embed"),
        _setting("routing_strategy", "least-busy", 3),
        _setting("num_retries", 2, 4),
        _setting("timeout", 30, 5, Flag.CHANGED),
        _setting("fallbacks", [{"gpt-4o": ["claude"]}], 6),
        _setting("model_group_alias", {"gpt4": "gpt-4o"}, 7),
    ]


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def page(qtbot: QtBot, editor: RecordingEditor) -> RoutingPage:
    page = RoutingPage(editor)
    qtbot.addWidget(page)
    page.set_items(sample_items())
    page.validate_now()
    page.resize(900, 800)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_the_strategy_picker_offers_exactly_the_allowed_strategies(page: RoutingPage) -> None:
    offered = [page.strategy.itemText(i) for i in range(page.strategy.count())]
    assert offered == list(ALLOWED_ROUTING_STRATEGIES)
    assert len(offered) == 6
    assert page.strategy.currentText() == "least-busy"


def test_the_form_shows_the_stored_values_and_their_flags(page: RoutingPage) -> None:
    assert page.numbers["num_retries"].value() == 2
    assert page.numbers["timeout"].value() == 30
    assert page.numbers["cooldown_time"].text() == NOT_SET_TEXT
    [row] = page.fallback_sections["fallbacks"].rows
    assert row.row() == ("gpt-4o", ("claude",))
    assert page.fallback_sections["context_window_fallbacks"].rows == []
    [alias] = page.alias_section.rows
    assert alias.row() == ("gpt4", "gpt-4o")
    assert page.flags["timeout"].isVisible()
    assert page.flags["timeout"].text() == "Staged: changed"
    assert not page.flags["num_retries"].isVisible()
    assert not page.save_button.isEnabled() and not page.revert_button.isEnabled()
    assert not page.findings


def test_save_sends_only_the_changed_keys_with_their_versions(
    page: RoutingPage, editor: RecordingEditor
) -> None:
    page.numbers["num_retries"].setValue(5)
    page.numbers["cooldown_time"].setValue(60)  # a new key
    page.set_number("timeout", None)  # cleared: removed
    assert page.numbers["timeout"].text() == NOT_SET_TEXT
    row = page.fallback_sections["context_window_fallbacks"].add_row()
    row.primary.set_value("gpt-4o")
    row.targets.toggle("claude")
    row.targets.toggle("embed")
    assert page.changed_keys() == [
        "num_retries",
        "timeout",
        "cooldown_time",
        "context_window_fallbacks",
    ]
    page.save_button.click()
    assert editor.staged == [
        (Item(R, "num_retries", 5), 4),
        (Item(R, "cooldown_time", 60), 0),
        (Item(R, "context_window_fallbacks", [{"gpt-4o": ["claude", "embed"]}]), 0),
    ]
    assert editor.deleted == [(ItemKey(R, "timeout"), 5)]


def test_a_dangling_fallback_is_shown_in_red_next_to_its_row(
    qtbot: QtBot, page: RoutingPage
) -> None:
    [row] = page.fallback_sections["fallbacks"].rows
    row.targets.set_value(["claude", "gpt-5"])
    qtbot.waitUntil(row.error.isVisible)
    assert "'gpt-5' is not a model group" in row.error.text()
    red = status_colour(StatusColour.BAD, page.palette())
    assert row.error.palette().color(QPalette.ColorRole.WindowText) == red
    assert any(f.rule == "ref.dangling" for f in page.findings)
    assert page.save_button.isEnabled()  # staging is allowed; Apply is what it blocks


def test_dangling_references_in_the_stored_settings_are_shown_on_load(
    qtbot: QtBot, page: RoutingPage
) -> None:
    items = [e for e in sample_items() if e.item.name != "m2"]  # claude's model is gone
    page.set_items(items)
    page.validate_now()
    [row] = page.fallback_sections["fallbacks"].rows
    qtbot.waitUntil(row.error.isVisible)  # new rows are shown by the event loop
    assert "'claude'" in row.error.text()
    page.alias_section.rows[0].target.set_value("nothing")
    qtbot.waitUntil(page.alias_section.rows[0].error.isVisible)
    assert "'nothing' is not a model group" in page.alias_section.rows[0].error.text()


def test_an_unknown_stored_strategy_is_reported_inline(page: RoutingPage) -> None:
    items = [*sample_items()[:3], _setting("routing_strategy", "lowest-cost", 3)]
    page.set_items(items)
    page.validate_now()
    assert page.strategy.currentIndex() == -1
    assert "lowest-cost" in page.strategy.placeholderText()
    error = page.field_errors["routing_strategy"]
    assert error.isVisible() and "cost-based-routing" in error.text()
    page.set_items(sample_items()[:3])
    assert page.strategy.placeholderText() == DEFAULT_STRATEGY_TEXT


def test_an_incomplete_row_blocks_save(qtbot: QtBot, page: RoutingPage) -> None:
    row = page.fallback_sections["fallbacks"].add_row()
    assert not page.save_button.isEnabled()
    qtbot.waitUntil(row.error.isVisible)
    assert row.error.text().startswith(INCOMPLETE_FALLBACK)
    page.fallback_sections["fallbacks"].remove_row(row)
    assert not page.save_button.isEnabled()  # back to the stored values: nothing to save


def test_a_refusal_is_shown_inline_and_keeps_the_edits(
    page: RoutingPage, editor: RecordingEditor
) -> None:
    editor.hold = True
    page.strategy.setCurrentText("latency-based-routing")
    page.save_button.click()
    assert not page.save_button.isEnabled()  # in flight
    editor.finish_pending("Someone else changed routing_strategy; reload and try again.")
    assert page.error_label.isVisible()
    assert page.error_label.text() == "Someone else changed routing_strategy; reload and try again."
    assert page.strategy.currentText() == "latency-based-routing"
    assert page.save_button.isEnabled()


def test_revert_shows_the_stored_values_again(page: RoutingPage) -> None:
    page.numbers["num_retries"].setValue(9)
    page.alias_section.remove_row(page.alias_section.rows[0])
    assert page.revert_button.isEnabled()
    page.revert_button.click()
    assert page.numbers["num_retries"].value() == 2
    assert [r.row() for r in page.alias_section.rows] == [("gpt4", "gpt-4o")]
    assert page.changed_keys() == []
    assert not page.revert_button.isEnabled()


def test_a_refresh_after_save_shows_the_new_values_and_flags(
    page: RoutingPage, editor: RecordingEditor
) -> None:
    page.numbers["num_retries"].setValue(5)
    page.save_button.click()
    assert editor.staged == [(Item(R, "num_retries", 5), 4)]
    items = [e for e in sample_items() if e.item.name != "num_retries"]
    page.set_items([*items, _setting("num_retries", 5, 8, Flag.CHANGED)])
    assert page.changed_keys() == []
    assert page.flags["num_retries"].text() == "Staged: changed"
    assert page.error_label.text() == ""


def test_fallbacks_kept_in_litellm_settings_are_staged_back_there(
    page: RoutingPage, editor: RecordingEditor
) -> None:
    items = [e for e in sample_items() if e.item.name != "fallbacks"]
    legacy = EffectiveItem(
        Item(ItemKind.LITELLM_SETTING, "fallbacks", [{"gpt-4o": ["claude"]}]), None, 11
    )
    page.set_items([*items, legacy])
    [row] = page.fallback_sections["fallbacks"].rows
    row.targets.toggle("embed")
    page.save_button.click()
    assert editor.staged == [
        (Item(ItemKind.LITELLM_SETTING, "fallbacks", [{"gpt-4o": ["claude", "embed"]}]), 11)
    ]


def test_a_refresh_keeps_edits_with_the_version_they_were_read_at(
    page: RoutingPage, editor: RecordingEditor
) -> None:
    page.numbers["num_retries"].setValue(7)
    changed_elsewhere = {"num_retries": 3, "timeout": 45}
    items = [e for e in sample_items() if e.item.name not in changed_elsewhere]
    page.set_items(
        [*items, *(_setting(k, v, 20, Flag.CHANGED) for k, v in changed_elsewhere.items())]
    )
    assert page.numbers["timeout"].value() == 45  # not edited here: follows the store
    assert page.numbers["num_retries"].value() == 7  # the admin's edit survives
    page.save_button.click()
    # Sent with the version it was read at: the store reports the conflict, nothing is lost.
    assert editor.staged == [(Item(R, "num_retries", 7), 4)]
