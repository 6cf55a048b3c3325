"""Fold (the Master side of Apply): one transaction, revisions with sealed snapshots, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from store_items import model, sha

from llmproxy_desktop.core.items import Flag
from llmproxy_desktop.store import (
    DEFAULT_SCHEMA,
    Actor,
    Master,
    RevisionNotFound,
    StagingConflict,
)

pytestmark = pytest.mark.integration

YAML = "model_list:\n- model_name: gpt-4o\n  litellm_params:\n    api_key: '***'\n"


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT count(*) FROM {DEFAULT_SCHEMA}.{table}")).scalar_one()
        )


def test_fold_applies_new_changed_and_deleted_items_and_clears_staging(
    master: Master, alice: Actor
) -> None:
    master.stage_many([(model("keep"), 0), (model("edit"), 0), (model("drop"), 0)], alice)
    master.fold("seed", YAML, sha("1"), alice, master.staged_versions())
    view = {e.item.name: e for e in master.effective()}
    master.stage(model("edit", group="gpt-4o-mini"), view["edit"].version, alice)
    master.stage_delete(view["drop"].item.key, view["drop"].version, alice)
    master.stage(model("add"), 0, alice)

    master.fold("second", YAML, sha("2"), alice, master.staged_versions())

    after = master.effective()
    assert [(e.item.name, e.flag) for e in after] == [("keep", None), ("edit", None), ("add", None)]
    assert after[1].item.data["model_name"] == "gpt-4o-mini"
    assert master.staged_count() == 0


def test_fold_records_a_revision_with_redacted_yaml_hash_author_and_snapshot(
    master: Master, alice: Actor
) -> None:
    master.stage_many([(model("a"), 0), (model("b"), 0)], alice)

    revision_id = master.fold("two models", YAML, sha("real file"), alice, master.staged_versions())

    revision = master.revision(revision_id)
    assert revision.rendered_yaml_redacted == YAML
    assert revision.info.rendered_sha256 == sha("real file")
    assert revision.info.summary == "two models"
    assert revision.info.created_by == alice
    assert revision.info.item_count == 2
    assert master.revision_items(revision_id) == [e.item for e in master.effective()]


def test_revisions_list_newest_first_and_snapshots_stay_as_they_were(
    master: Master, alice: Actor, bob: Actor
) -> None:
    master.stage(model("a"), 0, alice)
    first = master.fold("first", YAML, sha("1"), alice, master.staged_versions())
    (a,) = master.effective()
    master.stage_delete(a.item.key, a.version, bob)
    second = master.fold("second", YAML, sha("2"), bob, master.staged_versions())

    assert [(r.id, r.summary, r.created_by) for r in master.revisions()] == [
        (second, "second", bob),
        (first, "first", alice),
    ]
    assert [r.id for r in master.revisions(limit=1)] == [second]
    assert [i.name for i in master.revision_items(first)] == ["a"]
    assert master.revision_items(second) == []


def test_fold_refuses_when_someone_staged_after_the_review_and_changes_nothing(
    master: Master, other_master: Master, alice: Actor, bob: Actor, engine: Engine
) -> None:
    master.stage(model("a"), 0, alice)
    reviewed = master.staged_versions()
    other_master.stage(model("sneaky"), 0, bob)

    with pytest.raises(StagingConflict) as caught:
        master.fold("apply", YAML, sha("x"), alice, reviewed)

    assert caught.value.during == "apply"
    assert "model:sneaky was staged as new by bob@bob-desktop" in str(caught.value)
    assert "Nothing was applied" in str(caught.value)
    assert master.staged_count() == 2
    assert [e.flag for e in master.effective()] == [Flag.NEW, Flag.NEW]
    assert master.revisions() == []
    assert _count(engine, "applied_items") == 0
    assert [e.action for e in master.audit_entries()] == ["stage", "stage"]


def test_fold_refuses_when_a_reviewed_change_was_discarded_or_edited(
    master: Master, other_master: Master, alice: Actor, bob: Actor
) -> None:
    a = master.stage(model("a"), 0, alice)
    b = master.stage(model("b"), 0, alice)
    reviewed = master.staged_versions()
    other_master.discard(a.item.key, bob)
    other_master.stage(model("b", group="bobs"), b.version, bob)

    with pytest.raises(StagingConflict) as caught:
        master.fold("apply", YAML, sha("x"), alice, reviewed)

    named = {c.key.name: c.last_change.change for c in caught.value.conflicts if c.last_change}
    assert named == {"a": "discarded", "b": "staged as new"}
    assert master.revisions() == []


def test_fold_is_one_transaction_a_late_failure_leaves_everything_as_it_was(
    master: Master, alice: Actor, engine: Engine
) -> None:
    master.stage(model("a"), 0, alice)
    master.fold("first", YAML, sha("1"), alice, master.staged_versions())
    (a,) = master.effective()
    master.stage(model("a", group="edited"), a.version, alice)
    master.stage(model("b"), 0, alice)
    before = master.effective()

    # PostgreSQL rejects NUL in text: the revision insert fails after applied was rewritten.
    with pytest.raises(Exception, match="0x00"):
        master.fold("broken", "bad\x00yaml", sha("2"), alice, master.staged_versions())

    assert master.effective() == before
    assert master.staged_count() == 2
    assert len(master.revisions()) == 1
    assert _count(engine, "applied_items") == 1


def test_fold_rejects_a_hash_that_is_not_sha256_hex(master: Master, alice: Actor) -> None:
    master.stage(model("a"), 0, alice)
    with pytest.raises(ValueError, match="sha256"):
        master.fold("apply", YAML, "not-a-hash", alice, master.staged_versions())
    assert master.staged_count() == 1


def test_fold_writes_an_audit_entry_and_marks_the_master_initialised(
    master: Master, alice: Actor
) -> None:
    assert master.initialised() is None
    master.stage(model("a"), 0, alice)

    revision_id = master.fold("first apply", YAML, sha("1"), alice, master.staged_versions())

    entry = master.audit_entries(limit=1)[0]
    assert entry.action == "apply" and entry.by == alice
    assert entry.detail["revision"] == revision_id and entry.detail["new"] == 1
    marker = master.initialised()
    assert marker is not None and marker.by == alice and marker.via == "apply"


def test_a_missing_revision_is_a_typed_error(master: Master) -> None:
    with pytest.raises(RevisionNotFound, match="42"):
        master.revision(42)
    with pytest.raises(RevisionNotFound):
        master.revision_items(42)


def test_audit_entries_page_backwards(master: Master, alice: Actor) -> None:
    ids = [master.audit("note", {"n": n}, alice) for n in range(5)]

    first_page = master.audit_entries(limit=2)
    second_page = master.audit_entries(limit=2, before_id=first_page[-1].id)

    assert [e.id for e in first_page + second_page] == ids[::-1][:4]
    assert second_page[0].detail == {"n": 2}
