"""SQLAlchemy typed models of the Master, all inside the app's own Postgres schema.

The models name the placeholder schema `MODEL_SCHEMA`; the engine's `schema_translate_map`
(see `schema_translation`) points it at the configured schema at execution time. The Master never
lives in `public`: LiteLLM's migration resolver drops tables there that it does not know.

These models mirror `migrations/versions/*`; a test compares them with the migrated database.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    SmallInteger,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .errors import InvalidSchemaName

DEFAULT_SCHEMA: Final = "llmproxy"
# The schema written into the models; replaced by the configured name at execution time.
MODEL_SCHEMA: Final = DEFAULT_SCHEMA

# Lower-case identifiers only: no quoting surprises between psql, SQLAlchemy and humans.
_SCHEMA_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_FORBIDDEN_SCHEMAS: Final = frozenset({"public", "information_schema"})


def validate_schema_name(schema: str) -> str:
    """Return `schema` if the Master may live there; raise InvalidSchemaName otherwise."""
    if schema in _FORBIDDEN_SCHEMAS:
        raise InvalidSchemaName(
            schema,
            "the Master must live in its own schema, because LiteLLM's migrations drop unknown "
            "tables in 'public'",
        )
    if schema.startswith("pg_"):
        raise InvalidSchemaName(schema, "names starting with 'pg_' are reserved by PostgreSQL")
    if not _SCHEMA_NAME.match(schema):
        raise InvalidSchemaName(
            schema,
            "use 1 to 63 lower-case letters, digits and underscores, not starting with a digit",
        )
    return schema


def schema_translation(schema: str) -> dict[str | None, str | None]:
    """The `schema_translate_map` execution option that points the models at `schema`."""
    return {MODEL_SCHEMA: validate_schema_name(schema)}


class Base(DeclarativeBase):
    """Declarative base of the Master's tables."""

    metadata = MetaData(schema=MODEL_SCHEMA)


# Every change to any item key takes the next value: tokens are never reused, so a token that
# was valid once can never match again after the item changed (no ABA on discard + re-stage).
item_version_seq = Sequence("item_version_seq", schema=MODEL_SCHEMA, metadata=Base.metadata)

_NOW = func.now()


