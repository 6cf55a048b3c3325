"""The real window on the real test stack, for the end-to-end window tests: MainWindow and
StackWorkspace as the app builds them, over one saved stack whose secrets are in the (in-memory,
test double) keyring and whose host key is already trusted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import SERVICE, KeyringSecrets
from llmproxy_desktop.remote.profiles import SecretKind
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.store import Master
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.models_table import Column
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer
from tests.profiles.fake_keyrings import MemoryKeyring

from .conftest import stack_profile

WINDOW_STACK = "window-e2e"
LOAD_TIMEOUT_MS = 60_000  # connect + first load on a shared, slow machine


def trusted_host_keys(tmp_path: Path, sshd: SshdServer) -> HostKeyStore:
    """A host-key store that already knows the stack host (from the admin's known_hosts)."""
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    return HostKeyStore(app_known_hosts=tmp_path / "app_known_hosts", user_known_hosts=known)


def saved_secrets(name: str, pg_cluster: Any, stack: TestStack) -> MemoryKeyring:
    """The keyring double holding stack `name`'s DB password and LiteLLM master key (the key
    file has no passphrase, so the SSH auth needs no secret)."""
    memory = MemoryKeyring()
    memory.set_password(SERVICE, f"{name}:{SecretKind.DB_PASSWORD.value}", pg_cluster.password)
    memory.set_password(SERVICE, f"{name}:{SecretKind.LITELLM_MASTER_KEY.value}", stack.master_key)
    return memory


def open_workspace(
    qtbot: QtBot,
    tmp_path: Path,
    name: str,
    sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    stack: TestStack,
) -> Iterator[StackWorkspace]:
    """Build the window and its workspace on the test stack as stack `name`, start it (the
    connect runs on the stack's worker), close it and its runner afterwards."""
    store = ProfileStore(tmp_path / "stacks.json")
    store.add(stack_profile(name, sshd, client_keys, pg_cluster, master_db, stack))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, profile_store=store)
    qtbot.addWidget(window)
    runner = JobRunner()
    workspace = StackWorkspace(
        window,
        runner,
        profile_store=store,
        keyring_secrets=KeyringSecrets(saved_secrets(name, pg_cluster, stack)),
        host_keys=trusted_host_keys(tmp_path, sshd),
    )
    window.show()
    workspace.start()
    yield workspace
    workspace.close()
    assert runner.shutdown(20_000)


def model_groups(workspace: StackWorkspace) -> list[str]:
    """The model groups the Models page's table shows, in its order."""
    return [row.cells[Column.GROUP] for row in workspace.models_page.table_model.rows]


@pytest.fixture
def workspace(
    qtbot: QtBot,
    tmp_path: Path,
    stack_host_sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    stack_restored: TestStack,
    master: Master,
) -> Iterator[StackWorkspace]:
    """The window on stack WINDOW_STACK, connected and showing the stack's model groups (the
    Master seeded; nothing staged). Import it into a test module to use it."""
    workspaces = open_workspace(
        qtbot,
        tmp_path,
        WINDOW_STACK,
        stack_host_sshd,
        client_keys,
        pg_cluster,
        master_db,
        stack_restored,
    )
    opened = next(workspaces)
    try:
        qtbot.waitUntil(
            lambda: set(model_groups(opened)) == set(stack_restored.model_groups),
            timeout=LOAD_TIMEOUT_MS,
        )
        yield opened
    finally:
        next(workspaces, None)  # closes the window and its runner
