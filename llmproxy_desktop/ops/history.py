"""History: the applied revisions, and "restore revision N" (issue 4 §2).

A restore does not write the file or the applied items. It stages the difference between the
current effective state and revision N (new, changed and deleted items, each against the version
token it was read with), so the admin reviews it like any edit and the normal Apply dispatches
it, with the same validation, lock, fold, restart and verify.
"""

from __future__ import annotations

from ..core.items import Item, ItemKey
from ..store import Actor, Master, RevisionInfo, StagingConflict, StoreError

__all__ = ["StagedChangesPending", "history", "restore_revision"]


class StagedChangesPending(StoreError):
    """A restore was refused because staged changes exist; nothing was staged or discarded."""

    def __init__(self, staged: int, revision_id: int) -> None:
        self.staged = staged
        self.revision_id = revision_id
        super().__init__(
            f"There are {staged} staged change(s); restoring revision {revision_id} would mix "
            "with them. Apply or discard them first, or restore with 'discard staged changes'."
        )


def history(master: Master, limit: int | None = None) -> list[RevisionInfo]:
    """The applied revisions, newest first (without their YAML and snapshots)."""
    return master.revisions(limit)


def restore_revision(
    master: Master, revision_id: int, actor: Actor, *, discard_first: bool = False
) -> int:
    """Stage what turns the current effective state into revision `revision_id`; return how many
    items were staged (0 when the Master already is that revision).

    Refuses with StagedChangesPending while anything is staged, unless `discard_first`, which
    discards every staged change first (audited as a discard). Raises RevisionNotFound, or
    VaultLocked when the revision or the current items hold secrets and the vault is locked.
    Stale version tokens (another admin staged meanwhile) raise StagingConflict; whatever this
    restore had staged by then is discarded again, so a refused restore leaves nothing behind.
    """
    wanted = master.revision_items(revision_id)  # first: RevisionNotFound before any discard
    if discard_first:
        master.discard_all(actor)
    effective = master.effective()
    pending = sum(1 for e in effective if e.flag is not None)
    if pending:
        raise StagedChangesPending(pending, revision_id)

    current = {e.item.key: e for e in effective}
    wanted_keys = {item.key for item in wanted}
    upserts: list[tuple[Item, int]] = []
    for item in wanted:
        now = current.get(item.key)
        if now is None:
            upserts.append((item, 0))
        elif now.item.data != item.data:  # Secrets compare by value; dict order does not matter
            upserts.append((item, now.version))
    deletions = [(key, e.version) for key, e in current.items() if key not in wanted_keys]

    # The store has no multi-key delete, so the restore is several transactions; undo our own
    # part on a conflict rather than leave half a restore staged.
    staged: list[tuple[ItemKey, int]] = []
    try:
        staged += [(e.item.key, e.version) for e in master.stage_many(upserts, actor)]
        for key, version in deletions:
            staged.append((key, master.stage_delete(key, version, actor)))
    except StagingConflict:
        for key, version in staged:
            # With its token: never discard what someone else staged on top of ours since.
            try:
                master.discard(key, actor, expected_version=version)
            except StagingConflict:
                continue
        raise
    master.audit(
        "restore",
        {
            "revision": revision_id,
            "staged": len(upserts) + len(deletions),
            "items": sorted(str(key) for key, _version in staged),
        },
        actor,
    )
    return len(upserts) + len(deletions)
