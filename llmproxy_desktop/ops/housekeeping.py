"""Housekeeping of a stack's LiteLLM database: how big it is, and trimming old spend logs.

`database_stats` reads sizes from the catalog (cheap at any size). `trim_preview` counts exactly
what a trim would delete, bounded in time. `trim_spend_logs` deletes in small batches while
LiteLLM keeps writing:

- every batch is its own short transaction (`SET LOCAL lock_timeout` and `statement_timeout`),
  so nothing we hold outlives one batch, and we never queue for a lock behind LiteLLM;
- a batch takes the oldest rows by the `"startTime"` index (`FOR UPDATE SKIP LOCKED`: a row
  someone else holds is left for later, never waited for) and deletes them by primary key;
- the next batch starts its index scan at the previous batch's last `"startTime"` (keyset), so
  it does not wade through the dead index entries of the rows just deleted;
- the batch size adapts so a batch takes about `target_batch_seconds`.

LiteLLM only INSERTs new spend-log rows (new `request_id`, current `"startTime"`): an insert
needs ROW EXCLUSIVE on the table, which a DELETE's ROW EXCLUSIVE does not conflict with, and no
row lock of ours covers a row it writes. What it can still feel is I/O contention, which the
short batches bound (bench/bench_trim.py measures it).

LiteLLM's own scheduled cleanup is configured with `general_settings.
maximum_spend_logs_retention_period` ("30d"); `retention_setting_item` builds that item for
staging. Trimming `"LiteLLM_SpendLogs"` does not touch the `"LiteLLM_Daily*"` aggregates, so
the usage views' long-range totals survive a trim.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from ..core.maintenance_settings import RETENTION_KEY, retention_days, retention_setting_item
from ..store import Actor, Master

__all__ = [
    "RETENTION_KEY",
    "SPEND_LOGS",
    "TRIM_AUDIT_ACTION",
    "DatabaseStats",
    "TableSize",
    "TrimPreview",
    "TrimResult",
    "cutoff_for",
    "database_stats",
    "retention_days",
    "retention_setting_item",
    "trim_preview",
    "trim_spend_logs",
]

SPEND_LOGS: Final = "LiteLLM_SpendLogs"
TRIM_AUDIT_ACTION: Final = "housekeeping.trim_spend_logs"

# Our own waits for a lock: never long, so LiteLLM is never queued behind a waiting trim.
LOCK_TIMEOUT_MS: Final = 100
# One batch's statement: far above its target, only a guard against a runaway plan.
BATCH_STATEMENT_TIMEOUT_MS: Final = 2_000
DEFAULT_BATCH_ROWS: Final = 5_000
MIN_BATCH_ROWS: Final = 100
MAX_BATCH_ROWS: Final = 50_000
TARGET_BATCH_SECONDS: Final = 0.05
PREVIEW_TIMEOUT_MS: Final = 30_000
_LOCK_RETRIES: Final = 20

_TABLES_SQL = text(
    """
    SELECT n.nspname, c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'
    ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
    LIMIT :limit
    """
)
_SPAN_SQL = text('SELECT min("startTime"), max("startTime") FROM "LiteLLM_SpendLogs"')
_COUNT_SQL = text('SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE "startTime" < :cutoff')
_BATCH_SQL = text(
    """
    WITH doomed AS (
        SELECT request_id, "startTime" FROM "LiteLLM_SpendLogs"
        WHERE "startTime" < :cutoff AND "startTime" >= :floor
        ORDER BY "startTime"
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM "LiteLLM_SpendLogs" s USING doomed
        WHERE s.request_id = doomed.request_id
        RETURNING doomed."startTime"
    )
    SELECT count(*), max("startTime") FROM gone
    """
)
_LOWEST = datetime(1, 1, 1)  # below any "startTime"


class Progress(Protocol):
    """`progress(step, fraction, message)` as every use-case reports it."""

    def __call__(self, step: str, fraction: float, message: str) -> None: ...


class CancelToken(Protocol):
    """Anything with `is_set()`, e.g. the job's `threading.Event`."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class TableSize:
    """One table: its size with indexes and TOAST, and the planner's row estimate (None when
    the table was never analysed)."""

    schema: str
    name: str
    total_bytes: int
    row_estimate: int | None


