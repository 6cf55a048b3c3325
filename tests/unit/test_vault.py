"""The credential vault: envelope encryption, passphrase changes, key rotation, no leaks.

Most tests use tiny Argon2 parameters (1 MiB, one pass) so the suite stays fast; one test runs the
shipped defaults end to end.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import pickle
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2.low_level import hash_secret_raw
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from llmproxy_desktop.store import vault as vault_mod
from llmproxy_desktop.store.vault import (
    DEFAULT_MEMORY_COST,
    DEFAULT_PARALLELISM,
    DEFAULT_TIME_COST,
    MAX_KEY_ID,
    DamagedVaultRecord,
    EmptyPassphrase,
    UnlockedVault,
    VaultError,
    VaultRecord,
    WrongPassphrase,
    create_vault,
    new_data_key,
    rewrap,
    unlock,
)

FAST: dict[str, int] = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
PASSPHRASE = "correct horse battery staple ✓"
NEW_PASSPHRASE = "tr0ub4dor&3 but longer"
WRONG_PASSPHRASE = "correct horse battery stapel ✓"  # a typo: as sensitive as the real one
SECRET = "sk-live-4f9c1e2d8b7a6f5e4d3c2b1a0f9e8d7c"


@pytest.fixture
def fast_vault() -> tuple[VaultRecord, UnlockedVault]:
    return create_vault(PASSPHRASE, **FAST)


@pytest.fixture(scope="module")
def shared_vault() -> UnlockedVault:
    # Module scope: Hypothesis rejects function-scoped fixtures in @given tests.
    return create_vault(PASSPHRASE, **FAST)[1]


def _flip(data: bytes, index: int) -> bytes:
    """`data` with one bit changed at `index` (negative counts from the end)."""
    flipped = bytearray(data)
    flipped[index] ^= 0x01
    return bytes(flipped)


def _reseal(record: VaultRecord, **changes: Any) -> VaultRecord:
    """Change fields AND recompute the unkeyed damage check, as a deliberate attacker would."""
    changed = dataclasses.replace(record, **changes)
    wrapped = changed.wrapped_key
    nonce, ciphertext = wrapped[1:13], wrapped[13:-8]
    aad = vault_mod._aad(
        changed.salt, changed.time_cost, changed.memory_cost, changed.parallelism, changed.key_id
    )
    resealed = wrapped[:-8] + vault_mod._check_value(aad, nonce, ciphertext)
    return dataclasses.replace(changed, wrapped_key=resealed)


# --- round trip and basics -------------------------------------------------------------------


def test_create_then_unlock_decrypts_what_the_created_vault_encrypted(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, vault = fast_vault
    token = vault.encrypt(SECRET)

    reopened = unlock(record, PASSPHRASE)

    assert reopened.decrypt(token) == SECRET
    assert vault.decrypt(reopened.encrypt(SECRET)) == SECRET
    assert record.key_id == vault.key_id == reopened.key_id == 1
    assert (record.time_cost, record.memory_cost, record.parallelism) == (1, 1024, 1)
    assert len(record.salt) == 16


def test_default_parameters_create_and_unlock_a_working_vault() -> None:
    record, vault = create_vault(PASSPHRASE)
    token = vault.encrypt(SECRET)

    assert (record.time_cost, record.memory_cost, record.parallelism) == (
        DEFAULT_TIME_COST,
        DEFAULT_MEMORY_COST,
        DEFAULT_PARALLELISM,
    )
    assert unlock(record, PASSPHRASE).decrypt(token) == SECRET
    with pytest.raises(WrongPassphrase):
        unlock(record, WRONG_PASSPHRASE)


def test_encrypt_gives_a_fresh_token_each_time(shared_vault: UnlockedVault) -> None:
    first, second = shared_vault.encrypt(SECRET), shared_vault.encrypt(SECRET)

    assert first != second
    assert SECRET not in first
    assert first.isascii()


def test_two_vaults_with_the_same_passphrase_share_no_salt_or_key() -> None:
    record_a, vault_a = create_vault(PASSPHRASE, **FAST)
    record_b, _vault_b = create_vault(PASSPHRASE, **FAST)

    assert record_a.salt != record_b.salt
    assert record_a.wrapped_key != record_b.wrapped_key
    with pytest.raises(VaultError):
        unlock(record_b, PASSPHRASE).decrypt(vault_a.encrypt(SECRET))


@settings(max_examples=300)
@given(st.text())
def test_decrypt_inverts_encrypt_for_any_text(shared_vault: UnlockedVault, text: str) -> None:
    assert shared_vault.decrypt(shared_vault.encrypt(text)) == text


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1).filter(str.strip))
def test_any_non_blank_passphrase_unlocks_its_own_vault(passphrase: str) -> None:
    record, vault = create_vault(passphrase, **FAST)

    assert unlock(record, passphrase).decrypt(vault.encrypt(SECRET)) == SECRET


def test_passphrase_unlocks_regardless_of_unicode_normalisation() -> None:
    composed, decomposed = "caf\u00e9 au lait", "cafe\u0301 au lait"
    record, vault = create_vault(composed, **FAST)

    assert unlock(record, decomposed).decrypt(vault.encrypt(SECRET)) == SECRET


def test_passphrase_whitespace_is_significant() -> None:
    record, _ = create_vault(PASSPHRASE, **FAST)

    with pytest.raises(WrongPassphrase):
        unlock(record, PASSPHRASE + " ")


# --- wrong and empty passphrases ---------------------------------------------------------------


def test_wrong_passphrase_raises_and_leaves_record_and_vault_working(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, vault = fast_vault
    token = vault.encrypt(SECRET)
    before = record.to_dict()

    with pytest.raises(WrongPassphrase, match="vault passphrase is wrong"):
        unlock(record, WRONG_PASSPHRASE)

    assert record.to_dict() == before
    assert unlock(record, PASSPHRASE).decrypt(token) == SECRET


@pytest.mark.parametrize("blank", ["", " ", "\t\n "])
def test_blank_passphrase_is_refused_everywhere(
    fast_vault: tuple[VaultRecord, UnlockedVault], blank: str
) -> None:
    record, _ = fast_vault

    with pytest.raises(EmptyPassphrase, match="passphrase is empty"):
        create_vault(blank, **FAST)
    with pytest.raises(EmptyPassphrase):
        unlock(record, blank)
    with pytest.raises(EmptyPassphrase):
        rewrap(record, PASSPHRASE, blank)
    with pytest.raises(EmptyPassphrase):
        rewrap(record, blank, NEW_PASSPHRASE)
    with pytest.raises(EmptyPassphrase):
        new_data_key(record, blank)


def test_non_text_passphrase_is_a_type_error(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, _ = fast_vault

    with pytest.raises(TypeError, match="passphrase must be str"):
        unlock(record, PASSPHRASE.encode())  # type: ignore[arg-type]


# --- rewrap (passphrase change) ----------------------------------------------------------------


def test_rewrap_keeps_old_tokens_readable_under_the_new_passphrase_only(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, vault = fast_vault
    token = vault.encrypt(SECRET)

    rewrapped = rewrap(record, PASSPHRASE, NEW_PASSPHRASE)

    assert unlock(rewrapped, NEW_PASSPHRASE).decrypt(token) == SECRET
    with pytest.raises(WrongPassphrase):
        unlock(rewrapped, PASSPHRASE)
    assert rewrapped.key_id == record.key_id
    assert (rewrapped.time_cost, rewrapped.memory_cost, rewrapped.parallelism) == (
        record.time_cost,
        record.memory_cost,
        record.parallelism,
    )
    assert rewrapped.salt != record.salt
    assert rewrapped.wrapped_key != record.wrapped_key
    # The old record is a value: it still unlocks with the old passphrase.
    assert unlock(record, PASSPHRASE).decrypt(token) == SECRET


def test_rewrap_with_wrong_old_passphrase_raises_and_changes_nothing(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, vault = fast_vault
    token = vault.encrypt(SECRET)
    before = record.to_dict()

    with pytest.raises(WrongPassphrase):
        rewrap(record, WRONG_PASSPHRASE, NEW_PASSPHRASE)

    assert record.to_dict() == before
    assert unlock(record, PASSPHRASE).decrypt(token) == SECRET


# --- new_data_key (rotation) -------------------------------------------------------------------


def test_new_data_key_is_a_different_key_with_the_next_id(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, old_vault = fast_vault
    old_token = old_vault.encrypt(SECRET)

    new_record, new_vault = new_data_key(record, PASSPHRASE)
    new_token = new_vault.encrypt(SECRET)

    assert new_record.key_id == new_vault.key_id == record.key_id + 1
    assert new_record.salt != record.salt
    assert (new_record.time_cost, new_record.memory_cost, new_record.parallelism) == (
        record.time_cost,
        record.memory_cost,
        record.parallelism,
    )
    with pytest.raises(VaultError, match=r"key 2"):
        new_vault.decrypt(old_token)
    with pytest.raises(VaultError, match=r"key 1"):
        old_vault.decrypt(new_token)
    assert unlock(new_record, PASSPHRASE).decrypt(new_token) == SECRET
    assert unlock(record, PASSPHRASE).decrypt(old_token) == SECRET


def test_new_data_key_with_wrong_passphrase_raises(
    fast_vault: tuple[VaultRecord, UnlockedVault],
) -> None:
    record, _ = fast_vault

    with pytest.raises(WrongPassphrase):
        new_data_key(record, WRONG_PASSPHRASE)


def test_new_data_key_refuses_to_overflow_the_key_id() -> None:
    # A record at the last id is legitimately sealed by the private wrapper.
    record = vault_mod._wrap(Fernet.generate_key(), PASSPHRASE.encode(), key_id=MAX_KEY_ID, **FAST)

    with pytest.raises(VaultError, match="key id cannot go beyond"):
        new_data_key(record, PASSPHRASE)


# --- damaged, tampered and absurd records ------------------------------------------------------


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts key derivations, to prove damage is caught before the expensive step."""
    calls: list[int] = []
    real = hash_secret_raw

    def counting(**kwargs: Any) -> bytes:
        calls.append(kwargs["memory_cost"])
        return real(**kwargs)

    monkeypatch.setattr(vault_mod, "hash_secret_raw", counting)
    return calls


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: dataclasses.replace(r, salt=_flip(r.salt, 0)), id="salt"),
        pytest.param(
            lambda r: dataclasses.replace(r, wrapped_key=_flip(r.wrapped_key, 20)), id="ciphertext"
        ),
        pytest.param(
            lambda r: dataclasses.replace(r, wrapped_key=_flip(r.wrapped_key, 5)), id="nonce"
        ),
        pytest.param(
            lambda r: dataclasses.replace(r, wrapped_key=_flip(r.wrapped_key, -1)), id="check"
        ),
        pytest.param(lambda r: dataclasses.replace(r, key_id=r.key_id + 1), id="key_id"),
        pytest.param(lambda r: dataclasses.replace(r, time_cost=2), id="time_cost"),
        pytest.param(lambda r: dataclasses.replace(r, memory_cost=2048), id="memory_cost"),
    ],
)
def test_altered_record_is_reported_as_damaged_without_deriving_a_key(
    fast_vault: tuple[VaultRecord, UnlockedVault],
    argon2_calls: list[int],
    tamper: Callable[[VaultRecord], VaultRecord],
) -> None:
    record, _ = fast_vault
    tampered = tamper(record)

    with pytest.raises(DamagedVaultRecord, match="damaged or was altered"):
        unlock(tampered, PASSPHRASE)
    with pytest.raises(DamagedVaultRecord):
        rewrap(tampered, PASSPHRASE, NEW_PASSPHRASE)
    with pytest.raises(DamagedVaultRecord):
        new_data_key(tampered, PASSPHRASE)
    assert argon2_calls == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"key_id": 7}, id="key_id"),
        pytest.param({"time_cost": 2}, id="time_cost"),
        pytest.param({"salt": bytes(16)}, id="salt"),
    ],
)
def test_deliberately_resealed_record_still_fails_authentication(
    fast_vault: tuple[VaultRecord, UnlockedVault], changes: dict[str, Any]
) -> None:
    # Anyone can recompute the unkeyed damage check; GCM's associated data must still catch it.
    record, _ = fast_vault

    with pytest.raises(WrongPassphrase):
        unlock(_reseal(record, **changes), PASSPHRASE)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"time_cost": 10**9}, id="time_cost-huge"),
        pytest.param({"time_cost": 0}, id="time_cost-zero"),
        pytest.param({"time_cost": -3}, id="time_cost-negative"),
        pytest.param({"time_cost": True}, id="time_cost-bool"),
        pytest.param({"time_cost": "3"}, id="time_cost-str"),
        pytest.param({"memory_cost": 2**40}, id="memory_cost-huge"),
        pytest.param({"memory_cost": 7}, id="memory_cost-below-argon2-minimum"),
        pytest.param({"memory_cost": 1024.0}, id="memory_cost-float"),
        pytest.param({"parallelism": 0}, id="parallelism-zero"),
        pytest.param({"parallelism": 10**6}, id="parallelism-huge"),
        pytest.param({"salt": b"short"}, id="salt-short"),
        pytest.param({"salt": "a" * 16}, id="salt-str"),
        pytest.param({"key_id": 0}, id="key_id-zero"),
        pytest.param({"key_id": 2**63}, id="key_id-huge"),
        pytest.param({"key_id": None}, id="key_id-none"),
    ],
)
def test_absurd_record_fields_are_refused_on_construction(
    fast_vault: tuple[VaultRecord, UnlockedVault], changes: dict[str, Any]
) -> None:
    record, _ = fast_vault

    with pytest.raises(DamagedVaultRecord):
        dataclasses.replace(record, **changes)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda w: w[:-1], id="truncated"),
        pytest.param(lambda w: w + b"\x00", id="extended"),
        pytest.param(lambda w: b"\x02" + w[1:], id="unknown-format"),
        pytest.param(lambda w: b"", id="empty"),
    ],
)
def test_malformed_wrapped_key_is_refused_on_construction(
    fast_vault: tuple[VaultRecord, UnlockedVault], mangle: Callable[[bytes], bytes]
) -> None:
    record, _ = fast_vault

    with pytest.raises(DamagedVaultRecord, match="wrapped"):
        dataclasses.replace(record, wrapped_key=mangle(record.wrapped_key))


