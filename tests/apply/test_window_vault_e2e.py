"""The window's vault flows and the Apply's Cancel end to end, against the real test stack: real
sshd, the throwaway Postgres Master, the private dockerd with LiteLLM and the socket-proxy.

- the window asks for the vault passphrase on connect; Provider Keys → Change Passphrase
  re-wraps the vault's key, so the Master opens with the new passphrase only, and a passphrase
  saved in the keyring follows it;
- Provider Keys → Rotate Data Key re-encrypts the credentials under a new data key, which still
  gives their secrets back;
- the Apply progress sheet's Cancel reaches the controller and stops the Apply before its
  commit point: nothing changed on the server or in the Master.

Every test leaves the shared stack as it found it (`stack_restored`, a fresh Master database).
The GUI thread only submits and listens; waits are on signals and conditions, never sleeps.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from llmproxy_desktop.core.items import Item, ItemKind, Secret
from llmproxy_desktop.ops.apply import Outcome, Step
from llmproxy_desktop.remote.profiles import SecretKind
from llmproxy_desktop.store import Master
from llmproxy_desktop.store.vault import WrongPassphrase
from llmproxy_desktop.ui.sheets.apply_progress_sheet import StepState
from llmproxy_desktop.ui.sheets.passphrase_sheet import PassphraseSheet
from llmproxy_desktop.ui.sheets.vault_sheet import VaultSheet
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer

from .conftest import ALICE
from .interrupted_apply import mock_model
from .window_harness import WINDOW_STACK, model_groups, open_workspace, workspace

__all__ = ["workspace"]  # the harness's fixture, used by name below

pytestmark = [pytest.mark.integration, pytest.mark.gui]

STACK = WINDOW_STACK
OLD_PASSPHRASE = "old passphrase 123"
NEW_PASSPHRASE = "new passphrase 456"
CREDENTIAL = "vault-e2e-upstream"
CANCELLED_GROUP = "cancel-e2e-group"
JOB_TIMEOUT_MS = 60_000


# --- set-up --------------------------------------------------------------------------------------


def _shows_the_stack(workspace: StackWorkspace, stack: TestStack) -> bool:
    return set(model_groups(workspace)) == set(stack.model_groups)


@pytest.fixture
def secret() -> str:
    return "sk-vault-e2e-" + uuid.uuid4().hex


@pytest.fixture
def vaulted_workspace(
    qtbot: QtBot,
    tmp_path: Path,
    stack_host_sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    stack_restored: TestStack,
    master: Master,
    secret: str,
) -> Iterator[StackWorkspace]:
    """As `workspace`, but the Master has a vault and a staged credential sealed in it: the
    window asks for the passphrase on connect, and the test unlocks it there, with "Save in
    keyring" ticked."""
    master.init_vault(OLD_PASSPHRASE, ALICE, time_cost=1, memory_cost=8192, parallelism=1)
    master.stage(credential(secret), 0, ALICE)
    workspaces = open_workspace(
        qtbot, tmp_path, STACK, stack_host_sshd, client_keys, pg_cluster, master_db, stack_restored
    )
    opened = next(workspaces)
    try:
        qtbot.waitUntil(lambda: opened.vault_sheet is not None, timeout=JOB_TIMEOUT_MS)
        sheet = opened.vault_sheet
        assert sheet is not None and sheet.windowTitle() == "Unlock Vault"
        assert model_groups(opened) == []  # nothing to show before the vault is open
        submit_passphrase(qtbot, sheet, OLD_PASSPHRASE, remember=True)
        qtbot.waitUntil(lambda: _shows_the_stack(opened, stack_restored), timeout=JOB_TIMEOUT_MS)
        assert saved_passphrase(opened) == OLD_PASSPHRASE
        yield opened
    finally:
        next(workspaces, None)


def credential(secret: str) -> Item:
    return Item(
        ItemKind.CREDENTIAL,
        CREDENTIAL,
        {"credential_values": {"api_key": Secret(secret)}, "credential_info": {}},
    )


