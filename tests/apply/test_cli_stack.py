"""`llmproxy-desktop --stack NAME status|diff|apply|discard|drift|history|restore N|init`
(issue 4 §4) against the real components: the stack host's sshd, the Master in the throwaway
Postgres (reached through an SSH forward, as on a server), the socket-proxy and LiteLLM.

The profile and its secrets live in a throwaway config directory and an in-memory keyring (the
double of tests/profiles/fake_keyrings.py), so no test touches the admin's own.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import keyring.core
import pytest
from sqlalchemy import Engine

from llmproxy_desktop.cli import main
from llmproxy_desktop.core.items import Item, ItemKind, Secret, live_items
from llmproxy_desktop.core.render import render
from llmproxy_desktop.ops.apply_lock import apply_lock
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles import StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.store import Master
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer
from tests.profiles.fake_keyrings import MemoryKeyring

from .conftest import ALICE, BOB, stack_profile

pytestmark = pytest.mark.integration

STACK = "gw"
NEW_GROUP = "cli-mock"
NEW_ANSWER = "answered after a CLI apply"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    return backend


@pytest.fixture
def profile(
    stack_host_sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    stack_restored: TestStack,
    memory_keyring: MemoryKeyring,
    isolated_home: Path,
) -> StackProfile:
    """The test stack as a saved profile, its host key trusted and its secrets in the keyring."""
    profile = stack_profile(
        STACK, stack_host_sshd, client_keys, pg_cluster, master_db, stack_restored
    )
    ProfileStore().add(profile)
    memory_keyring.set_password(SERVICE, f"{STACK}:db-password", pg_cluster.password)
    memory_keyring.set_password(SERVICE, f"{STACK}:litellm-master-key", stack_restored.master_key)
    known_hosts = isolated_home / ".ssh" / "known_hosts"
    known_hosts.parent.mkdir(mode=0o700)
    known_hosts.write_text(stack_host_sshd.known_hosts_line())
    return profile


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--stack", STACK, *args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli(capsys, "--json", *args)
    return code, json.loads(out), err


def new_model(group: str = NEW_GROUP, **params: object) -> Item:
    model_id = str(uuid.uuid4())
    return Item(
        ItemKind.MODEL,
        model_id,
        {
            "model_name": group,
            "litellm_params": {"model": f"openai/{group}", "mock_response": NEW_ANSWER, **params},
            "model_info": {"id": model_id},
        },
    )


def config_bytes(stack: TestStack) -> bytes:
    return (stack.config_dir / "config.yaml").read_bytes()


def assert_untouched(master: Master, stack: TestStack, before: bytes, staged: int) -> None:
    """The invariant's second half: file, applied and staged as they were."""
    assert config_bytes(stack) == before
    assert master.staged_count() == staged
    assert master.revisions() == []


def no_secret_in(text: str, *secrets: str) -> bool:
    return not any(secret and secret in text for secret in secrets)


# -- status and diff ---------------------------------------------------------------------------


def test_status_reports_the_master_the_file_and_litellm(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
    pg_cluster: Any,
) -> None:
    master.stage(new_model(), 0, ALICE)

    code, out, err = cli(capsys, "status")
    assert code == 0, out + err
    assert "staged:       1 change(s)" in out
    assert "last apply:   none yet" in out
    # Imported, never applied: the file is not a revision of this Master yet.
    assert "config.yaml:  " in out and "never written by an Apply" in out
    assert f"ready; {len(stack_restored.model_groups)} model group(s) served" in out
    assert "container:    running" in out
    assert no_secret_in(out + err, pg_cluster.password, stack_restored.master_key)

    code, data, _ = cli_json(capsys, "status")
    assert code == 0 and data["ok"] is True and data["exit_code"] == 0
    assert data["staged"] == 1 and data["drift"] == "unknown file" and data["initialised"]


