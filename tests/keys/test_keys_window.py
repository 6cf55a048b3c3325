"""The Virtual Keys page inside the real window: the workspace connects a LOCAL stack (the
throwaway Postgres; LiteLLM = the /key/* double of tests/fixtures/litellm_keys_double.py), the
page lists the keys through the stack's worker when shown, and a create from the page lands in
LiteLLM's real LiteLLM_VerificationToken table."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.virtual_keys import CreatedKey, KeySpec
from llmproxy_desktop.ops.keys import create_key
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import SERVICE, KeyringSecrets
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from llmproxy_desktop.remote.profiles import StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.store import Actor, Master
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from tests.fixtures.litellm_keys_double import LiteLLMKeysDouble
from tests.profiles.fake_keyrings import MemoryKeyring

from .conftest import MASTER_KEY

pytestmark = [pytest.mark.integration, pytest.mark.gui]

STACK = "keys-window"
CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, mock_response: hi}
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def workspace(
    qtbot: QtBot,
    tmp_path: Path,
    keys_double: LiteLLMKeysDouble,
    pg_cluster: Any,
    master_db: str,
    engine: Engine,
) -> Iterator[StackWorkspace]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    store = ProfileStore(tmp_path / "stacks.json")
    store.add(
        StackProfile(
            name=STACK,
            compose_dir=str(tmp_path),
            transport=Transport.LOCAL,
            config_path=str(config),
            postgres_port=pg_cluster.port,
            socket_proxy_port=closed_port(),
            litellm_port=int(keys_double.url.rsplit(":", 1)[1]),
            db_name=master_db,
            db_user="llmproxy",
        )
    )
    Master.open(engine).seed_from_import(
        import_config(CONFIG).items, Actor("alice", "laptop"), None
    )
    memory = MemoryKeyring()
    memory.set_password(SERVICE, f"{STACK}:db-password", pg_cluster.password)
    memory.set_password(SERVICE, f"{STACK}:litellm-master-key", MASTER_KEY)
    window = MainWindow(
        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), profile_store=store
    )
    qtbot.addWidget(window)
    runner = JobRunner()
    built = StackWorkspace(
        window,
        runner,
        profile_store=store,
        keyring_secrets=KeyringSecrets(memory),
        host_keys=HostKeyStore(
            app_known_hosts=tmp_path / "app_known", user_known_hosts=tmp_path / "known"
        ),
    )
    window.show()
    built.start()
    yield built
    built.close()
    assert runner.shutdown(20_000)


def test_the_keys_page_lists_through_the_stack_and_creates_a_key(
    qtbot: QtBot, workspace: StackWorkspace, client: LiteLLMClient, engine: Engine
) -> None:
    create_key(client, KeySpec(alias="existing-bot", models=("gpt-4o",)), ["gpt-4o"])
    qtbot.waitUntil(
        lambda: workspace.controller is not None and bool(workspace.controller.last_status),
        timeout=30_000,
    )

    workspace.window.show_page("virtual-keys")
    page = workspace.virtual_keys_page
    qtbot.waitUntil(lambda: len(page.table_model.keys) == 1, timeout=30_000)
    assert page.table_model.keys[0].alias == "existing-bot"

    created: list[CreatedKey] = []
    errors: list[str] = []
    workspace.keys_service.create_key(
        KeySpec(alias="window-bot", models=("gpt-4o",)), created.append, errors.append
    )
    qtbot.waitUntil(lambda: bool(created or errors), timeout=30_000)
    assert errors == [] and created[0].key.alias == "window-bot"
    with engine.connect() as connection:
        aliases = set(
            connection.execute(text('SELECT key_alias FROM "LiteLLM_VerificationToken"')).scalars()
        )
    assert aliases == {"existing-bot", "window-bot"}

    # A model group the stack does not apply is refused as a sentence, before any request.
    workspace.keys_service.create_key(
        KeySpec(alias="bad-bot", models=("no-such-group",)), created.append, errors.append
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=30_000)
    assert "no-such-group" in errors[0] and "Traceback" not in errors[0]
