"""Test doubles of the pages' services (ui/pages/housekeeping.py `HousekeepingService`,
ui/pages/logs.py `LogsService`).

They record every call and keep its callbacks; the test answers when it wants to (`answer_*`,
`send`, `end`), the way the stack's worker would answer later on the GUI thread. They do not
run any use-case: the use-cases are tested against the real database and stack in this folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from llmproxy_desktop.ops.housekeeping import DatabaseStats, TableSize, TrimPreview, TrimResult

OnError = Callable[[str], None]


@dataclass
class FakeHousekeeping:
    """Records calls; the test answers them."""

    stats_calls: list[tuple[Callable[[DatabaseStats], None], OnError]] = field(default_factory=list)
    preview_calls: list[tuple[int, Callable[[TrimPreview], None], OnError]] = field(
        default_factory=list
    )
    trim_calls: list[
        tuple[TrimPreview, Callable[[str, float, str], None], Callable[[TrimResult], None], OnError]
    ] = field(default_factory=list)
    cancels: int = 0

    def load_stats(self, on_result: Callable[[DatabaseStats], None], on_error: OnError) -> None:
        self.stats_calls.append((on_result, on_error))

    def preview_trim(
        self, older_than_days: int, on_result: Callable[[TrimPreview], None], on_error: OnError
    ) -> None:
        self.preview_calls.append((older_than_days, on_result, on_error))

    def trim(
        self,
        preview: TrimPreview,
        on_progress: Callable[[str, float, str], None],
        on_result: Callable[[TrimResult], None],
        on_error: OnError,
    ) -> None:
        self.trim_calls.append((preview, on_progress, on_result, on_error))

    def cancel_trim(self) -> None:
        self.cancels += 1


def stats(oldest: datetime | None = datetime(2026, 1, 1)) -> DatabaseStats:
    return DatabaseStats(
        database="litellm",
        database_bytes=3 * 1024**3,
        tables=(
            TableSize("public", "LiteLLM_SpendLogs", 2 * 1024**3, 5_000_000),
            TableSize("public", "LiteLLM_DailyUserSpend", 40 * 1024**2, 120_000),
            TableSize("llmproxy", "audit", 1024, None),
        ),
        spend_logs_oldest=oldest,
        spend_logs_newest=datetime(2026, 11, 27, 9, 30) if oldest else None,
    )


def preview(days: int = 90, rows: int = 1_234_567) -> TrimPreview:
    return TrimPreview(days, datetime(2026, 8, 29, 12, 0), rows, True, 0.4)


@dataclass
class Follow:
    tail: int
    on_lines: Callable[[list[str]], None]
    on_end: Callable[[str | None], None]
    stopped: bool = False


@dataclass
class FakeLogs:
    """Records follows; `send` and `end` play the stream of the latest one."""

    follows: list[Follow] = field(default_factory=list)
    stops: int = 0

    def start_follow(
        self, tail: int, on_lines: Callable[[list[str]], None], on_end: Callable[[str | None], None]
    ) -> None:
        self.follows.append(Follow(tail, on_lines, on_end))

    def stop_follow(self) -> None:
        self.stops += 1
        if self.follows:
            current = self.follows[-1]
            if not current.stopped:
                current.stopped = True
                current.on_end(None)  # as the real service does: the end still comes

    @property
    def current(self) -> Follow:
        return self.follows[-1]

    def send(self, *lines: str) -> None:
        self.current.on_lines(list(lines))

    def end(self, error: str | None = None) -> None:
        self.current.on_end(error)
