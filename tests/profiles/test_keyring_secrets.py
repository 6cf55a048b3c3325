"""Keyring secrets: one entry per stack and kind, saved only to a safe store, refused (with a
plain sentence) on the fail, null, plaintext and low-priority backends, and never echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import pytest

from llmproxy_desktop.remote.errors import Layer
from llmproxy_desktop.remote.keyring_secrets import (
    SERVICE,
    KeyringError,
    KeyringSecrets,
    KeyringUnsafe,
    keyring_status,
)
from llmproxy_desktop.remote.profiles import SecretKind

from .fake_keyrings import (
    LockedKeyring,
    MemoryKeyring,
    PlaintextFileKeyring,
    UnavailableKeyring,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ASK_EACH_TIME = "Secrets cannot be saved safely; the app will ask for them each time."


def _named_like_keyrings_alt(priority: float) -> MemoryKeyring:
    """A backend from the keyrings.alt package (by name) that even claims a high priority."""
    cls = type("PlaintextKeyring", (MemoryKeyring,), {"priority": priority})
    cls.__module__ = "keyrings.alt.file"
    backend: MemoryKeyring = cls()
    return backend


def test_save_get_and_forget_one_stack(memory_keyring: MemoryKeyring) -> None:
    secrets = KeyringSecrets()
    secrets.save("prod", SecretKind.DB_PASSWORD, "db-secret")
    secrets.save("prod", SecretKind.LITELLM_MASTER_KEY, "sk-master")
    secrets.save("staging", SecretKind.DB_PASSWORD, "other-db-secret")

    assert memory_keyring.entries[(SERVICE, "prod:db-password")] == "db-secret"
    assert secrets.get("prod", SecretKind.LITELLM_MASTER_KEY) == "sk-master"
    assert secrets.get("prod", SecretKind.VAULT_PASSPHRASE) is None
    assert secrets.saved_kinds("prod") == (SecretKind.DB_PASSWORD, SecretKind.LITELLM_MASTER_KEY)

    forgotten = secrets.forget_stack("prod")

    assert set(forgotten) == {SecretKind.DB_PASSWORD, SecretKind.LITELLM_MASTER_KEY}
    assert secrets.get("prod", SecretKind.DB_PASSWORD) is None
    assert secrets.get("staging", SecretKind.DB_PASSWORD) == "other-db-secret"
    assert secrets.forget_stack("prod") == ()


def test_stack_names_with_colons_cannot_reach_another_stacks_entries() -> None:
    secrets = KeyringSecrets()
    secrets.save("a", SecretKind.DB_PASSWORD, "of-a")
    secrets.save("a:db-password", SecretKind.DB_PASSWORD, "of-the-other")
    secrets.forget_stack("a:db-password")
    assert secrets.get("a", SecretKind.DB_PASSWORD) == "of-a"


def test_an_empty_value_is_not_saved() -> None:
    with pytest.raises(KeyringError, match="empty"):
        KeyringSecrets().save("prod", SecretKind.DB_PASSWORD, "")


def test_a_safe_backend_is_named_in_the_status() -> None:
    status = keyring_status(MemoryKeyring())
    assert status.secure
    assert status.backend_name == "tests.profiles.fake_keyrings.MemoryKeyring"
    assert status.backend_name in status.message


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (keyring.backends.fail.Keyring(), "No system keyring is available"),
        (keyring.backends.null.Keyring(), "discards everything"),
        (PlaintextFileKeyring(), "not a recommended secure store"),
        (_named_like_keyrings_alt(priority=2), "keeps secrets in a plain file"),
        (UnavailableKeyring(), "not usable here"),
    ],
    ids=["fail", "null", "priority-below-1", "keyrings.alt", "priority-raises"],
)
def test_unsafe_backends_refuse_to_save_and_say_so_plainly(
    backend: object, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext_file = tmp_path / "plaintext.json"
    monkeypatch.setenv("FAKE_PLAINTEXT_FILE", str(plaintext_file))
    secrets = KeyringSecrets(backend)

    status = secrets.status()
    assert not status.secure
    assert reason in status.message and ASK_EACH_TIME in status.message
    with pytest.raises(KeyringUnsafe) as caught:
        secrets.save("prod", SecretKind.SSH_PASSWORD, "hunter2-unsaved")
    assert caught.value.layer is Layer.KEYRING
    assert ASK_EACH_TIME in str(caught.value)
    assert "hunter2" not in str(caught.value)
    # Nothing is read from an unsafe store either, and nothing was written to it.
    assert secrets.get("prod", SecretKind.SSH_PASSWORD) is None
    assert not plaintext_file.exists()
    with pytest.raises(KeyringUnsafe):
        secrets.forget_stack("prod")


def test_a_chain_uses_its_safe_member_and_never_the_plaintext_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext_file = tmp_path / "plaintext.json"
    monkeypatch.setenv("FAKE_PLAINTEXT_FILE", str(plaintext_file))
    safe, plaintext = MemoryKeyring(), PlaintextFileKeyring()
    plaintext.set_password(SERVICE, "prod:db-password", "left-by-someone")
    chain = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(
        keyring.backends.chainer.ChainerBackend, "backends", [plaintext, safe], raising=False
    )
    secrets = KeyringSecrets(chain)

    assert secrets.status().secure
    assert "MemoryKeyring" in secrets.status().backend_name
    assert secrets.get("prod", SecretKind.DB_PASSWORD) is None  # the plaintext copy is ignored
    secrets.save("prod", SecretKind.VAULT_PASSPHRASE, "vault-pp")
    assert safe.entries == {(SERVICE, "prod:vault-passphrase"): "vault-pp"}
    assert "vault-pp" not in plaintext_file.read_text()


def test_a_chain_of_only_unsafe_members_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(
        keyring.backends.chainer.ChainerBackend,
        "backends",
        [PlaintextFileKeyring()],
        raising=False,
    )
    assert not KeyringSecrets(chain).status().secure


def test_keyring_failures_are_keyring_errors_without_the_secret() -> None:
    secrets = KeyringSecrets(LockedKeyring())
    with pytest.raises(KeyringError) as caught:
        secrets.save("prod", SecretKind.SSH_KEY_PASSPHRASE, "hunter2-echoed")
    message = str(caught.value)
    assert caught.value.layer is Layer.KEYRING
    assert "hunter2" not in message and "***" in message and "KeyringLocked" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(KeyringError, match="locked"):
        secrets.get("prod", SecretKind.SSH_KEY_PASSPHRASE)


def test_the_fail_backend_chosen_by_environment_refuses_in_a_real_process(
    tmp_path: Path,
) -> None:
    probe = (
        "from llmproxy_desktop.remote.keyring_secrets import KeyringSecrets, KeyringUnsafe\n"
        "from llmproxy_desktop.remote.profiles import SecretKind\n"
        "secrets = KeyringSecrets()\n"
        "print(secrets.status().backend_name)\n"
        "try:\n"
        "    secrets.save('prod', SecretKind.DB_PASSWORD, 'never-written')\n"
        "except KeyringUnsafe as exc:\n"
        "    print(exc)\n"
    )
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    )
    backend, refusal = done.stdout.splitlines()
    assert backend == "keyring.backends.fail.Keyring"
    assert refusal.startswith("[keyring] Not saved: No system keyring is available")
    assert ASK_EACH_TIME in refusal
