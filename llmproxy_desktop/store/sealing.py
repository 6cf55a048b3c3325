"""Sealing `Secret` leaves of item data for JSONB, and unsealing them again.

Sealed form of one secret: ``{"$secret": <Fernet token>, "kid": <data key id>}``. The key id lets a
rotation re-encrypt exactly what the old key sealed and lets a stale session fail clearly instead
of writing values under a key that no longer exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..core.items import JSONValue, Secret
from ..core.secrets import map_secrets
from .errors import ReservedKeyInData, VaultKeyMismatch, VaultLocked
from .vault import UnlockedVault

SECRET_TAG: Final = "$secret"  # noqa: S105 - a JSON tag, not a password
KEY_ID_TAG: Final = "kid"
# Used to pick candidate rows in SQL (text search on the JSONB): how every sealed value begins.
SEALED_MARKER: Final = f'"{SECRET_TAG}"'


def _is_sealed(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {SECRET_TAG, KEY_ID_TAG}


def _check_reserved(data: JSONValue) -> None:
    # A user mapping shaped like a sealed value would be "unsealed" into a Secret on read, so the
    # tag is refused on write rather than silently changing meaning.
    if isinstance(data, Mapping):
        if SECRET_TAG in data:
            raise ReservedKeyInData(SECRET_TAG)
        for v in data.values():
            _check_reserved(v)
    elif isinstance(data, list):
        for v in data:
            _check_reserved(v)


def contains_secret(data: JSONValue) -> bool:
    """True when `data` holds at least one Secret leaf."""
    found = False

    def note(_s: Secret) -> JSONValue:
        nonlocal found
        found = True
        return None

    map_secrets(data, note)
    return found


def seal(data: JSONValue, vault: UnlockedVault | None) -> JSONValue:
    """Copy of `data` with every Secret encrypted; JSON-serialisable.

    Data without secrets needs no vault. Raises VaultLocked when there is a Secret but no vault,
    ReservedKeyInData when the data itself uses the sealing tag.
    """
    _check_reserved(data)

    def encrypt(secret: Secret) -> JSONValue:
        if vault is None:
            raise VaultLocked()
        return {SECRET_TAG: vault.encrypt(secret.reveal()), KEY_ID_TAG: vault.key_id}

    return map_secrets(data, encrypt)


def unseal(data: JSONValue, vault: UnlockedVault | None) -> JSONValue:
    """Copy of stored `data` with every sealed value decrypted back into a Secret.

    Raises VaultLocked when sealed values exist but no vault is given, VaultKeyMismatch when they
    were sealed with another data key, VaultError when a token is damaged.
    """
    if _is_sealed(data):
        if vault is None:
            raise VaultLocked()
        kid = data[KEY_ID_TAG]
        if kid != vault.key_id:
            raise VaultKeyMismatch(kid, vault.key_id)
        return Secret(vault.decrypt(data[SECRET_TAG]))
    if isinstance(data, Mapping):
        return {k: unseal(v, vault) for k, v in data.items()}
    if isinstance(data, list):
        return [unseal(v, vault) for v in data]
    return data


def reseal(data: JSONValue, old: UnlockedVault, new: UnlockedVault) -> JSONValue:
    """Stored `data` with every value sealed by `old` re-encrypted under `new` (key rotation)."""
    return seal(unseal(data, old), new)


def is_sealed_data(data: JSONValue) -> bool:
    """True when stored `data` contains at least one sealed value."""
    if _is_sealed(data):
        return True
    if isinstance(data, Mapping):
        return any(is_sealed_data(v) for v in data.values())
    if isinstance(data, list):
        return any(is_sealed_data(v) for v in data)
    return False
