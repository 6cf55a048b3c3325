"""The Advanced page: the passthrough editor checks as you type (debounced, off the GUI thread),
lists findings with lines, stages only valid changes (checked for the text in the editor) through
the StagingEditor, shows failures inline, and colours YAML."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.findings import Finding, Severity
from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind
from llmproxy_desktop.ui.pages import advanced
from llmproxy_desktop.ui.pages.advanced import (
    CHANGED_ELSEWHERE_TEXT,
    CHECKING_TEXT,
    NO_PROBLEMS_TEXT,
    AdvancedPage,
    PassthroughCheck,
)
from llmproxy_desktop.ui.theme import scheme_palette, staged_accent
from llmproxy_desktop.ui.yaml_highlighter import Token
from tests.gui.staging_fakes import RecordingEditor

ORIGINAL = "# kept as written\nenvironment_variables:\n  LITELLM_LOG: INFO\n"


def _effective(passthrough: str = ORIGINAL, flag: Flag | None = None) -> list[EffectiveItem]:
    model = {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}}
    return [
        EffectiveItem(Item(ItemKind.MODEL, "m1", model), None, 3),
        EffectiveItem(Item(ItemKind.ROUTER_SETTING, "num_retries", 2), None, 1),
        EffectiveItem(Item(ItemKind.PASSTHROUGH, "_", passthrough), flag, 5),
    ]


@pytest.fixture
def editor() -> RecordingEditor:
    return RecordingEditor()


@pytest.fixture
def page(qtbot: QtBot, editor: RecordingEditor) -> AdvancedPage:
    page = AdvancedPage(editor)
    qtbot.addWidget(page)
    page.set_items(_effective())
    page.resize(800, 600)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.is_checked)
    return page


def _type(qtbot: QtBot, page: AdvancedPage, text: str) -> None:
    page.text_edit.setPlainText(text)
    qtbot.waitUntil(lambda: page.is_checked)


class GatedChecks:
    """Replaces the page's check with one that waits, per text, until the test opens the gate
    (every gate opens at teardown, so no thread is left waiting)."""

    def __init__(self) -> None:
        self.real = advanced.check_passthrough
        self.gates: dict[str, threading.Event] = {}
        self.started: list[str] = []

    def __call__(
        self, text: str, effective: Sequence[EffectiveItem], baseline: frozenset[Finding] | None
    ) -> PassthroughCheck:
        gate = self.gates.setdefault(text, threading.Event())
        self.started.append(text)
        gate.wait(10)
        return self.real(text, effective, baseline)

    def open(self, text: str) -> None:
        self.gates.setdefault(text, threading.Event()).set()


@pytest.fixture
def gated(page: AdvancedPage, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedChecks]:
    gated = GatedChecks()
    monkeypatch.setattr(advanced, "check_passthrough", gated)
    yield gated
    for gate in gated.gates.values():
        gate.set()
    assert page._check.wait_idle(10)


def test_shows_the_passthrough_unchanged_with_nothing_to_stage(page: AdvancedPage) -> None:
    assert page.text() == ORIGINAL
    assert page.status_label.text() == NO_PROBLEMS_TEXT
    assert not page.stage_button.isEnabled()
    assert not page.revert_button.isEnabled()
    assert page.flag_label.isHidden()


def test_invalid_yaml_shows_an_inline_finding_with_its_line_and_disables_stage(
    qtbot: QtBot, page: AdvancedPage
) -> None:
    _type(qtbot, page, "environment_variables:\n  A: [1, 2\n  B: 3\n")

    findings = page.findings()
    assert findings and findings[0].finding.severity is Severity.ERROR
    assert findings[0].line is not None
    assert page.findings_list.isVisible()
    assert page.findings_list.item(0).text().startswith("Error, line ")
    assert not page.stage_button.isEnabled()


def test_a_duplicate_key_is_an_error_on_its_line(qtbot: QtBot, page: AdvancedPage) -> None:
    _type(qtbot, page, "environment_variables:\n  A: 1\n  A: 2\n")

    [duplicate] = [f for f in page.findings() if f.finding.rule == "config.key-duplicate"]
    assert duplicate.finding.severity is Severity.ERROR
    assert duplicate.line == 3
    assert page.findings_list.item(0).text().startswith("Error, line 3: the key 'A' appears twice")
    assert not page.stage_button.isEnabled()


def test_a_managed_key_in_the_passthrough_is_a_warning_on_its_line(
    qtbot: QtBot, page: AdvancedPage
) -> None:
    _type(qtbot, page, "router_settings:\n  timeout: 30\n  num_retries: 5\n")

    [collision] = [f for f in page.findings() if f.finding.rule == "passthrough.collision"]
    assert collision.finding.severity is Severity.WARNING
    assert collision.line == 3
    assert page.stage_button.isEnabled()  # a warning does not block


def test_problems_elsewhere_in_the_config_are_not_listed(
    qtbot: QtBot, editor: RecordingEditor
) -> None:
    bad_model = {"model_name": "x", "litellm_params": {"model": "openai/x", "api_key": "sk-live-1"}}
    effective = [EffectiveItem(Item(ItemKind.MODEL, "m9", bad_model), None, 1), *_effective()]
    page = AdvancedPage(editor)
    qtbot.addWidget(page)
    page.set_items(effective)
    page.show()  # a hidden page defers the update (and its validation) until shown
    qtbot.waitUntil(lambda: page.is_checked)

    assert page.findings() == []


def test_a_hidden_page_validates_only_when_shown(qtbot: QtBot, editor: RecordingEditor) -> None:
    page = AdvancedPage(editor)
    qtbot.addWidget(page)
    page.set_items(_effective())
    assert page.text() == ""  # nothing applied (nor validated) while hidden
    page.show()
    qtbot.waitUntil(lambda: page.is_checked)
    assert page.text() != ""


def test_a_valid_change_stages_the_passthrough_item_with_its_version(
    qtbot: QtBot, page: AdvancedPage, editor: RecordingEditor
) -> None:
    new_text = ORIGINAL + "  LITELLM_MODE: PRODUCTION  # why: quieter logs\n"
    _type(qtbot, page, new_text)
    assert page.stage_button.isEnabled()

    page.stage_button.click()

    assert editor.staged == [(Item(ItemKind.PASSTHROUGH, "_", new_text), 5)]
    assert not page.stage_button.isEnabled()  # staged: nothing left to stage
    assert page.error_label.isHidden()


def test_stage_is_disabled_while_the_edit_is_in_flight(
    qtbot: QtBot, page: AdvancedPage, editor: RecordingEditor
) -> None:
    editor.hold = True
    _type(qtbot, page, ORIGINAL + "  X: 1\n")
    page.stage_button.click()

    assert not page.stage_button.isEnabled()
    editor.finish_pending(None)
    assert not page.stage_button.isEnabled()


def test_a_failure_sentence_is_shown_inline_and_the_edit_kept(
    qtbot: QtBot, page: AdvancedPage, editor: RecordingEditor
) -> None:
    editor.answer = "Someone else staged the passthrough meanwhile; reload and try again."
    new_text = ORIGINAL + "  X: 1\n"
    _type(qtbot, page, new_text)

    page.stage_button.click()

    assert page.error_label.isVisible()
    assert page.error_label.text() == editor.answer
    assert page.text() == new_text
    assert page.stage_button.isEnabled()  # may try again


def test_revert_restores_the_masters_text(qtbot: QtBot, page: AdvancedPage) -> None:
    _type(qtbot, page, "broken: [")
    page.revert_button.click()
    qtbot.waitUntil(lambda: page.is_checked)

    assert page.text() == ORIGINAL
    assert page.findings() == []
    assert not page.revert_button.isEnabled()


def test_the_staged_flag_is_shown_in_the_accent(qtbot: QtBot, page: AdvancedPage) -> None:
    page.set_items(_effective(flag=Flag.CHANGED))

    assert page.flag_label.isVisible()
    assert "changed" in page.flag_label.text()
    assert page.flag_colour() == staged_accent(page.palette())


def test_new_items_keep_the_edit_and_say_when_the_passthrough_changed_elsewhere(
    qtbot: QtBot, page: AdvancedPage
) -> None:
    _type(qtbot, page, ORIGINAL + "  MINE: 1\n")

    page.set_items(_effective())  # another page staged something: the edit stays
    assert "MINE" in page.text()
    assert page.error_label.isHidden()

    page.set_items(_effective("general_settings: {}\n", Flag.CHANGED))
    assert "MINE" in page.text()
    assert page.error_label.text() == CHANGED_ELSEWHERE_TEXT


def test_the_highlighter_formats_a_comment_unlike_a_key(qtbot: QtBot, page: AdvancedPage) -> None:
    document = page.text_edit.document()

    def first_format(line: int) -> QTextCharFormat:
        ranges = document.findBlockByNumber(line).layout().formats()
        assert ranges, f"line {line} has no formats"
        first = ranges[0]
        assert first.start == 0
        return QTextCharFormat(first.format)  # a copy: the range list is a temporary

    comment, key = first_format(0), first_format(1)
    assert comment.fontItalic() and not key.fontItalic()
    assert (
        comment.foreground().color()
        == page.highlighter.format_for(Token.COMMENT).foreground().color()
    )
    assert key.foreground().color() == page.highlighter.format_for(Token.KEY).foreground().color()
    assert comment.foreground().color() != key.foreground().color()


def test_a_large_passthrough_is_checked_after_the_pause(qtbot: QtBot, page: AdvancedPage) -> None:
    lines = "".join(f"  VAR_{i}: value-{i}  # note {i}\n" for i in range(5000))
    _type(qtbot, page, "environment_variables:\n" + lines)

    assert page.findings() == []
    assert page.last_check_ms < 2000  # recorded for the report; the budget is checked in bench


def test_syntax_colours_follow_dark_mode(page: AdvancedPage) -> None:
    page.setPalette(scheme_palette(Qt.ColorScheme.Dark))

    assert page.highlighter.dark
    assert page.flag_colour() == staged_accent(page.palette())


def test_the_staged_text_coming_back_keeps_the_cursor(
    qtbot: QtBot, page: AdvancedPage, editor: RecordingEditor
) -> None:
    new_text = ORIGINAL + "  X: 1\n"
    _type(qtbot, page, new_text)
    cursor = page.text_edit.textCursor()
    cursor.setPosition(len(new_text) - 2)
    page.text_edit.setTextCursor(cursor)
    page.stage_button.click()

    page.set_items(_effective(new_text, Flag.CHANGED))  # what the controller does next
    qtbot.waitUntil(lambda: page.is_checked)

    assert page.text_edit.textCursor().position() == len(new_text) - 2
    assert not page.stage_button.isEnabled()
    assert page.flag_label.isVisible()


def test_stage_is_disabled_while_the_check_of_the_current_text_is_pending(
    qtbot: QtBot, page: AdvancedPage, gated: GatedChecks
) -> None:
    new_text = ORIGINAL + "  X: 1\n"
    page.text_edit.setPlainText(new_text)
    page.check_now()  # the pause in typing, without waiting for it
    qtbot.waitUntil(lambda: gated.started == [new_text])

    assert page.is_checking and not page.is_checked
    assert page.status_label.text() == CHECKING_TEXT
    assert not page.stage_button.isEnabled()
    page.stage()  # e.g. Ctrl+S: refused as well
    assert page.is_changed

    gated.open(new_text)
    qtbot.waitUntil(lambda: page.is_checked)
    assert page.stage_button.isEnabled()


def test_an_older_result_does_not_enable_stage_for_newer_invalid_text(
    qtbot: QtBot, page: AdvancedPage, gated: GatedChecks
) -> None:
    valid, invalid = ORIGINAL + "  X: 1\n", "environment_variables:\n  A: 1\n  A: 2\n"
    page.text_edit.setPlainText(valid)
    page.check_now()
    qtbot.waitUntil(lambda: gated.started == [valid])
    page.text_edit.setPlainText(invalid)  # typed while the valid text is being checked
    page.check_now()

    with qtbot.waitSignal(page._check.dropped, timeout=5000):
        gated.open(valid)  # its answer arrives, for a text no longer in the editor
    assert not page.is_checked
    assert not page.stage_button.isEnabled()

    gated.open(invalid)
    qtbot.waitUntil(lambda: page.is_checked)
    assert page.findings()[0].finding.severity is Severity.ERROR
    assert not page.stage_button.isEnabled()


def test_new_items_while_a_check_runs_make_its_answer_stale(
    qtbot: QtBot, page: AdvancedPage, gated: GatedChecks
) -> None:
    new_text = ORIGINAL + "  X: 1\n"
    page.text_edit.setPlainText(new_text)
    page.check_now()
    qtbot.waitUntil(lambda: gated.started == [new_text])

    page.set_items(_effective())  # the rest of the config changed: the check runs again
    assert not page.is_checked
    assert not page.stage_button.isEnabled()
    with qtbot.waitSignal(page._check.dropped, timeout=5000):  # the first answer: stale
        gated.open(new_text)

    qtbot.waitUntil(lambda: page.is_checked)
    assert gated.started == [new_text, new_text]  # Stage follows the second check
    assert page.stage_button.isEnabled()


def test_bad_yaml_shows_the_inline_message(qtbot: QtBot, page: AdvancedPage) -> None:
    _type(qtbot, page, "environment_variables: [\n")

    assert page.findings_list.isVisible()
    assert page.findings_list.item(0).text().startswith("Error")
    assert "error" in page.status_label.text()
    assert not page.stage_button.isEnabled()


def test_a_check_that_fails_says_so_and_keeps_stage_disabled(
    qtbot: QtBot, page: AdvancedPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> PassthroughCheck:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(advanced, "check_passthrough", broken)
    page.text_edit.setPlainText(ORIGINAL + "  X: 1\n")
    page.check_now()
    qtbot.waitUntil(lambda: not page.is_checking)

    assert page.status_label.text() == "Checking failed: renderer crashed."
    assert not page.stage_button.isEnabled()


def test_closing_the_page_while_a_check_runs_is_quiet(
    qtbot: QtBot, editor: RecordingEditor, monkeypatch: pytest.MonkeyPatch
) -> None:
    gated = GatedChecks()
    monkeypatch.setattr(advanced, "check_passthrough", gated)
    page = AdvancedPage(editor)
    page.set_items(_effective())
    page.show()
    qtbot.waitUntil(lambda: bool(gated.started))
    check = page._check

    with qtbot.waitSignal(page.destroyed, timeout=1000):
        page.deleteLater()
    gated.open(ORIGINAL)

    assert check.wait_idle(10)
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name == "background-check"])
