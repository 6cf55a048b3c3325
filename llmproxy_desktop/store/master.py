"""The Master: applied and staged configuration, revisions, audit and the vault, in Postgres.

Every write runs in one transaction under a per-schema advisory lock, so concurrent admins are
serialised and each check ("is the version token still current?") sees everything committed
before it. Reads run in REPEATABLE READ so one result never mixes states from before and after
someone else's apply.

Optimistic concurrency: every item key has a version token (`item_versions`) that takes a fresh
value from one sequence on every stage, delete, discard, apply or import of that key. A caller
passes the token it last saw; a different current token means someone else changed the item in
between, and the write is refused with a `StagingConflict` naming who and when. Items that exist
nowhere have token 0.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Engine,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.selectable import TableValuedAlias

from ..core.items import EffectiveItem, Flag, Item, ItemKey, ItemKind, effective_view, model_group
from . import vault as vault_crypto
from .actor import Actor
from .audit import scrub_detail
from .errors import (
    Conflict,
    MasterNotEmpty,
    MasterWasInitialised,
    RevisionNotFound,
    ServedModelsMissing,
    StagingConflict,
    UnknownItem,
    VaultAlreadyInitialised,
    VaultKeyMismatch,
    VaultNotInitialised,
)
from .models import (
    DEFAULT_SCHEMA,
    AppliedItem,
    AuditRow,
    ItemVersion,
    MetaRow,
    RevisionRow,
    StagedItem,
    VaultRow,
    item_version_seq,
    schema_translation,
)
from .records import AuditEntry, InitialisedMarker, ItemChange, Revision, RevisionInfo
from .schema_migration import advisory_lock_key, migrate
from .sealing import SEALED_MARKER, contains_secret, reseal, seal, unseal
from .vault import UnlockedVault, VaultRecord

_SHA256_HEX: Final = re.compile(r"^[0-9a-f]{64}$")
_INITIALISED: Final = "initialised"
_VAULT_ROW_ID: Final = 1

# Phrases stored in item_versions.change; they complete "<key> was <change> by <who> at <when>".
_STAGED_AS: Final[Mapping[Flag, str]] = {
    Flag.NEW: "staged as new",
    Flag.CHANGED: "staged as changed",
    Flag.DELETED: "staged for deletion",
}
_DISCARDED: Final = "discarded"
_DROPPED_UNAPPLIED: Final = "deleted before it was ever applied"
_APPLIED: Final = "applied"
_DELETION_APPLIED: Final = "deleted by an apply"
_IMPORTED: Final = "imported"


class Master:
    """Repository of the Master in one Postgres schema. Returns core dataclasses, never rows.

    Create it with `Master.open(engine)` (migrates first). An instance may hold an unlocked vault
    (`unlock_vault`); without one, items without secrets work and sealed ones raise VaultLocked.
    """

    def __init__(self, engine: Engine, *, schema: str = DEFAULT_SCHEMA) -> None:
        """Wrap an engine for an already migrated schema; prefer `Master.open`."""
        translated = engine.execution_options(schema_translate_map=schema_translation(schema))
        self._schema = schema
        # READ COMMITTED for writes: after the advisory lock is granted, each statement sees what
        # the previous lock holder committed (REPEATABLE READ would keep the pre-lock snapshot).
        self._write_sessions = sessionmaker(
            bind=translated.execution_options(isolation_level="READ COMMITTED"),
            expire_on_commit=False,
        )
        self._read_sessions = sessionmaker(
            bind=translated.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ),
            expire_on_commit=False,
        )
        self._write_lock_key = advisory_lock_key("write", schema)
        self._vault: UnlockedVault | None = None

    @classmethod
    def open(cls, engine: Engine, *, schema: str = DEFAULT_SCHEMA) -> Master:
        """Migrate `schema` to the newest revision (idempotent, locked) and return its Master."""
        migrate(engine, schema)
        return cls(engine, schema=schema)

    @property
    def schema(self) -> str:
        """The Postgres schema this Master lives in."""
        return self._schema

    # ----------------------------------------------------------------------------- sessions

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._write_sessions.begin() as session:
            session.execute(
                select(func.pg_advisory_xact_lock(cast(literal(self._write_lock_key), BigInteger)))
            )
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._read_sessions.begin() as session:
            yield session

    # -------------------------------------------------------------------------- reading

    def effective(self) -> list[EffectiveItem]:
        """Applied items overlaid by staged ones, each with its flag and version token.

        Order: applied order (stable across applies), then new items in staging order.
        Raises VaultLocked when an item holds sealed secrets and no vault is unlocked.
        """
        with self._reading() as s:
            applied_version = func.coalesce(ItemVersion.version, AppliedItem.version)
            applied = s.execute(
                select(AppliedItem.kind, AppliedItem.name, AppliedItem.data, applied_version)
                .outerjoin(ItemVersion, _same_key(ItemVersion, AppliedItem))
                .order_by(AppliedItem.position)
            ).all()
            staged_version = func.coalesce(ItemVersion.version, StagedItem.version)
            staged = s.execute(
                select(
                    StagedItem.kind,
                    StagedItem.name,
                    StagedItem.flag,
                    StagedItem.data,
                    staged_version,
                )
                .outerjoin(ItemVersion, _same_key(ItemVersion, StagedItem))
                .order_by(StagedItem.version)
            ).all()
        vault = self._vault
        versions: dict[ItemKey, int] = {}
        applied_items: list[Item] = []
        for kind, name, data, version in applied:
            item = Item(ItemKind(kind), name, unseal(data, vault))
            applied_items.append(item)
            versions[item.key] = version
        staged_items: list[tuple[Item, Flag]] = []
        for kind, name, flag, data, version in staged:
            item = Item(ItemKind(kind), name, None if data is None else unseal(data, vault))
            staged_items.append((item, Flag(flag)))
            versions[item.key] = version
        return [
            replace(e, version=versions[e.item.key])
            for e in effective_view(applied_items, staged_items)
        ]

    def applied(self) -> list[Item]:
        """The applied items alone, in applied order (what the last Apply or import made live).

        Raises VaultLocked when an item holds sealed secrets and no vault is unlocked.
        """
        with self._reading() as s:
            rows = s.execute(
                select(AppliedItem.kind, AppliedItem.name, AppliedItem.data).order_by(
                    AppliedItem.position
                )
            ).all()
        return [Item(ItemKind(kind), name, unseal(data, self._vault)) for kind, name, data in rows]

    def staged_count(self) -> int:
        """How many items are staged (new, changed or deleted)."""
        with self._reading() as s:
            return s.execute(select(func.count()).select_from(StagedItem)).scalar_one()

    def staged_versions(self) -> dict[ItemKey, int]:
        """Every staged key with its version token: what `fold` expects as `expected_staged`."""
        with self._reading() as s:
            rows = s.execute(select(StagedItem.kind, StagedItem.name, StagedItem.version)).all()
        return {ItemKey(ItemKind(kind), name): version for kind, name, version in rows}

    def last_change(self, key: ItemKey) -> ItemChange | None:
        """Who changed `key` last, when and how; None if the key was never used."""
        with self._reading() as s:
            return _last_changes(s, [key]).get(key)

    def initialised(self) -> InitialisedMarker | None:
        """When and by whom this Master first received configuration, if it ever did."""
        with self._reading() as s:
            return _initialised_marker(s)

    # -------------------------------------------------------------------------- staging

    def stage(self, item: Item, expected_version: int, actor: Actor) -> EffectiveItem:
        """Stage a new or changed item (flag new unless applied, then changed).

        `expected_version` is the token from `effective()` (0 for an item believed not to exist).
        Raises StagingConflict if someone else changed the item since; VaultLocked if the item
        holds secrets and no vault is unlocked.
        """
        return self.stage_many([(item, expected_version)], actor)[0]

    def stage_many(self, changes: Iterable[tuple[Item, int]], actor: Actor) -> list[EffectiveItem]:
        """Stage many items, each with its expected version token, in one transaction.

        All or nothing: one stale token raises a StagingConflict naming every stale item.
        """
        batch = list(changes)
        keys = [item.key for item, _ in batch]
        _refuse_duplicates(keys)
        if not batch:
            return []
        # Sealed before the transaction: encryption is CPU work that need not hold the lock.
        vault = self._vault  # one vault for sealing and checking, even if another thread rotates
        sealed = [seal(item.data, vault) for item, _ in batch]
        with_secrets = any(contains_secret(item.data) for item, _ in batch)
        with self._writing() as s:
            if with_secrets:
                _check_vault_is_current(s, vault)
            state = _KeyState.load(s, keys)
            conflicts = [
                state.conflict(item.key, expected)
                for item, expected in batch
                if state.token(item.key) != expected
            ]
            if conflicts:
                raise StagingConflict(conflicts)
            versions = _next_versions(s, len(batch))
            flags = [Flag.CHANGED if state.is_applied(k) else Flag.NEW for k in keys]
            _upsert_staged(
                s,
                [
                    {"kind": k.kind.value, "name": k.name, "flag": f.value, "data": d, "version": v}
                    for k, f, d, v in zip(keys, flags, sealed, versions, strict=True)
                ],
                actor,
            )
            _record_changes(
                s,
                [(k, v, _STAGED_AS[f]) for k, f, v in zip(keys, flags, versions, strict=True)],
                actor,
            )
            _audit(s, "stage", {"items": [str(k) for k in keys]}, actor)
        return [
            EffectiveItem(item, flag, version)
            for (item, _), flag, version in zip(batch, flags, versions, strict=True)
        ]

    def stage_delete(self, key: ItemKey, expected_version: int, actor: Actor) -> int:
        """Stage the deletion of an item; return its new version token.

        An applied item stays applied (flagged deleted) until the next fold. An item that was only
        staged as new is simply dropped (token 0 returned). Raises StagingConflict on a stale
        token and UnknownItem for an item that exists nowhere.
        """
        with self._writing() as s:
            state = _KeyState.load(s, [key])
            if state.token(key) != expected_version:
                raise StagingConflict([state.conflict(key, expected_version)])
            if not state.exists(key):
                raise UnknownItem(key)
            (version,) = _next_versions(s, 1)
            if state.is_applied(key):
                _upsert_staged(
                    s,
                    [
                        {
                            "kind": key.kind.value,
                            "name": key.name,
                            "flag": Flag.DELETED.value,
                            # SQL NULL, not JSON null: a staged value may itself be JSON null.
                            "data": null(),
                            "version": version,
                        }
                    ],
                    actor,
                )
                _record_changes(s, [(key, version, _STAGED_AS[Flag.DELETED])], actor)
                result = version
            else:
                s.execute(delete(StagedItem).where(*_key_is(StagedItem, key)))
                _record_changes(s, [(key, version, _DROPPED_UNAPPLIED)], actor)
                result = 0
            _audit(s, "stage_delete", {"item": str(key)}, actor)
        return result

    def discard(self, key: ItemKey, actor: Actor, *, expected_version: int | None = None) -> bool:
        """Drop the staged change of one item; True if there was one.

        With `expected_version`, refuse (StagingConflict) if the item changed since it was read.
        """
        with self._writing() as s:
            if expected_version is not None:
                state = _KeyState.load(s, [key])
                if state.token(key) != expected_version:
                    raise StagingConflict([state.conflict(key, expected_version)])
            gone = s.execute(
                delete(StagedItem).where(*_key_is(StagedItem, key)).returning(StagedItem.name)
            ).all()
            if not gone:
                return False
            (version,) = _next_versions(s, 1)
            _record_changes(s, [(key, version, _DISCARDED)], actor)
            _audit(s, "discard", {"item": str(key)}, actor)
        return True

    def discard_all(self, actor: Actor) -> int:
        """Drop every staged change; return how many there were."""
        with self._writing() as s:
            rows = s.execute(delete(StagedItem).returning(StagedItem.kind, StagedItem.name)).all()
            keys = [ItemKey(ItemKind(kind), name) for kind, name in rows]
            if keys:
                versions = _next_versions(s, len(keys))
                _record_changes(
                    s, [(k, v, _DISCARDED) for k, v in zip(keys, versions, strict=True)], actor
                )
                _audit(s, "discard_all", {"items": [str(k) for k in keys]}, actor)
        return len(keys)

    # -------------------------------------------------------------------------- apply

    def fold(
        self,
        summary: str,
        rendered_yaml_redacted: str,
        sha256: str,
        actor: Actor,
        expected_staged: Mapping[ItemKey, int],
    ) -> int:
        """Make the staged changes applied and record a revision, in one transaction.

        Deletes applied items staged as deleted, upserts new/changed ones, clears staging, stores
        a revision (redacted YAML, SHA-256 of the real file, sealed snapshot of applied items) and
        an audit entry; returns the revision id. `expected_staged` is the staged set (key →
        version) the caller rendered; if the staged set differs, StagingConflict is raised and
        nothing changes.
        """
        if not _SHA256_HEX.match(sha256):
            raise ValueError("sha256 must be 64 lower-case hex digits (the rendered file's hash)")
        expected = dict(expected_staged)
        with self._writing() as s:
            staged_rows = s.execute(
                select(StagedItem.kind, StagedItem.name, StagedItem.flag, StagedItem.version)
            ).all()
            current = {ItemKey(ItemKind(k), n): v for k, n, _f, v in staged_rows}
            if current != expected:
                differing = sorted(
                    (
                        k
                        for k in current.keys() | expected.keys()
                        if current.get(k, 0) != expected.get(k, 0)
                    ),
                    key=str,
                )
                changes = _last_changes(s, differing)
                raise StagingConflict(
                    [
                        Conflict(k, expected.get(k, 0), current.get(k, 0), changes.get(k))
                        for k in differing
                    ],
                    during="apply",
                )
            flags = Counter(Flag(f) for _k, _n, f, _v in staged_rows)
            _fold_staged(s, actor)
            revision_id = _insert_revision(s, summary, rendered_yaml_redacted, sha256, actor)
            _mark_initialised(s, "apply", actor)
            _audit(
                s,
                "apply",
                {
                    "revision": revision_id,
                    "summary": summary,
                    "sha256": sha256,
                    "new": flags[Flag.NEW],
                    "changed": flags[Flag.CHANGED],
                    "deleted": flags[Flag.DELETED],
                    "items": sorted(str(k) for k in current),
                },
                actor,
            )
        return revision_id

    def revisions(self, limit: int | None = None) -> list[RevisionInfo]:
        """Applied revisions, newest first (without their YAML and snapshot)."""
        with self._reading() as s:
            query = _revision_info_query().order_by(RevisionRow.id.desc())
            if limit is not None:
                query = query.limit(limit)
            return [_revision_info(row) for row in s.execute(query).all()]

    def revision(self, revision_id: int) -> Revision:
        """One revision with its redacted YAML; RevisionNotFound if there is none."""
        with self._reading() as s:
            row = s.execute(
                _revision_info_query()
                .add_columns(RevisionRow.rendered_yaml_redacted)
                .where(RevisionRow.id == revision_id)
            ).one_or_none()
        if row is None:
            raise RevisionNotFound(revision_id)
        return Revision(info=_revision_info(row), rendered_yaml_redacted=row[-1])

    def revision_items(self, revision_id: int) -> list[Item]:
        """The items that were applied by a revision, secrets unsealed (for a restore).

        Raises RevisionNotFound, or VaultLocked when the snapshot holds secrets and no vault is
        unlocked.
        """
        with self._reading() as s:
            snapshot = s.execute(
                select(RevisionRow.snapshot).where(RevisionRow.id == revision_id)
            ).scalar_one_or_none()
        if snapshot is None:
            raise RevisionNotFound(revision_id)
        vault = self._vault
        return [
            Item(ItemKind(entry["kind"]), entry["name"], unseal(entry["data"], vault))
            for entry in snapshot
        ]

    # -------------------------------------------------------------------------- import

    def seed_from_import(
        self, items: Sequence[Item], actor: Actor, served_model_groups: set[str] | None
    ) -> int:
        """First boot: make imported items the applied configuration; return how many.

        Runs only on a Master that is empty and was never initialised. Raises MasterNotEmpty,
        MasterWasInitialised (emptied by accident: restore from history instead), or
        ServedModelsMissing when LiteLLM serves model groups the import does not contain (the
        file does not describe what is running). Items, marker and audit commit together.
        """
        batch = list(items)
        keys = [item.key for item in batch]
        _refuse_duplicates(keys)
        imported_groups = {
            group
            for item in batch
            if item.kind is ItemKind.MODEL and (group := model_group(item)) is not None
        }
        missing = set(served_model_groups or ()) - imported_groups
        vault = self._vault
        sealed = [seal(item.data, vault) for item in batch]
        with_secrets = any(contains_secret(item.data) for item in batch)
        with self._writing() as s:
            applied = s.execute(select(func.count()).select_from(AppliedItem)).scalar_one()
            staged = s.execute(select(func.count()).select_from(StagedItem)).scalar_one()
            if applied or staged:
                raise MasterNotEmpty(applied, staged)
            marker = _initialised_marker(s)
            if marker is not None:
                raise MasterWasInitialised(marker.at, marker.by, marker.via)
            if missing:
                raise ServedModelsMissing(missing)
            if with_secrets:
                _check_vault_is_current(s, vault)
            versions = _next_versions(s, len(batch))
            if batch:
                s.execute(
                    insert(AppliedItem),
                    [
                        {
                            "kind": k.kind.value,
                            "name": k.name,
                            "data": d,
                            "version": v,
                            "position": v,
                            "updated_by_user": actor.user,
                            "updated_by_host": actor.host,
                        }
                        for k, d, v in zip(keys, sealed, versions, strict=True)
                    ],
                )
                _record_changes(
                    s, [(k, v, _IMPORTED) for k, v in zip(keys, versions, strict=True)], actor
                )
            _mark_initialised(s, "import", actor)
            _audit(
                s,
                "import",
                {
                    "items": len(batch),
                    "kinds": dict(Counter(k.kind.value for k in keys)),
                    "served_model_groups": sorted(served_model_groups or ()),
                },
                actor,
            )
        return len(batch)

    # -------------------------------------------------------------------------- audit

    def audit(self, action: str, detail: Mapping[str, Any], actor: Actor) -> int:
        """Record an admin action; secrets in `detail` are replaced by *** first. Returns its id."""
        with self._write_sessions.begin() as s:
            return _audit(s, action, detail, actor)

    def latest_audit(self, action: str) -> AuditEntry | None:
        """The newest audit entry of `action`, if any."""
        with self._reading() as s:
            row = s.execute(
                select(AuditRow)
                .where(AuditRow.action == action)
                .order_by(AuditRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            return None if row is None else _audit_entry(row)

    def audit_entries(self, limit: int = 200, *, before_id: int | None = None) -> list[AuditEntry]:
        """Audit entries, newest first; page with `before_id` (the last id of the prior page)."""
        with self._reading() as s:
            query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
            if before_id is not None:
                query = query.where(AuditRow.id < before_id)
            return [_audit_entry(row) for row in s.scalars(query)]

    # -------------------------------------------------------------------------- vault

    @property
    def vault(self) -> UnlockedVault | None:
        """The unlocked vault this Master seals and unseals with, if any."""
        return self._vault

    def has_vault(self) -> bool:
        """True when this Master has a vault record (whether or not it is unlocked here)."""
        with self._reading() as s:
            return s.get(VaultRow, _VAULT_ROW_ID) is not None

    def init_vault(
        self,
        passphrase: str,
        actor: Actor,
        *,
        time_cost: int = vault_crypto.DEFAULT_TIME_COST,
        memory_cost: int = vault_crypto.DEFAULT_MEMORY_COST,
        parallelism: int = vault_crypto.DEFAULT_PARALLELISM,
    ) -> UnlockedVault:
        """Create this Master's vault and keep it unlocked.

        Raises VaultAlreadyInitialised (nothing replaced) when the Master already has a vault.
        """
        record, unlocked = vault_crypto.create_vault(
            passphrase, time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        with self._writing() as s:
            if s.get(VaultRow, _VAULT_ROW_ID) is not None:
                raise VaultAlreadyInitialised()
            s.add(VaultRow(id=_VAULT_ROW_ID, **_vault_columns(record, actor)))
            _audit(s, "vault.create", {"key_id": record.key_id}, actor)
        self._vault = unlocked
        return unlocked

    def unlock_vault(self, passphrase: str) -> UnlockedVault:
        """Unlock the stored vault and keep it for sealing/unsealing.

        Raises VaultNotInitialised, or the vault's WrongPassphrase / DamagedVaultRecord.
        """
        with self._reading() as s:
            record = _vault_record(s)
        self._vault = vault_crypto.unlock(record, passphrase)
        return self._vault

    def lock_vault(self) -> None:
        """Forget the unlocked vault; sealed items can no longer be read or written here."""
        self._vault = None

    def change_passphrase(self, old: str, new: str, actor: Actor) -> None:
        """Re-wrap the same data key under a new passphrase; no secret is re-encrypted.

        A wrong `old` raises WrongPassphrase and changes nothing.
        """
        with self._writing() as s:
            record = vault_crypto.rewrap(_vault_record(s), old, new)
            s.execute(
                update(VaultRow)
                .where(VaultRow.id == _VAULT_ROW_ID)
                .values(**_vault_columns(record, actor), updated_at=func.now())
            )
            _audit(s, "vault.change_passphrase", {"key_id": record.key_id}, actor)

    def rotate_data_key(self, passphrase: str, actor: Actor) -> UnlockedVault:
        """Replace the data key and re-encrypt every sealed value, in one transaction.

        Covers applied items, staged items and revision snapshots. A wrong passphrase raises
        WrongPassphrase and changes nothing. Keeps (and returns) the new vault unlocked here;
        other sessions holding the old key get VaultKeyMismatch until they unlock again.
        """
        with self._writing() as s:
            record = _vault_record(s)
            old = vault_crypto.unlock(record, passphrase)
            new_record, new = vault_crypto.new_data_key(record, passphrase)
            counts = _reseal_everything(s, old, new)
            s.execute(
                update(VaultRow)
                .where(VaultRow.id == _VAULT_ROW_ID)
                .values(**_vault_columns(new_record, actor), updated_at=func.now())
            )
            _audit(
                s,
                "vault.rotate_data_key",
                {"from_key_id": old.key_id, "to_key_id": new.key_id, "resealed": counts},
                actor,
            )
        self._vault = new
        return new


# ------------------------------------------------------------------------------ helpers


class _KeyState:
    """What the database says about some keys right now (inside the write lock)."""

    def __init__(
        self,
        applied: set[ItemKey],
        staged: set[ItemKey],
        changes: dict[ItemKey, ItemChange],
    ) -> None:
        self._applied = applied
        self._staged = staged
        self._changes = changes

    @classmethod
    def load(cls, s: Session, keys: Sequence[ItemKey]) -> _KeyState:
        wanted = _keys_table(keys)
        applied = {
            ItemKey(ItemKind(kind), name)
            for kind, name in s.execute(
                select(AppliedItem.kind, AppliedItem.name).join(
                    wanted, _same_key(wanted.c, AppliedItem)
                )
            )
        }
        staged = {
            ItemKey(ItemKind(kind), name)
            for kind, name in s.execute(
                select(StagedItem.kind, StagedItem.name).join(
                    wanted, _same_key(wanted.c, StagedItem)
                )
            )
        }
        return cls(applied, staged, _last_changes(s, keys))

    def exists(self, key: ItemKey) -> bool:
        return key in self._applied or key in self._staged

    def is_applied(self, key: ItemKey) -> bool:
        return key in self._applied

    def token(self, key: ItemKey) -> int:
        if not self.exists(key):
            return 0
        change = self._changes.get(key)
        return change.version if change is not None else 0

    def conflict(self, key: ItemKey, expected: int) -> Conflict:
        return Conflict(key, expected, self.token(key), self._changes.get(key))


def _check_vault_is_current(s: Session, vault: UnlockedVault | None) -> None:
    """Refuse to write secrets sealed with a key that is no longer the vault's data key.

    Without this, a session that unlocked before another admin rotated the key would store
    values nobody can decrypt any more.
    """
    assert vault is not None, "seal() raises VaultLocked before this is reached"
    key_id = s.execute(
        select(VaultRow.key_id).where(VaultRow.id == _VAULT_ROW_ID)
    ).scalar_one_or_none()
    if key_id is None:
        raise VaultNotInitialised()
    if key_id != vault.key_id:
        raise VaultKeyMismatch(key_id, vault.key_id)


def _refuse_duplicates(keys: Sequence[ItemKey]) -> None:
    dupes = sorted(str(k) for k, n in Counter(keys).items() if n > 1)
    if dupes:
        raise ValueError(f"The same item appears more than once: {', '.join(dupes)}")


def _same_key(a: Any, b: Any) -> Any:
    """Join condition: same (kind, name) in two tables/entities."""
    return and_(a.kind == b.kind, a.name == b.name)


def _keys_table(keys: Sequence[ItemKey]) -> TableValuedAlias:
    """The keys as a (kind, name) table from two array parameters.

    Two parameters whatever the batch size; `IN ((k, n), ...)` would need two per key and hits
    PostgreSQL's 65,535-parameter limit on very large batches.
    """
    kinds = bindparam("key_kinds", [k.kind.value for k in keys], type_=ARRAY(Text))
    names = bindparam("key_names", [k.name for k in keys], type_=ARRAY(Text))
    return func.unnest(kinds, names).table_valued("kind", "name").render_derived()


def _key_is(model: type[StagedItem] | type[AppliedItem], key: ItemKey) -> tuple[Any, Any]:
    return (model.kind == key.kind.value, model.name == key.name)


def _next_versions(s: Session, n: int) -> list[int]:
    """`n` fresh version tokens, ascending (ascending = staging order)."""
    if n == 0:
        return []
    series = func.generate_series(1, n).table_valued("i")
    return sorted(s.scalars(select(item_version_seq.next_value()).select_from(series)))


def _last_changes(s: Session, keys: Sequence[ItemKey]) -> dict[ItemKey, ItemChange]:
    if not keys:
        return {}
    wanted = _keys_table(keys)
    rows = s.scalars(select(ItemVersion).join(wanted, _same_key(wanted.c, ItemVersion)))
    result: dict[ItemKey, ItemChange] = {}
    for row in rows:
        key = ItemKey(ItemKind(row.kind), row.name)
        result[key] = ItemChange(
            key=key,
            version=row.version,
            change=row.change,
            at=row.changed_at,
            by=Actor(row.changed_by_user, row.changed_by_host),
        )
    return result


def _record_changes(s: Session, changes: Sequence[tuple[ItemKey, int, str]], actor: Actor) -> None:
    """Set the version token and latest change of each key."""
    stmt = pg_insert(ItemVersion)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ItemVersion.kind, ItemVersion.name],
        set_={
            "version": stmt.excluded.version,
            "change": stmt.excluded.change,
            "changed_at": func.now(),
            "changed_by_user": stmt.excluded.changed_by_user,
            "changed_by_host": stmt.excluded.changed_by_host,
        },
    )
    s.execute(
        stmt,
        [
            {
                "kind": key.kind.value,
                "name": key.name,
                "version": version,
                "change": change,
                "changed_by_user": actor.user,
                "changed_by_host": actor.host,
            }
            for key, version, change in changes
        ],
    )


def _upsert_staged(s: Session, rows: Sequence[dict[str, Any]], actor: Actor) -> None:
    stmt = pg_insert(StagedItem)
    stmt = stmt.on_conflict_do_update(
        index_elements=[StagedItem.kind, StagedItem.name],
        set_={
            "flag": stmt.excluded.flag,
            "data": stmt.excluded.data,
            "version": stmt.excluded.version,
            "staged_at": func.now(),
            "staged_by_user": stmt.excluded.staged_by_user,
            "staged_by_host": stmt.excluded.staged_by_host,
        },
    )
    s.execute(
        stmt,
        [{**row, "staged_by_user": actor.user, "staged_by_host": actor.host} for row in rows],
    )


def _fold_staged(s: Session, actor: Actor) -> None:
    """Set-based fold of every staged row into applied; heads updated; staging cleared."""
    deleted = StagedItem.flag == Flag.DELETED.value
    kept = StagedItem.flag != Flag.DELETED.value
    who = {"changed_by_user": actor.user, "changed_by_host": actor.host}
    no_sync = {"synchronize_session": False}

    s.execute(
        update(ItemVersion)
        .where(_same_key(ItemVersion, StagedItem), deleted)
        .values(
            version=item_version_seq.next_value(),
            change=_DELETION_APPLIED,
            changed_at=func.now(),
            **who,
        )
        .execution_options(**no_sync)
    )
    s.execute(
        delete(AppliedItem)
        .where(
            tuple_(AppliedItem.kind, AppliedItem.name).in_(
                select(StagedItem.kind, StagedItem.name).where(deleted)
            )
        )
        .execution_options(**no_sync)
    )
    upsert = pg_insert(AppliedItem).from_select(
        ["kind", "name", "data", "version", "position", "updated_by_user", "updated_by_host"],
        select(
            StagedItem.kind,
            StagedItem.name,
            StagedItem.data,
            item_version_seq.next_value(),
            # New items keep staging order after everything applied before them.
            StagedItem.version,
            literal(actor.user),
            literal(actor.host),
        )
        .where(kept)
        .order_by(StagedItem.version),
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[AppliedItem.kind, AppliedItem.name],
        # `position` deliberately not updated: a changed item keeps its place in the file.
        set_={
            "data": upsert.excluded.data,
            "version": upsert.excluded.version,
            "updated_at": func.now(),
            "updated_by_user": upsert.excluded.updated_by_user,
            "updated_by_host": upsert.excluded.updated_by_host,
        },
    )
    s.execute(upsert)
    s.execute(
        update(ItemVersion)
        .where(_same_key(ItemVersion, StagedItem), kept, _same_key(ItemVersion, AppliedItem))
        .values(version=AppliedItem.version, change=_APPLIED, changed_at=func.now(), **who)
        .execution_options(**no_sync)
    )
    s.execute(delete(StagedItem).execution_options(**no_sync))


def _insert_revision(s: Session, summary: str, yaml: str, sha256: str, actor: Actor) -> int:
    """Insert a revision whose snapshot is the applied table, built inside Postgres."""
    entry = func.jsonb_build_object(
        "kind", AppliedItem.kind, "name", AppliedItem.name, "data", AppliedItem.data
    )
    snapshot = func.coalesce(
        func.jsonb_agg(aggregate_order_by(entry, AppliedItem.position)), func.jsonb_build_array()
    )
    source = select(
        literal(actor.user),
        literal(actor.host),
        literal(summary),
        literal(yaml),
        literal(sha256),
        func.count(),
        snapshot,
    ).select_from(AppliedItem)
    stmt = (
        insert(RevisionRow)
        .from_select(
            [
                "created_by_user",
                "created_by_host",
                "summary",
                "rendered_yaml_redacted",
                "rendered_sha256",
                "item_count",
                "snapshot",
            ],
            source,
        )
        .returning(RevisionRow.id)
    )
    return s.execute(stmt).scalar_one()


def _revision_info_query() -> Select[int, datetime, str, str, str, str, int]:
    return select(
        RevisionRow.id,
        RevisionRow.created_at,
        RevisionRow.created_by_user,
        RevisionRow.created_by_host,
        RevisionRow.summary,
        RevisionRow.rendered_sha256,
        RevisionRow.item_count,
    )


def _revision_info(row: Any) -> RevisionInfo:
    return RevisionInfo(
        id=row.id,
        created_at=row.created_at,
        created_by=Actor(row.created_by_user, row.created_by_host),
        summary=row.summary,
        rendered_sha256=row.rendered_sha256,
        item_count=row.item_count,
    )


def _initialised_marker(s: Session) -> InitialisedMarker | None:
    """The meta marker; failing that, the first revision (a Master applied before the marker)."""
    meta = s.get(MetaRow, _INITIALISED)
    if meta is not None:
        return InitialisedMarker(
            at=meta.set_at,
            by=Actor(meta.set_by_user, meta.set_by_host),
            via=str(meta.value.get("via", "unknown")),
        )
    first = s.execute(
        select(RevisionRow.created_at, RevisionRow.created_by_user, RevisionRow.created_by_host)
        .order_by(RevisionRow.id)
        .limit(1)
    ).one_or_none()
    if first is None:
        return None
    return InitialisedMarker(at=first[0], by=Actor(first[1], first[2]), via="apply")


def _mark_initialised(s: Session, via: str, actor: Actor) -> None:
    stmt = pg_insert(MetaRow).values(
        key=_INITIALISED,
        value={"via": via},
        set_by_user=actor.user,
        set_by_host=actor.host,
    )
    # First initialisation wins: later applies must not move the date.
    s.execute(stmt.on_conflict_do_nothing(index_elements=[MetaRow.key]))


def _audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        by=Actor(row.actor_user, row.actor_host),
        action=row.action,
        detail=row.detail,
    )


def _audit(s: Session, action: str, detail: Mapping[str, Any], actor: Actor) -> int:
    stmt = (
        insert(AuditRow)
        .values(
            actor_user=actor.user,
            actor_host=actor.host,
            action=action,
            detail=scrub_detail(detail),
        )
        .returning(AuditRow.id)
    )
    return s.execute(stmt).scalar_one()


def _vault_record(s: Session) -> VaultRecord:
    row = s.get(VaultRow, _VAULT_ROW_ID)
    if row is None:
        raise VaultNotInitialised()
    return VaultRecord(
        salt=row.salt,
        time_cost=row.time_cost,
        memory_cost=row.memory_cost,
        parallelism=row.parallelism,
        wrapped_key=row.wrapped_key,
        key_id=row.key_id,
    )


def _vault_columns(record: VaultRecord, actor: Actor) -> dict[str, Any]:
    return {
        "salt": record.salt,
        "time_cost": record.time_cost,
        "memory_cost": record.memory_cost,
        "parallelism": record.parallelism,
        "wrapped_key": record.wrapped_key,
        "key_id": record.key_id,
        "updated_by_user": actor.user,
        "updated_by_host": actor.host,
    }


def _reseal_everything(s: Session, old: UnlockedVault, new: UnlockedVault) -> dict[str, int]:
    """Re-encrypt every sealed value under `new`; returns rows rewritten per table."""
    no_sync = {"synchronize_session": False}
    counts = {"applied": 0, "staged": 0, "revisions": 0}
    for model, label in ((AppliedItem, "applied"), (StagedItem, "staged")):
        rows = s.execute(
            select(model.kind, model.name, model.data).where(
                model.data.cast(Text).contains(SEALED_MARKER)
            )
        ).all()
        for kind, name, data in rows:
            s.execute(
                update(model)
                .where(model.kind == kind, model.name == name)
                .values(data=reseal(data, old, new))
                .execution_options(**no_sync)
            )
        counts[label] = len(rows)
    revisions = s.execute(
        select(RevisionRow.id, RevisionRow.snapshot).where(
            RevisionRow.snapshot.cast(Text).contains(SEALED_MARKER)
        )
    ).all()
    for revision_id, snapshot in revisions:
        s.execute(
            update(RevisionRow)
            .where(RevisionRow.id == revision_id)
            .values(snapshot=reseal(snapshot, old, new))
            .execution_options(**no_sync)
        )
    counts["revisions"] = len(revisions)
    return counts
