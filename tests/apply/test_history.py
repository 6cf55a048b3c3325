"""History and "restore revision N" (issue 4 §2) against the real Master and the real stack.

Revisions are recorded without restarting LiteLLM (commit the render, then finish the pending
Apply); the restore itself is dispatched by the normal Apply, restart and verify included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind, model_group
from llmproxy_desktop.core.render import render
from llmproxy_desktop.ops.apply import Step, apply
from llmproxy_desktop.ops.apply_target import ApplyTarget
from llmproxy_desktop.ops.drift import DriftState, check_drift, finish_pending_apply
from llmproxy_desktop.ops.history import StagedChangesPending, history, restore_revision
from llmproxy_desktop.store import Actor, Master, RevisionNotFound, StagingConflict
from tests.fixtures.docker_stack import TestStack

from .conftest import ALICE, BOB
from .interrupted_apply import commit_without_fold, mock_model, record_revision

pytestmark = pytest.mark.integration


def ignore_progress(step: Step, fraction: float, message: str) -> None:
    """Progress is asserted by the Apply's own tests."""


def two_revisions(master: Master, target: ApplyTarget, engine: Engine) -> tuple[int, int, Item]:
    """Revision 1 adds model A and num_retries 1; revision 2 deletes A, adds B, sets 2."""
    model_a = mock_model("history-a")
    master.stage_many([(model_a, 0), (Item(ItemKind.ROUTER_SETTING, "num_retries", 1), 0)], ALICE)
    first = record_revision(master, target.config, ALICE, engine)
    tokens = {e.item.key: e.version for e in master.effective()}
    master.stage_delete(model_a.key, tokens[model_a.key], ALICE)
    retries = Item(ItemKind.ROUTER_SETTING, "num_retries", 2)
    master.stage_many([(mock_model("history-b"), 0), (retries, tokens[retries.key])], ALICE)
    second = record_revision(master, target.config, ALICE, engine)
    return first, second, model_a


def staged_flags(master: Master) -> dict[str, Flag]:
    return {str(e.item.key): e.flag for e in master.effective() if e.flag is not None}


def test_restore_stages_the_difference_and_the_apply_serves_the_old_revision(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    first, second, model_a = two_revisions(master, target, engine)
    assert [r.id for r in history(master)] == [second, first]
    wanted = master.revision_items(first)

    staged = restore_revision(master, first, ALICE)

    assert staged == 3
    flags = staged_flags(master)
    assert flags.pop(str(model_a.key)) is Flag.NEW
    assert flags.pop("router_setting:num_retries") is Flag.CHANGED
    assert list(flags.values()) == [Flag.DELETED]  # model B
    # Staging is not applying: the file is still revision 2.
    assert check_drift(master, target.config).state is DriftState.IN_SYNC

    result = apply(
        master,
        target,
        progress=ignore_progress,
        cancel=threading.Event(),
        actor=ALICE,
        verify_timeout=60.0,
    )

    assert result.ok, result
    on_disk = (stack_restored.config_dir / "config.yaml").read_bytes()
    assert on_disk == render(wanted).encode("utf-8")
    (newest, *_older) = history(master)
    assert newest.id == result.revision_id
    assert newest.rendered_sha256 == master.revision(first).info.rendered_sha256
    groups = {g for item in wanted if item.kind is ItemKind.MODEL if (g := model_group(item))}
    assert sorted(target.litellm.models()) == sorted(groups)
    assert "history-a" in groups and "history-b" not in groups
    assert check_drift(master, target.config).state is DriftState.IN_SYNC
    assert master.staged_count() == 0


def test_an_interrupted_apply_of_a_restore_is_pending_not_an_older_revision(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    first, _second, _model_a = two_revisions(master, target, engine)
    restore_revision(master, first, ALICE)
    commit_without_fold(master, target.config)  # the file now has revision 1's hash too

    report = check_drift(master, target.config)

    assert report.state is DriftState.FOLD_PENDING
    revision_id = finish_pending_apply(master, target.config, ALICE, lock_engine=engine)
    assert history(master)[0].id == revision_id
    assert history(master)[0].summary == "1 new, 1 changed, 1 deleted"
    assert master.staged_count() == 0
    assert check_drift(master, target.config).state is DriftState.IN_SYNC


def test_restore_refuses_while_changes_are_staged_unless_told_to_discard_them(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    first, _second, model_a = two_revisions(master, target, engine)
    unrelated = mock_model("history-unrelated")
    master.stage(unrelated, 0, ALICE)
    staged_before = master.staged_versions()

    with pytest.raises(StagedChangesPending) as refused:
        restore_revision(master, first, ALICE)

    assert refused.value.staged == 1
    assert master.staged_versions() == staged_before

    assert restore_revision(master, first, ALICE, discard_first=True) == 3
    flags = staged_flags(master)
    assert str(unrelated.key) not in flags
    assert flags[str(model_a.key)] is Flag.NEW


def test_restore_of_the_current_revision_stages_nothing_and_an_unknown_one_is_refused(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    _first, second, _model_a = two_revisions(master, target, engine)

    assert restore_revision(master, second, ALICE) == 0
    assert master.staged_count() == 0

    master.stage(mock_model("history-kept"), 0, ALICE)
    staged_before = master.staged_versions()
    with pytest.raises(RevisionNotFound):
        restore_revision(master, second + 100, ALICE, discard_first=True)
    assert master.staged_versions() == staged_before  # nothing discarded for a bad id


class BobStagesDuringTheRestore(Master):
    """Alice's Master, where Bob stages a change to model B right after the restore's first
    write: the restore's deletion of B then holds a stale token."""

    bob: Master
    victim: Item

    def stage_many(self, changes: Iterable[tuple[Item, int]], actor: Actor) -> list[EffectiveItem]:
        staged = super().stage_many(changes, actor)
        tokens = {e.item.key: e.version for e in self.bob.effective()}
        self.bob.stage(self.victim, tokens[self.victim.key], BOB)
        return staged


def test_a_restore_refused_by_a_conflict_leaves_only_the_other_admins_change(
    master: Master,
    target: ApplyTarget,
    stack_restored: TestStack,
    engine: Engine,
    other_engine: Engine,
) -> None:
    first, _second, model_a = two_revisions(master, target, engine)
    model_b = next(
        e.item
        for e in master.effective()
        if e.item.kind is ItemKind.MODEL and model_group(e.item) == "history-b"
    )
    racing = BobStagesDuringTheRestore(engine, schema=master.schema)
    racing.bob = Master(other_engine, schema=master.schema)
    racing.victim = Item(model_b.kind, model_b.name, {**model_b.data, "model_name": "history-bob"})

    with pytest.raises(StagingConflict):
        restore_revision(racing, first, ALICE)

    # Alice's half-staged restore was taken back; Bob's edit is untouched.
    assert staged_flags(master) == {str(model_b.key): Flag.CHANGED}
    assert model_a.key not in master.staged_versions()
