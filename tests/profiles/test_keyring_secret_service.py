"""Round trip against a real Secret Service: gnome-keyring in a private D-Bus session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.keyring_dbus import SecretServiceSession, secret_service

__all__ = ["secret_service"]  # the fixture, used by name below

SSH_PASSPHRASE = "ssh-pp-6d1f0c"
DB_PASSWORD = "db-pw-93ab7e"
OTHER_DB_PASSWORD = "other-db-pw-51c2"


def drive(session: SecretServiceSession, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    done = session.run_module("tests.profiles.keyring_driver", stdin=json.dumps(steps))
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(steps), done.stdout
    return results


@pytest.mark.integration
def test_secrets_round_trip_through_gnome_keyring_and_persist_across_sessions(
    secret_service: SecretServiceSession,
) -> None:
    status, *saved, read_back, items = drive(
        secret_service,
        {"op": "status"},
        {"op": "save", "stack": "prod", "kind": "ssh-key-passphrase", "value": SSH_PASSPHRASE},
        {"op": "save", "stack": "prod", "kind": "db-password", "value": DB_PASSWORD},
        {"op": "save", "stack": "staging", "kind": "db-password", "value": OTHER_DB_PASSWORD},
        {"op": "get", "stack": "prod", "kind": "db-password"},
        {"op": "items"},
    )

    assert status["backend"] == "keyring.backends.SecretService.Keyring"
    assert status["secure"] is True and "SecretService" in status["message"]
    assert saved == [{"ok": True}] * 3
    assert read_back == {"value": DB_PASSWORD}
    entries = {(i.get("service"), i.get("username")) for i in items["items"]}
    assert entries == {
        ("llmproxy-desktop", "prod:ssh-key-passphrase"),
        ("llmproxy-desktop", "prod:db-password"),
        ("llmproxy-desktop", "staging:db-password"),
    }
    # On disk the keyring is encrypted with the unlock password: no value appears in clear.
    stored = b"".join(p.read_bytes() for p in secret_service.keyring_dir.iterdir())
    assert stored
    for value in (SSH_PASSPHRASE, DB_PASSWORD, OTHER_DB_PASSWORD):
        assert value.encode() not in stored

    # A new session (new daemons) reads them back from the keyring files, then forgets one stack.
    persisted, forgotten, gone, kept = drive(
        secret_service,
        {"op": "get", "stack": "prod", "kind": "ssh-key-passphrase"},
        {"op": "forget", "stack": "prod"},
        {"op": "get", "stack": "prod", "kind": "db-password"},
        {"op": "get", "stack": "staging", "kind": "db-password"},
    )
    assert persisted == {"value": SSH_PASSPHRASE}
    assert sorted(forgotten["forgotten"]) == ["db-password", "ssh-key-passphrase"]
    assert gone == {"value": None}
    assert kept == {"value": OTHER_DB_PASSWORD}


@pytest.mark.integration
def test_doctor_names_the_secret_service_as_safe(secret_service: SecretServiceSession) -> None:
    done = secret_service.run_module("llmproxy_desktop.cli", "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    keyring_line = done.stdout.splitlines()[0]
    assert keyring_line.startswith("keyring: ok: ")
    assert "keyring.backends.SecretService.Keyring" in keyring_line
