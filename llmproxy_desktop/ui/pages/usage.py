"""The Usage & Spend page (issue 6 §2): one range and one time zone for the whole page, the KPI
row, spend per day by model, requests per hour, four sortable breakdowns, the request log
(drill-down from any breakdown row, "Load more" by keyset), CSV export of every table.

The page computes nothing: a `UsageService` runs `ops.usage` on the stack's worker and hands back
plain result objects on the GUI thread. Results of a request the user has since replaced (another
range, another row) are dropped, so a slow answer never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.ops.usage import (
    OTHER_MODELS,
    BreakdownRow,
    Dimension,
    LogCursor,
    LogFilter,
    LogPage,
    Preset,
    RequestLogRow,
    UsageRange,
    UsageReport,
    breakdown_csv,
    local_zone,
    request_log_csv,
    zone_label,
)
from llmproxy_desktop.ui.theme import CONTROL_SPACING, WINDOW_MARGIN, TextStyle, text_font
from llmproxy_desktop.ui.widgets.charts import BarChart, Series, StackedBarChart
from llmproxy_desktop.ui.widgets.usage_cards import money

__all__ = ["UsagePage", "UsageService"]

OnError = Callable[[str], None]

PRESET_TEXTS: Final = {
    Preset.TODAY: "Today",
    Preset.LAST_7D: "Last 7 days",
    Preset.LAST_30D: "Last 30 days",
    Preset.THIS_MONTH: "This month",
    Preset.CUSTOM: "Custom",
}
DIMENSION_TEXTS: Final = {
    Dimension.MODEL: "Models",
    Dimension.KEY: "Keys",
    Dimension.USER: "Users",
    Dimension.TEAM: "Teams",
}
BREAKDOWN_LIMIT: Final = 100  # rows per breakdown table; sorted by spend on the server first
LOG_PAGE: Final = 50
SORT_ROLE: Final = Qt.ItemDataRole.UserRole
SPEND_COLUMN: Final = 2  # of BreakdownModel
KPI_COLUMNS: Final = 3  # two rows of three: six in a row do not fit the window's default width
TABLE_MIN_HEIGHT: Final = 200  # a breakdown or the log shows a few rows; the page scrolls


class UsageService(Protocol):
    """What the page needs from the stack; the window runs each call as a job of the stack
    (StackController.run) and calls back on the GUI thread, exactly once, with the result or
    with one sentence saying what failed."""

    def load_report(
        self,
        usage_range: UsageRange,
        top: int,
        on_result: Callable[[UsageReport], None],
        on_error: OnError,
    ) -> None:
        """`ops.usage.usage_report(engine, usage_range, top=top)`."""

    def load_log(
        self,
        usage_range: UsageRange,
        filters: LogFilter,
        after: LogCursor | None,
        limit: int,
        on_result: Callable[[LogPage], None],
        on_error: OnError,
    ) -> None:
        """`ops.usage.request_log(engine, usage_range, filters, after=after, limit=limit)`."""


# --- table models ---------------------------------------------------------------------------


def _count(value: int) -> str:
    return f"{value:,}"


class _RowsModel(QAbstractTableModel):
    """Read-only rows; each column gives its display text and a raw value to sort by."""

    headers: tuple[str, ...] = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def cell(self, row: Any, column: int) -> tuple[str, object]:
        raise NotImplementedError

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        text, raw = self.cell(self._rows[index.row()], index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return raw
        if role == Qt.ItemDataRole.TextAlignmentRole and not isinstance(raw, str):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def append_rows(self, rows: Sequence[Any]) -> None:
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row_at(self, row: int) -> Any:
        return self._rows[row]


class BreakdownModel(_RowsModel):
    headers = (
        "Name",
        "Requests",
        "Spend",
        "Tokens in",
        "Tokens out",
        "Failed",
        "Error rate",
        "Cache hits",
    )

    def cell(self, row: BreakdownRow, column: int) -> tuple[str, object]:
        return [
            (row.label, row.label.lower()),
            (_count(row.requests), row.requests),
            (money(row.spend), row.spend),
            (_count(row.tokens_in), row.tokens_in),
            (_count(row.tokens_out), row.tokens_out),
            (_count(row.errors), row.errors),
            (f"{row.error_rate:.1%}", row.error_rate),
            (_count(row.cache_hits), row.cache_hits),
        ][column]


class RequestLogModel(_RowsModel):
    headers = (
        "Time",
        "Model",
        "Key",
        "User",
        "Team",
        "Spend",
        "Tokens in",
        "Tokens out",
        "Latency",
        "Status",
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone: tzinfo = UTC

    def cell(self, row: RequestLogRow, column: int) -> tuple[str, object]:
        status = "failed" if row.failed else ("cache hit" if row.cache_hit else "ok")
        latency = "—" if row.latency_ms is None else f"{row.latency_ms:,.0f} ms"
        return [
            (f"{row.start.astimezone(self.zone):%Y-%m-%d %H:%M:%S}", row.start.isoformat()),
            (row.model, row.model),
            (row.key_label, row.key_label),
            (row.user, row.user),
            (row.team, row.team),
            (money(row.spend), row.spend),
            (_count(row.tokens_in), row.tokens_in),
            (_count(row.tokens_out), row.tokens_out),
            (latency, row.latency_ms or 0.0),
            (status, status),
        ][column]


def _table(model: QAbstractTableModel, sortable: bool) -> QTableView:
    view = QTableView()
    if sortable:
        proxy = QSortFilterProxyModel(view)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT_ROLE)
        view.setModel(proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(SPEND_COLUMN, Qt.SortOrder.DescendingOrder)  # as the server ranked
    else:
        view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def _hour_label(hour: datetime, count: int) -> str:
    """Hours of a day or two by the clock; longer ranges by the day, on the day's first hour."""
    if count <= 48:
        return f"{hour:%H:00}"
    return f"{hour:%m-%d}" if hour.hour == 0 else ""


