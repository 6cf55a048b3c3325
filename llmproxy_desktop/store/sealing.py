"""Sealing `Secret` leaves of item data for JSONB, and unsealing them again.

Sealed form of one secret: ``{"$secret": <Fernet token>, "kid": <data key id>}``. The key id lets a
rotation re-encrypt exactly what the old key sealed and lets a stale session fail clearly instead
of writing values under a key that no longer exists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from ..core.items import JSONValue, Secret
from ..core.secrets import map_secrets
from .errors import ReservedKeyInData, UnstorableValue, VaultKeyMismatch, VaultLocked
from .vault import UnlockedVault

SECRET_TAG: Final = "$secret"  # noqa: S105 - a JSON tag, not a password
KEY_ID_TAG: Final = "kid"
# Used to pick candidate rows in SQL (text search on the JSONB): how every sealed value begins.
SEALED_MARKER: Final = f'"{SECRET_TAG}"'


def _is_sealed(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {SECRET_TAG, KEY_ID_TAG}


def _check_storable(data: JSONValue) -> None:
    """Refuse, with a typed error naming only the place, what JSONB cannot hold or what would
    change meaning on the way: the sealing tag, non-text keys, NaN/Infinity, NUL characters and
    non-JSON values. Iterative, so deep data cannot overflow the stack."""
    stack: list[tuple[str, JSONValue]] = [("", data)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, Mapping):
            # A user mapping shaped like a sealed value would be "unsealed" into a Secret on read.
            if SECRET_TAG in node:
                raise ReservedKeyInData(SECRET_TAG)
            for key, value in node.items():
                if not isinstance(key, str):
                    raise UnstorableValue(where, "mapping keys must be text")
                stack.append((f"{where}.{key}" if where else key, value))
        elif isinstance(node, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(node))
        elif isinstance(node, str):
            if "\x00" in node:
                raise UnstorableValue(where, "text with a NUL character")
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise UnstorableValue(where, "not a finite number")
        elif node is not None and not isinstance(node, bool | int | Secret):
            raise UnstorableValue(where, f"a {type(node).__name__} is not JSON")


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
    _check_storable(data)

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
