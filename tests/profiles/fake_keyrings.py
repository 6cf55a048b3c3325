"""Keyring backends for tests, standing in for the kinds the app must tell apart: a safe OS
store, a plaintext file store (what keyrings.alt installs), and a store that fails.

All are `viable = False`, so keyring's own discovery never picks one up: a test selects them
explicitly, with `keyring.set_keyring(...)` or
PYTHON_KEYRING_BACKEND=tests.profiles.fake_keyrings.<class>.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A safe store held in memory (priority like an OS keyring)."""

    priority = 5
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


class PlaintextFileKeyring(KeyringBackend):
    """Like keyrings.alt's PlaintextKeyring: writes secrets readably into a file (the path in
    FAKE_PLAINTEXT_FILE, so a test can check that nothing was ever written)."""

    priority = 0.5
    viable = False

    def _file(self) -> Path:
        return Path(os.environ.get("FAKE_PLAINTEXT_FILE", "plaintext-keyring.json"))

    def _load(self) -> dict[str, str]:
        path = self._file()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}/{username}"] = password
        self._file().write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        if entries.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self._file().write_text(json.dumps(entries))


class LockedKeyring(MemoryKeyring):
    """A safe store that refuses every call, echoing what it was given (a careless backend)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked(f"collection locked while reading {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"collection locked; could not store {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("collection locked")


class UnavailableKeyring(MemoryKeyring):
    """A backend whose priority raises, as keyring's do when their service is not running."""

    @classmethod
    def _unavailable(cls) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable")

    priority = property(lambda self: self._unavailable())