def test_diff_lists_each_staged_item_and_the_rendered_yaml_change(
    profile: StackProfile,
    master: Master,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "sk-live-" + uuid.uuid4().hex
    master.init_vault("a vault passphrase", ALICE, time_cost=1, memory_cost=8192, parallelism=1)
    credential = Item(
        ItemKind.CREDENTIAL,
        "upstream",
        {"credential_values": {"api_key": Secret(secret)}, "credential_info": {}},
    )
    master.stage_many([(credential, 0), (new_model(litellm_credential_name="upstream"), 0)], ALICE)
    # The CLI unlocks the vault with the passphrase saved in the keyring.
    memory_keyring.set_password(SERVICE, f"{STACK}:vault-passphrase", "a vault passphrase")

    code, out, err = cli(capsys, "diff")
    assert code == 0, out + err
    assert "new      credential upstream" in out
    assert f"new      model {NEW_GROUP} (openai/{NEW_GROUP})" in out
    assert f"+  - model_name: {NEW_GROUP}" in out
    assert '+      api_key: "***"' in out
    assert secret not in out + err

    code, data, _ = cli_json(capsys, "diff")
    assert code == 0
    assert sorted(c["flag"] for c in data["changes"]) == ["new", "new"]
    assert secret not in json.dumps(data)

    master.lock_vault()
    memory_keyring.delete_password(SERVICE, f"{STACK}:vault-passphrase")
    code, _, err = cli(capsys, "diff")  # no passphrase at hand: a sentence, not a traceback
    assert code == 1 and "vault is locked" in err


def test_diff_with_a_validation_error_exits_1_and_names_the_rule(
    profile: StackProfile, master: Master, capsys: pytest.CaptureFixture[str]
) -> None:
    master.stage(Item(ItemKind.ROUTER_SETTING, "routing_strategy", "fastest-please"), 0, ALICE)
    code, out, _ = cli(capsys, "diff")
    assert code == 1
    assert "routing.strategy" in out


# -- apply ---------------------------------------------------------------------------------------


def test_apply_dispatches_a_staged_model_that_then_answers_through_the_proxy(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    master.stage(new_model(), 0, ALICE)

    code, data, err = cli_json(capsys, "apply", "--yes")

    assert code == 0, err
    assert data["ok"] is True and data["committed"] is True and data["noop"] is False
    assert [s["step"] for s in data["steps"]] == [
        "lock",
        "render",
        "upload",
        "commit",
        "fold",
        "restart",
        "verify",
    ]
    assert {s["outcome"] for s in data["steps"]} == {"ok"}
    # Progress lines went to stderr (stdout is the JSON), one per completed step.
    assert "[7/7] verify: ok" in err
    # The invariant: file == render(applied), nothing staged, the revision recorded.
    assert master.staged_count() == 0
    assert config_bytes(stack_restored) == render(master.applied()).encode()
    revision = master.revisions()[0]
    assert revision.id == data["revision_id"]
    assert revision.rendered_sha256 == hashlib.sha256(config_bytes(stack_restored)).hexdigest()
    answer = httpx.post(
        f"{stack_restored.litellm_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {stack_restored.master_key}"},
        json={"model": NEW_GROUP, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == NEW_ANSWER

    # Applying again changes nothing and restarts nothing.
    code, data, _ = cli_json(capsys, "apply", "--yes")
    assert code == 0 and data["noop"] is True
    assert {s["step"]: s["outcome"] for s in data["steps"]}["restart"] == "skipped"

    code, out, _ = cli(capsys, "history")
    assert code == 0
    assert out.splitlines()[1].startswith(f"* {revision.id:>5}")


def test_apply_without_yes_and_without_a_terminal_refuses_and_changes_nothing(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = config_bytes(stack_restored)
    master.stage(new_model(), 0, ALICE)

    code, _, err = cli(capsys, "apply")

    assert code == 2
    assert "pass --yes" in err
    assert_untouched(master, stack_restored, before, staged=1)


def test_apply_of_an_invalid_master_exits_1_with_findings_and_keeps_everything(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = config_bytes(stack_restored)
    master.stage(Item(ItemKind.ROUTER_SETTING, "routing_strategy", "fastest-please"), 0, ALICE)

    code, data, _ = cli_json(capsys, "apply", "--yes")

    assert code == 1
    assert data["ok"] is False and data["committed"] is False
    assert any(f["rule"].startswith("routing.strategy") for f in data["findings"])
    assert "nothing was written" in data["advice"].lower()
    assert_untouched(master, stack_restored, before, staged=1)

    # Any admin's `status` (and Dashboard) now says how the last Apply ended.
    code, out, err = cli(capsys, "status")
    assert code == 0, out + err
    assert "last attempt: FAILED at RENDER" in out
    code, data, _ = cli_json(capsys, "status")
    assert data["last_attempt"]["ok"] is False and data["last_attempt"]["failed_step"] == "RENDER"


def test_apply_while_another_admin_applies_exits_3_naming_them(
    profile: StackProfile,
    master: Master,
    engine: Engine,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = config_bytes(stack_restored)
    master.stage(new_model(), 0, ALICE)

    with apply_lock(engine, master.schema, BOB):
        code, data, _ = cli_json(capsys, "apply", "--yes")

    assert code == 3
    assert data["ok"] is False and data["exit_code"] == 3
    assert "Apply in progress by bob@bob-desktop" in data["error"]
    assert_untouched(master, stack_restored, before, staged=1)


# -- discard ------------------------------------------------------------------------------------


def test_discard_with_yes_drops_every_staged_change(
    profile: StackProfile, master: Master, capsys: pytest.CaptureFixture[str]
) -> None:
    master.stage(new_model(), 0, ALICE)
    master.stage(new_model("another-group"), 0, ALICE)

    code, _, _ = cli(capsys, "discard")
    assert code == 2 and master.staged_count() == 2  # no terminal, no --yes: refused

    code, data, _ = cli_json(capsys, "discard", "--yes")
    assert code == 0 and data["discarded"] == 2
    assert master.staged_count() == 0


# -- drift --------------------------------------------------------------------------------------


def test_a_hand_edit_is_reported_as_drift_and_rerender_puts_the_master_back(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(capsys, "apply", "--yes")  # revision 1: the file is now the Master's
    assert code == 0, err
    applied = config_bytes(stack_restored)
    config = stack_restored.config_dir / "config.yaml"
    config.write_bytes(applied + b"router_settings:\n  num_retries: 7\n")

    code, out, err = cli(capsys, "drift")
    assert code == 1
    assert out.splitlines()[1].startswith("edited by hand:")
    assert "+  num_retries: 7" in out
    assert "drift --rerender" in out

    config.write_bytes(applied + b"# only a comment\n")
    code, out, err = cli(capsys, "drift")
    assert code == 1 and "Only comments or formatting differ." in out

    code, out, err = cli(capsys, "status")  # drift on connect: the status says it too
    assert code == 0 and "was edited outside the app" in out

    code, data, err = cli_json(capsys, "drift", "--rerender", "--yes")
    assert code == 0, err
    assert data["state"] == "edited by hand" and data["committed"] is True
    assert config_bytes(stack_restored) == applied
    code, data, _ = cli_json(capsys, "drift")
    assert code == 0 and data["state"] == "in sync"


# -- history and restore -------------------------------------------------------------------------


def test_restore_stages_the_difference_to_an_earlier_revision(
    profile: StackProfile, master: Master, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two revisions recorded directly (no restart needed to test what restore stages).
    first = master.fold("first", "redacted", "0" * 64, ALICE, {})
    added = master.stage(new_model(), 0, ALICE)
    second = master.fold("second", "redacted", "1" * 64, ALICE, master.staged_versions())

    code, data, _ = cli_json(capsys, "history")
    assert code == 0
    assert [r["id"] for r in data["revisions"]] == [second, first]
    assert [r["summary"] for r in data["revisions"]] == ["second", "first"]

    code, out, _ = cli(capsys, "restore", str(first))
    assert code == 0, out
    assert "staged 1 change(s)" in out
    flags = {e.item.key: e.flag for e in master.effective() if e.flag is not None}
    assert flags == {added.item.key: flags[added.item.key]} and len(flags) == 1
    assert flags[added.item.key].value == "deleted"

    # A second restore refuses while that is staged, unless told to discard first.
    code, _, err = cli(capsys, "restore", str(second))
    assert code == 2 and "--discard-staged" in err
    code, out, _ = cli(capsys, "restore", str(second), "--discard-staged", "--yes")
    assert code == 0 and "already is revision" in out
    assert master.staged_count() == 0

    code, _, err = cli(capsys, "restore", "999")
    assert code == 2 and "no revision 999" in err


# -- init ---------------------------------------------------------------------------------------


def test_init_imports_the_servers_file_and_keeps_its_literal_key_in_the_vault(
    profile: StackProfile,
    engine: Engine,
    stack_restored: TestStack,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = stack_restored.config_dir / "config.yaml"
    literal = "sk-literal-" + uuid.uuid4().hex
    with config.open("a") as stream:  # a literal credential, as many hand-written files have
        stream.write(
            "credential_list:\n"
            "  - credential_name: upstream\n"
            f"    credential_values:\n      api_key: {literal}\n"
            "    credential_info: {}\n"
        )
    memory_keyring.set_password(SERVICE, f"{STACK}:vault-passphrase", "init passphrase 123")

    code, out, err = cli(capsys, "init")

    assert code == 0, out + err
    assert "created the credential vault" in out
    assert literal not in out + err
    opened = Master.open(engine)
    assert opened.has_vault() and opened.initialised() is not None
    opened.unlock_vault("init passphrase 123")
    applied = opened.applied()
    groups = {i.data["model_name"] for i in applied if i.kind is ItemKind.MODEL}
    assert groups == set(stack_restored.model_groups)
    credential = next(i for i in applied if i.kind is ItemKind.CREDENTIAL)
    assert credential.data["credential_values"]["api_key"] == Secret(literal)

    code, _, err = cli(capsys, "init")  # never twice
    assert code == 1 and "already holds configuration" in err


# -- connection and usage errors ------------------------------------------------------------------


def test_a_stack_command_needs_a_known_stack(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 2
    assert "needs --stack NAME" in capsys.readouterr().err
    assert main(["--stack", "nowhere", "status"]) == 2
    assert "no stack named 'nowhere'" in capsys.readouterr().err


def test_a_wrong_database_password_is_a_connection_error_without_the_secret(
    profile: StackProfile,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "wrong-db-password-" + uuid.uuid4().hex[:8]
    memory_keyring.set_password(SERVICE, f"{STACK}:db-password", wrong)

    code, data, err = cli_json(capsys, "status")

    assert code == 2 and data["exit_code"] == 2
    assert "[postgres]" in data["error"] and "password authentication failed" in data["error"]
    assert wrong not in json.dumps(data) + err


def test_an_unknown_host_key_fails_closed_and_names_the_fingerprint_option(
    profile: StackProfile,
    stack_host_sshd: SshdServer,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (isolated_home / ".ssh" / "known_hosts").write_text("")

    code, _, err = cli(capsys, "status")

    assert code == 2
    assert stack_host_sshd.fingerprint() in err
    code, _, err = cli(capsys, "status", "--accept-host-key", stack_host_sshd.fingerprint())
    assert code == 0, err


def test_a_local_stack_is_reached_without_ssh(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = ProfileStore()
    store.replace(
        replace(
            profile,
            transport=Transport.LOCAL,
            host=None,
            port=None,
            user=None,
            auth=None,
            key_file=None,
        )
    )
    master.stage(new_model(), 0, ALICE)

    code, data, err = cli_json(capsys, "status")

    assert code == 0, err
    assert data["staged"] == 1 and data["container"].startswith("running")
    assert data["litellm"].startswith("ready")


def test_an_apply_interrupted_after_its_commit_point_is_finished_on_the_next_connect(
    profile: StackProfile,
    master: Master,
    stack_restored: TestStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    master.stage(new_model(), 0, ALICE)
    # What an Apply whose fold failed leaves: the new file renamed in place, nothing recorded.
    rendered = render(live_items(master.effective())).encode()
    (stack_restored.config_dir / "config.yaml").write_bytes(rendered)

    code, out, err = cli(capsys, "status")
    assert code == 0 and "an Apply replaced the file and did not finish" in out

    code, data, err = cli_json(capsys, "drift", "--finish", "--yes")

    assert code == 0, err
    assert data["state"] == "applied but not recorded"
    revision = master.revisions()[0]
    assert data["finished_revision"] == revision.id
    assert revision.rendered_sha256 == hashlib.sha256(rendered).hexdigest()
    assert master.staged_count() == 0
    steps = {s["step"]: s["outcome"] for s in data["steps"]}
    assert steps["restart"] == "ok" and steps["verify"] == "ok"  # LiteLLM now serves it
    assert config_bytes(stack_restored) == rendered
    code, data, _ = cli_json(capsys, "drift")
    assert code == 0 and data["state"] == "in sync"