# --- the page -------------------------------------------------------------------------------


class _Kpi(QFrame):
    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = QLabel("—")
        self.value.setFont(text_font(TextStyle.TITLE_2))
        self.caption = QLabel(caption)
        self.caption.setFont(text_font(TextStyle.FOOTNOTE))
        layout = QVBoxLayout(self)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)


class UsagePage(QWidget):
    """Usage & Spend for one stack. `now` and `local` are injectable for tests."""

    def __init__(
        self,
        service: UsageService,
        parent: QWidget | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        local: tzinfo | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._now = now or (lambda: datetime.now(UTC))
        self._local = local or local_zone()
        self._generation = 0  # bumped by every new report request; older answers are dropped
        self._log_generation = 0
        self.report: UsageReport | None = None
        self.log_filter = LogFilter()
        self._log_title = "all"
        self._log_cursor: LogCursor | None = None

        title = QLabel("Usage & Spend")
        title.setFont(text_font(TextStyle.TITLE_1))
        self.preset_box = QComboBox()
        for preset, label in PRESET_TEXTS.items():
            self.preset_box.addItem(label, preset)
        self.preset_box.setCurrentIndex(self.preset_box.findData(Preset.LAST_30D))
        today = self._now().astimezone(self._local).date()
        week_ago = today - timedelta(days=6)
        self.first_day = QDateEdit(QDate(week_ago.year, week_ago.month, week_ago.day))
        self.last_day = QDateEdit(QDate(today.year, today.month, today.day))
        for edit in (self.first_day, self.last_day):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.zone_box = QComboBox()
        self.zone_box.addItem("UTC", "utc")
        self.zone_box.addItem(f"Local ({zone_label(self._local)})", "local")
        self.zone_box.setCurrentIndex(1)
        self.refresh_button = QPushButton("Refresh")
        self.range_label = QLabel()
        self.range_label.setFont(text_font(TextStyle.FOOTNOTE))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        bar = QHBoxLayout()
        bar.setSpacing(CONTROL_SPACING)
        for widget in (
            QLabel("Range"),
            self.preset_box,
            self.first_day,
            QLabel("to"),
            self.last_day,
            QLabel("Time zone"),
            self.zone_box,
        ):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)

        self.kpis = {
            name: _Kpi(caption)
            for name, caption in (
                ("spend", "Spend"),
                ("requests", "Requests"),
                ("tokens", "Tokens in / out"),
                ("errors", "Error rate"),
                ("cache", "Cache hits"),
                ("latency", "Latency p50 / p95"),
            )
        }
        kpi_row = QGridLayout()
        kpi_row.setSpacing(CONTROL_SPACING)
        for index, kpi in enumerate(self.kpis.values()):
            kpi_row.addWidget(kpi, index // KPI_COLUMNS, index % KPI_COLUMNS)

        self.spend_chart = StackedBarChart("Spend per day, by model")
        self.hour_chart = BarChart("Requests per hour")
        charts = QHBoxLayout()
        charts.addWidget(self.spend_chart, 1)
        charts.addWidget(self.hour_chart, 1)

        self.breakdown_models: dict[Dimension, BreakdownModel] = {}
        self.breakdown_views: dict[Dimension, QTableView] = {}
        self.tabs = QTabWidget()
        for dimension, label in DIMENSION_TEXTS.items():
            model = BreakdownModel(self)
            view = _table(model, sortable=True)
            view.doubleClicked.connect(lambda _i, d=dimension: self.drill_down(d))
            self.breakdown_models[dimension] = model
            self.breakdown_views[dimension] = view
            self.tabs.addTab(view, label)
        self.drill_button = QPushButton("Show requests")
        self.export_breakdown_button = QPushButton("Export CSV…")
        breakdown_bar = QHBoxLayout()
        breakdown_bar.addStretch(1)
        breakdown_bar.addWidget(self.drill_button)
        breakdown_bar.addWidget(self.export_breakdown_button)

        self.log_title = QLabel()
        self.log_title.setFont(text_font(TextStyle.HEADLINE))
        self.log_model = RequestLogModel(self)
        self.log_view = _table(self.log_model, sortable=False)
        self.all_requests_button = QPushButton("All requests")
        self.more_button = QPushButton("Load more")
        self.export_log_button = QPushButton("Export CSV…")
        log_bar = QHBoxLayout()
        log_bar.addWidget(self.log_title)
        log_bar.addStretch(1)
        for button in (self.all_requests_button, self.more_button, self.export_log_button):
            log_bar.addWidget(button)

        self.tabs.setMinimumHeight(TABLE_MIN_HEIGHT)
        self.log_view.setMinimumHeight(TABLE_MIN_HEIGHT)
        # The whole report is taller than the window's default size: it scrolls as one page.
        content = QWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(self.range_label)
        layout.addWidget(self.status_label)
        layout.addLayout(kpi_row)
        layout.addLayout(charts, 2)
        layout.addWidget(self.tabs, 2)
        layout.addLayout(breakdown_bar)
        layout.addLayout(log_bar)
        layout.addWidget(self.log_view, 2)
        scroll.setWidget(content)

        self.preset_box.currentIndexChanged.connect(self._range_changed)
        self.first_day.dateChanged.connect(self._range_changed)
        self.last_day.dateChanged.connect(self._range_changed)
        self.zone_box.currentIndexChanged.connect(self._range_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.drill_button.clicked.connect(lambda: self.drill_down(self.current_dimension()))
        self.export_breakdown_button.clicked.connect(self._export_breakdown)
        self.all_requests_button.clicked.connect(lambda: self.show_log(LogFilter()))
        self.more_button.clicked.connect(self.load_more)
        self.export_log_button.clicked.connect(self._export_log)
        self._sync_date_edits()
        self._show_range()
        self.more_button.setEnabled(False)

    # -- the range ----------------------------------------------------------------------------

    def zone(self) -> tzinfo:
        """The zone the page cuts days in: UTC or this machine's."""
        return UTC if self.zone_box.currentData() == "utc" else self._local

    def current_range(self) -> UsageRange:
        """The range the controls describe, against the injected clock."""
        preset = self.preset_box.currentData()
        if preset is Preset.CUSTOM:
            first = self.first_day.date().toPython()
            last = self.last_day.date().toPython()
            assert isinstance(first, date) and isinstance(last, date)
            return UsageRange.of_days(min(first, last), max(first, last), self.zone())
        return UsageRange.of_preset(preset, self._now(), self.zone())

    def _sync_date_edits(self) -> None:
        custom = self.preset_box.currentData() is Preset.CUSTOM
        self.first_day.setEnabled(custom)
        self.last_day.setEnabled(custom)

    def _show_range(self) -> None:
        self.range_label.setText(self.current_range().describe())

    def _range_changed(self) -> None:
        self._sync_date_edits()
        self._show_range()
        self.refresh()

    def current_dimension(self) -> Dimension:
        return list(DIMENSION_TEXTS)[self.tabs.currentIndex()]

    # -- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask for the report of the current range, and the log under the current filter."""
        self._generation += 1
        generation = self._generation
        usage_range = self.current_range()
        self.status_label.setText("Loading…")
        self.refresh_button.setEnabled(False)
        self._service.load_report(
            usage_range,
            BREAKDOWN_LIMIT,
            lambda report: self._report_arrived(generation, report),
            lambda message: self._report_failed(generation, message),
        )
        self.show_log(self.log_filter, self._log_title)

    def _report_arrived(self, generation: int, report: UsageReport) -> None:
        if generation != self._generation:
            return
        self.report = report
        self.refresh_button.setEnabled(True)
        self.status_label.setText("")
        self.range_label.setText(report.range.describe())
        totals = report.totals
        self.kpis["spend"].value.setText(money(totals.spend))
        self.kpis["requests"].value.setText(_count(totals.requests))
        self.kpis["tokens"].value.setText(f"{totals.tokens_in:,} / {totals.tokens_out:,}")
        self.kpis["errors"].value.setText(f"{totals.error_rate:.1%}")
        self.kpis["errors"].caption.setText(f"Error rate ({totals.errors:,} failed)")
        self.kpis["cache"].value.setText(f"{totals.cache_hits:,} ({totals.cache_hit_rate:.0%})")
        about = "≈ " if totals.latency_approximate else ""  # from the rollup's histogram
        self.kpis["latency"].value.setText(
            "—"
            if totals.p50_ms is None or totals.p95_ms is None
            else f"{about}{totals.p50_ms:,.0f} / {totals.p95_ms:,.0f} ms"
        )
        self.kpis["latency"].value.setToolTip(
            "Within 1 % (from hourly histograms of the usage rollup)" if about else ""
        )
        per_day = report.spend_per_day
        self.spend_chart.set_data(
            [f"{d:%m-%d}" for d in per_day.days],
            [Series(s.model, s.spend, is_other=s.model == OTHER_MODELS) for s in per_day.series],
        )
        hours = report.per_hour
        self.hour_chart.set_data(
            [_hour_label(h, len(hours.hours)) for h in hours.hours],
            [float(v) for v in hours.requests],
            [float(v) for v in hours.errors],
        )
        for dimension, model in self.breakdown_models.items():
            model.set_rows(report.breakdowns.get(dimension, ()))

    def _report_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.refresh_button.setEnabled(True)
            self.status_label.setText(f"Could not read usage: {message}")

    def drill_down(self, dimension: Dimension) -> None:
        """Show the requests of the selected row of `dimension`'s breakdown."""
        view = self.breakdown_views[dimension]
        selected = view.selectionModel().selectedRows()
        if not selected:
            return
        proxy = view.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        row: BreakdownRow = self.breakdown_models[dimension].row_at(
            proxy.mapToSource(selected[0]).row()
        )
        self.show_log(LogFilter(dimension, row.key), f"{DIMENSION_TEXTS[dimension]}: {row.label}")

    def show_log(self, filters: LogFilter, title: str = "all") -> None:
        """Start the request log over under `filters` (first page); `title` names the filter."""
        self.log_filter = filters
        self._log_title = title
        self.log_title.setText(f"Requests — {title}")
        self.log_model.zone = self.zone()
        self.log_model.set_rows([])
        self._log_cursor = None
        self._load_log(None)

    def load_more(self) -> None:
        """The next page of the request log (keyset: after the last row shown)."""
        if self._log_cursor is not None:
            self._load_log(self._log_cursor)

    def _load_log(self, after: LogCursor | None) -> None:
        self._log_generation += 1
        generation = self._log_generation
        self.more_button.setEnabled(False)
        self._service.load_log(
            self.current_range(),
            self.log_filter,
            after,
            LOG_PAGE,
            lambda page: self._log_arrived(generation, page),
            lambda message: self._log_failed(generation, message),
        )

    def _log_arrived(self, generation: int, page: LogPage) -> None:
        if generation != self._log_generation:
            return
        self.log_model.append_rows(page.rows)
        self._log_cursor = page.next_cursor
        self.more_button.setEnabled(page.next_cursor is not None)

    def _log_failed(self, generation: int, message: str) -> None:
        if generation == self._log_generation:
            self.status_label.setText(f"Could not read the request log: {message}")
            self.more_button.setEnabled(self._log_cursor is not None)

    # -- CSV ----------------------------------------------------------------------------------

    def breakdown_csv(self, dimension: Dimension) -> str:
        """The breakdown table of `dimension` as CSV, in the order the table shows it."""
        view = self.breakdown_views[dimension]
        proxy = view.model()
        model = self.breakdown_models[dimension]
        assert isinstance(proxy, QSortFilterProxyModel)
        rows = [
            model.row_at(proxy.mapToSource(proxy.index(r, 0)).row())
            for r in range(proxy.rowCount())
        ]
        return breakdown_csv(rows)

    def log_csv(self) -> str:
        """The request-log rows loaded so far, as CSV."""
        return request_log_csv(self.log_model.rows())

    def _save_csv(self, suggested: str, text: str) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export CSV", suggested, "CSV files (*.csv)"
        )
        if path:
            try:
                Path(path).write_text(text, encoding="utf-8", newline="")
            except OSError as error:
                self.status_label.setText(f"Could not save {path}: {error.strerror or error}")

    def _export_breakdown(self) -> None:
        dimension = self.current_dimension()
        self._save_csv(f"usage-{dimension.value}s.csv", self.breakdown_csv(dimension))

    def _export_log(self) -> None:
        self._save_csv("usage-requests.csv", self.log_csv())
