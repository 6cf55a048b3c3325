"""The first-boot import guard: seed only an empty, never-initialised Master, and only with a
file that describes what LiteLLM is serving."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from store_items import FAST_KDF, model, setting, sha

from llmproxy_desktop.core.items import Item, ItemKind, Secret
from llmproxy_desktop.store import (
    DEFAULT_SCHEMA,
    Actor,
    Master,
    MasterNotEmpty,
    MasterWasInitialised,
    ServedModelsMissing,
    VaultLocked,
    sealing,
)

pytestmark = pytest.mark.integration

IMPORTED = [
    model("u1", group="gpt-4o"),
    model("u2", group="gpt-4o"),
    model("u3", group="claude"),
    setting("routing_strategy", "simple-shuffle"),
]


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT count(*) FROM {DEFAULT_SCHEMA}.{table}")).scalar_one()
        )


def _empty_it(master: Master, actor: Actor) -> None:
    for e in master.effective():
        master.stage_delete(e.item.key, e.version, actor)
    master.fold("remove all", "model_list: []\n", sha("empty"), actor, master.staged_versions())
    assert master.effective() == []


def test_import_seeds_an_empty_master_as_applied_with_marker_and_audit(
    master: Master, alice: Actor
) -> None:
    assert master.seed_from_import(IMPORTED, alice, {"gpt-4o", "claude"}) == 4

    view = master.effective()
    assert [e.item for e in view] == IMPORTED
    assert all(e.flag is None and e.version > 0 for e in view)
    assert master.staged_count() == 0
    marker = master.initialised()
    assert marker is not None and marker.by == alice and marker.via == "import"
    (entry,) = master.audit_entries()
    assert entry.action == "import" and entry.detail["items"] == 4
    assert entry.detail["kinds"] == {"model": 3, "router_setting": 1}


def test_imported_items_can_be_edited_with_their_tokens(master: Master, alice: Actor) -> None:
    master.seed_from_import(IMPORTED, alice, None)
    u1 = master.effective()[0]

    edited = master.stage(model("u1", group="gpt-4.1"), u1.version, alice)

    assert edited.flag.value == "changed"


def test_import_refuses_a_master_with_applied_items(master: Master, alice: Actor) -> None:
    master.seed_from_import(IMPORTED[:1], alice, None)

    with pytest.raises(MasterNotEmpty, match="1 applied and 0 staged"):
        master.seed_from_import(IMPORTED, alice, None)

    assert len(master.effective()) == 1


def test_import_refuses_a_master_with_only_staged_items(
    master: Master, alice: Actor, engine: Engine
) -> None:
    master.stage(model("draft"), 0, alice)

    with pytest.raises(MasterNotEmpty, match="0 applied and 1 staged"):
        master.seed_from_import(IMPORTED, alice, None)

    assert _count(engine, "applied_items") == 0 and master.initialised() is None


def test_import_refuses_a_master_that_was_emptied_and_says_by_whom_and_to_restore(
    master: Master, alice: Actor, bob: Actor
) -> None:
    master.seed_from_import(IMPORTED, alice, None)
    _empty_it(master, bob)

    with pytest.raises(MasterWasInitialised) as caught:
        master.seed_from_import(IMPORTED, bob, None)

    message = str(caught.value)
    assert "alice@alice-laptop" in message and "via import" in message
    assert "History" in message and "UTC" in message
    assert master.effective() == []


def test_import_refuses_a_master_initialised_by_apply_and_emptied(
    master: Master, alice: Actor
) -> None:
    master.stage(model("m1"), 0, alice)
    master.fold("first", "x\n", sha("1"), alice, master.staged_versions())
    _empty_it(master, alice)

    with pytest.raises(MasterWasInitialised, match="via apply"):
        master.seed_from_import(IMPORTED, alice, None)


def test_import_refuses_when_the_only_trace_is_a_revision(
    master: Master, alice: Actor, engine: Engine
) -> None:
    """A revision alone (e.g. the marker row was lost) still proves the Master was used."""
    master.stage(model("m1"), 0, alice)
    master.fold("first", "x\n", sha("1"), alice, master.staged_versions())
    _empty_it(master, alice)
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {DEFAULT_SCHEMA}.meta"))

    with pytest.raises(MasterWasInitialised, match="alice@alice-laptop"):
        master.seed_from_import(IMPORTED, alice, None)


def test_import_refuses_a_file_missing_model_groups_litellm_serves(
    master: Master, alice: Actor, engine: Engine
) -> None:
    """The reference product's incident: an empty model_list imported while models were live."""
    hybrid_file = [setting("routing_strategy", "simple-shuffle")]

    with pytest.raises(ServedModelsMissing) as caught:
        master.seed_from_import(hybrid_file, alice, {"gpt-4o", "claude"})

    assert caught.value.missing == {"gpt-4o", "claude"}
    assert "claude, gpt-4o" in str(caught.value)
    assert _count(engine, "applied_items") == 0
    assert master.initialised() is None and master.audit_entries() == []
    # Nothing was spoiled: the right file still imports.
    assert master.seed_from_import(IMPORTED, alice, {"gpt-4o", "claude"}) == 4


def test_import_refuses_when_only_some_served_groups_are_in_the_file(
    master: Master, alice: Actor
) -> None:
    with pytest.raises(ServedModelsMissing) as caught:
        master.seed_from_import(IMPORTED, alice, {"gpt-4o", "claude", "mistral-large"})
    assert caught.value.missing == {"mistral-large"}


def test_import_with_nothing_served_may_be_empty(master: Master, alice: Actor) -> None:
    assert master.seed_from_import([], alice, set()) == 0
    assert master.initialised() is not None


def test_import_with_secrets_needs_the_vault_and_seals_them(
    master: Master, alice: Actor, engine: Engine
) -> None:
    credential = Item(
        ItemKind.CREDENTIAL, "openai", {"credential_values": {"api_key": Secret("sk-imported")}}
    )
    with pytest.raises(VaultLocked):
        master.seed_from_import([credential], alice, None)
    assert master.initialised() is None

    master.init_vault("passphrase", alice, **FAST_KDF)
    master.seed_from_import([credential], alice, None)

    assert master.effective()[0].item == credential
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT data::text FROM {DEFAULT_SCHEMA}.applied_items"))
        assert "sk-imported" not in stored.scalar_one()


def test_import_is_one_transaction(
    master: Master, alice: Actor, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL rejects NUL in JSONB text: the last row fails after the others were sent. The
    # store refuses such data up front, so that guard is lifted to reach the database's failure.
    monkeypatch.setattr(sealing, "_check_storable", lambda data: None)
    broken = [*IMPORTED, Item(ItemKind.GENERAL_SETTING, "bad", "nul\x00byte")]

    with pytest.raises(Exception, match=r"\\u0000 cannot be converted"):
        master.seed_from_import(broken, alice, None)

    assert _count(engine, "applied_items") == 0
    assert master.initialised() is None and master.audit_entries() == []


def test_import_refuses_duplicate_items(master: Master, alice: Actor) -> None:
    with pytest.raises(ValueError, match="model:u1"):
        master.seed_from_import([model("u1"), model("u1")], alice, None)