@dataclass(frozen=True)
class DatabaseStats:
    """The database's size, its largest tables and the span of its spend logs (None if empty)."""

    database: str
    database_bytes: int
    tables: tuple[TableSize, ...]
    spend_logs_oldest: datetime | None
    spend_logs_newest: datetime | None

    @property
    def spend_logs(self) -> TableSize | None:
        """The spend-log table's row, if it is among `tables`."""
        return next((t for t in self.tables if t.name == SPEND_LOGS), None)


@dataclass(frozen=True)
class TrimPreview:
    """What a trim of rows before `cutoff` (naive UTC, as LiteLLM stores it) would delete.
    `exact` False: counting took longer than its bound and `rows` is the planner's estimate."""

    older_than_days: int
    cutoff: datetime
    rows: int
    exact: bool
    seconds: float


@dataclass(frozen=True)
class TrimResult:
    """How a trim ended: rows deleted, whether it was cancelled, and its batches' timing."""

    cutoff: datetime
    deleted: int
    cancelled: bool
    batches: int
    seconds: float
    longest_batch_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.deleted / self.seconds if self.seconds > 0 else 0.0


# --- reading -----------------------------------------------------------------------------------


def database_stats(engine: Engine, *, largest: int = 10) -> DatabaseStats:
    """The database's size, its `largest` tables (with indexes and TOAST) and the oldest and
    newest spend-log `"startTime"` (both by the index: cheap on millions of rows)."""
    with engine.connect() as conn:
        name, size = conn.execute(
            text("SELECT current_database(), pg_database_size(current_database())")
        ).one()
        tables = tuple(
            TableSize(str(schema), str(rel), int(total), int(rows) if rows >= 0 else None)
            for schema, rel, total, rows in conn.execute(_TABLES_SQL, {"limit": largest})
        )
        oldest, newest = conn.execute(_SPAN_SQL).one()
    return DatabaseStats(str(name), int(size), tables, oldest, newest)


def cutoff_for(older_than_days: int, now: datetime) -> datetime:
    """The naive-UTC `"startTime"` before which rows are older than `older_than_days` at `now`
    (an aware `now` is converted; a naive one is taken as UTC)."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now - timedelta(days=older_than_days)


def trim_preview(
    engine: Engine, older_than_days: int, now: datetime, *, timeout_ms: int = PREVIEW_TIMEOUT_MS
) -> TrimPreview:
    """Count the spend-log rows older than `older_than_days`, exactly, within `timeout_ms`
    (an index-only count: about 0.1 to 0.3 s per million rows); past it, the planner's estimate."""
    cutoff = cutoff_for(older_than_days, now)
    started = time.monotonic()
    with engine.connect() as conn:
        try:
            with conn.begin():
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                rows = int(conn.execute(_COUNT_SQL, {"cutoff": cutoff}).scalar_one())
            exact = True
        except OperationalError as error:
            if not _is_timeout(error):
                raise
            rows, exact = _estimate(conn, cutoff), False
    return TrimPreview(older_than_days, cutoff, rows, exact, time.monotonic() - started)


def _estimate(conn: Connection, cutoff: datetime) -> int:
    plan = conn.execute(
        text('EXPLAIN (FORMAT JSON) SELECT 1 FROM "LiteLLM_SpendLogs" WHERE "startTime" < :cutoff'),
        {"cutoff": cutoff},
    ).scalar_one()
    data: Any = plan if isinstance(plan, list) else json.loads(plan)
    return int(data[0]["Plan"]["Plan Rows"])


# --- trimming ----------------------------------------------------------------------------------


