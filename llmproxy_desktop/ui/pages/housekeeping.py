"""The Housekeeping page (issue #6 §3): the database's size, trimming old spend logs, LiteLLM's
own retention setting, and the way to delete expired keys.

The page asks and shows; a `HousekeepingService` does the work on the stack's worker and
answers on the GUI thread with the plain result objects of `ops.housekeeping`. A trim goes
preview → a question naming the count (a destructive button, Cancel the default) → batched
deletes with a progress bar and Cancel (honoured between batches). The retention setting is
staged through the `StagingEditor` like any setting and takes effect on Apply. Deleting expired
keys goes through LiteLLM's API (the keys use-case): the page only emits
`delete_expired_keys_requested`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.items import EffectiveItem
from llmproxy_desktop.core.maintenance_settings import (
    RETENTION,
    retention_days,
    retention_setting_item,
)
from llmproxy_desktop.ui.staging import StagingEditor
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    TextStyle,
    staged_accent,
    status_colour,
    text_font,
)

if TYPE_CHECKING:
    from llmproxy_desktop.ops.housekeeping import (
        DatabaseStats,
        TableSize,
        TrimPreview,
        TrimResult,
    )

__all__ = ["HousekeepingPage", "HousekeepingService", "format_bytes", "trim_action_text"]

OnError = Callable[[str], None]
OnProgress = Callable[[str, float, str], None]

DEFAULT_TRIM_DAYS: Final = 90
DEFAULT_RETENTION_DAYS: Final = 90
MAX_DAYS: Final = 3650
TABLES_MIN_HEIGHT: Final = 200  # the largest tables: several rows, the page scrolls instead
CANCELLED_TEXT: Final = "Cancelled."
RETENTION_NOTE: Final = (
    "LiteLLM then deletes older spend logs itself, on its cleanup schedule. It reads this at "
    "start-up: applying it restarts the proxy. The daily usage totals are kept."
)


class HousekeepingService(Protocol):
    """What the page asks of the stack. Every call returns at once; exactly one of the callbacks
    runs later, on the GUI thread (`on_progress` any number of times before it)."""

    def load_stats(self, on_result: Callable[[DatabaseStats], None], on_error: OnError) -> None:
        """Read `ops.housekeeping.database_stats` of the stack's database."""
        ...

    def preview_trim(
        self,
        older_than_days: int,
        on_result: Callable[[TrimPreview], None],
        on_error: OnError,
    ) -> None:
        """Count what a trim would delete (`ops.housekeeping.trim_preview`, now = the clock)."""
        ...

    def trim(
        self,
        preview: TrimPreview,
        on_progress: OnProgress,
        on_result: Callable[[TrimResult], None],
        on_error: OnError,
    ) -> None:
        """Delete the rows before `preview.cutoff` (`ops.housekeeping.trim_spend_logs` with
        `expected_rows=preview.rows`). A cancelled trim still answers `on_result` (with
        `cancelled` True) or `on_error("Cancelled.")`."""
        ...

    def cancel_trim(self) -> None:
        """Ask the running trim to stop after its current batch."""
        ...


def format_bytes(count: int) -> str:
    """1536 → "1.5 kB"; binary multiples, as psql's pg_size_pretty."""
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def trim_action_text(rows: int) -> str:
    """The destructive button's name: "Delete 1 Spend Log", "Delete 12,345 Spend Logs"."""
    return f"Delete {rows:,} Spend Log" if rows == 1 else f"Delete {rows:,} Spend Logs"


