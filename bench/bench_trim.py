"""Trim benchmark (issue #6 §6): delete N old spend-log rows while LiteLLM keeps inserting.

Generates N rows of `"LiteLLM_SpendLogs"` older than 30 days (server-side generate_series, see
tests/fixtures/spend_logs.py) in LiteLLM's real schema on the throwaway PostgreSQL 15, counts
them (`trim_preview`), then trims them with `trim_spend_logs` while a concurrent inserter (one
row per transaction, as fast as it can) records how long each of its inserts took. Reports rows
per second and the inserter's worst and 99th-percentile wait. Run:

    BENCH_TRIM_ROWS=5000000 .venv/bin/python -m pytest bench/bench_trim.py -q -s -p no:logging

Target: an insert is never held up for more than ~100 ms.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.ops.housekeeping import trim_preview, trim_spend_logs
from llmproxy_desktop.store import Actor, Master
from tests.fixtures.spend_logs import ConcurrentInserter, analyze, count_rows, insert_spend_rows

pytestmark = pytest.mark.integration

ROWS = int(os.environ.get("BENCH_TRIM_ROWS", "1000000"))
TARGET_WAIT_SECONDS = 0.1
ADMIN = Actor("bench", "bench-host")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def test_trim_rows_per_second_and_longest_insert_wait(engine: Engine) -> None:
    master = Master.open(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    started = time.monotonic()
    insert_spend_rows(engine, ROWS, now - timedelta(days=400), timedelta(days=300) / ROWS)
    analyze(engine)
    generated = time.monotonic() - started

    preview = trim_preview(engine, 30, now)
    assert preview.exact and preview.rows == ROWS

    # The inserter alone first: its normal latency on this machine, to compare with.
    with ConcurrentInserter(engine) as alone:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            threading.Event().wait(0.1)
    batch_seconds: list[float] = []
    with ConcurrentInserter(engine) as inserter:
        result = trim_spend_logs(
            engine,
            preview.cutoff,
            lambda _s, _f, _m: None,
            threading.Event(),
            ADMIN,
            master,
            expected_rows=preview.rows,
            on_batch=lambda _rows, seconds: batch_seconds.append(seconds),
        )
    assert inserter.error is None and alone.error is None
    assert result.deleted == ROWS
    assert count_rows(engine, "request_id LIKE 'old-%'") == 0

    print(
        f"\ntrim bench: {ROWS:,} rows generated in {generated:.1f} s; "
        f"preview count {preview.seconds:.2f} s\n"
        f"  trim: {result.seconds:.1f} s, {result.rows_per_second:,.0f} rows/s, "
        f"{result.batches} batches (median {statistics.median(batch_seconds) * 1000:.0f} ms, "
        f"longest {result.longest_batch_seconds * 1000:.0f} ms)\n"
        f"  inserter during trim: {len(inserter.latencies):,} inserts, "
        f"median {statistics.median(inserter.latencies) * 1000:.2f} ms, "
        f"p99 {_percentile(inserter.latencies, 0.99) * 1000:.1f} ms, "
        f"longest {inserter.longest * 1000:.1f} ms\n"
        f"  inserter alone (3 s): median {statistics.median(alone.latencies) * 1000:.2f} ms, "
        f"p99 {_percentile(alone.latencies, 0.99) * 1000:.1f} ms, "
        f"longest {alone.longest * 1000:.1f} ms"
    )
    assert inserter.longest < 1.0  # the test's bound; the figure above is the result
