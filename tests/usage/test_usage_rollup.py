"""The usage rollup (ops/usage_rollup.py): the page read through it equals the page read from the
request log alone, across DST changes and half/quarter-hour zones; catch-up is idempotent,
picks up late rows, and two admins catching up at once count nothing twice."""

from __future__ import annotations

import math
import random
import threading
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from llmproxy_desktop.ops.usage import (
    Dimension,
    SortBy,
    UsageRange,
    UsageReport,
    breakdown,
    dashboard_usage,
    usage_report,
)
from llmproxy_desktop.ops.usage_rollup import (
    BUCKET_SQL,
    bucket_value,
    catch_up,
    latency_bucket,
)
from llmproxy_desktop.store import create_master_engine, migrate

from .spend_rows import Req, add_key, add_team, insert

pytestmark = pytest.mark.integration

ZONES: list[tzinfo] = [
    UTC,
    ZoneInfo("Europe/Berlin"),  # DST ends 2026-10-25
    ZoneInfo("America/New_York"),  # DST ends 2026-11-01
    ZoneInfo("Asia/Kolkata"),  # +05:30: midnights at :30 UTC
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    ZoneInfo("Australia/Adelaide"),  # +10:30 in summer, DST began 2026-10-04
]
FIRST = datetime(2026, 10, 20, tzinfo=UTC)
LAST = datetime(2026, 11, 6, tzinfo=UTC)
AFTER = LAST + timedelta(days=1)


def _random_requests(count: int, seed: int = 6) -> list[Req]:
    rng = random.Random(seed)
    span = (LAST - FIRST).total_seconds()
    requests = []
    for _ in range(count):
        failed = rng.random() < 0.1
        requests.append(
            Req(
                FIRST + timedelta(seconds=rng.uniform(0, span)),
                spend=round(rng.uniform(0, 2), 6),
                model=rng.choice(["gpt-4o", "claude", "llama", ""]),
                key=rng.choice(["a" * 64, "b" * 64, "c" * 64]),
                user=rng.choice(["u1", "u2", None]),
                team=rng.choice(["t1", "t2", None]),
                tokens_in=rng.randrange(1000),
                tokens_out=rng.randrange(300),
                failed=failed,
                cache_hit=rng.choice([None, "", "True", "false"]),
                duration_ms=rng.choice([None, rng.randrange(1, 128), rng.randrange(128, 90_000)]),
            )
        )
    return requests


@pytest.fixture
def filled(engine: Engine) -> Engine:
    migrate(engine)
    insert(engine, _random_requests(3000))
    add_key(engine, "a" * 64, "alpha")
    add_team(engine, "t1", "Team One")
    return engine


def _assert_same(rolled: UsageReport, direct: UsageReport) -> None:
    a, b = rolled.totals, direct.totals
    assert (a.requests, a.tokens_in, a.tokens_out, a.errors, a.cache_hits) == (
        b.requests,
        b.tokens_in,
        b.tokens_out,
        b.errors,
        b.cache_hits,
    )
    assert a.spend == pytest.approx(b.spend, rel=1e-12)
    for approx, exact in ((a.p50_ms, b.p50_ms), (a.p95_ms, b.p95_ms)):
        assert (approx is None) == (exact is None)
        if approx is not None and exact is not None:
            assert approx == pytest.approx(exact, rel=0.0101)
    assert rolled.per_hour == direct.per_hour
    assert rolled.spend_per_day.days == direct.spend_per_day.days
    assert [s.model for s in rolled.spend_per_day.series] == [
        s.model for s in direct.spend_per_day.series
    ]
    for x, y in zip(rolled.spend_per_day.series, direct.spend_per_day.series, strict=True):
        assert x.spend == pytest.approx(y.spend, rel=1e-12, abs=1e-12)
    assert rolled.breakdowns.keys() == direct.breakdowns.keys()
    for dimension, rows in direct.breakdowns.items():
        got = rolled.breakdowns[dimension]
        assert [(r.key, r.label, r.requests, r.tokens_in, r.errors, r.cache_hits) for r in got] == [
            (r.key, r.label, r.requests, r.tokens_in, r.errors, r.cache_hits) for r in rows
        ]
        assert [r.spend for r in got] == pytest.approx([r.spend for r in rows], rel=1e-12)


def _ranges(zone: tzinfo) -> list[UsageRange]:
    whole = UsageRange.of_days(date(2026, 10, 21), date(2026, 11, 4), zone)
    # Ends mid-hour (as a preset ending "now" does) and starts at a local midnight.
    end = datetime(2026, 11, 3, 17, 37, 12, tzinfo=UTC).astimezone(whole.zone)
    open_end = UsageRange(whole.start, end, whole.zone)
    one_day = UsageRange.of_days(date(2026, 10, 25), date(2026, 10, 25), zone)
    return [whole, open_end, one_day]


