"""Host-key sheets and the worker→GUI handoff of HostKeyPrompt.

The end-to-end runs against a REAL sshd (unknown key asked with the server's fingerprint,
trusting connects, changed key fails closed) are in test_stack_sheet.py, through the sheet's
"Test SSH" button. Here: the sheets' own promises, and that a worker asking the prompt is always
released (answer, Esc, abandon, or the bound), never left hanging.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.errors import HostKeyChanged, HostKeyUnknown
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.ui.sheets.host_key_sheet import (
    TRUST_BUTTON_TEXT,
    HostKeyChangedSheet,
    HostKeyPrompt,
    HostKeySheet,
)
from tests.gui.sheet_fixtures import BOUND_MS

FINGERPRINT = "SHA256:" + "A" * 43
UNKNOWN = HostKeyUnknown("[127.0.0.1]:2222", "ssh-ed25519", FINGERPRINT)


@dataclass
class Asker:
    """A worker thread that asks the prompt once, as check_stack's confirm call would."""

    prompt: HostKeyPrompt
    answers: list[bool] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=lambda: self.answers.append(self.prompt(UNKNOWN)), name="asker"
        )
        self.thread.start()

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(BOUND_MS / 1000)
        assert not self.thread.is_alive(), "the worker was left waiting"


@pytest.fixture
def asker(qapp: QApplication) -> Iterator[Asker]:
    prompt = HostKeyPrompt(None)
    worker = Asker(prompt)
    yield worker
    prompt.abandon()  # whatever the test did, release the worker before joining it
    if worker.thread is not None:
        worker.join()


def open_question(qtbot: QtBot, asker: Asker) -> HostKeySheet:
    with qtbot.waitSignal(asker.prompt.sheet_opened, timeout=BOUND_MS) as opened:
        asker.start()
    sheet = opened.args[0]
    assert isinstance(sheet, HostKeySheet)
    return sheet


def test_the_question_shows_the_fingerprint_selectable_in_monospace(qtbot: QtBot) -> None:
    sheet = HostKeySheet(UNKNOWN)
    qtbot.addWidget(sheet)

    assert sheet.fingerprint.text() == FINGERPRINT
    assert sheet.fingerprint.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert sheet.fingerprint.font().fixedPitch()
    assert sheet.windowModality() is Qt.WindowModality.WindowModal


def test_cancel_is_the_default_and_trust_and_connect_is_not(qtbot: QtBot) -> None:
    sheet = HostKeySheet(UNKNOWN)
    qtbot.addWidget(sheet)

    assert sheet.trust_button.text() == TRUST_BUTTON_TEXT
    assert sheet.cancel_button.isDefault()
    assert not sheet.trust_button.isDefault() and not sheet.trust_button.autoDefault()


def test_a_new_key_type_for_a_known_host_carries_a_warning(qtbot: QtBot) -> None:
    other = HostKeyUnknown("example.org", "ssh-rsa", FINGERPRINT, ("ssh-ed25519",))
    sheet = HostKeySheet(other)
    qtbot.addWidget(sheet)

    texts = " ".join(label.text() for label in sheet.findChildren(type(sheet.fingerprint)))
    assert "ssh-ed25519 key is already recorded" in texts


def test_trusting_releases_the_worker_with_yes(qtbot: QtBot, asker: Asker) -> None:
    sheet = open_question(qtbot, asker)
    sheet.trust_button.click()
    asker.join()

    assert asker.answers == [True]


def test_esc_releases_the_worker_with_no(qtbot: QtBot, asker: Asker) -> None:
    sheet = open_question(qtbot, asker)
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)
    asker.join()

    assert asker.answers == [False]


def test_abandon_closes_the_question_and_answers_no(qtbot: QtBot, asker: Asker) -> None:
    sheet = open_question(qtbot, asker)
    asker.prompt.abandon()
    asker.join()

    assert asker.answers == [False]
    assert not sheet.isVisible()


def test_after_abandon_later_questions_are_answered_no_at_once(qtbot: QtBot, asker: Asker) -> None:
    asker.prompt.abandon()
    asker.start()
    asker.join()

    assert asker.answers == [False]


def test_nobody_answering_ends_in_no_after_the_bound(qtbot: QtBot, qapp: QApplication) -> None:
    prompt = HostKeyPrompt(None, timeout_seconds=0.05)
    worker = Asker(prompt)
    worker.start()
    # The GUI thread keeps running its loop meanwhile; the worker gives up on its own.
    qtbot.waitUntil(lambda: worker.answers == [False], timeout=BOUND_MS)
    worker.join()
    qtbot.waitUntil(
        lambda: (
            not any(w.isVisible() for w in qapp.topLevelWidgets() if isinstance(w, HostKeySheet))
        ),
        timeout=BOUND_MS,
    )


def test_the_prompt_refuses_to_block_the_gui_thread(qapp: QApplication) -> None:
    with pytest.raises(RuntimeError, match="worker thread"):
        HostKeyPrompt(None)(UNKNOWN)


def test_a_changed_key_sheet_explains_the_fix_and_offers_no_trust(
    qtbot: QtBot, tmp_path: Path
) -> None:
    changed = HostKeyChanged("[127.0.0.1]:2222", "ssh-ed25519", FINGERPRINT, "SHA256:" + "B" * 43)
    store = HostKeyStore(tmp_path / "app_known_hosts", tmp_path / "user_known_hosts")
    sheet = HostKeyChangedSheet(changed, store)
    qtbot.addWidget(sheet)

    assert sheet.expected.text() == FINGERPRINT
    assert sheet.presented.text() == "SHA256:" + "B" * 43
    assert f"-f {tmp_path / 'app_known_hosts'}" in sheet.fix_command.text()
    assert "'[127.0.0.1]:2222'" in sheet.fix_command.text()
    buttons = [b.text() for b in sheet.findChildren(QPushButton)]
    assert not any("trust" in text.lower() for text in buttons)
    assert sheet.close_button.isDefault()
    sheet.open()
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)
    assert not sheet.isVisible()
