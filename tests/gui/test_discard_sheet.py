"""The discard question: a destructive button naming the count, Cancel the default; the open()
flavour answers through its callback, the blocking one returns a bool."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.sheets.discard_sheet import (
    ask_discard,
    confirm_discard_all,
    discard_action_text,
    make_discard_box,
)


def test_the_destructive_button_names_the_count_and_cancel_is_default(qtbot: QtBot) -> None:
    box, discard = make_discard_box(None, 3)
    qtbot.addWidget(box)
    assert discard.text() == "Discard 3 Changes"
    assert box.text() == "Discard all 3 staged changes?"
    assert box.buttonRole(discard) == QMessageBox.ButtonRole.DestructiveRole
    assert box.defaultButton() is box.escapeButton()
    assert box.defaultButton() is not discard
    assert discard_action_text(1) == "Discard 1 Change"


def test_ask_discard_calls_back_only_on_discard(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    answers: list[str] = []
    box = ask_discard(parent, 2, lambda: answers.append("discard"))
    qtbot.waitUntil(box.isVisible)
    box.escapeButton().click()
    assert answers == []
    box = ask_discard(parent, 2, lambda: answers.append("discard"))
    qtbot.waitUntil(box.isVisible)
    discard = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    discard.click()
    assert answers == ["discard"]


def _answer_modal(destructive: bool) -> None:
    """Click a button of the blocking box once its event loop runs."""
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox)
    if destructive:
        role = QMessageBox.ButtonRole.DestructiveRole
        next(b for b in box.buttons() if box.buttonRole(b) == role).click()
    else:
        box.escapeButton().click()


def test_confirm_discard_all_returns_the_answer(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    QTimer.singleShot(0, lambda: _answer_modal(destructive=True))
    assert confirm_discard_all(parent, 4) is True
    QTimer.singleShot(0, lambda: _answer_modal(destructive=False))
    assert confirm_discard_all(parent, 4) is False
