"""The start-up self-check the window and `doctor` show: is the keyring safe to keep secrets in?"""

from __future__ import annotations

from ..remote.keyring_secrets import KeyringStatus, keyring_status


def startup_self_check() -> KeyringStatus:
    """Name the active keyring backend and say plainly when secrets cannot be saved safely
    (fail or plaintext backend): the app then asks for them each time instead."""
    return keyring_status()
