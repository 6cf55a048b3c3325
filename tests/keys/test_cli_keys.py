"""`llmproxy-desktop --stack NAME keys ...` end to end: the real CLI, a LOCAL stack profile whose
Master is the throwaway Postgres and whose LiteLLM port is the /key/* double (no sshd and no
docker: key commands never call the socket-proxy). The profile and its secrets live in a temp
config directory and an in-memory keyring.

`keys` is registered by `cli_stack.add_stack_commands` through `cli_keys.add_commands`."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.core
import pytest
from sqlalchemy import Engine, text

from llmproxy_desktop.cli import main
from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles import StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.store import Actor, Master
from tests.fixtures.litellm_keys_double import LiteLLMKeysDouble
from tests.profiles.fake_keyrings import MemoryKeyring

from .conftest import MASTER_KEY

pytestmark = pytest.mark.integration

STACK = "keys-local"
CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, mock_response: hi}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, mock_response: hi}
"""


def closed_port() -> int:
    """A loopback port nothing listens on (the socket-proxy: key commands never call it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def stack(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_cluster: Any,
    master_db: str,
    engine: Engine,
    keys_double: LiteLLMKeysDouble,
) -> Iterator[StackProfile]:
    """A local stack: Master seeded with two model groups, LiteLLM = the double."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    memory = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", memory)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    port = int(keys_double.url.rsplit(":", 1)[1])
    profile = StackProfile(
        name=STACK,
        compose_dir=str(tmp_path),
        transport=Transport.LOCAL,
        config_path=str(config),
        postgres_port=pg_cluster.port,
        socket_proxy_port=closed_port(),
        litellm_port=port,
        db_name=master_db,
        db_user="llmproxy",
    )
    ProfileStore().add(profile)
    memory.set_password(SERVICE, f"{STACK}:db-password", pg_cluster.password)
    memory.set_password(SERVICE, f"{STACK}:litellm-master-key", MASTER_KEY)
    imported = import_config(CONFIG)
    Master.open(engine).seed_from_import(imported.items, Actor("alice", "laptop"), None)
    yield profile


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--stack", STACK, "keys", *args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _err = cli(capsys, *args, "--json")
    return code, json.loads(out)


def test_create_prints_the_key_once_and_list_shows_it_masked(
    stack: StackProfile, capsys: pytest.CaptureFixture[str], keys_double: LiteLLMKeysDouble
) -> None:
    code, out, _err = cli(
        capsys,
        "create",
        "--alias",
        "ci-bot",
        "--models",
        "gpt-4o,gpt-4o-mini",
        "--max-budget",
        "10",
        "--budget-duration",
        "30d",
        "--rpm",
        "30",
        "--metadata",
        "owner=ci",
    )
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("sk-")
    row = keys_double.keys_in_table()[0]
    assert row["token"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["metadata"] == {"owner": "ci"}

    code, out, _err = cli(capsys, "list")
    assert code == 0
    assert "ci-bot" in out and f"sk-...{secret[-4:]}" in out and "$0.00 of $10.00/30d" in out
    assert secret not in out

    code, payload = cli_json(capsys, "list")
    assert code == 0 and payload["count"] == 1
    listed = payload["keys"][0]
    assert (listed["alias"], listed["rpm_limit"], listed["blocked"]) == ("ci-bot", 30, False)
    assert secret not in json.dumps(payload)


def test_create_refuses_a_model_that_is_not_applied(
    stack: StackProfile, capsys: pytest.CaptureFixture[str], keys_double: LiteLLMKeysDouble
) -> None:
    code, payload = cli_json(capsys, "create", "--alias", "x", "--models", "claude-sonnet")
    assert code == 1
    assert "'claude-sonnet' is not an applied model group" in payload["error"]
    assert keys_double.keys_in_table() == []


def test_update_block_unblock_and_delete_by_alias(
    stack: StackProfile, capsys: pytest.CaptureFixture[str], keys_double: LiteLLMKeysDouble
) -> None:
    assert cli_json(capsys, "create", "--alias", "svc", "--metadata", "team=a")[0] == 0

    code, payload = cli_json(
        capsys, "update", "svc", "--tpm", "5000", "--metadata", "ticket=OPS-1",
        "--model-alias", "fast=gpt-4o-mini", "--models", "gpt-4o",
        "--routing-strategy", "least-busy",
    )  # fmt: skip
    assert code == 0, payload
    updated = payload["updated"]
    assert updated["tpm_limit"] == 5000
    assert updated["metadata"] == {"team": "a", "ticket": "OPS-1"}
    assert updated["models"] == ["gpt-4o", "fast"]
    assert updated["router_settings"] == {"routing_strategy": "least-busy"}

    assert cli_json(capsys, "block", "svc")[0] == 0
    assert keys_double.keys_in_table()[0]["blocked"] is True
    assert cli_json(capsys, "unblock", "svc")[0] == 0
    assert keys_double.keys_in_table()[0]["blocked"] is False

    code, _out, err = cli(capsys, "delete", "svc")
    assert code == 2 and "--yes" in err  # no terminal to confirm on
    assert cli_json(capsys, "delete", "svc", "--yes")[0] == 0
    assert keys_double.keys_in_table() == []


def test_an_unknown_key_is_a_usage_error(
    stack: StackProfile, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = cli(capsys, "block", "nobody")
    assert code == 2
    assert "no key named 'nobody'" in err


def test_regenerate_without_enterprise_is_refused_in_a_sentence(
    stack: StackProfile, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_json(capsys, "create", "--alias", "r")[0] == 0
    code, payload = cli_json(capsys, "regenerate", "r", "--yes")
    assert code == 1
    assert "Enterprise licence" in payload["error"]


def test_delete_expired_names_the_count_deletes_only_expired_keys_and_audits(
    stack: StackProfile,
    capsys: pytest.CaptureFixture[str],
    keys_double: LiteLLMKeysDouble,
    engine: Engine,
) -> None:
    assert cli_json(capsys, "create", "--alias", "old-bot")[0] == 0
    assert cli_json(capsys, "create", "--alias", "live-bot")[0] == 0
    with engine.begin() as connection:  # old-bot expired yesterday
        connection.execute(
            text(
                'UPDATE "LiteLLM_VerificationToken" SET expires = now() - make_interval(days => 1) '
                "WHERE key_alias = 'old-bot'"
            )
        )

    code, out, err = cli(capsys, "delete-expired")
    assert code == 2 and "--yes" in err and "expired: old-bot" in out
    assert len(keys_double.keys_in_table()) == 2

    code, payload = cli_json(capsys, "delete-expired", "--yes")
    assert code == 0 and payload["deleted"] == 1 and payload["expired"] == ["old-bot"]
    assert [k["key_alias"] for k in keys_double.keys_in_table()] == ["live-bot"]
    entries = Master.open(engine).audit_entries(5)
    assert entries[0].action == "housekeeping.delete_expired_keys"
    assert entries[0].detail["deleted"] == 1
