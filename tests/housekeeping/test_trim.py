"""Database stats and the spend-log trim (issue #6 §3) on LiteLLM's real tables."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.items import ItemKind
from llmproxy_desktop.ops.housekeeping import (
    RETENTION_KEY,
    SPEND_LOGS,
    TRIM_AUDIT_ACTION,
    cutoff_for,
    database_stats,
    retention_days,
    retention_setting_item,
    trim_preview,
    trim_spend_logs,
)
from llmproxy_desktop.store import Actor, Master
from tests.fixtures.spend_logs import ConcurrentInserter, analyze, count_rows, insert_spend_rows

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def seed(engine: Engine, *, old: int, recent: int) -> None:
    """`old` rows spread over days 100..40 before NOW, `recent` rows in the last 10 days."""
    if old:
        step = (60 * DAY) / old
        insert_spend_rows(engine, old, naive(NOW - 100 * DAY), step, prefix="old-")
    if recent:
        step = (10 * DAY) / recent
        insert_spend_rows(engine, recent, naive(NOW - 10 * DAY), step, prefix="new-")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, str]] = []

    def __call__(self, step: str, fraction: float, message: str) -> None:
        self.calls.append((step, fraction, message))


def test_stats_report_size_largest_tables_and_the_spend_log_span(engine: Engine) -> None:
    seed(engine, old=3000, recent=500)
    analyze(engine)

    stats = database_stats(engine, largest=5)

    assert stats.database_bytes > 1_000_000
    assert len(stats.tables) == 5
    sizes = [t.total_bytes for t in stats.tables]
    assert sizes == sorted(sizes, reverse=True)
    spend = stats.spend_logs
    assert spend is not None and spend.schema == "public"
    assert spend.row_estimate is not None and 3000 <= spend.row_estimate <= 4000
    assert stats.spend_logs_oldest == naive(NOW - 100 * DAY)
    assert stats.spend_logs_newest is not None
    assert naive(NOW - DAY) < stats.spend_logs_newest < naive(NOW)


def test_stats_of_an_empty_spend_log_have_no_span(engine: Engine) -> None:
    stats = database_stats(engine)

    assert stats.spend_logs_oldest is None and stats.spend_logs_newest is None
    assert all(t.row_estimate is None or t.row_estimate >= 0 for t in stats.tables)


def test_preview_counts_exactly_the_rows_older_than_the_cutoff(engine: Engine) -> None:
    seed(engine, old=2000, recent=300)

    preview = trim_preview(engine, 30, NOW)

    assert preview.exact
    assert preview.rows == 2000
    assert preview.cutoff == naive(NOW - 30 * DAY)
    assert trim_preview(engine, 5, NOW).rows > 2000  # part of the recent rows too


def test_trim_deletes_exactly_the_old_rows_in_batches_and_audits_the_count(
    engine: Engine, master: Master, alice: Actor
) -> None:
    seed(engine, old=2500, recent=400)
    preview = trim_preview(engine, 30, NOW)
    progress = Recorder()
    batches: list[int] = []

    result = trim_spend_logs(
        engine,
        preview.cutoff,
        progress,
        threading.Event(),
        alice,
        master,
        expected_rows=preview.rows,
        batch_rows=300,
        max_batch_rows=300,
        on_batch=lambda rows, _s: batches.append(rows),
    )

    assert result.deleted == 2500 and not result.cancelled
    assert count_rows(engine) == 400
    assert count_rows(engine, "request_id LIKE 'old-%'") == 0
    assert batches == [300] * 8 + [100]
    assert result.batches == 9
    fractions = [f for _s, f, _m in progress.calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    entry = master.audit_entries(5)[0]
    assert entry.action == TRIM_AUDIT_ACTION
    assert entry.by == alice
    assert entry.detail["deleted"] == 2500
    assert entry.detail["cancelled"] is False
    assert entry.detail["table"] == SPEND_LOGS


def test_trim_stops_between_batches_when_cancelled_and_audits_what_it_did(
    engine: Engine, master: Master, alice: Actor
) -> None:
    seed(engine, old=1000, recent=0)
    cancel = threading.Event()

    def after_batch(_rows: int, _seconds: float) -> None:
        if len(seen) == 2:
            cancel.set()

    seen: list[int] = []

    def on_batch(rows: int, seconds: float) -> None:
        seen.append(rows)
        after_batch(rows, seconds)

    result = trim_spend_logs(
        engine,
        cutoff_for(30, NOW),
        Recorder(),
        cancel,
        alice,
        master,
        batch_rows=100,
        max_batch_rows=100,
        on_batch=on_batch,
    )

    assert result.cancelled
    assert result.deleted == 200 == 1000 - count_rows(engine)
    entry = master.audit_entries(1)[0]
    assert entry.action == TRIM_AUDIT_ACTION
    assert entry.detail["deleted"] == 200 and entry.detail["cancelled"] is True


def test_trim_never_holds_up_a_concurrent_inserter(
    engine: Engine, master: Master, alice: Actor
) -> None:
    seed(engine, old=60_000, recent=0)

    with ConcurrentInserter(engine) as inserter:
        result = trim_spend_logs(
            engine, cutoff_for(30, NOW), Recorder(), threading.Event(), alice, master
        )
        during = len(inserter.latencies)

    assert inserter.error is None
    assert result.deleted == 60_000
    assert during > 10  # it really ran alongside
    assert count_rows(engine, "request_id LIKE 'live-%'") == len(inserter.latencies)
    # Generous for a loaded 2-core CI machine; bench/bench_trim.py records the real figure.
    assert inserter.longest < 1.0, f"an insert waited {inserter.longest:.3f} s"
    assert result.longest_batch_seconds < 2.0


def test_retention_setting_is_a_general_setting_in_days() -> None:
    item = retention_setting_item(30)

    assert item.kind is ItemKind.GENERAL_SETTING
    assert item.name == RETENTION_KEY == "maximum_spend_logs_retention_period"
    assert item.data == "30d"
    assert retention_days(item.data) == 30
    assert retention_days(7) == 7
    assert retention_days("12h") is None and retention_days(None) is None
    with pytest.raises(ValueError):
        retention_setting_item(0)
