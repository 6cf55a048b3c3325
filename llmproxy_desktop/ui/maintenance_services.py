"""The Housekeeping and Logs pages' services on a stack, through `StackController.run`.

`StackHousekeepingService` runs each read and the trim as a job of the stack (one at a time with
everything else on that stack); cancelling the trim sets its job's token, which the trim honours
between batches and answers with a `TrimResult` whose `cancelled` is True.

`StackLogsService` must not hold the stack's worker while it follows (every later job of the
stack, Apply included, would wait behind it). So only opening the stream is a job (one HTTP
request through the socket-proxy); the lines are then pumped on a thread of their own
(`ops.logs.LogPump`), and handed to the GUI thread by a queued signal. Stopping closes the stream
from the GUI thread (`LogFollow.close` is the one thread-safe call of DockerControl's). A
dropped tunnel ends the stream; the page stops on `set_connected(False)` and follows afresh on
`set_connected(True)`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

from llmproxy_desktop.ui.job_runner import JobProgress

if TYPE_CHECKING:
    from llmproxy_desktop.ops.housekeeping import DatabaseStats, TrimPreview, TrimResult
    from llmproxy_desktop.ops.logs import LogPump
    from llmproxy_desktop.ops.stack_connection import StackConnection

__all__ = ["StackHousekeepingService", "StackLogsService", "StackRunner"]

OnError = Callable[[str], None]
OnEnd = Callable[[str | None], None]
Operation = Callable[["StackConnection", JobProgress, threading.Event], object]


class StackRunner(Protocol):
    """The part of `StackController` these services use."""

    def run(
        self,
        name: str,
        operation: Operation,
        on_result: Callable[[object], None],
        on_error: OnError,
        *,
        on_progress: Callable[[str, float, str], None] | None = None,
        cancellable: bool = True,
        refresh_after: bool = False,
    ) -> str: ...

    def cancel(self, job_id: str) -> bool: ...


class StackHousekeepingService:
    """`HousekeepingService` (ui/pages/housekeeping.py) on one stack's controller."""

    def __init__(
        self, controller: StackRunner, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._controller = controller
        self._clock = clock or (lambda: datetime.now(UTC))
        self._trim_job: str | None = None

    def load_stats(self, on_result: Callable[[DatabaseStats], None], on_error: OnError) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.housekeeping import database_stats

            return database_stats(connection.target.master_engine)

        self._controller.run("Read database sizes", run, _typed(on_result), on_error)

    def preview_trim(
        self, older_than_days: int, on_result: Callable[[TrimPreview], None], on_error: OnError
    ) -> None:
        now = self._clock()

        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.housekeeping import trim_preview

            return trim_preview(connection.target.master_engine, older_than_days, now)

        self._controller.run("Count spend logs", run, _typed(on_result), on_error)

    def trim(
        self,
        preview: TrimPreview,
        on_progress: Callable[[str, float, str], None],
        on_result: Callable[[TrimResult], None],
        on_error: OnError,
    ) -> None:
        def run(
            connection: StackConnection, progress: JobProgress, cancel: threading.Event
        ) -> object:
            from llmproxy_desktop.ops.housekeeping import trim_spend_logs

            return trim_spend_logs(
                connection.target.master_engine,
                preview.cutoff,
                progress,
                cancel,
                connection.actor,
                connection.master,
                expected_rows=preview.rows,
            )

        ended = threading.Event()  # a controller may answer before `run` returns

        def finished(result: object) -> None:
            ended.set()
            self._trim_job = None
            _typed(on_result)(result)

        def failed(sentence: str) -> None:
            ended.set()
            self._trim_job = None
            on_error(sentence)

        job_id = self._controller.run(
            "Trim spend logs", run, finished, failed, on_progress=on_progress
        )
        self._trim_job = None if ended.is_set() else job_id

    def cancel_trim(self) -> None:
        if self._trim_job is not None:
            self._controller.cancel(self._trim_job)


class _Bridge(QObject):
    """Carries the pump thread's calls to the GUI thread (queued: it lives there)."""

    lines = Signal(int, object)
    ended = Signal(int, object)


class StackLogsService(QObject):
    """`LogsService` (ui/pages/logs.py) on one stack's controller; use from the GUI thread."""

    def __init__(self, controller: StackRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._bridge = _Bridge(self)
        self._bridge.lines.connect(self._deliver_lines)
        self._bridge.ended.connect(self._deliver_end)
        self._follow_id = 0
        self._pump: LogPump | None = None
        self._callbacks: dict[int, tuple[Callable[[list[str]], None], OnEnd]] = {}

    def start_follow(
        self,
        tail: int,
        on_lines: Callable[[list[str]], None],
        on_end: Callable[[str | None], None],
    ) -> None:
        self.stop_follow()
        self._follow_id += 1
        follow_id = self._follow_id
        self._callbacks[follow_id] = (on_lines, on_end)

        def open_stream(
            connection: StackConnection, _p: JobProgress, _c: threading.Event
        ) -> object:
            return connection.target.docker.follow_logs(tail=tail)

        def opened(follow: object) -> None:
            from llmproxy_desktop.ops.logs import start_log_pump
            from llmproxy_desktop.remote.docker_control import LogFollow

            assert isinstance(follow, LogFollow)
            if follow_id != self._follow_id or not shiboken6.isValid(self):
                follow.close()  # stopped while it was opening
                return
            bridge = self._bridge
            self._pump = start_log_pump(
                follow,
                lambda batch: bridge.lines.emit(follow_id, batch),
                lambda end, error: bridge.ended.emit(follow_id, (end, error)),
            )

        def failed(sentence: str) -> None:
            self._finish(follow_id, sentence)

        self._controller.run("Open the log", open_stream, opened, failed)

    def stop_follow(self) -> None:
        follow_id = self._follow_id
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.stop(wait=None)  # closes the stream; the pump thread ends on its own
        self._finish(follow_id, None)

    def _finish(self, follow_id: int, error: str | None) -> None:
        callbacks = self._callbacks.pop(follow_id, None)
        if callbacks is not None:
            callbacks[1](error)

    @Slot(int, object)
    def _deliver_lines(self, follow_id: int, batch: object) -> None:
        callbacks = self._callbacks.get(follow_id)
        if callbacks is not None and isinstance(batch, list):
            callbacks[0](batch)

    @Slot(int, object)
    def _deliver_end(self, follow_id: int, outcome: object) -> None:
        from llmproxy_desktop.ui.job_runner import error_sentence

        # (LogEnd | None, BaseException | None): a clean end (stopped, or ended by Docker) reads
        # the same to the page, so only the error matters here.
        assert isinstance(outcome, tuple)
        error = outcome[1]
        if follow_id == self._follow_id:
            self._pump = None
        sentence = error_sentence("Logs", error) if isinstance(error, BaseException) else None
        self._finish(follow_id, sentence)


def _typed(callback: Callable[[Any], None]) -> Callable[[object], None]:
    return callback