@pytest.mark.parametrize(
    "params",
    [
        {"time_cost": 10**9},
        {"time_cost": 0},
        {"memory_cost": 2**40},
        {"memory_cost": 15, "parallelism": 2},
        {"parallelism": 0},
        {"parallelism": 1000},
    ],
)
def test_create_vault_refuses_absurd_argon2_parameters(params: dict[str, int]) -> None:
    with pytest.raises(VaultError, match="Invalid Argon2 parameters") as caught:
        create_vault(PASSPHRASE, **{**FAST, **params})
    assert not isinstance(caught.value, DamagedVaultRecord)


# --- token errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param("", id="empty"),
        pytest.param("not a token", id="garbage"),
        pytest.param("gAAAAAB-naïve", id="non-ascii"),
        pytest.param("gAAAAA", id="short"),
    ],
)
def test_decrypt_refuses_garbage_with_a_vault_error(
    shared_vault: UnlockedVault, bad_token: str
) -> None:
    with pytest.raises(VaultError, match="could not be decrypted"):
        shared_vault.decrypt(bad_token)


def test_decrypt_refuses_a_token_with_one_changed_character(shared_vault: UnlockedVault) -> None:
    token = shared_vault.encrypt(SECRET)
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]

    with pytest.raises(VaultError):
        shared_vault.decrypt(altered)