@pytest.mark.parametrize("zone", ZONES, ids=lambda z: str(z))
def test_the_page_through_the_rollup_equals_the_request_log_in_every_zone(
    filled: Engine, zone: tzinfo
) -> None:
    result = catch_up(filled, AFTER)
    assert result.complete and result.rows == 3000
    for usage_range in _ranges(zone):
        rolled = usage_report(filled, usage_range, now=AFTER)
        direct = usage_report(filled, usage_range, rollup_schema=None)
        assert rolled.totals.requests > 0
        assert rolled.totals.latency_approximate and not direct.totals.latency_approximate
        _assert_same(rolled, direct)


def test_a_watermark_inside_the_range_reads_the_rest_from_the_request_log(filled: Engine) -> None:
    middle = datetime(2026, 10, 29, 13, 20, tzinfo=UTC)
    assert catch_up(filled, middle).watermark == datetime(2026, 10, 29, 13)
    for zone in ZONES:
        for usage_range in _ranges(zone):
            rolled = usage_report(filled, usage_range, now=middle)
            _assert_same(rolled, usage_report(filled, usage_range, rollup_schema=None))


def test_breakdowns_through_the_rollup_equal_the_request_log(filled: Engine) -> None:
    catch_up(filled, AFTER)
    usage_range = _ranges(ZoneInfo("Asia/Kolkata"))[1]
    for by in Dimension:
        for sort in SortBy:
            rolled = breakdown(filled, usage_range, by, sort=sort, limit=None, now=AFTER)
            direct = breakdown(filled, usage_range, by, sort=sort, limit=None, rollup_schema=None)
            assert [(r.key, r.label, r.requests, r.errors) for r in rolled] == [
                (r.key, r.label, r.requests, r.errors) for r in direct
            ]
            assert [r.spend for r in rolled] == pytest.approx([r.spend for r in direct])


def _rollup_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows: list[tuple[object, ...]] = []
        tables = ("usage_hours", "usage_key_days", "usage_model_quarters", "usage_latency_hours")
        for table in tables:
            rows += [
                (table, *r)
                for r in conn.execute(text(f"SELECT * FROM llmproxy.{table} ORDER BY 1, 2, 3"))
            ]
        return rows


def _rollup_requests(engine: Engine) -> int:
    """The requests the rollup holds; its three tables must agree on that."""
    with engine.connect() as conn:
        counts = {
            int(conn.execute(text(f"SELECT sum(requests) FROM llmproxy.{table}")).scalar_one())
            for table in ("usage_hours", "usage_key_days", "usage_model_quarters")
        }
    assert len(counts) == 1, counts
    return counts.pop()


def test_catch_up_again_changes_nothing(filled: Engine) -> None:
    first = catch_up(filled, AFTER, batch=timedelta(hours=30))
    assert first.complete and first.batches > 1
    before = _rollup_rows(filled)
    again = catch_up(filled, AFTER)
    assert again.complete and again.batches == 1  # the trailing window, re-aggregated
    assert _rollup_rows(filled) == before
    assert _rollup_requests(filled) == 3000


def test_a_bounded_catch_up_resumes_where_it_stopped(filled: Engine) -> None:
    partial = catch_up(filled, AFTER, batch=timedelta(hours=5), max_seconds=0)
    assert (partial.batches, partial.complete) == (1, False)
    done = catch_up(filled, AFTER, batch=timedelta(hours=48))
    assert done.complete and done.watermark == AFTER.replace(tzinfo=None)
    assert _rollup_requests(filled) == 3000


def test_late_rows_inside_the_trailing_window_are_counted(engine: Engine) -> None:
    migrate(engine)
    now = datetime(2026, 11, 10, 12, 5, tzinfo=UTC)
    insert(engine, [Req(datetime(2026, 11, 10, 9, 10, tzinfo=UTC))])
    catch_up(engine, now)
    # LiteLLM's batch writer delivers rows of the two hours before the watermark late.
    insert(engine, [Req(datetime(2026, 11, 10, 10, 59, tzinfo=UTC), spend=5.0, failed=True)])
    insert(engine, [Req(datetime(2026, 11, 10, 11, 30, tzinfo=UTC), spend=7.0)])
    catch_up(engine, now)
    assert _rollup_requests(engine) == 3
    day = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC)
    rolled = usage_report(engine, day, now=now)
    assert (rolled.totals.requests, rolled.totals.errors) == (3, 1)
    assert rolled.totals.spend == pytest.approx(13.0)
    _assert_same(rolled, usage_report(engine, day, rollup_schema=None))


