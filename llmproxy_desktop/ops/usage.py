"""Usage & Spend (issue 6 §2): totals, charts, breakdowns and the request log of one stack.

Everything is aggregated by SQL on the stack's Postgres, over LiteLLM's `"LiteLLM_SpendLogs"`
(one row per request); only aggregates come back, never the request rows (except the paged
request log, 50 at a time).

Why SpendLogs and not LiteLLM's daily tables (`"LiteLLM_DailyUserSpend"` ...): their `date` is a
UTC day as text, so a local-time day cannot be cut from them (#8897, #22176); they hold neither
cache hits nor latency nor hours; they are filled by a batched background writer, so they lag the
request log; and mixing the two sources lets the totals disagree with the breakdowns. One source
keeps every figure of the page consistent. Read directly, the whole page is three parallel scans
of the range (see `_CELLS_SQL`); docs/benchmarks.md says what that costs.

So where the Master holds the usage rollup (ops/usage_rollup.py: the same request log, folded
into hours and quarter hours in the app's own schema), `usage_report`, `breakdown` and
`dashboard_usage` first bring it up to date (bounded, never waiting for another admin), then read
the whole hours of the range before the rollup's watermark from it, and only the partial first
and last hour and the time since the watermark from the request log, in one snapshot (`_plan`).
Counts and token sums are then identical to the direct figures, spend equal up to float
rounding; p50/p95 come from a latency histogram and are within 1 % (exact below 128 ms).
Without the rollup (a Master not yet migrated, `rollup_schema=None`) everything is read directly
as before.

Time: `"startTime"` is `timestamp(3) without time zone` holding UTC. A range is cut at local
midnights of its zone (zoneinfo), converted to UTC, and compared against `"startTime"` directly
(index-friendly). Rows are put into hours by `date_bin('1 hour', ...)` from the range's start (a
local midnight, so these are the zone's hours, also for half-hour zones), and hours into local days
here, so a day is exactly [local midnight, next local midnight) in every zone, DST days included,
and Postgres' own time zone names are never consulted. (`date_bin` needs Postgres 14+.)

Definitions: a request failed when `status = 'failure'` (LiteLLM logs failures with that status;
success is 'success' or NULL). A cache hit is `cache_hit` = 'true' (any case; the column is text).
Latency is `request_duration_ms`, or `"endTime" - "startTime"` where that is NULL; p50/p95 are
`percentile_cont` over the successful requests of the range. Tokens in/out are prompt/completion
tokens. The model is the model group (public name), else the deployment's model.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.csv_text import Cell, to_csv

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, TextClause

__all__ = [
    "OTHER_MODELS",
    "BreakdownRow",
    "DashboardUsage",
    "Dimension",
    "LogCursor",
    "LogFilter",
    "LogPage",
    "ModelSeries",
    "Preset",
    "RequestLogRow",
    "RequestsPerHour",
    "SortBy",
    "SpendPerDay",
    "UsageRange",
    "UsageReport",
    "UsageTotals",
    "breakdown",
    "breakdown_csv",
    "dashboard_usage",
    "local_zone",
    "request_log",
    "request_log_csv",
    "requests_per_hour",
    "spend_per_day_by_model",
    "usage_report",
    "usage_totals",
    "zone_named",
]

LITELLM_SCHEMA: Final = "public"
_LOGS: Final = f'{LITELLM_SCHEMA}."LiteLLM_SpendLogs"'
_Row = Mapping[Any, Any]  # a result row by column name
OTHER_MODELS: Final = "other"
DEFAULT_TOP_MODELS: Final = 8
DEFAULT_TOP_ROWS: Final = 10
DEFAULT_LOG_PAGE: Final = 50
# The Master's default schema (store.models.DEFAULT_SCHEMA; not imported: that pulls SQLAlchemy
# in, and the window imports this module for its result types).
ROLLUP_SCHEMA: Final = "llmproxy"
# How long a page may spend bringing the rollup up to date before it reads (one batch at least).
PAGE_CATCH_UP_SECONDS: Final = 0.5
_log = logging.getLogger(__name__)

# --- ranges ------------------------------------------------------------------------------------


class Preset(Enum):
    """The page's range choices; all but CUSTOM end now."""

    TODAY = "today"
    LAST_7D = "7d"
    LAST_30D = "30d"
    THIS_MONTH = "month"
    CUSTOM = "custom"


def zone_named(name: str) -> tzinfo:
    """`UTC`, `local`, or an IANA name (`Europe/Berlin`). Raises ValueError for an unknown one."""
    if name.lower() == "utc":
        return UTC
    if name.lower() == "local":
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use UTC, local or e.g. Europe/Berlin)"
        ) from None


