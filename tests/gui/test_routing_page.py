"""The Routing page: the allowed strategies only, numbers that may be "not set", fallback and
alias tables edited one cell at a time through the delegate's group pickers and checked by the
core validator (dangling references shown in their cell and summed up above the table), Save
that sends only the changed keys with their versions, Revert, and refusals shown inline."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.findings import Severity
from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKey, ItemKind
from llmproxy_desktop.core.validate import ALLOWED_ROUTING_STRATEGIES
from llmproxy_desktop.ui.pages.routing import (
    DEFAULT_STRATEGY_TEXT,
    DUPLICATE_ALIAS,
    INCOMPLETE_FALLBACK,
    NOT_SET_TEXT,
    RoutingPage,
    RowsSection,
)
from llmproxy_desktop.ui.pages.routing_rows import PROBLEM_ROLE
from llmproxy_desktop.ui.theme import StatusColour, status_colour
from llmproxy_desktop.ui.widgets.group_picker import GroupListPicker, GroupPicker
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
    fallbacks = page.fallback_sections["fallbacks"]
    assert fallbacks.model.rows() == (("gpt-4o", ("claude",)),)
    assert _cell(fallbacks, 0, 1) == "claude"
    assert page.fallback_sections["context_window_fallbacks"].model.rows() == ()
    assert page.alias_section.model.rows() == (("gpt4", "gpt-4o"),)
    assert page.flags["timeout"].isVisible()
    assert page.flags["timeout"].text() == "Staged: changed"
    assert not page.flags["num_retries"].isVisible()
    assert not page.save_button.isEnabled() and not page.revert_button.isEnabled()
    assert not page.findings


def test_save_sends_only_the_changed_keys_with_their_versions(
    qtbot: QtBot, page: RoutingPage, editor: RecordingEditor
) -> None:
    page.numbers["num_retries"].setValue(5)
    page.numbers["cooldown_time"].setValue(60)  # a new key
    page.set_number("timeout", None)  # cleared: removed
    assert page.numbers["timeout"].text() == NOT_SET_TEXT
    section = page.fallback_sections["context_window_fallbacks"]
    row = section.add_row()
    _type(qtbot, _open_editor(section, row, 0), "gpt-4o")
    targets = _open_editor(section, row, 1)
    assert isinstance(targets, GroupListPicker)
    targets.toggle("claude")
    targets.toggle("embed")
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


def test_allowed_fails_shows_the_stored_value_and_stages_only_that_key(
    qtbot: QtBot, editor: RecordingEditor
) -> None:
    page = RoutingPage(editor)
    qtbot.addWidget(page)
    page.set_items([*sample_items(), _setting("allowed_fails", 3, 8)])
    page.validate_now()
    page.show()
    qtbot.waitExposed(page)
    allowed_fails = page.numbers["allowed_fails"]
    assert allowed_fails.value() == 3
    assert allowed_fails.text() == "3"
    assert not page.flags["allowed_fails"].isVisible()
    assert page.changed_keys() == []

    allowed_fails.setValue(7)
    assert page.changed_keys() == ["allowed_fails"]
    page.save_button.click()
    assert editor.staged == [(Item(R, "allowed_fails", 7), 8)]
    assert editor.deleted == []


def test_allowed_fails_not_stored_shows_not_set_and_a_new_value_is_staged_as_new(
    page: RoutingPage, editor: RecordingEditor
) -> None:
    assert page.numbers["allowed_fails"].text() == NOT_SET_TEXT
    page.numbers["allowed_fails"].setValue(2)
    assert page.changed_keys() == ["allowed_fails"]
    page.save_button.click()
    assert editor.staged == [(Item(R, "allowed_fails", 2), 0)]
    assert editor.deleted == []


def test_a_chain_cell_is_edited_through_the_delegate_and_tracked_as_typed(
    qtbot: QtBot, page: RoutingPage
) -> None:
    section = page.fallback_sections["fallbacks"]
    targets = _open_editor(section, 0, 1)
    assert isinstance(targets, GroupListPicker)
    assert targets.edit.text() == "claude"  # the editor starts from the cell
    assert page.findChildren(GroupListPicker) == [targets]  # made for this cell only
    targets.edit.end(False)
    qtbot.keyClicks(targets.edit, ", embed")
    # Committed as typed: the page sees the change before the editor closes.
    assert section.model.rows() == (("gpt-4o", ("claude", "embed")),)
    assert targets.edit.text() == "claude, embed"  # not rewritten under the cursor
    assert page.changed_keys() == ["fallbacks"]
    assert page.save_button.isEnabled()
    qtbot.keyClick(targets.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: section.view.indexWidget(section.model.index(0, 1)) is None)
    assert _cell(section, 0, 1) == "claude, embed"

    primary = _open_editor(section, 0, 0)
    assert isinstance(primary, GroupPicker)
    offered = [primary.itemText(i) for i in range(primary.count())]
    assert offered == ["claude", "embed", "gpt-4o"]
    primary.setCurrentIndex(offered.index("embed"))  # picked from the list
    assert section.model.rows() == (("embed", ("claude", "embed")),)


def test_rows_are_added_and_removed_with_the_buttons(qtbot: QtBot, page: RoutingPage) -> None:
    section = page.fallback_sections["fallbacks"]
    assert not section.remove_button.isEnabled()  # nothing selected
    section.add_button.click()
    assert section.model.rowCount() == 2
    # Add opens the new row's first cell for editing.
    picker = section.view.indexWidget(section.model.index(1, 0))
    assert isinstance(picker, GroupPicker)
    assert page.changed_keys() == ["fallbacks"]
    _select_rows(section, 0)
    assert section.remove_button.isEnabled()
    section.remove_button.click()
    assert section.model.rows() == (("", ()),)
    assert not section.remove_button.isEnabled()
    assert page.changed_keys() == ["fallbacks"]
    _select_rows(section, 0)
    qtbot.keyClick(section.view, Qt.Key.Key_Delete)
    assert section.model.rows() == ()
    page.validate_now()
    assert page.fallback_sections["fallbacks"].error.text() == ""
    assert page.save_button.isEnabled()  # removing the last chain is an edit to save


def test_a_dangling_fallback_is_shown_in_red_in_its_cell_and_blocks_apply(
    qtbot: QtBot, page: RoutingPage
) -> None:
    section = page.fallback_sections["fallbacks"]
    assert section.model.index(0, 1).data(PROBLEM_ROLE) is False
    _type(qtbot, _open_editor(section, 0, 1), "claude, gpt-5")
    qtbot.waitUntil(section.error.isVisible)  # checked once typing pauses
    assert section.error.text().startswith("Row 1: 'gpt-5' is not a model group")
    cell = section.model.index(0, 1)
    assert cell.data(PROBLEM_ROLE) is True
    assert "'gpt-5' is not a model group" in cell.data(Qt.ItemDataRole.ToolTipRole)
    red = status_colour(StatusColour.BAD, page.palette())
    assert cell.data(Qt.ItemDataRole.ForegroundRole).color() == red
    assert section.model.index(0, 0).data(PROBLEM_ROLE) is False  # the primary is fine
    dangling = [f for f in page.findings if f.rule == "ref.dangling"]
    assert [f.severity for f in dangling] == [Severity.ERROR]  # an error blocks Apply
    assert page.save_button.isEnabled()  # staging is allowed; Apply is what it blocks
    _type(qtbot, _open_editor(section, 0, 1), "claude")
    page.validate_now()
    assert not page.findings and not section.error.isVisible()
    assert cell.data(PROBLEM_ROLE) is False


def test_dangling_references_in_the_stored_settings_are_shown_on_load(
    qtbot: QtBot, page: RoutingPage
) -> None:
    items = [e for e in sample_items() if e.item.name != "m2"]  # claude's model is gone
    page.set_items(items)
    page.validate_now()
    fallbacks = page.fallback_sections["fallbacks"]
    assert fallbacks.error.isVisible()
    assert "'claude'" in fallbacks.error.text()
    assert "'claude'" in fallbacks.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    aliases = page.alias_section
    _type(qtbot, _open_editor(aliases, 0, 1), "nothing")
    qtbot.waitUntil(aliases.error.isVisible)
    assert "'nothing' is not a model group" in aliases.error.text()
    tooltip = aliases.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "'nothing' is not a model group" in tooltip


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
    section = page.fallback_sections["fallbacks"]
    row = section.add_row()
    assert not page.save_button.isEnabled()
    qtbot.waitUntil(section.error.isVisible)
    assert section.error.text().startswith(f"Row 2: {INCOMPLETE_FALLBACK}")
    tooltip = section.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith(INCOMPLETE_FALLBACK)
    _type(qtbot, _open_editor(section, row, 0), "embed")
    assert not page.save_button.isEnabled()  # still no fallback group
    _select_rows(section, row)
    section.remove_button.click()
    assert not page.save_button.isEnabled()  # back to the stored values: nothing to save


def test_a_repeated_alias_is_marked_and_blocks_save(qtbot: QtBot, page: RoutingPage) -> None:
    aliases = page.alias_section
    row = aliases.add_row()
    alias = _open_editor(aliases, row, 0)
    assert isinstance(alias, QLineEdit)
    _type(qtbot, alias, "gpt4")
    _type(qtbot, _open_editor(aliases, row, 1), "claude")
    assert aliases.model.rows() == (("gpt4", "gpt-4o"), ("gpt4", "claude"))
    assert not page.save_button.isEnabled()
    page.validate_now()
    for r in (0, 1):
        assert aliases.model.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) == DUPLICATE_ALIAS
    _type(qtbot, _open_editor(aliases, row, 0), "sonnet")
    assert page.save_button.isEnabled()


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
    _select_rows(page.alias_section, 0)
    page.alias_section.remove_button.click()
    assert page.alias_section.model.rows() == ()
    assert page.revert_button.isEnabled()
    page.revert_button.click()
    assert page.numbers["num_retries"].value() == 2
    assert page.alias_section.model.rows() == (("gpt4", "gpt-4o"),)
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
    targets = _open_editor(page.fallback_sections["fallbacks"], 0, 1)
    assert isinstance(targets, GroupListPicker)
    targets.toggle("embed")
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


def test_four_hundred_chains_load_as_rows_without_a_widget_per_row(
    qtbot: QtBot, page: RoutingPage
) -> None:
    groups = [_model(f"m{g}", f"group-{g}") for g in range(400)]
    chains = [{f"group-{g}": [f"group-{(g + 1) % 400}"]} for g in range(400)]
    page.set_items([*groups, _setting("fallbacks", chains, 9)])
    section = page.fallback_sections["fallbacks"]
    assert section.model.rowCount() == 400
    assert section.model.rows()[399] == ("group-399", ("group-0",))
    assert page.changed_keys() == []
    assert page.findChildren(GroupPicker) == []  # editors exist only while a cell is edited
    page.set_items([*groups, _setting("fallbacks", chains[:250], 10)])
    assert section.model.rowCount() == 250
    assert page.changed_keys() == []
    page.validate_now()
    assert page.findings == [] and not section.error.isVisible()
    del groups[100]  # group-100 goes: row 100 falls back to it, row 101 starts from it
    page.set_items([*groups, _setting("fallbacks", chains[:250], 10)])
    page.validate_now()
    assert section.model.rowCount() == 250
    marked = [
        (r, c) for r in range(250) for c in (0, 1) if section.model.index(r, c).data(PROBLEM_ROLE)
    ]
    assert marked == [(99, 1), (100, 0)]
    lines = section.error.text().splitlines()
    assert [line.split(":")[0] for line in lines] == ["Row 100", "Row 101"]
    assert all("'group-100' is not a model group" in line for line in lines)


# ---------------------------------------------------------------------------------------------
# Driving the tables as the admin does


def _cell(section: RowsSection[Any], row: int, column: int) -> str:
    return str(section.model.index(row, column).data(Qt.ItemDataRole.EditRole))


def _open_editor(section: RowsSection[Any], row: int, column: int) -> QWidget:
    """Start editing a cell (as a double-click would); the delegate's editor for it."""
    index = section.model.index(row, column)
    editor = section.view.indexWidget(index)
    if editor is None:  # not open yet (Add opens the new row's first cell)
        section.view.setCurrentIndex(index)  # closes the editor of another cell, if any
        section.view.edit(index)
        editor = section.view.indexWidget(index)
    assert editor is not None
    return editor


def _type(qtbot: QtBot, editor: QWidget, text: str) -> None:
    """Replace the editor's text by typing `text`."""
    if isinstance(editor, GroupPicker):
        line = editor.lineEdit()
    elif isinstance(editor, GroupListPicker):
        line = editor.edit
    else:
        line = editor
    assert isinstance(line, QLineEdit)
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)


def _select_rows(section: RowsSection[Any], *rows: int) -> None:
    selection = section.view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag
    selection.clearSelection()
    for row in rows:
        selection.select(section.model.index(row, 0), flags.Select | flags.Rows)