class AppliedItem(Base):
    """The configuration last applied to LiteLLM."""

    __tablename__ = "applied_items"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    data: Mapped[Any] = mapped_column(JSONB, nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Keeps the rendered order stable (model_list order) across applies: set on first insert.
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    updated_by_user: Mapped[str] = mapped_column(Text, nullable=False)
    updated_by_host: Mapped[str] = mapped_column(Text, nullable=False)


class StagedItem(Base):
    """Pending intent: one row per item changed, added or deleted since the last apply."""

    __tablename__ = "staged_items"
    __table_args__ = (
        CheckConstraint("flag IN ('new', 'changed', 'deleted')", name="staged_items_flag_valid"),
        CheckConstraint(
            "(flag = 'deleted') = (data IS NULL)", name="staged_items_data_unless_deleted"
        ),
    )

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    flag: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[Any | None] = mapped_column(JSONB, nullable=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    staged_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    staged_by_user: Mapped[str] = mapped_column(Text, nullable=False)
    staged_by_host: Mapped[str] = mapped_column(Text, nullable=False)


class ItemVersion(Base):
    """The current version token of every item key ever used, and its latest change.

    Separate from applied/staged because a discard removes the staged row and a deletion removes
    the applied row, yet a conflict must still name who did it and when.
    """

    __tablename__ = "item_versions"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    change: Mapped[str] = mapped_column(Text, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    changed_by_user: Mapped[str] = mapped_column(Text, nullable=False)
    changed_by_host: Mapped[str] = mapped_column(Text, nullable=False)


class RevisionRow(Base):
    """One apply: the redacted rendered file, the real file's hash and a sealed snapshot."""

    __tablename__ = "revisions"
    __table_args__ = (
        CheckConstraint("rendered_sha256 ~ '^[0-9a-f]{64}$'", name="revisions_rendered_sha256_hex"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    created_by_user: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_host: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    rendered_yaml_redacted: Mapped[str] = mapped_column(Text, nullable=False)
    rendered_sha256: Mapped[str] = mapped_column(Text, nullable=False)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{"kind", "name", "data"}] in applied order; secrets sealed exactly as in applied_items.
    snapshot: Mapped[Any] = mapped_column(JSONB, nullable=False)


class AuditRow(Base):
    """One admin action. `detail` never holds a secret (the store redacts before writing)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    actor_user: Mapped[str] = mapped_column(Text, nullable=False)
    actor_host: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[Any] = mapped_column(JSONB, nullable=False)


class VaultRow(Base):
    """The one vault record: Argon2 parameters, salt and the wrapped data key."""

    __tablename__ = "vault"
    __table_args__ = (CheckConstraint("id = 1", name="vault_single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    salt: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    time_cost: Mapped[int] = mapped_column(Integer, nullable=False)
    memory_cost: Mapped[int] = mapped_column(Integer, nullable=False)
    parallelism: Mapped[int] = mapped_column(Integer, nullable=False)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    key_id: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    updated_by_user: Mapped[str] = mapped_column(Text, nullable=False)
    updated_by_host: Mapped[str] = mapped_column(Text, nullable=False)


class MetaRow(Base):
    """Small facts about this Master, e.g. `initialised` (when, by whom, via what)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    set_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
    set_by_user: Mapped[str] = mapped_column(Text, nullable=False)
    set_by_host: Mapped[str] = mapped_column(Text, nullable=False)


# --- the usage rollup (ops/usage_rollup.py) --------------------------------------------------
# Aggregates of LiteLLM's "LiteLLM_SpendLogs", so the Usage page reads thousands of rows instead
# of millions. Times are naive UTC, as "startTime" holds them. Grouping values are the page's
# ('' for none), so a rollup row and a request row are grouped alike.


class UsageHour(Base):
    """Requests of one UTC hour by model group, key hash, user and team."""

    __tablename__ = "usage_hours"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=False), primary_key=True)
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    api_key: Mapped[str] = mapped_column(Text, primary_key=True)
    usr: Mapped[str] = mapped_column(Text, primary_key=True)
    team: Mapped[str] = mapped_column(Text, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    failures: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cache_hits: Mapped[int] = mapped_column(BigInteger, nullable=False)
    spend: Mapped[float] = mapped_column(Double, nullable=False)
    tokens_in: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tokens_out: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Over the successful requests with a known latency (milliseconds).
    latency_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_sum_ms: Mapped[float] = mapped_column(Double, nullable=False)


class UsageKeyDay(Base):
    """`usage_hours` of one UTC day added up by key, user and team (without the model): the
    key/user/team breakdowns of a long range read ~24x fewer rows."""

    __tablename__ = "usage_key_days"

    day: Mapped[datetime] = mapped_column(DateTime(timezone=False), primary_key=True)
    api_key: Mapped[str] = mapped_column(Text, primary_key=True)
    usr: Mapped[str] = mapped_column(Text, primary_key=True)
    team: Mapped[str] = mapped_column(Text, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    failures: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cache_hits: Mapped[int] = mapped_column(BigInteger, nullable=False)
    spend: Mapped[float] = mapped_column(Double, nullable=False)
    tokens_in: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tokens_out: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UsageModelQuarter(Base):
    """Requests of one UTC quarter-hour by model group: the charts' cells. Quarter hours, because
    a zone's hours and midnights may start at :30 or :45 UTC (India, Nepal)."""

    __tablename__ = "usage_model_quarters"

    quarter: Mapped[datetime] = mapped_column(DateTime(timezone=False), primary_key=True)
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    failures: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cache_hits: Mapped[int] = mapped_column(BigInteger, nullable=False)
    spend: Mapped[float] = mapped_column(Double, nullable=False)
    tokens_in: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tokens_out: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UsageLatencyHour(Base):
    """How many successful requests of one UTC hour fell into each latency bucket (exact
    milliseconds below 128 ms, then log-spaced by 2 %; see ops/usage_rollup.py)."""

    __tablename__ = "usage_latency_hours"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=False), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UsageRollupState(Base):
    """The one watermark row: every whole hour before `watermark` is in the rollup."""

    __tablename__ = "usage_rollup_state"
    __table_args__ = (CheckConstraint("id = 1", name="usage_rollup_state_single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    watermark: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=_NOW
    )