def submit_passphrase(qtbot: QtBot, sheet: VaultSheet, passphrase: str, *, remember: bool) -> None:
    """Type `passphrase` into the vault sheet, press its action and wait until it closed."""
    qtbot.keyClicks(sheet.passphrase.edit, passphrase)
    if remember:
        assert sheet.passphrase.remember.isEnabled()  # the keyring double counts as secure
        sheet.passphrase.remember.setChecked(True)
    with qtbot.waitSignal(sheet.unlocked, timeout=JOB_TIMEOUT_MS):
        sheet.unlock_button.click()
    qtbot.waitUntil(lambda: not sheet.isVisible(), timeout=JOB_TIMEOUT_MS)
    assert sheet.result() == QDialog.DialogCode.Accepted


def saved_passphrase(workspace: StackWorkspace) -> str | None:
    return workspace._keyring.get(STACK, SecretKind.VAULT_PASSPHRASE)


def credential_secret(master: Master) -> str:
    """The api_key of the staged credential, as `master`'s unlocked vault decrypts it."""
    [found] = [
        e.item
        for e in master.effective()
        if e.item.kind is ItemKind.CREDENTIAL and e.item.name == CREDENTIAL
    ]
    assert isinstance(found.data, dict)
    value = found.data["credential_values"]["api_key"]
    assert isinstance(value, Secret)
    return value.reveal()


def keys_page_lists_the_credential(workspace: StackWorkspace) -> bool:
    status = workspace.controller.last_status if workspace.controller else None
    return (
        status is not None
        and status.effective is not None
        and any(e.item.name == CREDENTIAL for e in status.effective)
    )


# --- the vault ----------------------------------------------------------------------------------


def test_changing_the_passphrase_in_the_window_rewraps_the_vault_and_the_saved_passphrase(
    qtbot: QtBot, vaulted_workspace: StackWorkspace, engine: Engine, secret: str
) -> None:
    workspace = vaulted_workspace
    workspace.keys_page.passphrase_button.click()
    sheet = workspace.sheet
    assert isinstance(sheet, PassphraseSheet) and sheet.isVisible()
    for edit, text in (
        (sheet.old_edit, OLD_PASSPHRASE),
        (sheet.new_edit, NEW_PASSPHRASE),
        (sheet.repeat_edit, NEW_PASSPHRASE),
    ):
        qtbot.keyClicks(edit, text)
    assert sheet.save_button.isEnabled()

    sheet.save_button.click()
    qtbot.waitUntil(lambda: not sheet.isVisible(), timeout=JOB_TIMEOUT_MS)

    assert sheet.result() == QDialog.DialogCode.Accepted
    assert sheet.submit_error.isHidden()
    assert [e.text() for e in (sheet.old_edit, sheet.new_edit, sheet.repeat_edit)] == ["", "", ""]
    # The Master's vault opens with the new passphrase only; the secrets are untouched.
    fresh = Master.open(engine)
    with pytest.raises(WrongPassphrase):
        fresh.unlock_vault(OLD_PASSPHRASE)
    fresh.unlock_vault(NEW_PASSPHRASE)
    assert credential_secret(fresh) == secret
    # The passphrase saved in the keyring followed the change (on the worker, before the answer).
    assert saved_passphrase(workspace) == NEW_PASSPHRASE


