"""IncrementalText: short texts at once, long ones a slice per event-loop turn, complete in the
end; a newer text cancels an unfinished fill; the same text is not filled again; the reader's
scroll position survives a refill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.incremental_text import FIRST_SLICE_CHARS, IncrementalText

LONG = "".join(
    f"- model_name: group-{i}\n  litellm_params: {{model: openai/m{i}}}\n" for i in range(6000)
)


@pytest.fixture
def pane(qtbot: QtBot) -> Iterator[QPlainTextEdit]:
    pane = QPlainTextEdit()
    pane.setReadOnly(True)
    qtbot.addWidget(pane)
    pane.resize(600, 400)
    pane.show()
    qtbot.waitExposed(pane)
    yield pane


def _wait_filled(qtbot: QtBot, fill: IncrementalText) -> None:
    qtbot.waitUntil(lambda: not fill.is_filling(), timeout=10_000)


def test_a_short_text_is_shown_at_once(qtbot: QtBot, pane: QPlainTextEdit) -> None:
    fill = IncrementalText(pane)
    with qtbot.waitSignal(fill.filled, timeout=0):
        assert fill.set_text("a: 1\nb: 2\n")

    assert pane.toPlainText() == "a: 1\nb: 2\n"
    assert not fill.is_filling()


def test_a_long_text_arrives_over_several_turns_and_is_complete_in_the_end(
    qtbot: QtBot, pane: QPlainTextEdit
) -> None:
    fill = IncrementalText(pane)
    with qtbot.waitSignal(fill.filled, timeout=10_000):
        fill.set_text(LONG)
        assert fill.is_filling()
        # The first slice is there at once (the pane is not blank), the rest still to come.
        assert 0 < len(pane.toPlainText()) < len(LONG)

    assert pane.toPlainText() == LONG
    assert pane.blockCount() == LONG.count("\n") + 1


def test_a_newer_text_replaces_an_unfinished_fill(qtbot: QtBot, pane: QPlainTextEdit) -> None:
    fill = IncrementalText(pane)
    fill.set_text(LONG)
    assert fill.is_filling()
    newer = LONG.replace("group-", "fallback-")

    fill.set_text(newer)
    _wait_filled(qtbot, fill)

    assert pane.toPlainText() == newer
    assert "group-" not in pane.toPlainText()
    assert fill.text() == newer


def test_the_same_text_again_is_not_filled_again(qtbot: QtBot, pane: QPlainTextEdit) -> None:
    fill = IncrementalText(pane)
    fill.set_text(LONG)
    _wait_filled(qtbot, fill)
    cursor = pane.textCursor()
    cursor.setPosition(100)
    cursor.setPosition(200, QTextCursor.MoveMode.KeepAnchor)
    pane.setTextCursor(cursor)
    pane.verticalScrollBar().setValue(500)

    assert not fill.set_text(LONG)

    assert not fill.is_filling()
    assert pane.textCursor().selectionStart() == 100
    assert pane.textCursor().selectionEnd() == 200
    assert pane.verticalScrollBar().value() == 500


def test_a_refill_keeps_the_readers_scroll_position(qtbot: QtBot, pane: QPlainTextEdit) -> None:
    fill = IncrementalText(pane)
    fill.set_text(LONG)
    _wait_filled(qtbot, fill)
    pane.verticalScrollBar().setValue(4000)

    fill.set_text("# refreshed\n" + LONG)
    _wait_filled(qtbot, fill)

    assert pane.verticalScrollBar().value() == 4000


def test_line_ends_are_never_split_between_slices(qtbot: QtBot, pane: QPlainTextEdit) -> None:
    text = "key: value\r\n" * (3 * FIRST_SLICE_CHARS // 12)
    reference = QPlainTextEdit()
    reference.setPlainText(text)
    fill = IncrementalText(pane)

    fill.set_text(text)
    _wait_filled(qtbot, fill)

    assert pane.toPlainText() == reference.toPlainText()
    assert pane.blockCount() == reference.blockCount()


def test_prepare_runs_on_the_emptied_pane_before_the_first_slice(
    qtbot: QtBot, pane: QPlainTextEdit
) -> None:
    fill = IncrementalText(pane)
    fill.set_text("old: text\n")
    seen: list[str] = []

    fill.set_text("new: text\n", lambda: seen.append(pane.toPlainText()))

    assert seen == [""]
    assert pane.toPlainText() == "new: text\n"
