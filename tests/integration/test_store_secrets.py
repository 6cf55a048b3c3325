"""Secrets at rest: sealed in JSONB, unsealed on read, passphrase change and key rotation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from store_items import FAST_KDF, model, sha

from llmproxy_desktop.core.items import Item, ItemKind, Secret
from llmproxy_desktop.store import (
    DEFAULT_SCHEMA,
    Actor,
    Master,
    ReservedKeyInData,
    VaultAlreadyInitialised,
    VaultKeyMismatch,
    VaultLocked,
    VaultNotInitialised,
)
from llmproxy_desktop.store.vault import VaultError, WrongPassphrase

pytestmark = pytest.mark.integration

PASSPHRASE = "correct horse battery staple"
KEY_APPLIED = "sk-applied-0123456789"
KEY_STAGED = "sk-staged-9876543210"


def _raw(engine: Engine, query: str) -> list[Any]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text(query.format(s=DEFAULT_SCHEMA)))]


def _all_stored_text(engine: Engine) -> str:
    """Every row of every Master table as text: where a plaintext secret must never appear."""
    with engine.connect() as conn:
        tables = [
            name
            for (name,) in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                {"s": DEFAULT_SCHEMA},
            )
        ]
        return "\n".join(
            str(row)
            for table in tables
            for row in conn.execute(text(f"SELECT t::text FROM {DEFAULT_SCHEMA}.{table} t"))
        )


def _with_secrets(master: Master, actor: Actor) -> None:
    """Applied item + revision with one secret, a staged item with another."""
    master.stage(model("m1", api_key=Secret(KEY_APPLIED)), 0, actor)
    master.fold("first", "api_key: '***'\n", sha("1"), actor, master.staged_versions())
    master.stage(model("m2", api_key=Secret(KEY_STAGED)), 0, actor)


def _secrets_read(master: Master) -> dict[str, str]:
    return {
        e.item.name: e.item.data["litellm_params"]["api_key"].reveal() for e in master.effective()
    }


@pytest.fixture
def vaulted(master: Master, alice: Actor) -> Master:
    master.init_vault(PASSPHRASE, alice, **FAST_KDF)
    _with_secrets(master, alice)
    return master


def test_secrets_are_sealed_with_the_key_id_and_never_stored_in_plaintext(
    vaulted: Master, engine: Engine
) -> None:
    (applied,) = _raw(engine, "SELECT data FROM {s}.applied_items")
    sealed = applied["litellm_params"]["api_key"]
    assert set(sealed) == {"$secret", "kid"} and sealed["kid"] == 1
    assert sealed["$secret"].startswith("gAAAAA")  # a Fernet token
    stored = _all_stored_text(engine)
    assert KEY_APPLIED not in stored and KEY_STAGED not in stored


def test_secrets_come_back_as_secret_values(vaulted: Master) -> None:
    assert _secrets_read(vaulted) == {"m1": KEY_APPLIED, "m2": KEY_STAGED}
    (first,) = vaulted.revisions()
    (item,) = vaulted.revision_items(first.id)
    assert item.data["litellm_params"]["api_key"] == Secret(KEY_APPLIED)


def test_items_without_secrets_need_no_vault(master: Master, alice: Actor) -> None:
    master.stage(model("plain", api_key="os.environ/OPENAI_API_KEY"), 0, alice)
    master.fold("plain", "x\n", sha("x"), alice, master.staged_versions())

    assert master.has_vault() is False
    assert master.effective()[0].item == model("plain", api_key="os.environ/OPENAI_API_KEY")


def test_reading_sealed_items_without_the_vault_is_refused(
    vaulted: Master, other_master: Master
) -> None:
    with pytest.raises(VaultLocked, match="Unlock it"):
        other_master.effective()
    with pytest.raises(VaultLocked):
        other_master.revision_items(other_master.revisions()[0].id)


def test_writing_a_secret_without_the_vault_is_refused_and_writes_nothing(
    master: Master, alice: Actor
) -> None:
    with pytest.raises(VaultLocked):
        master.stage(model("m1", api_key=Secret("sk-x")), 0, alice)
    assert master.staged_count() == 0 and master.audit_entries() == []


def test_another_session_unlocks_with_the_passphrase(vaulted: Master, other_master: Master) -> None:
    with pytest.raises(WrongPassphrase):
        other_master.unlock_vault("wrong passphrase")
    other_master.unlock_vault(PASSPHRASE)
    assert _secrets_read(other_master) == {"m1": KEY_APPLIED, "m2": KEY_STAGED}


def test_locking_forgets_the_vault(vaulted: Master) -> None:
    vaulted.lock_vault()
    assert vaulted.vault is None
    with pytest.raises(VaultLocked):
        vaulted.effective()


def test_unlocking_a_master_without_a_vault_is_a_typed_error(master: Master) -> None:
    with pytest.raises(VaultNotInitialised):
        master.unlock_vault(PASSPHRASE)


def test_a_second_vault_is_refused(vaulted: Master, alice: Actor, engine: Engine) -> None:
    (before,) = _raw(engine, "SELECT wrapped_key FROM {s}.vault")
    with pytest.raises(VaultAlreadyInitialised):
        vaulted.init_vault("another passphrase", alice, **FAST_KDF)
    assert _raw(engine, "SELECT wrapped_key FROM {s}.vault") == [before]


def test_changing_the_passphrase_rewraps_without_reencrypting(
    vaulted: Master, other_master: Master, alice: Actor, engine: Engine
) -> None:
    tokens_before = _raw(engine, "SELECT data::text FROM {s}.applied_items") + _raw(
        engine, "SELECT snapshot::text FROM {s}.revisions"
    )
    (wrapped_before,) = _raw(engine, "SELECT wrapped_key FROM {s}.vault")

    vaulted.change_passphrase(PASSPHRASE, "a new passphrase", alice)

    assert (
        _raw(engine, "SELECT data::text FROM {s}.applied_items")
        + _raw(engine, "SELECT snapshot::text FROM {s}.revisions")
        == tokens_before
    )
    assert _raw(engine, "SELECT wrapped_key FROM {s}.vault") != [wrapped_before]
    with pytest.raises(WrongPassphrase):
        other_master.unlock_vault(PASSPHRASE)
    other_master.unlock_vault("a new passphrase")
    assert _secrets_read(other_master) == {"m1": KEY_APPLIED, "m2": KEY_STAGED}
    assert vaulted.audit_entries(limit=1)[0].action == "vault.change_passphrase"


def test_a_wrong_passphrase_changes_nothing(vaulted: Master, alice: Actor, engine: Engine) -> None:
    vault_before = _raw(engine, "SELECT v::text FROM {s}.vault v")
    data_before = _raw(engine, "SELECT data::text FROM {s}.applied_items")
    audit_before = len(vaulted.audit_entries())

    with pytest.raises(WrongPassphrase):
        vaulted.change_passphrase("not it", "new one", alice)
    with pytest.raises(WrongPassphrase):
        vaulted.rotate_data_key("not it", alice)

    assert _raw(engine, "SELECT v::text FROM {s}.vault v") == vault_before
    assert _raw(engine, "SELECT data::text FROM {s}.applied_items") == data_before
    assert len(vaulted.audit_entries()) == audit_before
    assert vaulted.vault is not None and vaulted.vault.key_id == 1


def test_rotating_the_data_key_reencrypts_applied_staged_and_revisions(
    vaulted: Master, alice: Actor, engine: Engine
) -> None:
    before = {
        "applied": _raw(engine, "SELECT data::text FROM {s}.applied_items"),
        "staged": _raw(engine, "SELECT data::text FROM {s}.staged_items"),
        "revisions": _raw(engine, "SELECT snapshot::text FROM {s}.revisions"),
    }

    new_vault = vaulted.rotate_data_key(PASSPHRASE, alice)

    assert new_vault.key_id == 2 and vaulted.vault is new_vault
    assert _raw(engine, "SELECT key_id FROM {s}.vault") == [2]
    (applied,) = _raw(engine, "SELECT data FROM {s}.applied_items")
    (staged,) = _raw(engine, "SELECT data FROM {s}.staged_items")
    (snapshot,) = _raw(engine, "SELECT snapshot FROM {s}.revisions")
    for data in (applied, staged, snapshot[0]["data"]):
        assert data["litellm_params"]["api_key"]["kid"] == 2
    after = {
        "applied": _raw(engine, "SELECT data::text FROM {s}.applied_items"),
        "staged": _raw(engine, "SELECT data::text FROM {s}.staged_items"),
        "revisions": _raw(engine, "SELECT snapshot::text FROM {s}.revisions"),
    }
    assert all(after[table] != before[table] for table in before)
    assert _secrets_read(vaulted) == {"m1": KEY_APPLIED, "m2": KEY_STAGED}
    (item,) = vaulted.revision_items(vaulted.revisions()[0].id)
    assert item.data["litellm_params"]["api_key"] == Secret(KEY_APPLIED)


def test_a_session_holding_the_old_key_cannot_read_or_write_after_rotation(
    vaulted: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    other_master.unlock_vault(PASSPHRASE)
    vaulted.rotate_data_key(PASSPHRASE, alice)

    with pytest.raises(VaultKeyMismatch, match="unlock the vault again"):
        other_master.effective()
    with pytest.raises(VaultKeyMismatch):
        other_master.stage(model("m3", api_key=Secret("sk-stale")), 0, bob)

    other_master.unlock_vault(PASSPHRASE)
    assert "m3" not in _secrets_read(other_master)


def test_rotation_is_one_transaction_a_bad_token_leaves_everything_as_it_was(
    vaulted: Master, alice: Actor, engine: Engine
) -> None:
    # Damage the revision snapshot's token: rotation reaches it after applied and staged.
    with engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {DEFAULT_SCHEMA}.revisions SET snapshot = jsonb_set(snapshot, "
                "'{0,data,litellm_params,api_key,$secret}', '\"gAAAAAdamaged\"')"
            )
        )
    applied_before = _raw(engine, "SELECT data::text FROM {s}.applied_items")
    staged_before = _raw(engine, "SELECT data::text FROM {s}.staged_items")

    with pytest.raises(VaultError):
        vaulted.rotate_data_key(PASSPHRASE, alice)

    assert _raw(engine, "SELECT key_id FROM {s}.vault") == [1]
    assert _raw(engine, "SELECT data::text FROM {s}.applied_items") == applied_before
    assert _raw(engine, "SELECT data::text FROM {s}.staged_items") == staged_before
    assert _secrets_read(vaulted) == {"m1": KEY_APPLIED, "m2": KEY_STAGED}


def test_item_data_may_not_use_the_sealing_tag(master: Master, alice: Actor) -> None:
    forged = Item(ItemKind.GENERAL_SETTING, "x", {"$secret": "gAAAA", "kid": 1})
    with pytest.raises(ReservedKeyInData, match=r"\$secret"):
        master.stage(forged, 0, alice)
    assert master.staged_count() == 0


def test_audit_details_never_store_secrets(master: Master, alice: Actor, engine: Engine) -> None:
    master.audit(
        "credential.test",
        {
            "credential": "openai",
            "api_key": "sk-live-literal",
            "nested": {"value": Secret("sk-secret-object")},
            "redis_url": "redis://user:hunter2@cache:6379",
            "reference": "os.environ/OPENAI_API_KEY",
        },
        alice,
    )

    (entry,) = master.audit_entries()
    assert entry.detail == {
        "credential": "openai",
        "api_key": "***",
        "nested": {"value": "***"},
        "redis_url": "***",
        "reference": "os.environ/OPENAI_API_KEY",
    }
    stored = _all_stored_text(engine)
    for secret in ("sk-live-literal", "sk-secret-object", "hunter2"):
        assert secret not in stored
