"""Review Changes: per-item changes with flags and field values, the config diff highlighted,
findings that block Apply with the reason shown, Discard Selected after a question; and never
a secret, whichever way the data is shown."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.findings import Finding
from llmproxy_desktop.core.items import ItemKey
from llmproxy_desktop.ui.sheets.review_sheet import KEY_ROLE, ReviewChangesSheet
from llmproxy_desktop.ui.theme import StatusColour, staged_accent, status_colour
from tests.gui.apply_data import (
    CREDENTIAL,
    ERROR,
    GPT,
    LABELS,
    OLD,
    RETRIES,
    SECRETS,
    WARNING,
    changes,
    config_diff,
    visible_texts,
)


def open_sheet(qtbot: QtBot, findings: tuple[Finding, ...] = (WARNING,)) -> ReviewChangesSheet:
    sheet = ReviewChangesSheet(changes(), LABELS, config_diff(), findings)
    qtbot.addWidget(sheet)
    sheet.open()
    qtbot.waitExposed(sheet)
    return sheet


def row_of(sheet: ReviewChangesSheet, key: ItemKey) -> int:
    tree = sheet.changes_tree
    for index in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(index)
        if item is not None and item.data(0, KEY_ROLE) == key:
            return index
    raise AssertionError(f"{key} not listed")


def test_each_change_is_listed_with_its_label_and_accent_flag(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    tree = sheet.changes_tree
    assert tree.topLevelItemCount() == 4
    gpt = tree.topLevelItem(row_of(sheet, GPT))
    assert gpt is not None
    assert (gpt.text(0), gpt.text(1)) == ("gpt-4o", "changed")
    assert gpt.foreground(1).color() == staged_accent(sheet.palette())
    retries = tree.topLevelItem(row_of(sheet, RETRIES))
    assert retries is not None and retries.text(0) == "router_setting:num_retries"  # no label
    assert sheet.headline.text() == "4 staged changes"


def test_a_deleted_item_is_struck_through(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    deleted = sheet.changes_tree.topLevelItem(row_of(sheet, OLD))
    kept = sheet.changes_tree.topLevelItem(row_of(sheet, GPT))
    assert deleted is not None and kept is not None
    assert deleted.text(1) == "deleted" and deleted.font(0).strikeOut()
    assert not kept.font(0).strikeOut()


def test_expanding_a_change_shows_its_fields_before_and_after(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    gpt = sheet.changes_tree.topLevelItem(row_of(sheet, GPT))
    assert gpt is not None
    children = [gpt.child(i) for i in range(gpt.childCount())]
    fields = {c.text(0): (c.text(1), c.text(2), c.text(3)) for c in children if c is not None}
    assert fields == {
        "litellm_params.rpm": ("", "10", "20"),
        "litellm_params.api_key": ("secret changed", "***", "***"),
    }
    new = sheet.changes_tree.topLevelItem(row_of(sheet, CREDENTIAL))
    assert new is not None
    first_field = new.child(0)
    assert first_field is not None and first_field.text(2) == "—"  # absent before


def test_the_config_diff_is_monospace_read_only_and_coloured(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    view = sheet.diff_view
    assert view.isReadOnly() and view.font().fixedPitch()
    assert view.toPlainText() == config_diff()
    colours: dict[str, QColor] = {}
    block = view.document().begin()
    while block.isValid():
        formats = block.layout().formats()
        if block.text()[:1] in "+-" and formats and not block.text().startswith(("+++", "---")):
            colours[block.text()[0]] = formats[0].format.foreground().color()
        block = block.next()
    palette: QPalette = view.palette()
    assert colours == {
        "+": status_colour(StatusColour.GOOD, palette),
        "-": status_colour(StatusColour.BAD, palette),
    }


def test_warnings_do_not_block_apply_and_apply_closes_the_sheet(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, (WARNING,))
    assert sheet.apply_button.isEnabled()
    assert not sheet.blocked_label.isVisible()
    assert sheet.findings_tree.topLevelItem(0).text(2) == WARNING.message  # type: ignore[union-attr]
    with qtbot.waitSignal(sheet.apply_requested, timeout=1000):
        sheet.apply_button.click()
    assert not sheet.isVisible()


def test_an_error_finding_disables_apply_and_says_why(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, (WARNING, ERROR))
    assert not sheet.apply_button.isEnabled()
    assert sheet.blocked_label.isVisible()
    assert "1 error blocks Apply" in sheet.blocked_label.text()
    assert sheet.tabs.currentIndex() == 2  # the findings, where the reason is
    first = sheet.findings_tree.topLevelItem(0)
    assert first is not None and (first.text(0), first.text(1)) == ("error", ERROR.path)
    assert not first.icon(0).isNull()
    with qtbot.assertNotEmitted(sheet.apply_requested):
        sheet._apply()


def test_discard_selected_asks_then_emits_the_keys(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    assert not sheet.discard_button.isEnabled()
    tree = sheet.changes_tree
    gpt = tree.topLevelItem(row_of(sheet, GPT))
    old = tree.topLevelItem(row_of(sheet, OLD))
    assert gpt is not None and old is not None
    api_key_field = gpt.child(0)
    assert api_key_field is not None
    api_key_field.setSelected(True)  # a field row counts for its item
    old.setSelected(True)
    assert sheet.discard_button.isEnabled()
    sheet.discard_button.click()
    box, button = sheet.confirm_box, sheet.confirm_button
    assert box is not None and button is not None
    qtbot.waitUntil(box.isVisible)
    assert button.text() == "Discard 2 Changes"
    assert box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
    assert box.defaultButton() is not button
    with qtbot.waitSignal(sheet.discard_requested, timeout=1000) as emitted:
        button.click()
    assert sorted(emitted.args[0], key=str) == sorted([GPT, OLD], key=str)
    assert sheet.isVisible()  # the controller refreshes it with what is left
    sheet.set_content([c for c in changes() if c.key not in (GPT, OLD)], LABELS, "", ())
    assert sheet.changes_tree.topLevelItemCount() == 2
    assert sheet.headline.text() == "2 staged changes"


def test_cancelling_the_discard_question_discards_nothing(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    sheet.changes_tree.topLevelItem(0).setSelected(True)  # type: ignore[union-attr]
    sheet.discard_button.click()
    box = sheet.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    with qtbot.assertNotEmitted(sheet.discard_requested):
        box.escapeButton().click()
    assert sheet.confirm_box is None


def test_show_message_puts_the_controllers_answer_inline(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot)
    sheet.show_message("Could not discard: another admin changed gpt-4o.")
    assert sheet.message_label.isVisible()
    assert sheet.message_label.text() == "Could not discard: another admin changed gpt-4o."


@pytest.mark.parametrize("expanded", [True, False])
def test_no_secret_literal_appears_anywhere(qtbot: QtBot, expanded: bool) -> None:
    sheet = open_sheet(qtbot, (WARNING, ERROR))
    if not expanded:
        sheet.changes_tree.collapseAll()
    for tab in range(sheet.tabs.count()):
        sheet.tabs.setCurrentIndex(tab)
    texts = "\n".join(visible_texts(sheet))
    assert "***" in texts  # the secrets are there, as ***
    for secret in SECRETS:
        assert secret not in texts
