"""The Usage page and the Dashboard's usage cards, with `FakeUsageService`: a double of the
window's UsageService that records each request and lets the test answer it (or answer it late),
as the stack's worker would on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ops.usage import (
    BreakdownRow,
    DashboardUsage,
    Dimension,
    LogCursor,
    LogFilter,
    LogPage,
    ModelSeries,
    Preset,
    RequestLogRow,
    RequestsPerHour,
    SpendPerDay,
    UsageRange,
    UsageReport,
    UsageTotals,
)
from llmproxy_desktop.ui.pages.usage import UsagePage
from llmproxy_desktop.ui.widgets.usage_cards import UsageCards

pytestmark = pytest.mark.gui

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 9, 55, tzinfo=UTC)


@dataclass
class FakeUsageService:
    """Records calls; `answer_report`/`answer_log` play the worker's reply."""

    reports: list[tuple[UsageRange, Callable[[UsageReport], None], Callable[[str], None]]] = field(
        default_factory=list
    )
    logs: list[tuple[UsageRange, LogFilter, LogCursor | None, Callable[[LogPage], None]]] = field(
        default_factory=list
    )

    def load_report(
        self,
        usage_range: UsageRange,
        top: int,
        on_result: Callable[[UsageReport], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.reports.append((usage_range, on_result, on_error))

    def load_log(
        self,
        usage_range: UsageRange,
        filters: LogFilter,
        after: LogCursor | None,
        limit: int,
        on_result: Callable[[LogPage], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.logs.append((usage_range, filters, after, on_result))


def row(key: str, spend: float, requests: int, errors: int = 0, label: str = "") -> BreakdownRow:
    return BreakdownRow(key, label or key, requests, spend, requests * 10, requests, errors, 0)


def report(usage_range: UsageRange, spend: float = 12.5) -> UsageReport:
    days = tuple(usage_range.days())
    hours = tuple(usage_range.hours())
    return UsageReport(
        range=usage_range,
        totals=UsageTotals(1234, spend, 56_000, 7_800, 12, 100, 420.0, 1900.0),
        spend_per_day=SpendPerDay(
            days,
            (
                ModelSeries("gpt-4o", tuple(1.0 for _ in days)),
                ModelSeries("other", tuple(0.5 for _ in days)),
            ),
        ),
        per_hour=RequestsPerHour(hours, tuple(3 for _ in hours), tuple(1 for _ in hours)),
        breakdowns={
            Dimension.MODEL: (
                row("gpt-4o", 9.0, 10),
                row("claude", 3.0, 40, errors=20),
                row("=cmd", 0.5, 5),
            ),
            Dimension.KEY: (row("a" * 64, 12.5, 55, label="ci-key"),),
            Dimension.USER: (),
            Dimension.TEAM: (),
        },
    )


def log_row(n: int, model: str = "claude") -> RequestLogRow:
    return RequestLogRow(
        f"req-{n}", datetime(2026, 11, 27, 8, 0, n, tzinfo=UTC), model, "ci-key", "u1", "t1",
        0.01, 10, 5, 250.0, n % 2 == 0, False,
    )  # fmt: skip


@pytest.fixture
def service() -> FakeUsageService:
    return FakeUsageService()


@pytest.fixture
def page(qtbot: QtBot, service: FakeUsageService) -> UsagePage:
    widget = UsagePage(service, now=lambda: NOW, local=BERLIN)
    qtbot.addWidget(widget)
    widget.resize(1200, 900)
    return widget


def test_refresh_asks_for_30_local_days_and_shows_the_figures(
    page: UsagePage, service: FakeUsageService
) -> None:
    page.refresh()
    usage_range, on_result, _ = service.reports[-1]
    assert usage_range == UsageRange.of_preset(Preset.LAST_30D, NOW, BERLIN)
    assert "Europe/Berlin" in page.zone_box.currentText()
    on_result(report(usage_range))
    assert page.kpis["spend"].value.text() == "$12.50"
    assert page.kpis["requests"].value.text() == "1,234"
    assert page.kpis["errors"].value.text() == "1.0%"
    assert page.kpis["latency"].value.text() == "420 / 1,900 ms"
    assert page.breakdown_models[Dimension.MODEL].rowCount() == 3
    shown = page.breakdown_views[Dimension.MODEL].model()
    assert [shown.index(r, 0).data() for r in range(3)] == ["gpt-4o", "claude", "=cmd"]
    assert "(Europe/Berlin)" in page.range_label.text()
    assert page.spend_chart.series[-1].is_other
    page.grab()  # both charts paint with data


def test_a_late_answer_for_a_replaced_range_is_dropped(
    page: UsagePage, service: FakeUsageService
) -> None:
    page.refresh()
    _, stale, _ = service.reports[-1]
    page.zone_box.setCurrentIndex(page.zone_box.findData("utc"))
    utc_range, fresh, _ = service.reports[-1]
    assert utc_range.zone is UTC
    fresh(report(utc_range, spend=2.0))
    stale(report(UsageRange.of_preset(Preset.LAST_30D, NOW, BERLIN), spend=99.0))
    assert page.kpis["spend"].value.text() == "$2.00"


def test_custom_dates_make_whole_local_days(page: UsagePage, service: FakeUsageService) -> None:
    page.preset_box.setCurrentIndex(page.preset_box.findData(Preset.CUSTOM))
    assert page.first_day.isEnabled()
    page.first_day.setDate(date(2026, 11, 1))
    page.last_day.setDate(date(2026, 11, 3))
    usage_range = service.reports[-1][0]
    assert usage_range == UsageRange.of_days(date(2026, 11, 1), date(2026, 11, 3), BERLIN)


def test_failures_are_a_sentence_not_a_traceback(
    page: UsagePage, service: FakeUsageService
) -> None:
    page.refresh()
    service.reports[-1][2]("the Master's database failed: connection refused")
    assert page.status_label.text().startswith("Could not read usage: the Master's database")
    assert page.refresh_button.isEnabled()


def test_breakdowns_sort_by_any_column_and_export_in_the_shown_order(
    page: UsagePage, service: FakeUsageService
) -> None:
    page.refresh()
    usage_range, on_result, _ = service.reports[-1]
    on_result(report(usage_range))
    view = page.breakdown_views[Dimension.MODEL]
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # requests
    shown = [view.model().index(r, 0).data() for r in range(3)]
    assert shown == ["claude", "gpt-4o", "=cmd"]
    view.sortByColumn(6, Qt.SortOrder.DescendingOrder)  # error rate
    assert view.model().index(0, 6).data() == "50.0%"
    view.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # spend
    lines = page.breakdown_csv(Dimension.MODEL).splitlines()
    assert [line.split(",")[0] for line in lines] == ["name", "gpt-4o", "claude", "'=cmd"]


def test_drill_down_then_load_more_pages_by_keyset(
    page: UsagePage, service: FakeUsageService
) -> None:
    page.refresh()
    usage_range, on_result, _ = service.reports[-1]
    on_result(report(usage_range))
    page.tabs.setCurrentIndex(0)
    view = page.breakdown_views[Dimension.MODEL]
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    view.selectRow(0)
    page.drill_button.click()
    _, filters, after, answer = service.logs[-1]
    assert filters == LogFilter(Dimension.MODEL, "claude") and after is None
    assert page.log_title.text() == "Requests — Models: claude"
    cursor = LogCursor(datetime(2026, 11, 27, 8, 0, 1), "req-1")
    answer(LogPage((log_row(2), log_row(1)), cursor))
    assert page.more_button.isEnabled()
    page.more_button.click()
    _, filters, after, answer = service.logs[-1]
    assert after == cursor and filters.key == "claude"
    answer(LogPage((log_row(0),), None))
    assert page.log_model.rowCount() == 3
    assert not page.more_button.isEnabled()
    assert page.log_model.index(0, 0).data() == "2026-11-27 09:00:02"  # shown in Berlin time
    assert page.log_model.index(0, 9).data() == "failed"
    csv_lines = page.log_csv().splitlines()
    assert len(csv_lines) == 4 and csv_lines[1].startswith("2026-11-27T08:00:02+00:00,req-2")


def test_the_dashboard_cards_show_the_usage(qtbot: QtBot) -> None:
    cards = UsageCards()
    qtbot.addWidget(cards)
    cards.set_usage(
        DashboardUsage(
            spend_today=0.0123,
            spend_7d=45.5,
            spend_30d=1234.5,
            requests_24h=2000,
            errors_24h=200,
            top_models=(row("gpt-4o", 30.0, 100), row("claude", 15.5, 50)),
            zone_name="Europe/Berlin",
        )
    )
    assert cards.today.value_label.text() == "$0.0123"
    assert cards.month.value_label.text() == "$1,234.50"
    assert cards.error_rate.value_label.text() == "10.0%"
    assert cards.top_models.value_label.text() == "gpt-4o  $30.00\nclaude  $15.50"
    assert cards.zone_label.text() == "Days in Europe/Berlin"
    cards.grab()