def test_decrypt_refuses_a_foreign_token(shared_vault: UnlockedVault) -> None:
    _, other = create_vault(PASSPHRASE, **FAST)

    with pytest.raises(VaultError, match="another key or vault"):
        shared_vault.decrypt(other.encrypt(SECRET))


def test_non_text_plaintext_or_token_is_a_type_error(shared_vault: UnlockedVault) -> None:
    with pytest.raises(TypeError, match="plaintext must be str"):
        shared_vault.encrypt(SECRET.encode())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="token must be str"):
        shared_vault.decrypt(shared_vault.encrypt(SECRET).encode())  # type: ignore[arg-type]


# --- storage form ------------------------------------------------------------------------------


def test_record_survives_a_json_round_trip(fast_vault: tuple[VaultRecord, UnlockedVault]) -> None:
    record, vault = fast_vault
    token = vault.encrypt(SECRET)

    stored = json.dumps(record.to_dict())
    restored = VaultRecord.from_dict(json.loads(stored))

    assert restored == record
    assert set(record.to_dict()) == {f.name for f in dataclasses.fields(VaultRecord)}
    assert unlock(restored, PASSPHRASE).decrypt(token) == SECRET


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d.pop("salt"), id="missing-field"),
        pytest.param(lambda d: d.update(extra=1), id="unknown-field"),
        pytest.param(lambda d: d.update(salt="not base64!"), id="bad-base64"),
        pytest.param(lambda d: d.update(salt="ü" * 24), id="non-ascii-base64"),
        pytest.param(lambda d: d.update(wrapped_key=b"raw"), id="bytes-not-text"),
        pytest.param(lambda d: d.update(time_cost="1"), id="number-as-text"),
        pytest.param(lambda d: d.update(salt=d["salt"][:-4]), id="short-salt"),
    ],
)
def test_from_dict_refuses_malformed_input_as_damaged(
    fast_vault: tuple[VaultRecord, UnlockedVault], mutate: Callable[[dict[str, Any]], object]
) -> None:
    data: dict[str, Any] = dict(fast_vault[0].to_dict())
    mutate(data)

    with pytest.raises(DamagedVaultRecord):
        VaultRecord.from_dict(data)