def test_rotating_the_data_key_in_the_window_reencrypts_the_credentials(
    qtbot: QtBot, vaulted_workspace: StackWorkspace, engine: Engine, master: Master, secret: str
) -> None:
    workspace = vaulted_workspace
    assert master.vault is not None
    key_before = master.vault.key_id

    workspace.keys_page.data_key_button.click()
    sheet = workspace.vault_sheet
    assert sheet is not None and sheet.windowTitle() == "Rotate Data Key"
    assert sheet.unlock_button.text() == "Rotate Key"
    submit_passphrase(qtbot, sheet, OLD_PASSPHRASE, remember=False)
    qtbot.waitUntil(lambda: workspace.vault_sheet is None, timeout=JOB_TIMEOUT_MS)

    fresh = Master.open(engine)
    rotated = fresh.unlock_vault(OLD_PASSPHRASE)  # the passphrase stays; the data key changed
    assert rotated.key_id != key_before
    assert credential_secret(fresh) == secret
    # The window reads the credential under the new key too (the sheet's refresh).
    workspace.refresh()
    qtbot.waitUntil(lambda: not workspace.runner.is_busy(), timeout=JOB_TIMEOUT_MS)
    assert keys_page_lists_the_credential(workspace)
    assert workspace.vault_sheet is None  # no second ask: the window holds the new key


# --- Cancel from the Apply progress sheet -------------------------------------------------------


def test_cancel_from_the_progress_sheet_stops_the_apply_before_anything_changed(
    qtbot: QtBot, workspace: StackWorkspace, master: Master, stack_restored: TestStack
) -> None:
    config = stack_restored.config_dir / "config.yaml"
    before = config.read_bytes()
    master.stage(mock_model(CANCELLED_GROUP), 0, ALICE)
    workspace.refresh()
    qtbot.waitUntil(lambda: workspace.apply_bar.staged_count() == 1, timeout=JOB_TIMEOUT_MS)
    staged = master.staged_versions()

    # Deterministic on any machine: the Apply's first progress report (LOCK, before the render's
    # cancel check) holds the stack's worker until the GUI has pressed Cancel.
    worker = workspace.runner._workers[STACK]
    reached_lock, pressed = threading.Event(), threading.Event()

    def hold_at_lock(_job_id: str, step: str, _fraction: float, _message: str) -> None:
        if step == Step.LOCK.value and not reached_lock.is_set():
            reached_lock.set()
            pressed.wait(JOB_TIMEOUT_MS / 1000)

    worker.job_progress.connect(hold_at_lock, Qt.ConnectionType.DirectConnection)
    try:
        workspace.apply_bar.apply_button.click()
        progress = workspace.progress_sheet
        assert progress is not None and progress.is_running()
        qtbot.waitUntil(reached_lock.is_set, timeout=JOB_TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: progress.step_state(Step.LOCK) is StepState.RUNNING, timeout=JOB_TIMEOUT_MS
        )
        assert progress.cancel_button.isVisible() and progress.cancel_button.isEnabled()
        with qtbot.waitSignal(progress.cancel_requested, timeout=JOB_TIMEOUT_MS):
            progress.cancel_button.click()
        assert progress.cancel_button.text() == "Cancelling…"
        assert not progress.cancel_button.isEnabled()
    finally:
        pressed.set()
        worker.job_progress.disconnect(hold_at_lock)

    qtbot.waitUntil(lambda: not progress.is_running(), timeout=JOB_TIMEOUT_MS)
    result = workspace.last_apply
    assert result is not None and result.cancelled and not result.committed
    assert result.outcome(Step.LOCK) is Outcome.OK
    assert result.outcome(Step.RENDER) is Outcome.CANCELLED
    assert all(result.outcome(step) is Outcome.SKIPPED for step in list(Step)[2:])
    assert result.revision_id is None
    assert progress.headline.text() == "Apply cancelled"
    assert progress.outcome_label.text() == (
        "Cancelled: config.yaml, the applied and the staged items are as they were."
    )
    assert progress.step_state(Step.RENDER) is StepState.CANCELLED
    progress.accept()

    # Nothing moved: the file, the staged items, the revisions.
    assert config.read_bytes() == before
    assert master.staged_versions() == staged
    assert master.revisions() == []
    workspace.refresh()
    qtbot.waitUntil(lambda: not workspace.runner.is_busy(), timeout=JOB_TIMEOUT_MS)
    assert workspace.apply_bar.staged_count() == 1
    assert workspace.controller is not None and workspace.controller.apply_job is None
