"""The credential vault: secrets encrypted at rest under a data key wrapped by the passphrase.

Design (envelope encryption):

* Each secret is a Fernet token under a random **data key** (`Fernet.generate_key`).
* The data key is stored only **wrapped**: AES-256-GCM under a **key-encryption key** (KEK)
  derived from the stack's vault passphrase with Argon2id (random 16-byte salt). Salt, Argon2
  parameters, key id and the wrapped key form a `VaultRecord`, which the database stores.
* Changing the passphrase (`rewrap`) re-wraps the same data key, so no token is re-encrypted.
  Rotating the data key (`new_data_key`) makes a fresh key with the next `key_id`; re-encrypting
  the tokens is the caller's job (decrypt with the old vault, encrypt with the new one).

Wrapped-key format, version 1 (69 bytes)::

    version (1) | nonce (12) | AES-GCM ciphertext of the 32 raw key bytes + tag (48) | check (8)

The GCM associated data binds the salt, the Argon2 parameters and the key id, so none of them can
be swapped without detection. `check` is an *unkeyed* SHA-256 digest over the public fields; it is
no security control (anyone can recompute it), it only lets `unlock` tell an accidentally damaged
or edited record (`DamagedVaultRecord`) apart from a wrong passphrase (`WrongPassphrase`), which
GCM alone cannot. Passphrases are NFC-normalised before hashing so that the same typed passphrase
unlocks on every OS (macOS input methods may produce decomposed accents).

This module is pure: no database, no files, no logging, no clock. Secret values, passphrases and
key material never appear in a repr/str or in an exception's message/args; exceptions raised here
carry no chained exception whose args could hold them either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DEFAULT_MEMORY_COST",
    "DEFAULT_PARALLELISM",
    "DEFAULT_TIME_COST",
    "DamagedVaultRecord",
    "EmptyPassphrase",
    "UnlockedVault",
    "VaultError",
    "VaultRecord",
    "WrongPassphrase",
    "create_vault",
    "new_data_key",
    "rewrap",
    "unlock",
]

# RFC 9106, section 4, second recommended option (t=3, m=64 MiB, p=4) for memory-constrained use.
DEFAULT_TIME_COST: Final = 3
DEFAULT_MEMORY_COST: Final = 65536  # KiB
DEFAULT_PARALLELISM: Final = 4

SALT_LEN: Final = 16
KEK_LEN: Final = 32  # AES-256
_DATA_KEY_LEN: Final = 32  # raw bytes behind a Fernet key (16 signing + 16 encryption)
_NONCE_LEN: Final = 12
_TAG_LEN: Final = 16
_CHECK_LEN: Final = 8
_FORMAT_V1: Final = 1
WRAPPED_KEY_LEN: Final = 1 + _NONCE_LEN + _DATA_KEY_LEN + _TAG_LEN + _CHECK_LEN

# Sanity bounds, not a strength policy: they stop a tampered or corrupt record from making unlock
# hang for hours, exhaust memory, or spawn thousands of threads. The worst accepted case
# (16 passes over 1 GiB) still finishes in well under a minute on a laptop.
MAX_TIME_COST: Final = 16
MAX_MEMORY_COST: Final = 1024 * 1024  # KiB = 1 GiB
MAX_PARALLELISM: Final = 16
# Fits a Postgres `integer` column, whatever the database side chooses.
MAX_KEY_ID: Final = 2**31 - 1

_AAD_DOMAIN: Final = b"llmproxy-desktop/vault/wrap/v1"
_CHECK_DOMAIN: Final = b"llmproxy-desktop/vault/check/v1"
_RECORD_FIELDS: Final = frozenset(
    {"salt", "time_cost", "memory_cost", "parallelism", "wrapped_key", "key_id"}
)


class VaultError(Exception):
    """Anything the vault refuses. Messages are sentences for a human and never hold secrets."""


_MSG_WRONG: Final = (
    "The vault passphrase is wrong: it does not unlock this stack's credential vault. "
    "Check for typos, Caps Lock and the keyboard layout. If the passphrase is lost, the "
    "stored secrets cannot be recovered and must be entered again."
)
_MSG_EMPTY: Final = (
    "The vault passphrase is empty. Enter the stack's vault passphrase (a new vault "
    "needs a passphrase that is not blank)."
)


class WrongPassphrase(VaultError):
    """The passphrase does not unlock this vault record."""

    # The message has a default (instead of no argument) so the exception still unpickles,
    # e.g. when a worker process reports it.
    def __init__(self, message: str = _MSG_WRONG) -> None:
        super().__init__(message)


class EmptyPassphrase(VaultError):
    """The passphrase is empty or only whitespace."""

    def __init__(self, message: str = _MSG_EMPTY) -> None:
        super().__init__(message)


class DamagedVaultRecord(VaultError):
    """The stored vault record is malformed, out of bounds or was altered.

    `problem` says what is wrong in terms of fields and sizes; it never quotes stored bytes.
    """

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"The stored vault record is damaged or was altered ({problem}). The passphrase was "
            "not checked. Restore the vault record from a backup of the Master database."
        )

    def __reduce__(self) -> tuple[type[DamagedVaultRecord], tuple[str]]:
        # Rebuild from the problem, not the full message, so unpickling does not nest it.
        return (type(self), (self.problem,))


def _argon2_problem(time_cost: object, memory_cost: object, parallelism: object) -> str | None:
    """Why these Argon2 parameters are unusable, or None when they are fine."""
    for name, value, low, high in (
        ("time_cost", time_cost, 1, MAX_TIME_COST),
        ("parallelism", parallelism, 1, MAX_PARALLELISM),
        ("memory_cost", memory_cost, 1, MAX_MEMORY_COST),
    ):
        # bool is an int subclass; True as a cost is a bug, not a parameter.
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{name} must be an integer, not {type(value).__name__}"
        if not low <= value <= high:
            return f"{name} must be between {low} and {high}, got {value}"
    # Argon2 itself needs at least 8 KiB per lane. (The isinstance checks only narrow the types.)
    if (
        isinstance(memory_cost, int)
        and isinstance(parallelism, int)
        and memory_cost < 8 * parallelism
    ):
        minimum = 8 * parallelism
        return f"memory_cost must be at least 8 KiB per lane ({minimum}), got {memory_cost}"
    return None


@dataclass(frozen=True)
class VaultRecord:
    """What the database stores for one stack's vault. Holds no secret in the clear.

    `wrapped_key` is the data key encrypted under the passphrase-derived KEK; with the salt and
    parameters it is enough for an offline guessing attack on the passphrase, so repr shows only
    sizes (a record dumped into a log or bug report gives nothing away). Every instance is checked
    on construction: a record read from a damaged or edited database raises `DamagedVaultRecord`
    before any expensive key derivation is attempted.
    """

    salt: bytes
    time_cost: int
    memory_cost: int
    parallelism: int
    wrapped_key: bytes
    key_id: int

    def __post_init__(self) -> None:
        problem = _argon2_problem(self.time_cost, self.memory_cost, self.parallelism)
        if problem is not None:
            raise DamagedVaultRecord(problem)
        if not isinstance(self.salt, bytes) or len(self.salt) != SALT_LEN:
            raise DamagedVaultRecord(f"salt must be {SALT_LEN} bytes")
        if not isinstance(self.wrapped_key, bytes) or len(self.wrapped_key) != WRAPPED_KEY_LEN:
            raise DamagedVaultRecord(f"wrapped key must be {WRAPPED_KEY_LEN} bytes")
        if self.wrapped_key[0] != _FORMAT_V1:
            raise DamagedVaultRecord(f"unknown wrapped-key format {self.wrapped_key[0]}")
        if (
            not isinstance(self.key_id, int)
            or isinstance(self.key_id, bool)
            or not 1 <= self.key_id <= MAX_KEY_ID
        ):
            raise DamagedVaultRecord(f"key_id must be an integer between 1 and {MAX_KEY_ID}")

    def __repr__(self) -> str:
        return (
            f"VaultRecord(key_id={self.key_id}, time_cost={self.time_cost}, "
            f"memory_cost={self.memory_cost}, parallelism={self.parallelism}, "
            f"salt=<{len(self.salt)} bytes>, wrapped_key=<{len(self.wrapped_key)} bytes>)"
        )

    def to_dict(self) -> dict[str, int | str]:
        """JSON-ready form: bytes as standard base64 text, keys named like the fields/columns."""
        return {
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "time_cost": self.time_cost,
            "memory_cost": self.memory_cost,
            "parallelism": self.parallelism,
            "wrapped_key": base64.b64encode(self.wrapped_key).decode("ascii"),
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VaultRecord:
        """Inverse of `to_dict`. Strict: missing/unknown keys or bad base64 → DamagedVaultRecord."""
        if not isinstance(data, Mapping):
            raise DamagedVaultRecord("expected a mapping")
        keys = set(data)
        if keys != _RECORD_FIELDS:
            missing = ", ".join(sorted(_RECORD_FIELDS - keys)) or "none"
            unknown = ", ".join(sorted(str(k) for k in keys - _RECORD_FIELDS)) or "none"
            raise DamagedVaultRecord(f"missing fields: {missing}; unknown fields: {unknown}")
        return cls(
            salt=_b64_field(data["salt"], "salt"),
            time_cost=data["time_cost"],
            memory_cost=data["memory_cost"],
            parallelism=data["parallelism"],
            wrapped_key=_b64_field(data["wrapped_key"], "wrapped_key"),
            key_id=data["key_id"],
        )


def _b64_field(value: object, name: str) -> bytes:
    """Strictly decode one base64 text field of a stored record."""
    decoded: bytes | None = None
    if isinstance(value, str):
        try:
            decoded = base64.b64decode(value.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error):
            decoded = None
    # Raised outside the except block so no decoder exception is chained onto ours.
    if decoded is None:
        raise DamagedVaultRecord(f"{name} is not valid base64 text")
    return decoded


class UnlockedVault:
    """The data key in memory, able to encrypt and decrypt secrets.

    Made by `create_vault`, `unlock` and `new_data_key`; not meant to be constructed directly.
    repr/str show only the key id. Pickling and copying are refused so the key cannot slip into a
    cache, a session file or a worker process by accident. (Python cannot wipe memory, so the key
    lives until the object is garbage collected; drop references when the vault is locked.)
    """

    __slots__ = ("_fernet", "_key_id")

    _fernet: Fernet
    _key_id: int

    def __init__(self, key_id: int, data_key: bytes) -> None:
        """`data_key` is a Fernet key (urlsafe base64 of 32 random bytes)."""
        self._key_id = key_id
        self._fernet = Fernet(data_key)

    @property
    def key_id(self) -> int:
        """Which data key this is; stored beside each token so rotation knows what to redo."""
        return self._key_id

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a secret; returns a Fernet token (ASCII text). Each call uses a fresh IV."""
        if not isinstance(plaintext, str):
            raise TypeError(f"plaintext must be str, not {type(plaintext).__name__}")
        data = _utf8(plaintext)
        if data is None:
            raise VaultError(
                "The secret cannot be stored: it contains characters that are not valid Unicode "
                "(unpaired surrogates)."
            )
        return self._fernet.encrypt(data).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made by `encrypt` with this data key; VaultError for anything else."""
        if not isinstance(token, str):
            raise TypeError(f"token must be str, not {type(token).__name__}")
        plaintext: str | None = None
        try:
            # Fernet lets a non-ASCII str escape as a bare ValueError; encode first.
            plaintext = self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (UnicodeError, InvalidToken):
            plaintext = None
        # Outside the except block: a UnicodeDecodeError holds the decrypted bytes in its args,
        # and a chained __context__ would carry them along with our error.
        if plaintext is None:
            raise VaultError(
                f"A stored secret could not be decrypted with the vault's data key "
                f"(key {self._key_id}): it was encrypted with another key or vault, or it is "
                "damaged."
            )
        return plaintext

    def __repr__(self) -> str:
        return f"UnlockedVault(key_id={self._key_id})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("An UnlockedVault holds a data key and cannot be pickled.")

    def __copy__(self) -> NoReturn:
        raise TypeError("An UnlockedVault holds a data key and cannot be copied.")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("An UnlockedVault holds a data key and cannot be copied.")


def _utf8(text: str) -> bytes | None:
    """UTF-8 bytes of `text`, or None if it holds lone surrogates.

    Returning None instead of letting UnicodeEncodeError propagate matters: that exception's args
    contain the whole string, i.e. the secret or passphrase.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _passphrase_bytes(passphrase: str) -> bytes:
    """Checked, NFC-normalised UTF-8 bytes of a passphrase."""
    if not isinstance(passphrase, str):
        raise TypeError(f"passphrase must be str, not {type(passphrase).__name__}")
    if not passphrase.strip():
        raise EmptyPassphrase()
    data = _utf8(unicodedata.normalize("NFC", passphrase))
    if data is None:
        raise VaultError(
            "The vault passphrase contains characters that are not valid Unicode (unpaired "
            "surrogates); enter it again."
        )
    return data