def trim_spend_logs(
    engine: Engine,
    cutoff: datetime,
    progress: Progress,
    cancel: CancelToken,
    actor: Actor,
    master: Master,
    *,
    expected_rows: int | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    target_batch_seconds: float = TARGET_BATCH_SECONDS,
    max_batch_rows: int = MAX_BATCH_ROWS,
    on_batch: Callable[[int, float], None] | None = None,
) -> TrimResult:
    """Delete the spend-log rows with `"startTime"` before `cutoff` in short batches.

    `progress("Trim", fraction, message)` after every batch (fraction of `expected_rows`, the
    preview's count); `cancel` is honoured between batches (what was deleted stays deleted).
    The audit log gets one entry with the count deleted — also when cancelled or failing
    part-way. `on_batch(rows, seconds)` observes each batch (benchmarks, tests).
    """
    if cutoff.tzinfo is not None:
        cutoff = cutoff.astimezone(UTC).replace(tzinfo=None)
    limit = max(MIN_BATCH_ROWS, min(batch_rows, max_batch_rows))
    total = expected_rows if expected_rows is not None else _count(engine, cutoff)
    deleted = batches = 0
    longest = 0.0
    floor = _LOWEST
    cancelled = False
    started = time.monotonic()
    progress("Trim", 0.0, f"Deleting {total:,} spend-log rows older than {cutoff:%Y-%m-%d %H:%M}")
    try:
        while True:
            if cancel.is_set():
                cancelled = True
                break
            batch_started = time.monotonic()
            outcome = _one_batch(engine, cutoff, floor, limit, cancel)
            seconds = time.monotonic() - batch_started
            if outcome is None:  # the statement ran out of time: smaller batches
                limit = max(MIN_BATCH_ROWS, limit // 2)
                continue
            rows, last = outcome
            if rows == 0:
                break
            deleted += rows
            batches += 1
            longest = max(longest, seconds)
            floor = last if last is not None else floor
            if on_batch is not None:
                on_batch(rows, seconds)
            limit = _next_limit(limit, rows, seconds, target_batch_seconds, max_batch_rows)
            fraction = min(1.0, deleted / total) if total else 1.0
            progress("Trim", fraction, f"Deleted {deleted:,} of {total:,} rows")
    except BaseException:
        # The count done is recorded even when the trim broke off; if the audit cannot be
        # written either (the tunnel dropped), the original failure is what the caller sees.
        with contextlib.suppress(Exception):
            _audit(master, actor, cutoff, deleted, cancelled=False, failed=True)
        raise
    elapsed = time.monotonic() - started
    _audit(master, actor, cutoff, deleted, cancelled=cancelled, failed=False)
    word = "Cancelled after deleting" if cancelled else "Deleted"
    done = 1.0 if not cancelled or not total else min(1.0, deleted / total)
    progress("Trim", done, f"{word} {deleted:,} rows in {elapsed:.1f} s")
    return TrimResult(cutoff, deleted, cancelled, batches, elapsed, longest)


def _count(engine: Engine, cutoff: datetime) -> int:
    with engine.connect() as conn:
        return int(conn.execute(_COUNT_SQL, {"cutoff": cutoff}).scalar_one())


def _one_batch(
    engine: Engine, cutoff: datetime, floor: datetime, limit: int, cancel: CancelToken
) -> tuple[int, datetime | None] | None:
    """One short transaction: (rows deleted, their latest "startTime"), or None when the
    statement timed out. A lock we would wait for longer than LOCK_TIMEOUT_MS is retried."""
    for _attempt in range(_LOCK_RETRIES):
        try:
            with engine.connect() as conn, conn.begin():
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {BATCH_STATEMENT_TIMEOUT_MS}")
                rows, last = conn.execute(
                    _BATCH_SQL, {"cutoff": cutoff, "floor": floor, "limit": limit}
                ).one()
                return int(rows), last
        except OperationalError as error:
            if _sqlstate(error) == "55P03" and not cancel.is_set():  # lock_not_available
                time.sleep(0.01 * (_attempt + 1))  # back off: LiteLLM goes first
                continue
            if _sqlstate(error) == "57014":  # query_canceled: our statement_timeout
                return None
            raise
    raise TimeoutError("the spend-log table stayed locked; try again later")


def _next_limit(limit: int, rows: int, seconds: float, target: float, maximum: int) -> int:
    """The next batch size: aim at `target` seconds per batch, changing by at most 2x."""
    if rows < limit or seconds <= 0:
        return limit
    wanted = int(limit * target / seconds)
    return max(MIN_BATCH_ROWS, min(maximum, limit * 2, max(limit // 2, wanted)))


def _audit(
    master: Master, actor: Actor, cutoff: datetime, deleted: int, *, cancelled: bool, failed: bool
) -> None:
    master.audit(
        TRIM_AUDIT_ACTION,
        {
            "table": SPEND_LOGS,
            "cutoff": cutoff.isoformat(),
            "deleted": deleted,
            "cancelled": cancelled,
            "failed": failed,
        },
        actor,
    )


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _is_timeout(error: DBAPIError) -> bool:
    return _sqlstate(error) == "57014"