class TableSizesModel(QAbstractTableModel):
    """The largest tables: name, size (with indexes and TOAST), estimated rows."""

    HEADERS: Final = ("Table", "Size", "Rows (estimated)")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[TableSize] = []

    def set_tables(self, tables: Sequence[TableSize]) -> None:
        self.beginResetModel()
        self._rows = list(tables)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        table = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return table.name if table.schema == "public" else f"{table.schema}.{table.name}"
            if column == 1:
                return format_bytes(table.total_bytes)
            return "—" if table.row_estimate is None else f"{table.row_estimate:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class HousekeepingPage(QWidget):
    """Database size and largest tables; trim spend logs; LiteLLM's retention; expired keys."""

    delete_expired_keys_requested = Signal()

    def __init__(
        self, service: HousekeepingService, editor: StagingEditor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("housekeepingPage")
        self._service = service
        self._editor = editor
        self._connected = True
        self._preview: TrimPreview | None = None
        self._trimming = False
        self._loading_stats = False
        self._retention: EffectiveItem | None = None
        self._saving = False
        self.confirm_box: QMessageBox | None = None  # the trim question, while it is open
        self.delete_button: QPushButton | None = None  # its destructive button
        self.last_result: TrimResult | None = None
        self._build()
        self._update_controls()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        title = QLabel("Housekeeping")
        title.setFont(text_font(TextStyle.TITLE_2))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.refresh_button)

        # Four sections are taller than the window's default size: the page scrolls as one.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addLayout(header)
        layout.addWidget(self._build_stats(), 1)
        layout.addWidget(self._build_trim())
        layout.addWidget(self._build_retention())
        layout.addWidget(self._build_keys())
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _build_stats(self) -> QGroupBox:
        box = QGroupBox("Database")
        self.size_label = QLabel("Not read yet: refresh to ask the stack.")
        self.span_label = QLabel()
        for label in (self.size_label, self.span_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tables_model = TableSizesModel()
        self.tables_view = QTableView()
        self.tables_view.setModel(self.tables_model)
        self.tables_view.verticalHeader().hide()
        self.tables_view.setMinimumHeight(TABLES_MIN_HEIGHT)
        self.tables_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.tables_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        inner = QVBoxLayout(box)
        inner.addWidget(self.size_label)
        inner.addWidget(self.span_label)
        inner.addWidget(self.tables_view, 1)
        return box

    def _build_trim(self) -> QGroupBox:
        box = QGroupBox("Trim spend logs")
        self.trim_days = QSpinBox()
        self.trim_days.setRange(1, MAX_DAYS)
        self.trim_days.setValue(DEFAULT_TRIM_DAYS)
        self.trim_days.setSuffix(" days")
        self.trim_days.setAccessibleName("Delete spend logs older than")
        self.trim_days.valueChanged.connect(self._days_changed)
        self.preview_button = QPushButton("Count")
        self.preview_button.clicked.connect(self.preview)
        self.trim_button = QPushButton("Delete…")
        self.trim_button.clicked.connect(self.ask_trim)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_trim)
        row = QHBoxLayout()
        row.addWidget(QLabel("Delete spend logs older than"))
        row.addWidget(self.trim_days)
        row.addWidget(self.preview_button)
        row.addStretch(1)
        row.addWidget(self.trim_button)
        self.preview_label = QLabel()
        self.preview_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.cancel_button)
        self.trim_status = QLabel()
        self.trim_status.setWordWrap(True)
        note = QLabel(
            "Rows go in small batches, so LiteLLM keeps logging while they are deleted. The "
            "daily usage totals are kept."
        )
        note.setWordWrap(True)
        inner = QVBoxLayout(box)
        inner.addLayout(row)
        inner.addWidget(self.preview_label)
        inner.addLayout(progress_row)
        inner.addWidget(self.trim_status)
        inner.addWidget(note)
        return box

    def _build_retention(self) -> QGroupBox:
        box = QGroupBox("Automatic cleanup by LiteLLM")
        self.retention_check = QCheckBox("Delete spend logs older than")
        self.retention_days = QSpinBox()
        self.retention_days.setRange(1, MAX_DAYS)
        self.retention_days.setValue(DEFAULT_RETENTION_DAYS)
        self.retention_days.setSuffix(" days")
        self.retention_days.setAccessibleName("Retention period")
        self.retention_save = QPushButton("Stage")
        self.retention_save.clicked.connect(self.save_retention)
        self.retention_check.toggled.connect(self._retention_edited)
        self.retention_days.valueChanged.connect(self._retention_edited)
        self.retention_flag = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.retention_check)
        row.addWidget(self.retention_days)
        row.addWidget(self.retention_flag)
        row.addStretch(1)
        row.addWidget(self.retention_save)
        self.retention_current = QLabel()
        self.retention_error = QLabel()
        self.retention_error.setWordWrap(True)
        note = QLabel(RETENTION_NOTE)
        note.setWordWrap(True)
        inner = QVBoxLayout(box)
        inner.addLayout(row)
        inner.addWidget(self.retention_current)
        inner.addWidget(note)
        inner.addWidget(self.retention_error)
        return box

    def _build_keys(self) -> QGroupBox:
        box = QGroupBox("Virtual keys")
        self.expired_keys_button = QPushButton("Delete Expired Keys…")
        self.expired_keys_button.clicked.connect(self.delete_expired_keys_requested)
        row = QHBoxLayout(box)
        row.addWidget(QLabel("Keys past their expiry date, deleted through LiteLLM."))
        row.addStretch(1)
        row.addWidget(self.expired_keys_button)
        return box

    # ------------------------------------------------------------------ inputs

    def set_connected(self, connected: bool) -> None:
        """Enable the actions only while the stack is connected."""
        self._connected = connected
        self._update_controls()

    def set_items(self, effective: Sequence[EffectiveItem]) -> None:
        """The effective items: the retention setting's current (staged or applied) value."""
        self._retention = next((e for e in effective if e.item.key == RETENTION), None)
        self._load_retention()

    # ------------------------------------------------------------------ stats

    def refresh(self) -> None:
        """Read the database's size and largest tables."""
        if not self._connected or self._loading_stats:
            return
        self._loading_stats = True
        self._update_controls()
        self._service.load_stats(self._stats_read, self._stats_failed)

    def _stats_read(self, stats: DatabaseStats) -> None:
        if not shiboken6.isValid(self):
            return
        self._loading_stats = False
        self.show_stats(stats)
        self._update_controls()

    def _stats_failed(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._loading_stats = False
        self.size_label.setText(f"Could not read the database: {sentence}")
        self._update_controls()

    def show_stats(self, stats: DatabaseStats) -> None:
        """Show a `DatabaseStats`."""
        self.size_label.setText(f"{stats.database}: {format_bytes(stats.database_bytes)}")
        if stats.spend_logs_oldest is not None and stats.spend_logs_newest is not None:
            self.span_label.setText(
                f"Spend logs from {stats.spend_logs_oldest:%Y-%m-%d %H:%M} to "
                f"{stats.spend_logs_newest:%Y-%m-%d %H:%M} UTC"
            )
        else:
            self.span_label.setText("No spend logs.")
        self.tables_model.set_tables(stats.tables)

    # ------------------------------------------------------------------ trim

    def _days_changed(self, _days: int) -> None:
        self._preview = None  # a count for other days must not be confirmed
        self.preview_label.setText("")
        self._update_controls()

    def preview(self) -> None:
        """Count what a trim of the chosen age would delete."""
        if not self._connected or self._trimming:
            return
        self._preview = None
        self.preview_label.setText("Counting…")
        self.preview_button.setEnabled(False)
        self._service.preview_trim(self.trim_days.value(), self._previewed, self._preview_failed)

    def _previewed(self, preview: TrimPreview) -> None:
        if not shiboken6.isValid(self):
            return
        if preview.older_than_days != self.trim_days.value():
            self._update_controls()
            return  # the admin changed the age meanwhile: this count is for another question
        self._preview = preview
        how = "" if preview.exact else " (estimated: counting took too long)"
        self.preview_label.setText(
            f"{preview.rows:,} spend log{'s' if preview.rows != 1 else ''} before "
            f"{preview.cutoff:%Y-%m-%d %H:%M} UTC{how}."
        )
        self._update_controls()

    def _preview_failed(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.preview_label.setText(f"Could not count: {sentence}")
        self._update_controls()

    def ask_trim(self) -> None:
        """Ask, naming the count; the destructive button starts the trim."""
        preview = self._preview
        if preview is None or preview.rows == 0 or self._trimming or not self._connected:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(
            f"Delete {preview.rows:,} spend logs older than {preview.older_than_days} days?"
        )
        box.setInformativeText(
            "They cannot be recovered. Usage pages lose the per-request detail before "
            f"{preview.cutoff:%Y-%m-%d}; the daily totals are kept."
        )
        delete = box.addButton(
            trim_action_text(preview.rows), QMessageBox.ButtonRole.DestructiveRole
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.confirm_box = box
        self.delete_button = delete

        def answered(_result: int) -> None:
            confirmed = box.clickedButton() is delete
            self.confirm_box = self.delete_button = None
            box.deleteLater()
            if confirmed:
                self._start_trim(preview)

        box.finished.connect(answered)
        box.open()

    def _start_trim(self, preview: TrimPreview) -> None:
        self._trimming = True
        self.last_result = None
        self.progress_bar.setValue(0)
        self.trim_status.setText(f"Deleting {preview.rows:,} spend logs…")
        self._paint(self.trim_status, None)
        self._update_controls()
        self._service.trim(preview, self._trim_progress, self._trimmed, self._trim_failed)

    def cancel_trim(self) -> None:
        """Stop the running trim after its current batch."""
        if self._trimming:
            self.cancel_button.setEnabled(False)
            self.trim_status.setText("Stopping after the current batch…")
            self._service.cancel_trim()

    def _trim_progress(self, _step: str, fraction: float, message: str) -> None:
        if not shiboken6.isValid(self) or not self._trimming:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        if message and self.cancel_button.isEnabled():
            self.trim_status.setText(message)

    def _trimmed(self, result: TrimResult) -> None:
        if not shiboken6.isValid(self):
            return
        self._trimming = False
        self._preview = None
        self.last_result = result
        if result.cancelled:
            text = f"Cancelled: {result.deleted:,} spend logs were deleted before it stopped."
        else:
            text = f"Deleted {result.deleted:,} spend logs in {result.seconds:.1f} s."
            self.progress_bar.setValue(1000)
        self.trim_status.setText(text)
        self._paint(self.trim_status, None if result.cancelled else StatusColour.GOOD)
        self.preview_label.setText("")
        self._update_controls()
        self.refresh()

    def _trim_failed(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._trimming = False
        self._preview = None
        cancelled = sentence == CANCELLED_TEXT
        self.trim_status.setText(
            "Cancelled; what was deleted stays deleted."
            if cancelled
            else f"The trim stopped: {sentence} What was deleted stays deleted."
        )
        self._paint(self.trim_status, None if cancelled else StatusColour.BAD)
        self.preview_label.setText("")
        self._update_controls()
        self.refresh()

    # ------------------------------------------------------------------ retention

    def _load_retention(self) -> None:
        entry = self._retention
        live = entry is not None and not entry.is_deleted
        value = entry.item.data if entry is not None and live else None
        days = retention_days(value)
        for widget in (self.retention_check, self.retention_days):
            widget.blockSignals(True)
        self.retention_check.setChecked(live)
        self.retention_days.setValue(days if days is not None else DEFAULT_RETENTION_DAYS)
        for widget in (self.retention_check, self.retention_days):
            widget.blockSignals(False)
        if live and days is None:
            self.retention_current.setText(f"Now set to {value!r}; staging replaces it with days.")
        else:
            self.retention_current.setText("" if live else "Off: LiteLLM keeps spend logs forever.")
        flag = entry.flag if entry is not None else None
        self.retention_flag.setText(f"Staged ({flag.value})" if flag is not None else "")
        self._paint(self.retention_flag, None, staged=True)
        self._update_controls()

    def _retention_edited(self, *_args: object) -> None:
        self.retention_error.setText("")
        self._update_controls()

    def _retention_changes(self) -> bool:
        entry = self._retention
        live = entry is not None and not entry.is_deleted
        if not self.retention_check.isChecked():
            return live
        if not live or entry is None:
            return True
        return bool(entry.item.data != retention_setting_item(self.retention_days.value()).data)

    def save_retention(self) -> None:
        """Stage the retention setting (or its removal) through the editor."""
        if not self._retention_changes() or self._saving:
            return
        entry = self._retention
        version = entry.version if entry is not None else 0
        self._saving = True
        self._update_controls()
        if self.retention_check.isChecked():
            item = retention_setting_item(self.retention_days.value())
            self._editor.stage([(item, version)], self._retention_saved)
        else:
            self._editor.delete([(RETENTION, version)], self._retention_saved)

    def _retention_saved(self, sentence: str | None) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        self.retention_error.setText(sentence or "")
        self._paint(self.retention_error, StatusColour.BAD)
        self._update_controls()

    # ------------------------------------------------------------------ drawing

    def _update_controls(self) -> None:
        connected = self._connected
        idle = connected and not self._trimming
        self.refresh_button.setEnabled(connected and not self._loading_stats)
        self.trim_days.setEnabled(idle)
        self.preview_button.setEnabled(idle)
        preview = self._preview
        rows = preview.rows if preview is not None else 0
        self.trim_button.setEnabled(idle and rows > 0)
        self.trim_button.setText(trim_action_text(rows) + "…" if rows else "Delete…")
        self.progress_bar.setVisible(self._trimming or self.last_result is not None)
        self.cancel_button.setVisible(self._trimming)
        if not self._trimming:
            self.cancel_button.setEnabled(True)
        self.retention_days.setEnabled(self.retention_check.isChecked())
        self.retention_save.setEnabled(connected and not self._saving and self._retention_changes())
        self.expired_keys_button.setEnabled(connected)

    def _paint(self, label: QLabel, tone: StatusColour | None, *, staged: bool = False) -> None:
        palette = QPalette(self.palette())
        if staged:
            palette.setColor(QPalette.ColorRole.WindowText, staged_accent(palette))
        elif tone is not None:
            palette.setColor(QPalette.ColorRole.WindowText, status_colour(tone, palette))
        label.setPalette(palette)
