"""The LiteLLM container's log, live, through the socket-proxy (issue #6 §4). No Qt.

`pump_log_lines` moves lines from a `LogFollow` to a callback in batches (one call per
`flush_interval` at most, so a chatty LiteLLM costs the GUI a few updates a second, not one per
line) until it is cancelled, the stream ends (LiteLLM stopped or restarted) or the connection
drops. The blocking read runs on a helper thread of its own, so the caller's thread can honour
`cancel` at once: cancelling closes the stream, which ends the read.

`follow_container_logs(docker, progress, cancel)` is the job shape for `StackController.run`:
it opens the stream and pumps it, each batch reported as `progress("Logs", 0.0, "\\n"-joined
lines)`. It occupies the job's thread until it ends. On the stack's single worker that would
hold every later job of the stack (refresh, Apply) behind it: run it on a thread of its own —
`start_log_pump` opens nothing and runs `pump_log_lines` on a new thread — and open the
stream (`docker.follow_logs`, one HTTP request) as a short job on the worker, as
`ui.maintenance_services.StackLogsService` does.

The debug-logging switch is `litellm_settings.set_verbose` (LiteLLM 1.108.7 sets every
litellm_settings key on the `litellm` module at start-up); `debug_logging_item` builds it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from ..core.maintenance_settings import DEBUG_LOGGING_KEY, debug_logging_item
from ..remote.docker_control import DockerControl, LogFollow

__all__ = [
    "DEBUG_LOGGING_KEY",
    "LOGS_STEP",
    "LogEnd",
    "LogPump",
    "LogStreamEnd",
    "debug_logging_item",
    "follow_container_logs",
    "pump_log_lines",
    "start_log_pump",
]

LOGS_STEP: Final = "Logs"
FLUSH_INTERVAL: Final = 0.1  # seconds: at most ~10 updates a second
MAX_BATCH_LINES: Final = 1_000
_JOIN_SECONDS: Final = 5.0


class CancelToken(Protocol):
    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class LogStreamEnd(StrEnum):
    """Why a follow ended."""

    CANCELLED = "cancelled"  # we stopped it (the page closed, paused the stream, switched stack)
    ENDED = "ended"  # Docker ended it: LiteLLM stopped or restarted; follow again to resume


@dataclass(frozen=True)
class LogEnd:
    """How a follow ended and how many lines it delivered."""

    reason: LogStreamEnd
    lines: int


def pump_log_lines(
    follow: LogFollow,
    emit: Callable[[list[str]], None],
    cancel: CancelToken,
    *,
    flush_interval: float = FLUSH_INTERVAL,
    max_batch: int = MAX_BATCH_LINES,
) -> LogEnd:
    """Deliver `follow`'s lines to `emit` in batches until cancelled or the stream ends.

    Always closes `follow`. Raises the stream's RemoteError when the connection drops (the
    tunnel went away) unless it was cancelled first.
    """
    lines: queue.Queue[str | _Stop] = queue.Queue()
    reader = threading.Thread(target=_read, args=(follow, lines), name="log-reader", daemon=True)
    reader.start()
    delivered = 0
    batch: list[str] = []
    deadline = time.monotonic() + flush_interval
    try:
        while True:
            if cancel.is_set():
                return LogEnd(LogStreamEnd.CANCELLED, delivered)
            try:
                line = lines.get(timeout=max(0.0, min(deadline - time.monotonic(), 0.1)))
            except queue.Empty:
                line = None
            if isinstance(line, _Stop):
                if batch and not cancel.is_set():
                    emit(batch)
                    delivered += len(batch)
                if cancel.is_set():
                    return LogEnd(LogStreamEnd.CANCELLED, delivered)
                if line.error is not None:
                    raise line.error
                return LogEnd(LogStreamEnd.ENDED, delivered)
            if line is not None:
                batch.append(line)
            if batch and (len(batch) >= max_batch or time.monotonic() >= deadline):
                emit(batch)
                delivered += len(batch)
                batch = []
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + flush_interval
    finally:
        follow.close()  # ends a read blocked in the stream
        reader.join(_JOIN_SECONDS)


class _Stop:
    """The reader's last word: the stream ended, with the error that ended it, if any."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def _read(follow: LogFollow, lines: queue.Queue[str | _Stop]) -> None:
    try:
        for line in follow:
            lines.put(line)
    except BaseException as error:  # handed to the pumping thread, which raises it
        lines.put(_Stop(error))
        return
    lines.put(_Stop(None))


def follow_container_logs(
    docker: DockerControl,
    progress: Callable[[str, float, str], None],
    cancel: CancelToken,
    *,
    tail: int = 200,
    flush_interval: float = FLUSH_INTERVAL,
) -> LogEnd:
    """Job shape: follow the container's log from its last `tail` lines, each batch reported as
    `progress("Logs", 0.0, lines joined by "\\n")`, until `cancel` or the stream ends."""
    follow = docker.follow_logs(tail=tail)
    return pump_log_lines(
        follow,
        lambda batch: progress(LOGS_STEP, 0.0, "\n".join(batch)),
        cancel,
        flush_interval=flush_interval,
    )


class LogPump:
    """`pump_log_lines` on a thread of its own; `stop()` ends it from any thread."""

    def __init__(
        self,
        follow: LogFollow,
        emit: Callable[[list[str]], None],
        on_end: Callable[[LogEnd | None, BaseException | None], None],
        *,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self._follow = follow
        self._emit = emit
        self._on_end = on_end
        self._flush_interval = flush_interval
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-pump", daemon=True)

    def start(self) -> LogPump:
        self._thread.start()
        return self

    def stop(self, wait: float | None = _JOIN_SECONDS) -> None:
        """Stop following; `on_end` is still called once (with CANCELLED)."""
        self._cancel.set()
        self._follow.close()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(wait)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            end = pump_log_lines(
                self._follow, self._emit, self._cancel, flush_interval=self._flush_interval
            )
        except BaseException as error:  # told to on_end, the pump's only way out
            self._on_end(None, error)
            return
        self._on_end(end, None)


def start_log_pump(
    follow: LogFollow,
    emit: Callable[[list[str]], None],
    on_end: Callable[[LogEnd | None, BaseException | None], None],
    *,
    flush_interval: float = FLUSH_INTERVAL,
) -> LogPump:
    """Pump `follow` on a new thread: `emit(lines)` per batch, then `on_end(end, error)` once
    (both on that thread: hand them to the GUI thread by signal)."""
    return LogPump(follow, emit, on_end, flush_interval=flush_interval).start()
