"""Staging, the effective view and optimistic concurrency between two admins' Masters."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from store_items import count_advisory_waiters, model, setting, sha, wait_until

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKey, ItemKind
from llmproxy_desktop.store import Actor, Master, StagingConflict, UnknownItem
from llmproxy_desktop.store.schema_migration import advisory_lock_key

pytestmark = pytest.mark.integration


def _apply(master: Master, actor: Actor, summary: str = "apply") -> int:
    return master.fold(summary, "redacted\n", sha(summary), actor, master.staged_versions())


def _by_name(master: Master) -> dict[str, EffectiveItem]:
    return {e.item.name: e for e in master.effective()}


def _seeded(master: Master, actor: Actor, *names: str) -> dict[str, EffectiveItem]:
    master.stage_many([(model(n), 0) for n in names], actor)
    _apply(master, actor)
    return _by_name(master)


# ------------------------------------------------------------------------ flags and view


def test_staging_an_unknown_item_flags_it_new(master: Master, alice: Actor) -> None:
    staged = master.stage(model("m1"), 0, alice)

    assert staged.flag is Flag.NEW and staged.version > 0
    assert master.effective() == [staged]
    assert master.staged_count() == 1


def test_staging_an_applied_item_flags_it_changed(master: Master, alice: Actor) -> None:
    applied = _seeded(master, alice, "m1")["m1"]
    edited = model("m1", group="gpt-4o-mini")

    staged = master.stage(edited, applied.version, alice)

    assert staged.flag is Flag.CHANGED
    assert master.effective() == [EffectiveItem(edited, Flag.CHANGED, staged.version)]


def test_staged_deletion_keeps_applied_data_until_apply(master: Master, alice: Actor) -> None:
    applied = _seeded(master, alice, "m1", "m2")

    master.stage_delete(applied["m1"].item.key, applied["m1"].version, alice)

    view = _by_name(master)
    assert view["m1"].is_deleted and view["m1"].item == applied["m1"].item
    assert view["m2"].flag is None
    _apply(master, alice)
    assert list(_by_name(master)) == ["m2"]


def test_deleting_an_item_that_was_only_staged_drops_it(master: Master, alice: Actor) -> None:
    staged = master.stage(model("m1"), 0, alice)

    assert master.stage_delete(staged.item.key, staged.version, alice) == 0

    assert master.effective() == [] and master.staged_count() == 0


def test_deleting_an_item_that_exists_nowhere_is_refused(master: Master, alice: Actor) -> None:
    with pytest.raises(UnknownItem, match="model:ghost"):
        master.stage_delete(ItemKey(ItemKind.MODEL, "ghost"), 0, alice)


def test_discard_restores_the_applied_item(master: Master, alice: Actor) -> None:
    applied = _seeded(master, alice, "m1")["m1"]
    master.stage(model("m1", group="other"), applied.version, alice)

    assert master.discard(applied.item.key, alice) is True

    view = _by_name(master)
    assert view["m1"].item == applied.item and view["m1"].flag is None
    assert master.discard(applied.item.key, alice) is False


def test_discard_all_clears_staging_and_counts(master: Master, alice: Actor) -> None:
    applied = _seeded(master, alice, "m1")
    master.stage(model("m2"), 0, alice)
    master.stage_delete(applied["m1"].item.key, applied["m1"].version, alice)

    assert master.discard_all(alice) == 2

    assert master.staged_count() == 0
    assert [(e.item, e.flag) for e in master.effective()] == [(applied["m1"].item, None)]


def test_effective_keeps_applied_order_and_appends_new_items_in_staging_order(
    master: Master, alice: Actor
) -> None:
    applied = _seeded(master, alice, "c", "a", "b")
    master.stage(model("a", group="changed"), applied["a"].version, alice)
    master.stage(model("z"), 0, alice)
    master.stage(model("y"), 0, alice)

    assert [e.item.name for e in master.effective()] == ["c", "a", "b", "z", "y"]
    _apply(master, alice)
    assert [e.item.name for e in master.effective()] == ["c", "a", "b", "z", "y"]


def test_items_of_every_kind_round_trip_unchanged(master: Master, alice: Actor) -> None:
    items = [
        model("m1"),
        Item(ItemKind.CREDENTIAL, "openai", {"credential_values": {"api_base": "x"}}),
        setting("routing_strategy", "simple-shuffle"),
        Item(ItemKind.LITELLM_SETTING, "cache_params", {"type": "redis", "ttl": 60}),
        Item(ItemKind.GENERAL_SETTING, "background_health_checks", True),
        Item(ItemKind.PASSTHROUGH, "_", "environment_variables:\n  A: b\n"),
    ]
    master.stage_many([(i, 0) for i in items], alice)
    _apply(master, alice)

    assert [e.item for e in master.effective()] == items


# ----------------------------------------------------------------------- concurrency


def test_stale_token_after_another_admin_staged_names_them(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    seen = _seeded(master, alice, "m1")["m1"]
    bobs = other_master.stage(model("m1", group="bobs-edit"), seen.version, bob)

    with pytest.raises(StagingConflict) as caught:
        master.stage(model("m1", group="alices-edit"), seen.version, alice)

    conflict = caught.value.conflicts[0]
    assert conflict.last_change is not None and conflict.last_change.by == bob
    assert "bob@bob-desktop" in str(caught.value) and "staged as changed" in str(caught.value)
    assert conflict.last_change.at.year >= 2024  # a real timestamp is named
    assert _by_name(master)["m1"] == bobs  # Alice's edit did not overwrite Bob's


def test_stale_token_after_another_admin_discarded_names_them(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    applied = _seeded(master, alice, "m1")["m1"]
    alices = master.stage(model("m1", group="draft"), applied.version, alice)
    other_master.discard(applied.item.key, bob)

    with pytest.raises(StagingConflict, match=r"model:m1 was discarded by bob@bob-desktop"):
        master.stage(model("m1", group="draft-2"), alices.version, alice)

    assert _by_name(master)["m1"].item == applied.item


def test_stale_token_after_another_admin_applied_names_them(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    bobs = other_master.stage(model("m1"), 0, bob)
    seen_by_alice = _by_name(master)["m1"]
    assert seen_by_alice.version == bobs.version
    _apply(other_master, bob)

    with pytest.raises(StagingConflict, match=r"model:m1 was applied by bob@bob-desktop"):
        master.stage(model("m1", group="late"), seen_by_alice.version, alice)


def test_creating_an_item_someone_else_just_created_is_a_conflict(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    other_master.stage(setting("num_retries", 3), 0, bob)

    with pytest.raises(StagingConflict, match="staged as new by bob@bob-desktop"):
        master.stage(setting("num_retries", 5), 0, alice)

    assert _by_name(master)["num_retries"].item.data == 3


def test_deleting_with_a_stale_token_is_a_conflict(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    seen = _seeded(master, alice, "m1")["m1"]
    other_master.stage(model("m1", group="bobs"), seen.version, bob)

    with pytest.raises(StagingConflict):
        master.stage_delete(seen.item.key, seen.version, alice)

    assert _by_name(master)["m1"].flag is Flag.CHANGED


def test_discard_with_a_stale_token_is_a_conflict(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    seen = master.stage(model("m1"), 0, alice)
    other_master.stage(model("m1", group="bobs"), seen.version, bob)

    with pytest.raises(StagingConflict):
        master.discard(seen.item.key, alice, expected_version=seen.version)

    assert master.staged_count() == 1


def test_tokens_are_never_reused_after_discard_and_restage(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    first = master.stage(model("m1"), 0, alice)
    other_master.discard(first.item.key, bob)
    again = other_master.stage(model("m1", group="bobs"), 0, bob)

    assert again.version != first.version
    with pytest.raises(StagingConflict):
        master.stage(model("m1", group="alices"), first.version, alice)


def test_every_write_hands_out_a_fresh_token(master: Master, alice: Actor) -> None:
    a = master.stage(model("m1"), 0, alice)
    b = master.stage(model("m1", group="x"), a.version, alice)
    _apply(master, alice)
    c = _by_name(master)["m1"]

    assert a.version < b.version < c.version
    with pytest.raises(StagingConflict):
        master.stage(model("m1", group="y"), b.version, alice)


def test_stage_many_is_all_or_nothing_and_names_only_stale_items(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    seen = _seeded(master, alice, "m1", "m2")
    other_master.stage(model("m2", group="bobs"), seen["m2"].version, bob)

    with pytest.raises(StagingConflict) as caught:
        master.stage_many(
            [
                (model("m1", group="a"), seen["m1"].version),
                (model("m2", group="a"), seen["m2"].version),
                (model("m3"), 0),
            ],
            alice,
        )

    assert [c.key.name for c in caught.value.conflicts] == ["m2"]
    view = _by_name(master)
    assert view["m1"].flag is None and "m3" not in view
    assert view["m2"].item.data["model_name"] == "bobs"


def test_stage_many_refuses_the_same_item_twice(master: Master, alice: Actor) -> None:
    with pytest.raises(ValueError, match="model:m1"):
        master.stage_many([(model("m1"), 0), (model("m1", group="b"), 0)], alice)
    assert master.staged_count() == 0


def test_simultaneous_edits_with_the_same_token_let_exactly_one_win(
    master: Master,
    other_master: Master,
    alice: Actor,
    bob: Actor,
    pg_cluster: Any,
    master_db: str,
) -> None:
    seen = _seeded(master, alice, "m1")["m1"]
    key = advisory_lock_key("write", master.schema)
    with psycopg.connect(pg_cluster.conninfo(master_db), autocommit=True) as holder:
        # Hold the write lock so both edits are queued and then race for it.
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        with ThreadPoolExecutor(max_workers=2) as pool:
            edits = [
                pool.submit(master.stage, model("m1", group="alice"), seen.version, alice),
                pool.submit(other_master.stage, model("m1", group="bob"), seen.version, bob),
            ]
            with psycopg.connect(pg_cluster.conninfo(master_db), autocommit=True) as watcher:
                wait_until(
                    lambda: count_advisory_waiters(watcher) == 2,
                    "both edits wait for the write lock",
                )
            holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
            outcomes = [f.exception(timeout=60) for f in edits]

    conflicts = [o for o in outcomes if isinstance(o, StagingConflict)]
    assert len(conflicts) == 1 and outcomes.count(None) == 1
    winner = "alice" if outcomes[0] is None else "bob"
    assert _by_name(master)["m1"].item.data["model_name"] == winner
    assert conflicts[0].conflicts[0].last_change is not None
    assert conflicts[0].conflicts[0].last_change.by.user == winner


def test_last_change_names_who_did_what(master: Master, alice: Actor, bob: Actor) -> None:
    staged = master.stage(model("m1"), 0, alice)
    master.discard(staged.item.key, bob)

    change = master.last_change(staged.item.key)

    assert change is not None and change.by == bob and change.change == "discarded"
    assert master.last_change(ItemKey(ItemKind.MODEL, "never")) is None


def test_a_setting_whose_value_is_null_can_be_staged_and_applied(
    master: Master, alice: Actor
) -> None:
    staged = master.stage(Item(ItemKind.GENERAL_SETTING, "alerting", None), 0, alice)
    assert staged.flag is Flag.NEW
    _apply(master, alice)

    (applied,) = master.effective()
    assert applied.item == Item(ItemKind.GENERAL_SETTING, "alerting", None)
    assert applied.flag is None