def local_zone() -> tzinfo:
    """This machine's zone as an IANA zone (so DST is right over a range), else a fixed offset."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(str(Path("/etc/localtime").resolve()).partition("zoneinfo/")[2])
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    fixed = datetime.now().astimezone().tzinfo
    return fixed if fixed is not None else UTC


def zone_label(zone: tzinfo) -> str:
    """How the page and the CLI name a zone: `UTC`, or the IANA key (`Europe/Berlin`)."""
    if zone is UTC:
        return "UTC"
    key = getattr(zone, "key", None)
    return str(key) if key else str(zone)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class UsageRange:
    """[start, end) as aware datetimes of `zone`; days and hours are cut in that zone."""

    start: datetime
    end: datetime
    zone: tzinfo
    preset: Preset = Preset.CUSTOM

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a usage range needs aware datetimes")
        if self.end <= self.start:
            raise ValueError("the range ends before it starts")

    @classmethod
    def of_preset(cls, preset: Preset, now: datetime, zone: tzinfo) -> UsageRange:
        """TODAY, LAST_7D (today and the 6 days before), LAST_30D, THIS_MONTH: from a local
        midnight to `now` (aware)."""
        local_now = now.astimezone(zone)
        today = local_now.date()
        first = {
            Preset.TODAY: today,
            Preset.LAST_7D: today - timedelta(days=6),
            Preset.LAST_30D: today - timedelta(days=29),
            Preset.THIS_MONTH: today.replace(day=1),
        }.get(preset)
        if first is None:
            raise ValueError("a custom range needs dates: UsageRange.of_days")
        start = _midnight(first, zone)
        # At exactly local midnight "today" has no length yet: a microsecond holds no rows.
        end = local_now if local_now > start else start + timedelta(microseconds=1)
        return cls(start, end, zone, preset)

    @classmethod
    def of_days(cls, first: date, last: date, zone: tzinfo) -> UsageRange:
        """Whole local days `first`..`last` (both included)."""
        if last < first:
            raise ValueError(f"the range ends ({last}) before it starts ({first})")
        return cls(_midnight(first, zone), _midnight(last + timedelta(days=1), zone), zone)

    @classmethod
    def parse(cls, spec: str, now: datetime, zone: tzinfo) -> UsageRange:
        """`today`, `month`, `7d`, `30d` or any `Nd` (N local days ending today)."""
        spec = spec.strip().lower()
        for preset in Preset:
            if spec == preset.value and preset is not Preset.CUSTOM:
                return cls.of_preset(preset, now, zone)
        if spec.endswith("d") and spec[:-1].isdigit() and int(spec[:-1]) > 0:
            days = int(spec[:-1])
            local_now = now.astimezone(zone)
            start = _midnight(local_now.date() - timedelta(days=days - 1), zone)
            preset = {7: Preset.LAST_7D, 30: Preset.LAST_30D}.get(days, Preset.CUSTOM)
            return cls(start, local_now, zone, preset)
        raise ValueError(f"unknown range {spec!r} (today, month, 7d, 30d, or Nd)")

    @property
    def zone_name(self) -> str:
        return zone_label(self.zone)

    @property
    def start_utc(self) -> datetime:
        """The start as a naive UTC timestamp, as `"startTime"` holds them."""
        return _naive_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        return _naive_utc(self.end)

    def days(self) -> list[date]:
        """The local days the range touches, in order."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def hours(self) -> list[datetime]:
        """The start of each hour of the range (aware, in the zone): absolute hours, so a DST
        day has 23 or 25 of them."""
        start = self.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if self.start.astimezone(UTC) != start:
            start = self.start.astimezone(UTC)
        count = max(1, -(-int((self.end - start).total_seconds()) // 3600))
        return [(start + timedelta(hours=n)).astimezone(self.zone) for n in range(count)]

    def describe(self) -> str:
        """`2026-11-01 00:00 to 2026-11-27 10:00 (Europe/Berlin)`, for labels and CLI output."""
        fmt = "%Y-%m-%d %H:%M"
        return f"{self.start:{fmt}} to {self.end:{fmt}} ({self.zone_name})"


# --- results -------------------------------------------------------------------------------------


class Dimension(Enum):
    """What a breakdown groups by."""

    MODEL = "model"
    KEY = "key"
    USER = "user"
    TEAM = "team"


class SortBy(Enum):
    """Breakdown sort columns (descending, ties by name)."""

    SPEND = "spend"
    REQUESTS = "requests"
    TOKENS_IN = "tokens_in"
    TOKENS_OUT = "tokens_out"
    ERRORS = "errors"
    ERROR_RATE = "error_rate"
    CACHE_HITS = "cache_hits"
    NAME = "name"


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class UsageTotals:
    """The KPI row. Latency in milliseconds; None when there were no successful requests."""

    requests: int
    spend: float
    tokens_in: int
    tokens_out: int
    errors: int
    cache_hits: int
    p50_ms: float | None
    p95_ms: float | None
    # True when p50/p95 came (partly) from the rollup's latency histogram: within 1 %, so a
    # label may say "≈" (exact below 128 ms and without the rollup).
    latency_approximate: bool = False

    @property
    def error_rate(self) -> float:
        return _rate(self.errors, self.requests)

    @property
    def cache_hit_rate(self) -> float:
        return _rate(self.cache_hits, self.requests)


@dataclass(frozen=True)
class BreakdownRow:
    """One model, key, user or team. `key` is the raw grouping value (a key's hash, a user id;
    '' for none); `label` is what to show (alias, e-mail, or the id)."""

    key: str
    label: str
    requests: int
    spend: float
    tokens_in: int
    tokens_out: int
    errors: int
    cache_hits: int

    @property
    def error_rate(self) -> float:
        return _rate(self.errors, self.requests)


@dataclass(frozen=True)
class ModelSeries:
    """One stack of the spend chart: a model's spend on each day of the range."""

    model: str
    spend: tuple[float, ...]


@dataclass(frozen=True)
class SpendPerDay:
    """Spend per local day, one series per top model plus OTHER_MODELS (if any remain)."""

    days: tuple[date, ...]
    series: tuple[ModelSeries, ...]

    def day_total(self, index: int) -> float:
        return sum(s.spend[index] for s in self.series)


@dataclass(frozen=True)
class RequestsPerHour:
    """Requests and failures per hour of the range; `hours` are aware, in the range's zone."""

    hours: tuple[datetime, ...]
    requests: tuple[int, ...]
    errors: tuple[int, ...]


@dataclass(frozen=True)
class UsageReport:
    """The whole Usage page for one range."""

    range: UsageRange
    totals: UsageTotals
    spend_per_day: SpendPerDay
    per_hour: RequestsPerHour
    breakdowns: Mapping[Dimension, tuple[BreakdownRow, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LogFilter:
    """Which requests the log shows: a breakdown row's (dimension, key), failures only."""

    dimension: Dimension | None = None
    key: str | None = None
    failures_only: bool = False


@dataclass(frozen=True)
class LogCursor:
    """Where the next page starts: the last row's ("startTime", request_id)."""

    start_time: datetime  # naive UTC, as stored
    request_id: str


@dataclass(frozen=True)
class RequestLogRow:
    request_id: str
    start: datetime  # aware UTC
    model: str
    key_label: str
    user: str
    team: str
    spend: float
    tokens_in: int
    tokens_out: int
    latency_ms: float | None
    failed: bool
    cache_hit: bool


@dataclass(frozen=True)
class LogPage:
    rows: tuple[RequestLogRow, ...]
    next_cursor: LogCursor | None  # None: this was the last page


@dataclass(frozen=True)
class DashboardUsage:
    """The Dashboard's usage cards. Spend per local day windows ending now; 24 h rolling."""

    spend_today: float
    spend_7d: float
    spend_30d: float
    requests_24h: int
    errors_24h: int
    top_models: tuple[BreakdownRow, ...]  # by spend over the last 7 days
    zone_name: str

    @property
    def error_rate_24h(self) -> float:
        return _rate(self.errors_24h, self.requests_24h)


# --- SQL -----------------------------------------------------------------------------------------

# The grouping value of each dimension, as one expression, so a drill-down selects exactly the
# rows its breakdown row counted. Fixed texts chosen here, never from input.
_DIMENSION_SQL: Final[Mapping[Dimension, str]] = {
    Dimension.MODEL: "coalesce(nullif(s.model_group, ''), s.model, '')",
    Dimension.KEY: "coalesce(s.api_key, '')",
    Dimension.USER: "coalesce(s.\"user\", '')",
    Dimension.TEAM: "coalesce(s.team_id, '')",
}
_DIMENSION_COLUMN: Final[Mapping[Dimension, str]] = {
    Dimension.MODEL: "model",
    Dimension.KEY: "api_key",
    Dimension.USER: "usr",
    Dimension.TEAM: "team",
}
_FAILED = "s.status = 'failure'"
_HIT = "lower(s.cache_hit) = 'true'"
_LATENCY = (
    "coalesce(s.request_duration_ms::double precision, "
    'extract(epoch FROM s."endTime" - s."startTime") * 1000.0)'
)
_IN_RANGE = 's."startTime" >= :start AND s."startTime" < :end'

# Aggregates over the flattened rows `k` of the page query.
_AGGREGATES = """
    count(*) AS requests,
    coalesce(sum(k.spend), 0) AS spend,
    coalesce(sum(k.tokens_in), 0) AS tokens_in,
    coalesce(sum(k.tokens_out), 0) AS tokens_out,
    count(*) FILTER (WHERE k.failed) AS errors,
    count(*) FILTER (WHERE k.hit) AS cache_hits
"""

_SORT_SQL: Final[Mapping[SortBy, str]] = {
    SortBy.SPEND: "spend DESC",
    SortBy.REQUESTS: "requests DESC",
    SortBy.TOKENS_IN: "tokens_in DESC",
    SortBy.TOKENS_OUT: "tokens_out DESC",
    SortBy.ERRORS: "errors DESC",
    SortBy.ERROR_RATE: "errors::double precision / nullif(requests, 0) DESC NULLS LAST",
    SortBy.CACHE_HITS: "cache_hits DESC",
    SortBy.NAME: "grp ASC",
}

# The page is three scans of the range, each a plain GROUP BY that Postgres runs as parallel
# partial aggregation (one GROUPING SETS query over everything measured 1.6x slower: grouping
# sets are aggregated by the leader alone, after sorting every row of the range):
# 1. cells: per (hour, model). Hours are `date_bin` steps from the range's start (a local
#    midnight), so they are the zone's hours; days, totals and the model breakdown are summed
#    from the cells here, which keeps a DST day exact without Postgres' time zone names.
# 2. people: per (key, user, team) (a key belongs to one user and team, so few groups), then
#    grouping sets over those few groups for the key, user and team breakdowns.
# 3. latency: a histogram per millisecond (LiteLLM's times are whole milliseconds), from which
#    p50/p95 are computed exactly as percentile_cont would.
_CELLS_SQL = f"""
SELECT date_bin('1 hour', k."startTime", :start) AS hour, k.model, {_AGGREGATES}
FROM (
    SELECT s."startTime", {_DIMENSION_SQL[Dimension.MODEL]} AS model, s.spend,
           s.prompt_tokens AS tokens_in, s.completion_tokens AS tokens_out,
           coalesce({_FAILED}, false) AS failed, coalesce({_HIT}, false) AS hit
    FROM {_LOGS} s
    WHERE {_IN_RANGE}
) k
GROUP BY 1, 2
"""  # noqa: S608 - interpolates this module's constant SQL only; values are bound

_PEOPLE_SQL = f"""
WITH p AS (
    SELECT k.api_key, k.usr, k.team, {_AGGREGATES}
    FROM (
        SELECT {_DIMENSION_SQL[Dimension.KEY]} AS api_key, {_DIMENSION_SQL[Dimension.USER]} AS usr,
               {_DIMENSION_SQL[Dimension.TEAM]} AS team, s.spend,
               s.prompt_tokens AS tokens_in, s.completion_tokens AS tokens_out,
               coalesce({_FAILED}, false) AS failed, coalesce({_HIT}, false) AS hit
        FROM {_LOGS} s
        WHERE {_IN_RANGE}
    ) k
    GROUP BY 1, 2, 3
)
SELECT GROUPING(api_key, usr, team) AS g, api_key, usr, team,
       sum(requests)::bigint AS requests, sum(spend) AS spend,
       sum(tokens_in)::bigint AS tokens_in, sum(tokens_out)::bigint AS tokens_out,
       sum(errors)::bigint AS errors, sum(cache_hits)::bigint AS cache_hits
FROM p
GROUP BY GROUPING SETS ((api_key), (usr), (team))
"""  # noqa: S608 - interpolates this module's constant SQL only; values are bound

_PEOPLE_MASK: Final[Mapping[Dimension, int]] = {
    Dimension.KEY: 0b011,
    Dimension.USER: 0b101,
    Dimension.TEAM: 0b110,
}

_LATENCY_MS = (
    "coalesce(s.request_duration_ms, "
    'round(extract(epoch FROM s."endTime" - s."startTime") * 1000)::integer)'
)
_LATENCY_SQL = f"""
SELECT {_LATENCY_MS} AS ms, count(*) AS n
FROM {_LOGS} s
WHERE {_IN_RANGE} AND s.status IS DISTINCT FROM 'failure'
GROUP BY 1
"""  # noqa: S608 - interpolates this module's constant SQL only; values are bound


# --- the rollup (ops/usage_rollup.py) ----------------------------------------------------------
# With the rollup, a range is read in two parts: its whole hours (quarter hours for the charts)
# before the watermark from the rollup, and the rest, i.e. the partial first and last hour and
# everything since the watermark, from the request log: the edges `[:d1_lo, :d1_hi)` and
# `[:d2_lo, :d2_hi)` around the rollup part `[:r_lo, :r_hi)` (by the `"startTime"` index). Of
# that part, the key/user/team breakdowns read the whole UTC days `[:k_lo, :k_hi)` from the
# daily table and only the hours around them from the hourly one.
_DIRECT = (
    '((s."startTime" >= :d1_lo AND s."startTime" < :d1_hi) '
    'OR (s."startTime" >= :d2_lo AND s."startTime" < :d2_hi))'
)
_ROLLUP_SUMS = """
    sum(r.requests)::bigint AS requests, sum(r.spend) AS spend,
    sum(r.tokens_in)::bigint AS tokens_in, sum(r.tokens_out)::bigint AS tokens_out,
    sum(r.failures)::bigint AS errors, sum(r.cache_hits)::bigint AS cache_hits
"""
_UNION_SUMS = """
    sum(u.requests)::bigint AS requests, sum(u.spend) AS spend,
    sum(u.tokens_in)::bigint AS tokens_in, sum(u.tokens_out)::bigint AS tokens_out,
    sum(u.errors)::bigint AS errors, sum(u.cache_hits)::bigint AS cache_hits
"""


def _rollup_cells_sql(schema: str) -> str:
    return f"""
SELECT u.hour, u.model, {_UNION_SUMS}
FROM (
    {_CELLS_SQL.replace(_IN_RANGE, _DIRECT)}
    UNION ALL
    SELECT date_bin('1 hour', r.quarter, :start) AS hour, r.model, {_ROLLUP_SUMS}
    FROM "{schema}".usage_model_quarters r
    WHERE r.quarter >= :r_lo AND r.quarter < :r_hi
    GROUP BY 1, 2
) u
GROUP BY 1, 2
"""  # noqa: S608 - this module's constant SQL and a validated schema name; values are bound


def _rollup_people_sql(schema: str) -> str:
    head, _, tail = _PEOPLE_SQL.partition("\n)\n")
    direct = head.removeprefix("\nWITH p AS (\n").replace(_IN_RANGE, _DIRECT)
    return f"""
WITH p AS (
    SELECT u.api_key, u.usr, u.team, {_UNION_SUMS}
    FROM (
        {direct}
        UNION ALL
        SELECT r.api_key, r.usr, r.team, {_ROLLUP_SUMS}
        FROM "{schema}".usage_hours r
        WHERE (r.hour >= :r_lo AND r.hour < :k_lo) OR (r.hour >= :k_hi AND r.hour < :r_hi)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT r.api_key, r.usr, r.team, {_ROLLUP_SUMS}
        FROM "{schema}".usage_key_days r
        WHERE r.day >= :k_lo AND r.day < :k_hi
        GROUP BY 1, 2, 3
    ) u
    GROUP BY 1, 2, 3
)
{tail}"""  # noqa: S608 - this module's constant SQL and a validated schema name; values are bound


def _rollup_latency_sql(schema: str) -> str:
    return f"""
SELECT {_LATENCY_MS} AS ms, count(*) AS n, false AS bucketed
FROM {_LOGS} s
WHERE {_DIRECT} AND s.status IS DISTINCT FROM 'failure'
GROUP BY 1
UNION ALL
SELECT r.bucket, sum(r.requests)::bigint, true
FROM "{schema}".usage_latency_hours r
WHERE r.hour >= :r_lo AND r.hour < :r_hi
GROUP BY 1
"""  # noqa: S608 - this module's constant SQL and a validated schema name; values are bound


def _breakdown_sql(by: Dimension, sort: SortBy, limit: int | None, schema: str | None) -> str:
    where = _IN_RANGE if schema is None else _DIRECT
    grouped = f"""
        SELECT grp, {_AGGREGATES}
        FROM (
            SELECT {_DIMENSION_SQL[by]} AS grp, s.spend, s.prompt_tokens AS tokens_in,
                   s.completion_tokens AS tokens_out,
                   coalesce({_FAILED}, false) AS failed, coalesce({_HIT}, false) AS hit
            FROM {_LOGS} s WHERE {where}
        ) k
        GROUP BY grp
    """  # noqa: S608 - interpolates this module's constant SQL only; values are bound
    if schema is not None:
        grouped = f"""
        SELECT u.grp, {_UNION_SUMS}
        FROM (
            {grouped}
            UNION ALL
            SELECT r.{_DIMENSION_COLUMN[by]} AS grp, {_ROLLUP_SUMS}
            FROM "{schema}".usage_hours r
            WHERE r.hour >= :r_lo AND r.hour < :r_hi
            GROUP BY 1
        ) u
        GROUP BY u.grp
        """  # noqa: S608 - this module's constant SQL and a validated schema name
    return f"""
        SELECT * FROM ({grouped}) a
        ORDER BY {_SORT_SQL[sort]}, grp
        {"LIMIT :limit" if limit is not None else ""}
    """  # noqa: S608 - interpolates this module's constant SQL only; values are bound


@dataclass(frozen=True)
class _Plan:
    """Which part of a range the rollup answers: `hours` (breakdowns, latency) and `quarters`
    (totals, charts), each [lo, hi) naive UTC, lo == hi for none. `schema` None: the rollup
    answers nothing and the page runs its plain request-log queries."""

    schema: str | None
    hours: tuple[datetime, datetime]
    quarters: tuple[datetime, datetime]

    def params(self, usage_range: UsageRange, part: tuple[datetime, datetime]) -> dict[str, Any]:
        start, end = usage_range.start_utc, usage_range.end_utc
        lo, hi = part
        if lo >= hi:  # nothing from the rollup: the whole range from the request log
            return {"start": start, "end": end, "d1_lo": start, "d1_hi": end,
                    "d2_lo": end, "d2_hi": end, "r_lo": start, "r_hi": start,
                    "k_lo": start, "k_hi": start}  # fmt: skip
        days_lo, days_hi = _ceil_to(lo, _DAY), _floor_to(hi, _DAY)
        if days_lo >= days_hi:
            days_lo = days_hi = lo
        return {"start": start, "end": end, "d1_lo": start, "d1_hi": lo,
                "d2_lo": hi, "d2_hi": end, "r_lo": lo, "r_hi": hi,
                "k_lo": days_lo, "k_hi": days_hi}  # fmt: skip


_NO_ROLLUP: Final = _Plan(None, (datetime.min, datetime.min), (datetime.min, datetime.min))
_HOUR: Final = timedelta(hours=1)
_EXACT_BELOW: Final = 128  # usage_rollup.LATENCY_EXACT_BELOW (not imported: see ROLLUP_SCHEMA)
_DAY: Final = timedelta(days=1)
_QUARTER: Final = timedelta(minutes=15)


def _floor_to(moment: datetime, step: timedelta) -> datetime:
    return moment - (moment - datetime.min) % step


def _ceil_to(moment: datetime, step: timedelta) -> datetime:
    floor = _floor_to(moment, step)
    return floor if floor == moment else floor + step


def _rollup_watermark(conn: Connection, schema: str | None) -> datetime | None:
    """The rollup's watermark in `schema`; None without a rollup (or before its first catch-up)."""
    from .usage_rollup import read_watermark, rollup_present

    if schema is None or not rollup_present(conn, schema):
        return None
    return read_watermark(conn, schema)


def _plan(conn: Connection, usage_range: UsageRange, schema: str | None) -> _Plan:
    """Read inside the page's snapshot, so the watermark and the rollup rows agree."""

    watermark = _rollup_watermark(conn, schema)
    if schema is None or watermark is None:
        return _NO_ROLLUP
    start, end = usage_range.start_utc, usage_range.end_utc
    hours = (_ceil_to(start, _HOUR), min(_floor_to(end, _HOUR), watermark))
    # A quarter must fall inside one of the range's hours, which start at `start`.
    aligned = _floor_to(start, _QUARTER) == start
    quarters = (start, min(_floor_to(end, _QUARTER), watermark)) if aligned else (start, start)
    if hours[0] >= hours[1] and quarters[0] >= quarters[1]:
        return _NO_ROLLUP
    return _Plan(schema, hours, quarters)


def _catch_up_quietly(engine: Engine, schema: str | None, now: datetime | None) -> None:
    """Bring the rollup up to date before a page is read, within a small time budget, without
    waiting for another admin doing the same; a failure only costs speed, never figures."""
    if schema is None:
        return
    from sqlalchemy.exc import DBAPIError

    from .usage_rollup import catch_up

    try:
        catch_up(
            engine,
            now or datetime.now(UTC),
            schema=schema,
            max_seconds=PAGE_CATCH_UP_SECONDS,
            wait=False,
        )
    except DBAPIError as error:  # e.g. a role without write access to the Master
        _log.warning("usage rollup not brought up to date: %s", error.orig)


def _sql(statement: str) -> TextClause:
    # SQLAlchemy is imported on first use: the window imports this module for its result types.
    from sqlalchemy import text

    return text(statement)


def _range_params(usage_range: UsageRange) -> dict[str, Any]:
    return {"start": usage_range.start_utc, "end": usage_range.end_utc}


# Per transaction only (SET LOCAL), nothing changed on the server: JIT compiling these aggregates
# cost ~2.7 s of a 3.8 s page at 1 M rows (Postgres' default jit=on; they run once, nothing to
# amortise), and the default 4 MB work_mem spilled sorts to disk.
_SESSION_SETTINGS: Final = (
    "SET LOCAL jit = off",
    "SET LOCAL work_mem = '64MB'",
    # Aggregates of a range are worth the parallel workers even when few rows leave them.
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0",
)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only REPEATABLE READ transaction: every query of a page sees the same rows."""
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        conn.begin(),
    ):
        conn.execute(_sql("SET TRANSACTION READ ONLY"))
        for setting in _SESSION_SETTINGS:
            conn.execute(_sql(setting))
        yield conn


def _int(value: object) -> int:
    """A count from the driver (int, or Decimal for a numeric sum); NULL is 0."""
    if value is None:
        return 0
    if isinstance(value, int | float | Decimal):
        return int(value)
    raise TypeError(f"not a number: {value!r}")


def _float(value: object) -> float:
    """A sum from the driver; NULL (no rows) is 0."""
    if value is None:
        return 0.0
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def _row_figures(row: _Row, key: str, label: str) -> BreakdownRow:
    return BreakdownRow(
        key=key,
        label=label,
        requests=_int(row["requests"]),
        spend=_float(row["spend"]),
        tokens_in=_int(row["tokens_in"]),
        tokens_out=_int(row["tokens_out"]),
        errors=_int(row["errors"]),
        cache_hits=_int(row["cache_hits"]),
    )


_LABEL_SQL: Final = {
    "key": 'SELECT token, coalesce(key_alias, key_name) FROM public."LiteLLM_VerificationToken" '
    "WHERE token = ANY(:keys)",
    "user": 'SELECT user_id, coalesce(user_alias, user_email) FROM public."LiteLLM_UserTable" '
    "WHERE user_id = ANY(:keys)",
    "team": 'SELECT team_id, team_alias FROM public."LiteLLM_TeamTable" WHERE team_id = ANY(:keys)',
}


def _labels(conn: Connection, dimension: Dimension, keys: Sequence[str]) -> dict[str, str]:
    """Display names: a key's alias (or its masked name), a user's e-mail/alias, a team's alias."""
    wanted = [k for k in keys if k]
    found: dict[str, str] = {}
    if wanted and dimension is not Dimension.MODEL:
        query = {
            Dimension.KEY: _LABEL_SQL["key"],
            Dimension.USER: _LABEL_SQL["user"],
            Dimension.TEAM: _LABEL_SQL["team"],
        }[dimension]
        found = {str(k): str(v) for k, v in conn.execute(_sql(query), {"keys": wanted}) if v}
    return {key: found.get(key) or _fallback_label(dimension, key) for key in keys}


def _fallback_label(dimension: Dimension, key: str) -> str:
    if not key:
        return "(none)"
    if dimension is Dimension.KEY and len(key) > 16:
        return f"key …{key[-8:]}"  # a hash, not a secret; shortened for the eye
    return key


def _labelled(
    conn: Connection, dimension: Dimension, rows: Sequence[_Row], column: str
) -> tuple[BreakdownRow, ...]:
    keys = [str(row[column]) for row in rows]
    labels = _labels(conn, dimension, keys)
    return tuple(_row_figures(row, key, labels[key]) for row, key in zip(rows, keys, strict=True))


def _sum_rows(rows: Sequence[_Row], key: str, label: str) -> BreakdownRow:
    """Cells added up (integers exactly; spend with fsum, so the order does not matter)."""
    return BreakdownRow(
        key=key,
        label=label,
        requests=sum(_int(r["requests"]) for r in rows),
        spend=math.fsum(_float(r["spend"]) for r in rows),
        tokens_in=sum(_int(r["tokens_in"]) for r in rows),
        tokens_out=sum(_int(r["tokens_out"]) for r in rows),
        errors=sum(_int(r["errors"]) for r in rows),
        cache_hits=sum(_int(r["cache_hits"]) for r in rows),
    )


def _percentile(histogram: Sequence[tuple[float, int]], fraction: float) -> float | None:
    """percentile_cont(fraction) of the values a sorted (value, count) histogram holds."""
    total = sum(count for _value, count in histogram)
    if total == 0:
        return None
    position = fraction * (total - 1)
    low_rank, high_rank = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for value, count in histogram:
        if low is None and low_rank < seen + count:
            low = value
        if high_rank < seen + count:
            high = value
            break
        seen += count
    assert low is not None and high is not None
    return low + (position - low_rank) * (high - low)


def _latency_value(ms: object, bucketed: bool) -> float:
    from .usage_rollup import bucket_value

    value = _int(ms)
    return bucket_value(value) if bucketed else float(value)


def _ranked(rows: Sequence[BreakdownRow], top: int) -> tuple[BreakdownRow, ...]:
    return tuple(sorted(rows, key=lambda r: (-r.spend, r.key))[:top])


def _hour_index(hour: datetime, usage_range: UsageRange, count: int) -> int | None:
    index = int((hour - usage_range.start_utc).total_seconds() // 3600)
    return index if 0 <= index < count else None


def _spend_per_day(cells: Sequence[_Row], usage_range: UsageRange, top_models: int) -> SpendPerDay:
    days = usage_range.days()
    hours = usage_range.hours()
    day_of_hour = [days.index(h.date()) for h in hours]
    by_model: dict[str, list[list[float]]] = {}
    for cell in cells:
        index = _hour_index(cell["hour"], usage_range, len(hours))
        if index is not None:
            per_day = by_model.setdefault(str(cell["model"]), [[] for _ in days])
            per_day[day_of_hour[index]].append(_float(cell["spend"]))
    spend = {m: [math.fsum(day) for day in per_day] for m, per_day in by_model.items()}
    ranked = sorted(spend, key=lambda m: (-math.fsum(spend[m]), m))
    series = [ModelSeries(m or "(none)", tuple(spend[m])) for m in ranked[:top_models]]
    rest = ranked[top_models:]
    if rest:
        other = [math.fsum(spend[m][i] for m in rest) for i in range(len(days))]
        series.append(ModelSeries(OTHER_MODELS, tuple(other)))
    return SpendPerDay(tuple(days), tuple(series))


def _per_hour(cells: Sequence[_Row], usage_range: UsageRange) -> RequestsPerHour:
    hours = usage_range.hours()
    requests, errors = [0] * len(hours), [0] * len(hours)
    for cell in cells:
        index = _hour_index(cell["hour"], usage_range, len(hours))
        if index is not None:
            requests[index] += _int(cell["requests"])
            errors[index] += _int(cell["errors"])
    return RequestsPerHour(tuple(hours), tuple(requests), tuple(errors))


def _totals(
    cells: Sequence[_Row], histogram: Sequence[tuple[float, int]], approximate: bool
) -> UsageTotals:
    total = _sum_rows(cells, "", "")
    return UsageTotals(
        requests=total.requests,
        spend=total.spend,
        tokens_in=total.tokens_in,
        tokens_out=total.tokens_out,
        errors=total.errors,
        cache_hits=total.cache_hits,
        p50_ms=_percentile(histogram, 0.5),
        p95_ms=_percentile(histogram, 0.95),
        latency_approximate=approximate,
    )


def _model_rows(cells: Sequence[_Row]) -> list[BreakdownRow]:
    by_model: dict[str, list[_Row]] = {}
    for cell in cells:
        by_model.setdefault(str(cell["model"]), []).append(cell)
    return [_sum_rows(rows, model, model or "(none)") for model, rows in by_model.items()]


# --- the use-cases -----------------------------------------------------------------------------


def usage_report(
    engine: Engine,
    usage_range: UsageRange,
    *,
    top: int = DEFAULT_TOP_ROWS,
    top_models: int = DEFAULT_TOP_MODELS,
    rollup_schema: str | None = ROLLUP_SCHEMA,
    now: datetime | None = None,
) -> UsageReport:
    """The whole Usage page: totals (with p50/p95), spend per day by model, requests per hour
    and the top `top` rows (by spend) of every breakdown, from one snapshot of the range.

    With the rollup in `rollup_schema` (ops/usage_rollup.py; None: read the request log only),
    the rollup is first brought up to date (`now`, default the clock; at most
    PAGE_CATCH_UP_SECONDS), then the whole hours before its watermark come from it and the rest
    from the request log. The figures equal the request log's (spend up to float rounding); p50
    and p95 are then within 1 % (exact below 128 ms; see `usage_rollup.bucket_value`)."""
    _catch_up_quietly(engine, rollup_schema, now)
    with _snapshot(engine) as conn:
        plan = _plan(conn, usage_range, rollup_schema)
        if plan.schema is None:
            params = _range_params(usage_range)
            cells = [row._mapping for row in conn.execute(_sql(_CELLS_SQL), params)]
            people = [row._mapping for row in conn.execute(_sql(_PEOPLE_SQL), params)]
            latency = conn.execute(_sql(_LATENCY_SQL), params).all()
            histogram = sorted((float(ms), int(n)) for ms, n in latency if ms is not None)
            approximate = False
        else:
            by_quarter = plan.params(usage_range, plan.quarters)
            by_hour = plan.params(usage_range, plan.hours)
            cells_sql, people_sql, latency_sql = (
                _rollup_cells_sql(plan.schema),
                _rollup_people_sql(plan.schema),
                _rollup_latency_sql(plan.schema),
            )
            cells = [row._mapping for row in conn.execute(_sql(cells_sql), by_quarter)]
            people = [row._mapping for row in conn.execute(_sql(people_sql), by_hour)]
            latency = conn.execute(_sql(latency_sql), by_hour).all()
            histogram = sorted(
                (_latency_value(ms, bool(bucketed)), int(n))
                for ms, n, bucketed in latency
                if ms is not None
            )
            approximate = any(bucketed and _int(ms) >= _EXACT_BELOW for ms, _n, bucketed in latency)
        breakdowns = {Dimension.MODEL: _ranked(_model_rows(cells), top)}
        for dimension, mask in _PEOPLE_MASK.items():
            column = _DIMENSION_COLUMN[dimension]
            rows = [_row_figures(r, str(r[column]), "") for r in people if r["g"] == mask]
            best = _ranked(rows, top)
            labels = _labels(conn, dimension, [r.key for r in best])
            breakdowns[dimension] = tuple(replace(r, label=labels[r.key]) for r in best)
    return UsageReport(
        range=usage_range,
        totals=_totals(cells, histogram, approximate),
        spend_per_day=_spend_per_day(cells, usage_range, top_models),
        per_hour=_per_hour(cells, usage_range),
        breakdowns=breakdowns,
    )


def usage_totals(engine: Engine, usage_range: UsageRange) -> UsageTotals:
    """The KPI row alone (what `usage summary` prints)."""
    return usage_report(engine, usage_range, top=0).totals


def spend_per_day_by_model(
    engine: Engine, usage_range: UsageRange, *, top_models: int = DEFAULT_TOP_MODELS
) -> SpendPerDay:
    """Spend per local day, stacked by the `top_models` models of the range plus 'other'."""
    return usage_report(engine, usage_range, top=0, top_models=top_models).spend_per_day


def requests_per_hour(engine: Engine, usage_range: UsageRange) -> RequestsPerHour:
    """Requests (and failures) per hour of the range."""
    return usage_report(engine, usage_range, top=0).per_hour


def breakdown(
    engine: Engine,
    usage_range: UsageRange,
    by: Dimension,
    *,
    sort: SortBy = SortBy.SPEND,
    limit: int | None = DEFAULT_TOP_ROWS,
    rollup_schema: str | None = ROLLUP_SCHEMA,
    now: datetime | None = None,
) -> tuple[BreakdownRow, ...]:
    """The range's figures per model, key, user or team, sorted by `sort` (descending; NAME
    ascending), ties by name; `limit` None for every row. The rollup as in `usage_report`."""
    _catch_up_quietly(engine, rollup_schema, now)
    with _snapshot(engine) as conn:
        plan = _plan(conn, usage_range, rollup_schema)
        use = plan.schema if plan.hours[0] < plan.hours[1] else None
        statement = _breakdown_sql(by, sort, limit, use)
        params = {**plan.params(usage_range, plan.hours), "limit": limit}
        rows = [row._mapping for row in conn.execute(_sql(statement), params)]
        return _labelled(conn, by, rows, "grp")


def request_log(
    engine: Engine,
    usage_range: UsageRange,
    filters: LogFilter = LogFilter(),
    *,
    after: LogCursor | None = None,
    limit: int = DEFAULT_LOG_PAGE,
) -> LogPage:
    """The requests of the range, newest first, `limit` at a time. Keyset paging on
    ("startTime", request_id): pass the previous page's `next_cursor` as `after`. Rows with
    equal start times are neither skipped nor repeated across pages."""
    conditions = [_IN_RANGE]
    params: dict[str, Any] = {**_range_params(usage_range), "limit": limit + 1}
    if filters.dimension is not None and filters.key is not None:
        conditions.append(f"{_DIMENSION_SQL[filters.dimension]} = :key")
        params["key"] = filters.key
    if filters.failures_only:
        conditions.append(_FAILED)
    if after is not None:
        conditions.append('(s."startTime", s.request_id) < (:after_time, :after_id)')
        params.update(after_time=after.start_time, after_id=after.request_id)
    statement = f"""
        SELECT s.request_id, s."startTime" AS start_time,
               {_DIMENSION_SQL[Dimension.MODEL]} AS model,
               coalesce(t.key_alias, t.key_name, s.api_key, '') AS key_label,
               coalesce(s."user", '') AS usr, coalesce(s.team_id, '') AS team,
               s.spend, s.prompt_tokens, s.completion_tokens, {_LATENCY} AS latency_ms,
               coalesce({_FAILED}, false) AS failed, coalesce({_HIT}, false) AS hit
        FROM {_LOGS} s
        LEFT JOIN {LITELLM_SCHEMA}."LiteLLM_VerificationToken" t ON t.token = s.api_key
        WHERE {" AND ".join(conditions)}
        ORDER BY s."startTime" DESC, s.request_id DESC
        LIMIT :limit
    """  # noqa: S608 - interpolates this module's constant SQL only; values are bound
    with _snapshot(engine) as conn:
        fetched = list(conn.execute(_sql(statement), params).mappings())
    more = len(fetched) > limit
    rows = tuple(_log_row(row) for row in fetched[:limit])
    cursor = None
    if more and rows:
        last = fetched[limit - 1]
        cursor = LogCursor(last["start_time"], str(last["request_id"]))
    return LogPage(rows, cursor)


def _log_row(row: _Row) -> RequestLogRow:
    key_label = str(row["key_label"])
    latency = row["latency_ms"]
    return RequestLogRow(
        request_id=str(row["request_id"]),
        start=row["start_time"].replace(tzinfo=UTC),
        model=str(row["model"]),
        key_label=_fallback_label(Dimension.KEY, key_label) if len(key_label) == 64 else key_label,
        user=str(row["usr"]),
        team=str(row["team"]),
        spend=_float(row["spend"]),
        tokens_in=_int(row["prompt_tokens"]),
        tokens_out=_int(row["completion_tokens"]),
        latency_ms=None if latency is None else float(latency),
        failed=bool(row["failed"]),
        cache_hit=bool(row["hit"]),
    )


def dashboard_usage(
    engine: Engine,
    now: datetime,
    zone: tzinfo | None = None,
    *,
    top_models: int = 5,
    rollup_schema: str | None = ROLLUP_SCHEMA,
) -> DashboardUsage:
    """Spend today / last 7 days / last 30 days (local days of `zone`, ending `now`), requests
    and failures of the last 24 hours, and the top models by spend of the last 7 days: one scan,
    with the rollup of its quarter hours before the watermark and of the request log after it
    (as `usage_report`: figures identical, spend up to float rounding)."""
    zone = zone or local_zone()
    ranges = {p: UsageRange.of_preset(p, now, zone) for p in (Preset.TODAY, Preset.LAST_7D)}
    month = UsageRange.of_preset(Preset.LAST_30D, now, zone)
    since_24h = _naive_utc(now - timedelta(hours=24))
    # One scan from the earlier of the 30-day start and 24 h ago; each figure filters its window.
    params: dict[str, Any] = {
        "start": min(month.start_utc, since_24h),
        "end": _naive_utc(now),
        "today": ranges[Preset.TODAY].start_utc,
        "week": ranges[Preset.LAST_7D].start_utc,
        "month": month.start_utc,
        "since_24h": since_24h,
    }
    _catch_up_quietly(engine, rollup_schema, now)
    with _snapshot(engine) as conn:
        rows = _dashboard_rows(conn, rollup_schema, params)
    total = next((r for r in rows if r["g"] == 1), None)
    models = sorted(
        (r for r in rows if r["g"] == 0 and _int(r["requests"]) > 0),
        key=lambda r: (-_float(r["spend"]), str(r["model"])),
    )[:top_models]
    return DashboardUsage(
        spend_today=_float(total["spend_today"]) if total else 0.0,
        spend_7d=_float(total["spend"]) if total else 0.0,
        spend_30d=_float(total["spend_30d"]) if total else 0.0,
        requests_24h=_int(total["requests_24h"]) if total else 0,
        errors_24h=_int(total["errors_24h"]) if total else 0,
        top_models=tuple(
            _row_figures(r, str(r["model"]), str(r["model"]) or "(none)") for r in models
        ),
        zone_name=zone_label(zone),
    )


# Over weighted rows `k` (t, model, spend, tokens_in, tokens_out, n, failed, hit): a request is
# n = 1, failed/hit 0 or 1; a rollup quarter is its counts.
_DASHBOARD_SQL = """
    SELECT GROUPING(model) AS g, model,
           coalesce(sum(spend) FILTER (WHERE t >= :today), 0) AS spend_today,
           coalesce(sum(spend) FILTER (WHERE t >= :week), 0) AS spend,
           coalesce(sum(spend) FILTER (WHERE t >= :month), 0) AS spend_30d,
           coalesce(sum(n) FILTER (WHERE t >= :week), 0) AS requests,
           coalesce(sum(failed) FILTER (WHERE t >= :week), 0) AS errors,
           coalesce(sum(n) FILTER (WHERE t >= :since_24h), 0) AS requests_24h,
           coalesce(sum(failed) FILTER (WHERE t >= :since_24h), 0) AS errors_24h,
           coalesce(sum(tokens_in) FILTER (WHERE t >= :week), 0) AS tokens_in,
           coalesce(sum(tokens_out) FILTER (WHERE t >= :week), 0) AS tokens_out,
           coalesce(sum(hit) FILTER (WHERE t >= :week), 0) AS cache_hits
    FROM ({source}) k
    GROUP BY GROUPING SETS ((model), ())
"""
_DASHBOARD_LOGS = f"""
    SELECT s."startTime" AS t, {_DIMENSION_SQL[Dimension.MODEL]} AS model, s.spend,
           s.prompt_tokens AS tokens_in, s.completion_tokens AS tokens_out, 1 AS n,
           coalesce({_FAILED}, false)::integer AS failed, coalesce({_HIT}, false)::integer AS hit
    FROM {_LOGS} s WHERE s."startTime" >= :logs_from AND s."startTime" < :end
"""  # noqa: S608 - interpolates this module's constant SQL only; values are bound


def _dashboard_rows(
    conn: Connection, schema: str | None, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """The dashboard's rows (GROUPING SETS by model and in total): the rollup's quarter hours
    [start, split) and the request log [split, end) when the rollup can answer, else the log."""
    watermark = _rollup_watermark(conn, schema)
    split = params["start"]
    if watermark is not None and schema is not None:
        marks = [params[name] for name in ("start", "today", "week", "month")]
        if all(_floor_to(m, _QUARTER) == m for m in marks):  # a zone of whole quarter hours
            split = max(params["start"], min(watermark, _floor_to(params["end"], _QUARTER)))
    if split == params["start"]:
        statement = _DASHBOARD_SQL.format(source=_DASHBOARD_LOGS)
        found = conn.execute(_sql(statement), {**params, "logs_from": split}).mappings()
        return [dict(r) for r in found]
    since_24h: datetime = params["since_24h"]
    # The quarter holding "24 h ago" counts from its next quarter on; the requests of
    # [24 h ago, next quarter) come from the request log (a small index range).
    edge_24h = _ceil_to(since_24h, _QUARTER) if since_24h < split else since_24h
    source = f"""{_DASHBOARD_LOGS}
        UNION ALL
        SELECT q.quarter, q.model, q.spend, q.tokens_in, q.tokens_out, q.requests,
               q.failures, q.cache_hits
        FROM "{schema}".usage_model_quarters q WHERE q.quarter >= :start AND q.quarter < :split
    """  # noqa: S608 - this module's constant SQL and a validated schema name; values are bound
    bound = {**params, "logs_from": split, "split": split, "since_24h": edge_24h}
    found = conn.execute(_sql(_DASHBOARD_SQL.format(source=source)), bound).mappings()
    rows = [dict(r) for r in found]
    if edge_24h != since_24h:
        edge = conn.execute(
            _sql(
                f"SELECT count(*), count(*) FILTER (WHERE {_FAILED}) FROM {_LOGS} s "  # noqa: S608
                'WHERE s."startTime" >= :lo AND s."startTime" < :hi'
            ),
            {"lo": since_24h, "hi": edge_24h},
        ).one()
        for row in rows:
            if row["g"] == 1:
                row["requests_24h"] = _int(row["requests_24h"]) + int(edge[0])
                row["errors_24h"] = _int(row["errors_24h"]) + int(edge[1])
    return rows


# --- CSV -----------------------------------------------------------------------------------------

BREAKDOWN_HEADER: Final = (
    "name",
    "id",
    "requests",
    "spend",
    "tokens_in",
    "tokens_out",
    "errors",
    "error_rate",
    "cache_hits",
)
LOG_HEADER: Final = (
    "start_utc",
    "request_id",
    "model",
    "key",
    "user",
    "team",
    "spend",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "failed",
    "cache_hit",
)


def breakdown_csv(rows: Sequence[BreakdownRow]) -> str:
    """A breakdown table as CSV text (the figures exactly as computed, unrounded)."""
    body: list[Sequence[Cell]] = [
        (
            r.label,
            r.key,
            r.requests,
            r.spend,
            r.tokens_in,
            r.tokens_out,
            r.errors,
            r.error_rate,
            r.cache_hits,
        )
        for r in rows
    ]
    return to_csv(BREAKDOWN_HEADER, body)


def request_log_csv(rows: Sequence[RequestLogRow]) -> str:
    """Request-log rows as CSV text."""
    body: list[Sequence[Cell]] = [
        (
            r.start,
            r.request_id,
            r.model,
            r.key_label,
            r.user,
            r.team,
            r.spend,
            r.tokens_in,
            r.tokens_out,
            r.latency_ms,
            r.failed,
            r.cache_hit,
        )
        for r in rows
    ]
    return to_csv(LOG_HEADER, body)


def totals_csv(totals: UsageTotals, usage_range: UsageRange) -> str:
    """The KPI row as a one-row CSV table."""
    header = (
        "from",
        "to",
        "zone",
        "requests",
        "spend",
        "tokens_in",
        "tokens_out",
        "errors",
        "error_rate",
        "cache_hits",
        "p50_ms",
        "p95_ms",
    )
    row: Sequence[Cell] = (
        usage_range.start,
        usage_range.end,
        usage_range.zone_name,
        totals.requests,
        totals.spend,
        totals.tokens_in,
        totals.tokens_out,
        totals.errors,
        totals.error_rate,
        totals.cache_hits,
        totals.p50_ms,
        totals.p95_ms,
    )
    return to_csv(header, [row])