def test_two_admins_catching_up_at_once_count_nothing_twice(
    filled: Engine, master_db_url: str
) -> None:
    other = create_master_engine(master_db_url)
    try:
        start = threading.Barrier(2)
        results = []

        def run(engine: Engine) -> None:
            start.wait()
            results.append(catch_up(engine, AFTER, batch=timedelta(hours=7)))

        threads = [threading.Thread(target=run, args=(e,)) for e in (filled, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(r.complete for r in results) and len(results) == 2
        assert _rollup_requests(filled) == 3000
        usage_range = _ranges(UTC)[0]
        _assert_same(
            usage_report(filled, usage_range, now=AFTER),
            usage_report(filled, usage_range, rollup_schema=None),
        )
    finally:
        other.dispose()


def test_a_page_that_finds_another_admin_catching_up_does_not_wait(filled: Engine) -> None:
    from llmproxy_desktop.store.schema_migration import advisory_lock_key

    key = advisory_lock_key("usage-rollup", "llmproxy")
    with filled.connect() as holder, holder.begin():
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        assert catch_up(filled, AFTER, wait=False).skipped
        usage_range = _ranges(UTC)[0]
        # Nothing rolled up yet: the page reads the request log, and is still right.
        report = usage_report(filled, usage_range, now=AFTER)
    _assert_same(report, usage_report(filled, usage_range, rollup_schema=None))


def test_the_rollup_keeps_the_figures_of_trimmed_spend_logs(filled: Engine) -> None:
    catch_up(filled, AFTER)
    usage_range = _ranges(UTC)[0]
    before = usage_report(filled, usage_range, now=AFTER)
    with filled.begin() as conn:
        conn.execute(text('DELETE FROM "LiteLLM_SpendLogs" WHERE "startTime" < :t'), {"t": AFTER})
    after = usage_report(filled, usage_range, now=AFTER)
    assert after.totals.requests == before.totals.requests > 0


def test_latency_buckets_agree_between_sql_and_python_within_one_percent(engine: Engine) -> None:
    values = [*range(-3, 300), *(int(1.013**n) for n in range(300, 1300, 7))]
    with engine.connect() as conn:
        buckets = conn.execute(
            text(f"SELECT {BUCKET_SQL.format(ms='v')} FROM unnest(CAST(:v AS integer[])) AS v"),
            {"v": values},
        ).scalars()
        for value, bucket in zip(values, buckets, strict=True):
            assert bucket == latency_bucket(value)
            if value < 128:
                assert bucket_value(bucket) == value
            else:
                assert math.isclose(bucket_value(bucket), value, rel_tol=0.0101)


@pytest.mark.parametrize("zone", ZONES, ids=lambda z: str(z))
def test_the_dashboard_through_the_rollup_equals_the_request_log(
    filled: Engine, zone: tzinfo
) -> None:
    from llmproxy_desktop.store.schema_migration import advisory_lock_key

    # Inside the quarter that holds "24 h ago" of the first `now`, on either side of it.
    edge = [datetime(2026, 11, 3, 8, 50, tzinfo=UTC), datetime(2026, 11, 3, 8, 55, tzinfo=UTC)]
    insert(filled, [Req(at, failed=True) for at in edge])
    catch_up(filled, datetime(2026, 11, 4, 8, tzinfo=UTC))  # the watermark: 8:00
    for now in (
        datetime(2026, 11, 4, 8, 52, 17, tzinfo=UTC),  # 24 h ago lies in the rollup
        datetime(2026, 11, 5, 9, 7, tzinfo=UTC),  # 24 h ago lies after the watermark
    ):
        # Another admin holds the catch-up lock: the watermark stays at 8:00.
        with filled.connect() as holder, holder.begin():
            key = advisory_lock_key("usage-rollup", "llmproxy")
            holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            rolled = dashboard_usage(filled, now, zone)
        direct = dashboard_usage(filled, now, zone, rollup_schema=None)
        assert (rolled.requests_24h, rolled.errors_24h) == (direct.requests_24h, direct.errors_24h)
        assert rolled.requests_24h > 0
        for name in ("spend_today", "spend_7d", "spend_30d"):
            assert getattr(rolled, name) == pytest.approx(getattr(direct, name), rel=1e-12)
        assert [
            (m.key, m.requests, m.errors, m.cache_hits, m.tokens_in) for m in rolled.top_models
        ] == [(m.key, m.requests, m.errors, m.cache_hits, m.tokens_in) for m in direct.top_models]
    # The 30 days come from the rollup: trimming old request rows does not change them.
    later = AFTER + timedelta(hours=1, minutes=10)
    before = dashboard_usage(filled, later, zone)
    with filled.begin() as conn:
        conn.execute(text('DELETE FROM "LiteLLM_SpendLogs" WHERE "startTime" < :t'), {"t": LAST})
    assert before.spend_30d > 0
    assert dashboard_usage(filled, later, zone).spend_30d == pytest.approx(before.spend_30d)
