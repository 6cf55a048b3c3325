"""Usage benchmark (issue 6 §6): the whole Usage page for 30 days over a large request log.

The generator (bench/spend_generator.py) COPYs USAGE_BENCH_ROWS rows (default 1 M) spread over
90 days into LiteLLM's real `"LiteLLM_SpendLogs"` of a fresh test database (outside the timing).
The Master schema is migrated and the usage rollup (ops/usage_rollup.py) caught up once from
nothing (timed separately: the one-time cost). Then, in the same run, alternately:

- the page: `ops.usage.usage_report` for the last 30 days in Europe/Berlin (totals, p50/p95,
  spend per day by model, requests per hour, top 10 of the four breakdowns, with labels), which
  first re-aggregates the rollup's trailing window, then reads whole hours from the rollup and
  the rest from the request log;
- the naive baseline: one single-pass aggregation over the raw table (count, spend, tokens,
  failures, cache hits of every row, no index, no grouping).

Finally the page without the rollup (request log only, as before the rollup) a few times.

Targets: page <= 1 s at 1 M rows, <= 3 s at 10 M. The ratio page / naive is printed. Run:

    USAGE_BENCH_ROWS=1000000 .venv/bin/pytest bench/bench_usage.py -s -p no:logging
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from bench.spend_generator import load
from llmproxy_desktop.ops.usage import Dimension, Preset, UsageRange, usage_report
from llmproxy_desktop.ops.usage_rollup import catch_up
from llmproxy_desktop.store import migrate

pytestmark = pytest.mark.integration

ROWS = int(os.environ.get("USAGE_BENCH_ROWS", "1000000"))
TARGET_SECONDS = 1.0 if ROWS <= 1_000_000 else 3.0
ROUNDS = 5
END = datetime(2026, 11, 27, 12, tzinfo=UTC)

NAIVE_SQL = """
SELECT count(*), sum(spend), sum(prompt_tokens), sum(completion_tokens),
       count(*) FILTER (WHERE status = 'failure'),
       count(*) FILTER (WHERE lower(cache_hit) = 'true')
FROM "LiteLLM_SpendLogs"
"""


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def test_usage_page_for_30_days_beside_a_naive_single_pass(
    pg_cluster: object, master_db: str, engine: Engine
) -> None:
    conninfo = pg_cluster.conninfo(master_db)  # type: ignore[attr-defined]
    loaded = load(conninfo, ROWS, END)
    window = UsageRange.of_preset(Preset.LAST_30D, END, ZoneInfo("Europe/Berlin"))
    migrate(engine)
    began = time.perf_counter()
    caught = catch_up(engine, END)
    catch_up_seconds = time.perf_counter() - began
    assert caught.complete
    with engine.connect() as conn:
        sizes = {
            table: conn.execute(text(f"SELECT count(*) FROM llmproxy.{table}")).scalar_one()
            for table in ("usage_hours", "usage_model_quarters", "usage_latency_hours")
        }

    def page() -> object:
        report = usage_report(engine, window, now=END)
        assert report.totals.requests > 0
        assert all(len(report.breakdowns[d]) == 10 for d in Dimension)
        return report

    def naive() -> object:
        with engine.connect() as conn:
            return conn.execute(text(NAIVE_SQL)).one()

    page(), naive()  # warm the cache and the connection pool alike
    page_times, naive_times = [], []
    for _ in range(ROUNDS):
        page_times.append(_timed(page))
        naive_times.append(_timed(naive))
    ratios = [p / n for p, n in zip(page_times, naive_times, strict=True)]
    report = usage_report(engine, window, now=END)
    direct = [_timed(lambda: usage_report(engine, window, rollup_schema=None)) for _ in range(2)]
    print(
        f"\nusage bench: {ROWS:,} rows loaded in {loaded:.1f} s; "
        f"30-day window holds {report.totals.requests:,} requests\n"
        f"  page   median {statistics.median(page_times) * 1000:.0f} ms "
        f"(min {min(page_times) * 1000:.0f}, max {max(page_times) * 1000:.0f})\n"
        f"  naive  median {statistics.median(naive_times) * 1000:.0f} ms "
        f"(min {min(naive_times) * 1000:.0f}, max {max(naive_times) * 1000:.0f})\n"
        f"  ratio page/naive median {statistics.median(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f})\n"
        f"  page without the rollup: {', '.join(f'{t * 1000:.0f}' for t in direct)} ms\n"
        f"  one-time catch-up: {caught.rows:,} rows in {catch_up_seconds:.1f} s "
        f"({caught.rows / catch_up_seconds:,.0f} rows/s, {caught.batches} batches); "
        f"rollup rows: {sizes}"
    )
    assert statistics.median(page_times) <= TARGET_SECONDS