def _derive_kek(
    passphrase: bytes, salt: bytes, time_cost: int, memory_cost: int, parallelism: int
) -> bytes:
    """Argon2id(passphrase, salt) → 32-byte key-encryption key."""
    kek: bytes | None = None
    try:
        kek = hash_secret_raw(
            secret=passphrase,
            salt=salt,
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=KEK_LEN,
            type=Type.ID,
        )
    except HashingError:
        kek = None
    if kek is None:
        # Parameters are validated beforehand, so in practice this is memory exhaustion.
        raise VaultError(
            f"The vault key could not be derived: Argon2 failed with memory_cost={memory_cost} "
            "KiB (is the machine out of memory?)."
        )
    return kek


def _aad(salt: bytes, time_cost: int, memory_cost: int, parallelism: int, key_id: int) -> bytes:
    """GCM associated data: everything in the record that must not change independently."""
    return (
        _AAD_DOMAIN
        + bytes([_FORMAT_V1])
        + salt
        + struct.pack(">IIIQ", time_cost, memory_cost, parallelism, key_id)
    )


def _check_value(aad: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """Unkeyed damage check over public fields (see module docstring: not a security control)."""
    return hashlib.sha256(_CHECK_DOMAIN + aad + nonce + ciphertext).digest()[:_CHECK_LEN]


def _wrap(
    data_key: bytes,
    passphrase: bytes,
    *,
    time_cost: int,
    memory_cost: int,
    parallelism: int,
    key_id: int,
) -> VaultRecord:
    """Wrap a Fernet data key under a KEK from `passphrase` and a fresh salt."""
    salt = os.urandom(SALT_LEN)
    kek = _derive_kek(passphrase, salt, time_cost, memory_cost, parallelism)
    aad = _aad(salt, time_cost, memory_cost, parallelism, key_id)
    # A fresh random salt gives a fresh KEK for every wrap, so each GCM key encrypts exactly one
    # message and a random nonce cannot collide.
    nonce = os.urandom(_NONCE_LEN)
    ciphertext = AESGCM(kek).encrypt(nonce, base64.urlsafe_b64decode(data_key), aad)
    wrapped = bytes([_FORMAT_V1]) + nonce + ciphertext + _check_value(aad, nonce, ciphertext)
    return VaultRecord(
        salt=salt,
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        wrapped_key=wrapped,
        key_id=key_id,
    )


def _unwrap(record: VaultRecord, passphrase: bytes) -> bytes:
    """The Fernet data key inside `record`; DamagedVaultRecord or WrongPassphrase otherwise."""
    wrapped = record.wrapped_key
    nonce = wrapped[1 : 1 + _NONCE_LEN]
    ciphertext = wrapped[1 + _NONCE_LEN : -_CHECK_LEN]
    aad = _aad(record.salt, record.time_cost, record.memory_cost, record.parallelism, record.key_id)
    # Checked before the (slow) key derivation: a damaged record is reported as such, instantly.
    if _check_value(aad, nonce, ciphertext) != wrapped[-_CHECK_LEN:]:
        raise DamagedVaultRecord("integrity check failed")
    kek = _derive_kek(
        passphrase, record.salt, record.time_cost, record.memory_cost, record.parallelism
    )
    raw: bytes | None = None
    try:
        raw = AESGCM(kek).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raw = None
    if raw is None:
        raise WrongPassphrase()
    return base64.urlsafe_b64encode(raw)


def create_vault(
    passphrase: str,
    *,
    time_cost: int = DEFAULT_TIME_COST,
    memory_cost: int = DEFAULT_MEMORY_COST,
    parallelism: int = DEFAULT_PARALLELISM,
) -> tuple[VaultRecord, UnlockedVault]:
    """Make a new vault: a random data key (key_id 1) wrapped under `passphrase`.

    Returns the record to store and the vault, already unlocked. Raises EmptyPassphrase for a
    blank passphrase and VaultError for Argon2 parameters outside the sanity bounds.
    """
    secret = _passphrase_bytes(passphrase)
    problem = _argon2_problem(time_cost, memory_cost, parallelism)
    if problem is not None:
        raise VaultError(f"Invalid Argon2 parameters for a new vault: {problem}.")
    data_key = Fernet.generate_key()
    record = _wrap(
        data_key,
        secret,
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        key_id=1,
    )
    return record, UnlockedVault(record.key_id, data_key)


def unlock(record: VaultRecord, passphrase: str) -> UnlockedVault:
    """Unlock a stored vault. WrongPassphrase on mismatch, DamagedVaultRecord if it was altered."""
    return UnlockedVault(record.key_id, _unwrap(record, _passphrase_bytes(passphrase)))


def rewrap(record: VaultRecord, old: str, new: str) -> VaultRecord:
    """Change the passphrase: the same data key under a fresh salt and a KEK from `new`.

    Tokens stay valid (no re-encryption). Argon2 parameters and key_id are kept. Pure function:
    on WrongPassphrase (old is wrong) or any other error, the caller's record is simply unchanged.
    """
    old_secret = _passphrase_bytes(old)
    new_secret = _passphrase_bytes(new)
    data_key = _unwrap(record, old_secret)
    return _wrap(
        data_key,
        new_secret,
        time_cost=record.time_cost,
        memory_cost=record.memory_cost,
        parallelism=record.parallelism,
        key_id=record.key_id,
    )


def new_data_key(record: VaultRecord, passphrase: str) -> tuple[VaultRecord, UnlockedVault]:
    """Rotate the data key: a fresh random key, key_id + 1, same parameters, fresh salt.

    The passphrase must unlock `record` (WrongPassphrase otherwise). Old tokens do not decrypt
    under the new vault: keep the old record until every token is re-encrypted.
    """
    secret = _passphrase_bytes(passphrase)
    _unwrap(record, secret)  # proves the passphrase; the old key itself is not needed
    if record.key_id >= MAX_KEY_ID:
        raise VaultError(f"The vault's key id cannot go beyond {MAX_KEY_ID}.")
    data_key = Fernet.generate_key()
    new_record = _wrap(
        data_key,
        secret,
        time_cost=record.time_cost,
        memory_cost=record.memory_cost,
        parallelism=record.parallelism,
        key_id=record.key_id + 1,
    )
    return new_record, UnlockedVault(new_record.key_id, data_key)
