"""ops.usage against LiteLLM's real SpendLogs table: exact figures, local-day boundaries,
keyset paging, breakdown order, the dashboard cards, CSV text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.csv_text import to_csv
from llmproxy_desktop.ops.usage import (
    OTHER_MODELS,
    Dimension,
    LogFilter,
    Preset,
    SortBy,
    UsageRange,
    breakdown,
    breakdown_csv,
    dashboard_usage,
    request_log,
    requests_per_hour,
    spend_per_day_by_model,
    usage_report,
    usage_totals,
)

from .spend_rows import Req, add_key, add_team, insert

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_totals_count_failures_cache_hits_tokens_and_latency_exactly(engine: Engine) -> None:
    day = utc(2026, 11, 10, 12)
    insert(
        engine,
        [
            Req(day, spend=0.25, tokens_in=100, tokens_out=10, duration_ms=100),
            Req(day, spend=0.5, tokens_in=200, tokens_out=20, duration_ms=200, cache_hit="True"),
            Req(day, spend=1.0, tokens_in=300, tokens_out=30, duration_ms=300, cache_hit="true"),
            Req(day, spend=0.0, tokens_in=5, tokens_out=0, duration_ms=9000, failed=True),
            Req(day, spend=0.125, tokens_in=1, tokens_out=1, duration_ms=400, cache_hit=""),
        ],
    )
    totals = usage_totals(engine, UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC))
    assert (totals.requests, totals.errors, totals.cache_hits) == (5, 1, 2)
    assert totals.spend == pytest.approx(1.875)
    assert (totals.tokens_in, totals.tokens_out) == (606, 61)
    assert totals.error_rate == pytest.approx(0.2)
    # Over the 4 successful requests (100, 200, 300, 400 ms), the failure's 9 s left out.
    assert totals.p50_ms == pytest.approx(250.0)
    assert totals.p95_ms == pytest.approx(385.0)


def _boundary_rows(engine: Engine) -> None:
    insert(
        engine,
        [
            Req(utc(2026, 11, 9, 22, 59), spend=1000.0),  # Berlin: Nov 9 23:59 (day before)
            Req(utc(2026, 11, 9, 23, 0), spend=1.0),  # Berlin: Nov 10 00:00, first instant
            Req(utc(2026, 11, 10, 23, 30), spend=2.0),  # Berlin: Nov 11 00:30
            Req(utc(2026, 11, 11, 22, 59, 59) + timedelta(milliseconds=999), spend=4.0),
            Req(utc(2026, 11, 11, 23, 0), spend=2000.0),  # Berlin: Nov 12 00:00 (day after)
        ],
    )


def test_local_days_take_nothing_from_the_previous_or_next_day(engine: Engine) -> None:
    _boundary_rows(engine)
    berlin = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 11), BERLIN)
    per_day = spend_per_day_by_model(engine, berlin)
    assert per_day.days == (date(2026, 11, 10), date(2026, 11, 11))
    assert [per_day.day_total(i) for i in range(2)] == [1.0, 6.0]
    assert usage_totals(engine, berlin).spend == 7.0


def test_a_request_at_2330_utc_counts_on_the_local_day_it_happened(engine: Engine) -> None:
    _boundary_rows(engine)
    one_day = UsageRange.of_days(date(2026, 11, 11), date(2026, 11, 11), BERLIN)
    assert usage_totals(engine, one_day).spend == 6.0  # 23:30 UTC Nov 10 is Nov 11 in Berlin
    in_utc = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC)
    assert usage_totals(engine, in_utc).spend == 2.0  # ... and Nov 10 in UTC
    west = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), NEW_YORK)
    assert usage_totals(engine, west).spend == 2.0  # 18:30 on Nov 10 in New York


def test_hours_follow_the_zone_and_a_dst_day_has_25(engine: Engine) -> None:
    autumn = UsageRange.of_days(date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert len(autumn.hours()) == 25
    assert autumn.hours()[0].hour == 0
    insert(engine, [Req(utc(2026, 10, 24, 22, 10)), Req(utc(2026, 10, 25, 1, 5))] * 2)
    per_hour = requests_per_hour(engine, autumn)
    # 22:10 UTC = 00:10 CEST (hour 0); 01:05 UTC = 02:05 CET, the 4th hour (02:00 CEST, 02:00 CET).
    assert per_hour.requests[0] == 2
    assert per_hour.requests[3] == 2
    assert sum(per_hour.requests) == 4


def test_presets_are_cut_at_local_midnights_of_the_injected_now() -> None:
    now = utc(2026, 11, 27, 9, 55)
    week = UsageRange.of_preset(Preset.LAST_7D, now, BERLIN)
    assert week.start == datetime(2026, 11, 21, tzinfo=BERLIN)
    assert week.end == now
    assert len(week.days()) == 7
    month = UsageRange.parse("month", now, UTC)
    assert month.start == utc(2026, 11, 1) and month.preset is Preset.THIS_MONTH
    assert UsageRange.parse("30d", now, UTC).start == utc(2026, 10, 29)
    with pytest.raises(ValueError, match="unknown range"):
        UsageRange.parse("yesterday-ish", now, UTC)


def test_keyset_paging_neither_skips_nor_repeats_rows_with_equal_start_times(
    engine: Engine,
) -> None:
    same = utc(2026, 11, 10, 12)
    rows = [Req(same, request_id=f"same-{n}") for n in range(7)]
    rows += [Req(same + timedelta(seconds=n), request_id=f"later-{n}") for n in range(1, 4)]
    rows += [Req(same - timedelta(seconds=1), request_id="earlier")]
    insert(engine, rows)
    whole = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC)
    seen: list[str] = []
    page = request_log(engine, whole, limit=3)
    pages = 1
    seen += [r.request_id for r in page.rows]
    while page.next_cursor is not None:
        page = request_log(engine, whole, after=page.next_cursor, limit=3)
        pages += 1
        seen += [r.request_id for r in page.rows]
    assert pages == 4
    assert len(seen) == len(set(seen)) == 11
    assert seen[:3] == ["later-3", "later-2", "later-1"]
    assert seen[3:10] == [f"same-{n}" for n in range(6, -1, -1)]
    assert seen[-1] == "earlier"


def test_drill_down_shows_exactly_the_rows_of_a_breakdown_row(engine: Engine) -> None:
    a, b = "a" * 64, "b" * 64
    add_key(engine, a, "team-a-key")
    day = utc(2026, 11, 10, 12)
    insert(engine, [Req(day, key=a), Req(day, key=a, failed=True), Req(day, key=b)])
    whole = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC)
    keys = breakdown(engine, whole, Dimension.KEY)
    assert [(r.label, r.requests) for r in keys] == [("team-a-key", 2), ("key …bbbbbbbb", 1)]
    page = request_log(engine, whole, LogFilter(Dimension.KEY, keys[0].key))
    assert len(page.rows) == keys[0].requests
    assert {r.key_label for r in page.rows} == {"team-a-key"}
    failures = request_log(engine, whole, LogFilter(Dimension.KEY, a, failures_only=True))
    assert [r.failed for r in failures.rows] == [True]


def test_breakdowns_sort_by_the_asked_column_with_ties_by_name(engine: Engine) -> None:
    add_team(engine, "t-blue", "Blue team")
    day = utc(2026, 11, 10, 12)
    insert(
        engine,
        [Req(day, model="cheap", spend=0.01)] * 5
        + [Req(day, model="dear", spend=3.0, team="t-blue")]
        + [Req(day, model="flaky", spend=0.5, failed=True), Req(day, model="flaky", spend=0.5)]
        + [Req(day, model="alpha", spend=0.5), Req(day, model="alpha", spend=0.5)],
    )
    whole = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC)
    by_spend = breakdown(engine, whole, Dimension.MODEL)
    assert [r.key for r in by_spend] == ["dear", "alpha", "flaky", "cheap"]
    by_requests = breakdown(engine, whole, Dimension.MODEL, sort=SortBy.REQUESTS, limit=2)
    assert [r.key for r in by_requests] == ["cheap", "alpha"]
    by_rate = breakdown(engine, whole, Dimension.MODEL, sort=SortBy.ERROR_RATE, limit=1)
    assert [(r.key, r.error_rate) for r in by_rate] == [("flaky", 0.5)]
    by_name = breakdown(engine, whole, Dimension.MODEL, sort=SortBy.NAME, limit=None)
    assert [r.key for r in by_name] == ["alpha", "cheap", "dear", "flaky"]
    teams = breakdown(engine, whole, Dimension.TEAM)
    assert [(r.label, r.requests) for r in teams] == [("Blue team", 1), ("t1", 9)]


def test_the_page_report_adds_up_and_folds_small_models_into_other(engine: Engine) -> None:
    day = utc(2026, 11, 10, 12)
    insert(
        engine,
        [Req(day + timedelta(hours=n % 5), model=f"m{n % 4}", spend=n + 1.0) for n in range(12)],
    )
    whole = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 11), UTC)
    report = usage_report(engine, whole, top=2, top_models=2)
    assert report.totals.requests == 12
    assert report.totals.spend == sum(n + 1.0 for n in range(12))
    assert [s.model for s in report.spend_per_day.series] == ["m3", "m2", OTHER_MODELS]
    assert report.spend_per_day.day_total(0) == report.totals.spend
    assert report.spend_per_day.day_total(1) == 0.0
    assert sum(report.per_hour.requests) == 12 and len(report.per_hour.hours) == 48
    assert [r.key for r in report.breakdowns[Dimension.MODEL]] == ["m3", "m2"]
    assert report.breakdowns[Dimension.MODEL] == breakdown(engine, whole, Dimension.MODEL, limit=2)
    assert [r.requests for r in report.breakdowns[Dimension.USER]] == [12]


def test_the_dashboard_cards_use_local_days_and_a_rolling_24_hours(engine: Engine) -> None:
    now = utc(2026, 11, 27, 10)
    insert(
        engine,
        [
            Req(utc(2026, 11, 27, 9), spend=1.0, model="a"),  # today
            Req(utc(2026, 11, 26, 23, 30), spend=2.0, model="b", failed=True),  # today in Berlin
            Req(utc(2026, 11, 26, 11), spend=4.0, model="b"),  # within 24 h, yesterday
            Req(utc(2026, 11, 22, 12), spend=8.0, model="c"),  # within 7 days
            Req(utc(2026, 11, 1, 12), spend=16.0, model="d"),  # within 30 days only
            Req(utc(2026, 10, 20, 12), spend=32.0, model="e"),  # older
        ],
    )
    cards = dashboard_usage(engine, now, BERLIN)
    assert (cards.spend_today, cards.spend_7d, cards.spend_30d) == (3.0, 15.0, 31.0)
    assert (cards.requests_24h, cards.errors_24h) == (3, 1)
    assert [(m.key, m.spend) for m in cards.top_models] == [("c", 8.0), ("b", 6.0), ("a", 1.0)]
    assert cards.zone_name == "Europe/Berlin"
    assert dashboard_usage(engine, now, UTC).spend_today == 1.0


def test_csv_quotes_separators_and_defuses_formulas() -> None:
    text = to_csv(
        ["name", "spend"],
        [["a,b", 1.5], ['say "hi"', -2], ["line\nbreak", None], ["=HYPERLINK(1)", 0], ["@x", 3]],
    )
    assert text.split("\r\n") == [
        "name,spend",
        '"a,b",1.5',
        '"say ""hi""",-2',
        '"line\nbreak",',
        "'=HYPERLINK(1),0",
        "'@x,3",
        "",
    ]


def test_breakdown_csv_keeps_the_unrounded_figures(engine: Engine) -> None:
    insert(engine, [Req(utc(2026, 11, 10, 12), spend=0.1), Req(utc(2026, 11, 10, 13), spend=0.2)])
    whole = UsageRange.of_days(date(2026, 11, 10), date(2026, 11, 10), UTC)
    rows = breakdown(engine, whole, Dimension.MODEL)
    lines = breakdown_csv(rows).splitlines()
    assert lines[0].startswith("name,id,requests,spend")
    assert lines[1].split(",")[:4] == ["gpt-4o", "gpt-4o", "2", repr(0.1 + 0.2)]
