"""The drift sheet: the report's sentence, its diff highlighted, and exactly the offers the
report makes; Re-render only after a question that names the overwrite and the restart."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ops.drift import DriftAction, DriftReport, DriftState
from llmproxy_desktop.ui.sheets.drift_sheet import (
    FINISH_BUTTON_TEXT,
    RERENDER_BUTTON_TEXT,
    DriftSheet,
)
from tests.gui.apply_data import revision, visible_texts

LOCATION = "/srv/litellm/config.yaml"
DIFF = (
    "--- applied/config.yaml\n+++ server/config.yaml\n@@ -1,2 +1,2 @@\n router_settings:\n"
    "-  num_retries: 2\n+  num_retries: 5\n"
)
OFFER_TEXT = {DriftAction.FINISH: FINISH_BUTTON_TEXT, DriftAction.RERENDER: RERENDER_BUTTON_TEXT}


def report(state: DriftState, diff: str = "", staged: int = 0) -> DriftReport:
    last = revision(7, "a" * 64)
    matched = revision(5, "b" * 64) if state is DriftState.OLDER_REVISION else None
    return DriftReport(state, LOCATION, "f" * 64, last, matched, diff, staged)


def open_sheet(qtbot: QtBot, drift: DriftReport) -> DriftSheet:
    sheet = DriftSheet(drift)
    qtbot.addWidget(sheet)
    sheet.open()
    qtbot.waitExposed(sheet)
    return sheet


def offered(sheet: DriftSheet) -> set[str]:
    return {b.text() for b in sheet.findChildren(QPushButton)} & set(OFFER_TEXT.values())


@pytest.mark.parametrize(
    "state",
    [
        DriftState.FOLD_PENDING,
        DriftState.OLDER_REVISION,
        DriftState.EDITED_BY_HAND,
        DriftState.UNKNOWN_FILE,
    ],
)
def test_the_buttons_are_the_reports_offers(qtbot: QtBot, state: DriftState) -> None:
    drift = report(state)
    sheet = open_sheet(qtbot, drift)
    assert offered(sheet) == {OFFER_TEXT[action] for action in drift.offers}
    assert sheet.sentence_label.text() == drift.sentence()


def test_the_diff_shows_monospace_and_highlighted(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, report(DriftState.EDITED_BY_HAND, DIFF))
    view = sheet.diff_view
    assert view.isVisible() and view.isReadOnly() and view.font().fixedPitch()
    assert view.toPlainText() == DIFF
    kinds = [view.highlighter.line_kind(line) for line in DIFF.splitlines()]
    assert kinds == ["header", "header", "hunk", None, "removed", "added"]


def test_without_a_diff_the_viewer_is_hidden(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, report(DriftState.EDITED_BY_HAND))
    assert not sheet.diff_view.isVisible()
    assert "There is no difference of content to show." in visible_texts(sheet)


def test_finish_apply_emits_and_closes(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, report(DriftState.FOLD_PENDING))
    assert sheet.finish_button is not None
    with qtbot.waitSignal(sheet.finish_requested, timeout=1000):
        sheet.finish_button.click()
    assert not sheet.isVisible()


def test_rerender_asks_naming_the_overwrite_and_the_restart(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, report(DriftState.EDITED_BY_HAND, DIFF, staged=2))
    assert sheet.rerender_button is not None
    with qtbot.assertNotEmitted(sheet.rerender_requested):
        sheet.rerender_button.click()
        box, button = sheet.confirm_box, sheet.confirm_button
        assert box is not None and button is not None
        qtbot.waitUntil(box.isVisible)
    assert LOCATION in box.text()
    info = box.informativeText()
    assert "restarts LiteLLM" in info and "edits made by hand are lost" in info
    assert "The 2 staged changes are applied with it." in info
    assert button.text() == "Overwrite and Restart"
    assert box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
    assert box.defaultButton() is not button
    with qtbot.waitSignal(sheet.rerender_requested, timeout=1000):
        button.click()
    assert not sheet.isVisible()


def test_declining_the_rerender_keeps_the_sheet(qtbot: QtBot) -> None:
    sheet = open_sheet(qtbot, report(DriftState.UNKNOWN_FILE))
    assert sheet.rerender_button is not None
    sheet.rerender_button.click()
    box = sheet.confirm_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    with qtbot.assertNotEmitted(sheet.rerender_requested):
        box.escapeButton().click()
    assert sheet.isVisible() and sheet.confirm_box is None