def test_from_dict_refuses_a_non_mapping() -> None:
    with pytest.raises(DamagedVaultRecord, match="mapping"):
        VaultRecord.from_dict(["salt"])  # type: ignore[arg-type]


# --- no accidental copies, clean exceptions ------------------------------------------------------


def test_unlocked_vault_cannot_be_pickled_or_copied(shared_vault: UnlockedVault) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(shared_vault)
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.copy(shared_vault)
    with pytest.raises(TypeError, match="cannot be copied"):
        copy.deepcopy({"vault": shared_vault})
    with pytest.raises(AttributeError):
        shared_vault.key_id = 5  # type: ignore[misc]
    assert not hasattr(shared_vault, "__dict__")


def test_vault_exceptions_survive_pickling_with_their_message() -> None:
    for exc in (WrongPassphrase(), EmptyPassphrase(), DamagedVaultRecord("salt must be 16 bytes")):
        restored = pickle.loads(pickle.dumps(exc))
        assert type(restored) is type(exc)
        assert str(restored) == str(exc)


def test_record_repr_shows_sizes_not_bytes(fast_vault: tuple[VaultRecord, UnlockedVault]) -> None:
    record, _ = fast_vault

    text = repr(record)

    assert "salt=<16 bytes>" in text
    assert "wrapped_key=<69 bytes>" in text
    for blob in (record.salt, record.wrapped_key):
        assert base64.b64encode(blob).decode() not in text
        assert blob.hex() not in text
        assert repr(blob) not in text


