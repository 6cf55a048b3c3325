"""The "Discard changes?" question a sheet with unsaved edits asks before it closes
(ui/sheets/_form_sheet.py, and the model sheet's own): answer it either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot


class AsksBeforeDiscarding(Protocol):
    """A sheet as the tests see it: a QDialog that keeps its question in `discard_prompt`."""

    discard_prompt: QMessageBox | None

    def reject(self) -> None: ...

    def isVisible(self) -> bool: ...

    def result(self) -> int: ...


def _asked(qtbot: QtBot, sheet: AsksBeforeDiscarding) -> QMessageBox:
    prompt = sheet.discard_prompt
    assert prompt is not None, "closing the sheet did not ask"
    qtbot.waitUntil(prompt.isVisible)
    assert prompt.text() == "Discard changes?"
    return prompt


def close_and_keep_editing(qtbot: QtBot, sheet: AsksBeforeDiscarding) -> None:
    """Close the sheet (what Esc, Cancel and the close button all call); it asks; answer "Keep
    Editing", the safe default; the sheet stays open."""
    sheet.reject()
    prompt = _asked(qtbot, sheet)
    keep = prompt.escapeButton()
    assert keep is not None and keep.text() == "Keep Editing"
    keep.click()
    qtbot.waitUntil(lambda: not prompt.isVisible())
    assert sheet.isVisible()


def cancel_and_discard(
    qtbot: QtBot, sheet: AsksBeforeDiscarding, cancel: Callable[[], None]
) -> None:
    """Press the sheet's Cancel (`cancel`); it asks; answer the destructive "Discard Changes";
    the sheet closes as rejected."""
    cancel()
    prompt = _asked(qtbot, sheet)
    discard = next(b for b in prompt.buttons() if b.text() == "Discard Changes")
    assert prompt.buttonRole(discard) is QMessageBox.ButtonRole.DestructiveRole
    discard.click()
    qtbot.waitUntil(lambda: not sheet.isVisible())
    assert sheet.result() == QDialog.DialogCode.Rejected
