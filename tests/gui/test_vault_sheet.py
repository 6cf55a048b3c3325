"""The vault unlock sheet. The `unlock` callable is the REAL vault crypto
(`store.vault.create_vault` / `unlock`, Argon2id with small test costs) over a record held in
memory: a double only for `Master.unlock_vault`'s database read, which adds nothing the sheet
could notice (a throwaway PostgreSQL per test would cost seconds). A wrong passphrase therefore
raises the real WrongPassphrase."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.store import vault
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.sheets.vault_sheet import WRONG_PASSPHRASE_MESSAGE, VaultSheet
from tests.gui.sheet_fixtures import (
    BOUND_MS,
    isolated_home,
    memory_keyring,
    plaintext_keyring,
    runner,
)
from tests.profiles.fake_keyrings import MemoryKeyring, PlaintextFileKeyring

__all__ = ["isolated_home", "memory_keyring", "plaintext_keyring", "runner"]  # fixtures

pytestmark = pytest.mark.usefixtures("isolated_home")

PASSPHRASE = "correct horse battery staple"
KEYRING_ENTRY = (SERVICE, "prod:vault-passphrase")


@dataclass
class RealVault:
    """A vault record and an unlock that records which thread it ran on."""

    record: vault.VaultRecord
    threads: list[QThread] = field(default_factory=list)

    def unlock(self, passphrase: str) -> vault.UnlockedVault:
        self.threads.append(QThread.currentThread())
        return vault.unlock(self.record, passphrase)


@pytest.fixture(scope="module")
def vault_record() -> vault.VaultRecord:
    record, _unlocked = vault.create_vault(PASSPHRASE, time_cost=1, memory_cost=64, parallelism=1)
    return record


@pytest.fixture
def real_vault(vault_record: vault.VaultRecord) -> RealVault:
    return RealVault(vault_record)


def open_sheet(qtbot: QtBot, runner: JobRunner, real_vault: RealVault) -> VaultSheet:
    sheet = VaultSheet(runner, "prod", real_vault.unlock)
    qtbot.addWidget(sheet)
    sheet.open()
    return sheet


def test_unlock_is_offered_only_once_something_is_typed(
    qtbot: QtBot, runner: JobRunner, real_vault: RealVault, memory_keyring: MemoryKeyring
) -> None:
    sheet = open_sheet(qtbot, runner, real_vault)
    assert not sheet.unlock_button.isEnabled()
    qtbot.keyClicks(sheet.passphrase.edit, "x")
    assert sheet.unlock_button.isEnabled()


def test_a_wrong_passphrase_says_so_inline_and_keeps_the_sheet_open(
    qtbot: QtBot, runner: JobRunner, real_vault: RealVault, memory_keyring: MemoryKeyring
) -> None:
    sheet = open_sheet(qtbot, runner, real_vault)
    qtbot.keyClicks(sheet.passphrase.edit, "wrong horse")
    sheet.passphrase.remember.setChecked(True)

    with qtbot.waitSignal(runner.failed, timeout=BOUND_MS):
        sheet.unlock_button.click()

    assert sheet.message.text() == WRONG_PASSPHRASE_MESSAGE and not sheet.message.isHidden()
    assert sheet.isVisible() and not sheet.is_unlocking()
    assert sheet.unlock_button.isEnabled()
    assert KEYRING_ENTRY not in memory_keyring.entries  # a wrong passphrase is never saved


def test_the_right_passphrase_unlocks_off_the_gui_thread_and_closes(
    qtbot: QtBot,
    qapp: QApplication,
    runner: JobRunner,
    real_vault: RealVault,
    memory_keyring: MemoryKeyring,
) -> None:
    sheet = open_sheet(qtbot, runner, real_vault)
    qtbot.keyClicks(sheet.passphrase.edit, PASSPHRASE)

    with qtbot.waitSignal(sheet.unlocked, timeout=BOUND_MS) as unlocked:
        sheet.unlock_button.click()
        assert sheet.is_unlocking() and not sheet.passphrase.isEnabled()

    assert isinstance(unlocked.args[0], vault.UnlockedVault)
    assert real_vault.threads and real_vault.threads[0] is not qapp.thread()
    assert sheet.result() == QDialog.DialogCode.Accepted
    assert memory_keyring.entries == {}  # not opted in: nothing saved


def test_an_opted_in_passphrase_is_saved_after_it_unlocked(
    qtbot: QtBot, runner: JobRunner, real_vault: RealVault, memory_keyring: MemoryKeyring
) -> None:
    sheet = open_sheet(qtbot, runner, real_vault)
    assert not sheet.passphrase.remember.isChecked()  # off by default
    qtbot.keyClicks(sheet.passphrase.edit, PASSPHRASE)
    sheet.passphrase.remember.setChecked(True)

    with qtbot.waitSignal(sheet.unlocked, timeout=BOUND_MS):
        sheet.unlock_button.click()

    assert memory_keyring.entries[KEYRING_ENTRY] == PASSPHRASE


def test_an_unsafe_keyring_disables_the_save_box_and_says_why(
    qtbot: QtBot,
    runner: JobRunner,
    real_vault: RealVault,
    plaintext_keyring: PlaintextFileKeyring,
    tmp_path: Path,
) -> None:
    sheet = open_sheet(qtbot, runner, real_vault)

    assert not sheet.passphrase.remember.isEnabled()
    assert "cannot be saved safely" in sheet.keyring_note.text()
    qtbot.keyClicks(sheet.passphrase.edit, PASSPHRASE)
    with qtbot.waitSignal(sheet.unlocked, timeout=BOUND_MS):
        sheet.unlock_button.click()
    assert not (tmp_path / "plaintext-keyring.json").exists()


def test_cancelling_while_unlocking_drops_the_result(
    qtbot: QtBot, runner: JobRunner, memory_keyring: MemoryKeyring
) -> None:
    release = threading.Event()

    def slow_unlock(_passphrase: str) -> str:
        release.wait(BOUND_MS / 1000)  # held until the sheet is gone
        return "unlocked"

    sheet = VaultSheet(runner, "prod", slow_unlock)
    qtbot.addWidget(sheet)
    sheet.open()
    qtbot.keyClicks(sheet.passphrase.edit, PASSPHRASE)
    results: list[object] = []
    sheet.unlocked.connect(results.append)
    with qtbot.waitSignal(runner.started, timeout=BOUND_MS):
        sheet.unlock_button.click()

    sheet.reject()
    with qtbot.waitSignal(runner.finished, timeout=BOUND_MS):
        release.set()

    assert results == [] and not sheet.isVisible()