# --- no secret, passphrase or key material leaks -----------------------------------------------


class KeySpy:
    """Records every data key and KEK the vault makes, to search for them in error output."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def forbidden(self) -> list[str]:
        """Every text form in which a secret, passphrase or key could show up."""
        texts = [SECRET, PASSPHRASE, NEW_PASSPHRASE, WRONG_PASSPHRASE]
        for key in self.keys:
            raw = base64.urlsafe_b64decode(key) if len(key) == 44 else key
            for blob in (key, raw):
                texts += [
                    blob.hex(),
                    base64.b64encode(blob).decode(),
                    base64.urlsafe_b64encode(blob).decode(),
                    repr(blob)[2:-1],
                ]
        return texts


@pytest.fixture
def key_spy(monkeypatch: pytest.MonkeyPatch) -> KeySpy:
    spy = KeySpy()
    real_hash, real_generate = hash_secret_raw, Fernet.generate_key

    def spying_hash(**kwargs: Any) -> bytes:
        kek = real_hash(**kwargs)
        spy.keys.append(kek)
        return kek

    def spying_generate() -> bytes:
        key = real_generate()
        spy.keys.append(key)
        return key

    monkeypatch.setattr(vault_mod, "hash_secret_raw", spying_hash)
    monkeypatch.setattr(Fernet, "generate_key", staticmethod(spying_generate))
    return spy


def _exception_texts(exc: BaseException) -> Iterator[str]:
    """repr/str/args of an exception and of everything chained to it, plus the traceback."""
    yield "".join(traceback.format_exception(exc))
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        yield repr(current)
        yield str(current)
        for arg in current.args:
            yield repr(arg)
            yield str(arg)
        yield from getattr(current, "__notes__", [])
        pending += [current.__cause__, current.__context__]


def test_no_error_path_reveals_secret_passphrase_or_key(key_spy: KeySpy) -> None:
    record, vault = create_vault(PASSPHRASE, **FAST)
    token = vault.encrypt(SECRET)
    rewrapped = rewrap(record, PASSPHRASE, NEW_PASSPHRASE)
    _, foreign = create_vault(PASSPHRASE, **FAST)
    # Same key, but not UTF-8 inside: decoding fails *after* the secret bytes were decrypted.
    not_utf8 = vault._fernet.encrypt(b"\xff" + SECRET.encode()).decode()
    assert len(key_spy.keys) >= 6  # three data keys, at least three KEKs

    provocations: list[tuple[str, type[BaseException], Callable[[], object]]] = [
        ("create blank", EmptyPassphrase, lambda: create_vault("", **FAST)),
        ("create surrogate", VaultError, lambda: create_vault(PASSPHRASE + "\ud800", **FAST)),
        ("create absurd", VaultError, lambda: create_vault(PASSPHRASE, time_cost=10**9)),
        ("unlock wrong", WrongPassphrase, lambda: unlock(record, WRONG_PASSPHRASE)),
        ("unlock old after rewrap", WrongPassphrase, lambda: unlock(rewrapped, PASSPHRASE)),
        ("unlock blank", EmptyPassphrase, lambda: unlock(record, " ")),
        ("unlock surrogate", VaultError, lambda: unlock(record, PASSPHRASE + "\udfff")),
        ("unlock bytes", TypeError, lambda: unlock(record, PASSPHRASE.encode())),  # type: ignore[arg-type]
        (
            "unlock tampered",
            DamagedVaultRecord,
            lambda: unlock(
                dataclasses.replace(record, wrapped_key=_flip(record.wrapped_key, 30)), PASSPHRASE
            ),
        ),
        (
            "unlock resealed",
            WrongPassphrase,
            lambda: unlock(_reseal(record, key_id=9), PASSPHRASE),
        ),
        ("rewrap wrong", WrongPassphrase, lambda: rewrap(record, WRONG_PASSPHRASE, NEW_PASSPHRASE)),
        ("rewrap blank new", EmptyPassphrase, lambda: rewrap(record, PASSPHRASE, "")),
        ("rotate wrong", WrongPassphrase, lambda: new_data_key(record, WRONG_PASSPHRASE)),
        ("decrypt foreign", VaultError, lambda: foreign.decrypt(token)),
        ("decrypt altered", VaultError, lambda: vault.decrypt(token[:-5] + "AAAA=")),
        ("decrypt non-ascii", VaultError, lambda: vault.decrypt(token + "é")),
        ("decrypt not utf-8", VaultError, lambda: vault.decrypt(not_utf8)),
        ("decrypt bytes", TypeError, lambda: vault.decrypt(token.encode())),  # type: ignore[arg-type]
        ("encrypt surrogate", VaultError, lambda: vault.encrypt(SECRET + "\udc80")),
        ("encrypt bytes", TypeError, lambda: vault.encrypt(SECRET.encode())),  # type: ignore[arg-type]
        ("record absurd", DamagedVaultRecord, lambda: dataclasses.replace(record, time_cost=0)),
        (
            "from_dict bad",
            DamagedVaultRecord,
            lambda: VaultRecord.from_dict({**record.to_dict(), "wrapped_key": "%%"}),
        ),
        ("pickle", TypeError, lambda: pickle.dumps(vault)),
        ("copy", TypeError, lambda: copy.copy(vault)),
        ("deepcopy", TypeError, lambda: copy.deepcopy(vault)),
    ]
    forbidden = key_spy.forbidden()

    for name, expected, provoke in provocations:
        with pytest.raises(expected) as caught:
            provoke()
        for text in _exception_texts(caught.value):
            leaked = sum(f in text for f in forbidden)
            # pytest.fail rather than assert: assertion rewriting would print the leaked values.
            if leaked:
                pytest.fail(f"{name}: error output reveals {leaked} forbidden value(s)")
        # Our errors carry no chained exception at all (a chained decode error would hold data).
        assert caught.value.__cause__ is None, name
        assert caught.value.__context__ is None, name

    shown = [repr(vault), str(vault), f"{vault}", repr(record), str(record), repr(rewrapped)]
    shown.append(json.dumps(record.to_dict()))
    for index, text in enumerate(shown):
        if any(f in text for f in forbidden):
            pytest.fail(f"shown text #{index} reveals a forbidden value")
    assert repr(vault) == "UnlockedVault(key_id=1)"
