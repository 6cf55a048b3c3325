"""The usage rollup: LiteLLM's request log folded into small aggregate tables of the Master.

Why: every figure of the Usage page over 30 days read ~55 % of `"LiteLLM_SpendLogs"` (2.1 s at
1 M rows, 23 s at 10 M; docs/benchmarks.md). LiteLLM's tables are LiteLLM's (its migrations own
them), so the app keeps its own aggregates in its own schema (store/models.py):

- `usage_hours`: per UTC hour x model group x key hash x user x team: requests, failures, cache
  hits, spend, tokens in/out, latency count/sum. Feeds the edges of the key/user/team
  breakdowns and `ops.usage.breakdown`.
- `usage_key_days`: `usage_hours` of a UTC day by key x user x team (no model), recomputed from
  `usage_hours` for every day a batch touches. Feeds the whole UTC days of those breakdowns: at
  1 M requests over 90 days, 30 days of it are ~50 k rows where `usage_hours` has ~390 k.
- `usage_model_quarters`: per UTC quarter hour x model group, the same figures. Feeds the totals
  and the charts, whose hours and days are cut at the zone's midnight, which may be at :30 or :45
  UTC (India, Nepal): quarter hours fit every zone in use today.
- `usage_latency_hours`: per UTC hour, successful requests per latency bucket: exact milliseconds
  below 128 ms, above that log-spaced by 2 % (bucket = 128 + floor(ln(ms / 128) / ln 1.02)). A
  percentile taken from it is exact below 128 ms and within 1 % of the exact value above (each
  bucket is represented by its midpoint; see `bucket_value`). One row per occupied bucket and
  hour, because only the range's totals have percentiles.
- `usage_rollup_state`: the watermark W: every whole hour before W has been aggregated.

`catch_up` moves W forward to the last whole hour before `now`, one batch of hours per
transaction (resumable: a cancelled or failed call leaves W at the last committed batch), and
first re-aggregates the `trailing` hours before W, because LiteLLM writes spend logs in batches,
a little late. Each batch replaces whole buckets (DELETE the batch's hours, then INSERT ...
ON CONFLICT DO UPDATE), under a transaction-scoped advisory lock per schema: two admins catching
up at once take turns, and the second re-does at most the trailing window; nothing is counted
twice. A row that arrives later than `trailing` after its hour was aggregated is not in the rollup
(the request log still shows it).

Retention: the rollup keeps its history when housekeeping trims old spend logs (it holds no
request content, ~100 bytes per hour and key); so after a trim the Usage page still shows the
trimmed days' figures while the request log (drill-down) no longer has their rows. Emptying the
rollup tables (and the state row) rebuilds them from the logs that remain on the next catch-up.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from ..store.models import DEFAULT_SCHEMA, validate_schema_name
from ..store.schema_migration import advisory_lock_key

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, TextClause

__all__ = [
    "LATENCY_EXACT_BELOW",
    "LATENCY_RATIO",
    "CatchUp",
    "bucket_value",
    "catch_up",
    "latency_bucket",
    "read_watermark",
    "rollup_present",
]

TRAILING: Final = timedelta(hours=2)
BATCH: Final = timedelta(hours=24)
LATENCY_EXACT_BELOW: Final = 128
LATENCY_RATIO: Final = 1.02
_LOGS: Final = 'public."LiteLLM_SpendLogs"'

# The same grouping values and definitions as ops/usage.py (kept textually equal on purpose: a
# rollup row must group exactly as the request rows it stands for).
_MODEL = "coalesce(nullif(s.model_group, ''), s.model, '')"
_KEY = "coalesce(s.api_key, '')"
_USER = "coalesce(s.\"user\", '')"
_TEAM = "coalesce(s.team_id, '')"
_FAILED = "coalesce(s.status = 'failure', false)"
_HIT = "coalesce(lower(s.cache_hit) = 'true', false)"
_LATENCY_MS = (
    "coalesce(s.request_duration_ms, "
    'round(extract(epoch FROM s."endTime" - s."startTime") * 1000)::integer)'
)
# SQL twin of `latency_bucket`.
BUCKET_SQL: Final = (
    f"CASE WHEN {{ms}} < {LATENCY_EXACT_BELOW} THEN {{ms}} ELSE {LATENCY_EXACT_BELOW} + "
    f"floor(ln({{ms}}::double precision / {LATENCY_EXACT_BELOW}) "
    f"/ ln({LATENCY_RATIO}::double precision))::integer END"
)


def latency_bucket(ms: int) -> int:
    """The histogram bucket of a latency in whole milliseconds (as `BUCKET_SQL` computes it)."""
    if ms < LATENCY_EXACT_BELOW:
        return ms
    return LATENCY_EXACT_BELOW + math.floor(
        math.log(ms / LATENCY_EXACT_BELOW) / math.log(LATENCY_RATIO)
    )


def bucket_value(bucket: int) -> float:
    """The value that stands for a bucket: the value itself below 128 ms, else the midpoint of
    [128 * 1.02**j, 128 * 1.02**(j+1)), at most 1 % from any value of the bucket."""
    if bucket < LATENCY_EXACT_BELOW:
        return float(bucket)
    low = LATENCY_EXACT_BELOW * LATENCY_RATIO ** (bucket - LATENCY_EXACT_BELOW)
    return low * (1 + LATENCY_RATIO) / 2


@dataclass(frozen=True)
class CatchUp:
    """What one `catch_up` call did. `watermark` is naive UTC (None: nothing rolled up yet)."""

    watermark: datetime | None
    batches: int
    rows: int  # spend-log rows aggregated (the trailing window counts again)
    complete: bool  # the rollup reaches the last whole hour before `now`
    skipped: bool = False  # another admin was catching up (wait=False)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


_DAY: Final = timedelta(days=1)


def _table(schema: str, name: str) -> str:
    return f'"{validate_schema_name(schema)}".{name}'


def _sql(statement: str) -> TextClause:
    from sqlalchemy import text

    return text(statement)


def rollup_present(conn: Connection, schema: str = DEFAULT_SCHEMA) -> bool:
    """Whether `schema` holds the rollup (the Master is migrated to 0002 or later)."""
    found = conn.execute(
        _sql("SELECT to_regclass(:name)"), {"name": _table(schema, "usage_rollup_state")}
    ).scalar()
    return found is not None


def read_watermark(conn: Connection, schema: str = DEFAULT_SCHEMA) -> datetime | None:
    """The watermark (naive UTC), None before the first catch-up."""
    state = _table(schema, "usage_rollup_state")
    value = conn.execute(_sql(f"SELECT watermark FROM {state} WHERE id = 1")).scalar()  # noqa: S608
    return value if isinstance(value, datetime) else None


def _aggregate_sql(schema: str) -> str:
    hours = _table(schema, "usage_hours")
    quarters = _table(schema, "usage_model_quarters")
    latency = _table(schema, "usage_latency_hours")
    figures = """
        count(*), count(*) FILTER (WHERE k.failed), count(*) FILTER (WHERE k.hit),
        coalesce(sum(k.spend), 0), coalesce(sum(k.tokens_in), 0), coalesce(sum(k.tokens_out), 0)
    """
    update = """requests = EXCLUDED.requests, failures = EXCLUDED.failures,
        cache_hits = EXCLUDED.cache_hits, spend = EXCLUDED.spend,
        tokens_in = EXCLUDED.tokens_in, tokens_out = EXCLUDED.tokens_out"""
    columns = "requests, failures, cache_hits, spend, tokens_in, tokens_out"
    return f"""
    WITH k AS MATERIALIZED (
        SELECT s."startTime" AS t, {_MODEL} AS model, {_KEY} AS api_key, {_USER} AS usr,
               {_TEAM} AS team, s.spend, s.prompt_tokens AS tokens_in,
               s.completion_tokens AS tokens_out, {_FAILED} AS failed, {_HIT} AS hit,
               {_LATENCY_MS} AS ms
        FROM {_LOGS} s
        WHERE s."startTime" >= :lo AND s."startTime" < :hi
    ),
    h AS (
        INSERT INTO {hours} (hour, model, api_key, usr, team, {columns},
                             latency_count, latency_sum_ms)
        SELECT date_trunc('hour', k.t), k.model, k.api_key, k.usr, k.team, {figures},
               count(k.ms) FILTER (WHERE NOT k.failed),
               coalesce(sum(k.ms) FILTER (WHERE NOT k.failed), 0)
        FROM k GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (hour, model, api_key, usr, team) DO UPDATE SET {update},
            latency_count = EXCLUDED.latency_count, latency_sum_ms = EXCLUDED.latency_sum_ms
        RETURNING 1
    ),
    q AS (
        INSERT INTO {quarters} (quarter, model, {columns})
        SELECT date_bin('15 minutes', k.t, TIMESTAMP '2000-01-01'), k.model, {figures}
        FROM k GROUP BY 1, 2
        ON CONFLICT (quarter, model) DO UPDATE SET {update}
        RETURNING 1
    ),
    l AS (
        INSERT INTO {latency} (hour, bucket, requests)
        SELECT date_trunc('hour', k.t), {BUCKET_SQL.format(ms="k.ms")}, count(*)
        FROM k WHERE NOT k.failed AND k.ms IS NOT NULL GROUP BY 1, 2
        ON CONFLICT (hour, bucket) DO UPDATE SET requests = EXCLUDED.requests
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM h), (SELECT count(*) FROM q),
           (SELECT count(*) FROM l)
    """  # noqa: S608 - this module's constant SQL and a validated schema name; values are bound


def _replace_hours(conn: Connection, schema: str, lo: datetime, hi: datetime) -> int:
    """Replace the buckets of the hours [lo, hi) by a fresh aggregation; return rows read."""
    bounds = {"lo": lo, "hi": hi}
    for name, column in (
        ("usage_hours", "hour"),
        ("usage_model_quarters", "quarter"),
        ("usage_latency_hours", "hour"),
    ):
        conn.execute(
            _sql(f"DELETE FROM {_table(schema, name)} WHERE {column} >= :lo AND {column} < :hi"),  # noqa: S608
            bounds,
        )
    counts = conn.execute(_sql(_aggregate_sql(schema)), bounds).one()
    # The days the batch touched, again from the (now complete) hours of those days.
    days = {"lo": _floor_day(lo), "hi": _floor_day(hi - timedelta(microseconds=1)) + _DAY}
    key_days, hours = _table(schema, "usage_key_days"), _table(schema, "usage_hours")
    conn.execute(_sql(f"DELETE FROM {key_days} WHERE day >= :lo AND day < :hi"), days)  # noqa: S608
    conn.execute(
        _sql(
            f"""INSERT INTO {key_days} (day, api_key, usr, team, requests, failures, cache_hits,
                                        spend, tokens_in, tokens_out)
            SELECT date_trunc('day', h.hour), h.api_key, h.usr, h.team, sum(h.requests),
                   sum(h.failures), sum(h.cache_hits), sum(h.spend), sum(h.tokens_in),
                   sum(h.tokens_out)
            FROM {hours} h WHERE h.hour >= :lo AND h.hour < :hi
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (day, api_key, usr, team) DO UPDATE SET
                requests = EXCLUDED.requests, failures = EXCLUDED.failures,
                cache_hits = EXCLUDED.cache_hits, spend = EXCLUDED.spend,
                tokens_in = EXCLUDED.tokens_in, tokens_out = EXCLUDED.tokens_out"""  # noqa: S608
        ),
        days,
    )
    return int(counts[0])


def _write_watermark(conn: Connection, schema: str, watermark: datetime) -> None:
    state = _table(schema, "usage_rollup_state")
    conn.execute(
        _sql(
            f"INSERT INTO {state} AS st (id, watermark) VALUES (1, :w) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET updated_at = now(), "
            "watermark = greatest(st.watermark, EXCLUDED.watermark)"
        ),
        {"w": watermark},
    )


def _lock(conn: Connection, schema: str, *, wait: bool) -> bool:
    key = {"key": advisory_lock_key("usage-rollup", validate_schema_name(schema))}
    if wait:
        conn.execute(_sql("SELECT pg_advisory_xact_lock(:key)"), key)
        return True
    return bool(conn.execute(_sql("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar())


def catch_up(
    engine: Engine,
    now: datetime,
    *,
    schema: str = DEFAULT_SCHEMA,
    max_seconds: float | None = None,
    batch: timedelta = BATCH,
    trailing: timedelta = TRAILING,
    wait: bool = True,
) -> CatchUp:
    """Aggregate the spend logs of every whole hour before `now` (aware) that the rollup lacks,
    re-aggregating the `trailing` hours before the watermark first; one `batch` of hours per
    transaction. Stops after the batch that exceeds `max_seconds` (None: until caught up).
    `wait=False` returns at once (skipped) when another admin is catching up. A Master without
    the rollup tables (not migrated yet) is left alone: CatchUp(None, 0, 0, complete=False)."""
    if now.tzinfo is None:
        raise ValueError("catch_up needs an aware `now`")
    stop = _floor_hour(now.astimezone(UTC).replace(tzinfo=None))
    began = time.monotonic()
    batches = rows = 0
    watermark: datetime | None = None
    while True:
        with engine.begin() as conn:
            if not rollup_present(conn, schema):
                return CatchUp(None, 0, 0, complete=False)
            if not _lock(conn, schema, wait=wait):
                return CatchUp(read_watermark(conn, schema), batches, rows, False, skipped=True)
            conn.execute(_sql("SET LOCAL jit = off"))
            conn.execute(_sql("SET LOCAL work_mem = '64MB'"))
            watermark = read_watermark(conn, schema)
            if watermark is None:
                earliest = conn.execute(_sql(f'SELECT min("startTime") FROM {_LOGS}')).scalar()  # noqa: S608
                if not isinstance(earliest, datetime) or _floor_hour(earliest) >= stop:
                    _write_watermark(conn, schema, stop)
                    return CatchUp(stop, batches, rows, complete=True)
                lo = _floor_hour(earliest)
                hi = min(lo + batch, stop)
            else:
                lo = watermark - trailing if batches == 0 else watermark
                hi = min(watermark + batch, stop)
                if lo >= hi:
                    return CatchUp(watermark, batches, rows, complete=watermark >= stop)
            rows += _replace_hours(conn, schema, lo, hi)
            _write_watermark(conn, schema, hi)
            watermark = max(hi, watermark) if watermark else hi
        batches += 1
        if watermark >= stop:
            return CatchUp(watermark, batches, rows, complete=True)
        if max_seconds is not None and time.monotonic() - began >= max_seconds:
            return CatchUp(watermark, batches, rows, complete=False)
