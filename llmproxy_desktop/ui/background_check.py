"""Run a pure check off the GUI thread and hand back only the newest call's result.

For live validation (the Advanced page validates a 2,000-model config in ~60 ms): the GUI
thread submits `work` (a pure function of plain data) and goes on; the result comes back by a
queued signal, on the GUI thread, as the job runner's results do. Each submission supersedes the
ones before it: one not started yet never runs, and the result of one already running is dropped
on arrival, so a stale result can never overwrite a newer one.

The work runs on a plain Python thread that exists only while there is work and then ends: no
thread outlives the checks (nothing to stop at exit, and no QThread object that could be
destroyed while running). The thread holds no reference to any widget: only the work, and a weak
reference to its `BackgroundCheck` that the GUI thread resolves on delivery.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot
from shiboken6 import isValid

from llmproxy_desktop.ui.interpreter_tuning import collections_held

__all__ = ["BackgroundCheck"]

_log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class _Outcome:
    """What one run of the work gave: its result, or the exception it raised."""

    value: object = None
    error: Exception | None = None


class _Relay(QObject):
    """Carries outcomes from the worker threads to the GUI thread (queued), one per process.

    It is never deleted, so a worker can always emit on it, whatever became of the page.
    """

    arrived = Signal(object, int, object)  # (weak ref to the BackgroundCheck, generation, outcome)

    def __init__(self) -> None:
        super().__init__()
        self.arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object, int, object)
    def _deliver(
        self, owner: Callable[[], BackgroundCheck | None], generation: int, outcome: object
    ) -> None:
        check = owner()
        if check is not None and isValid(check) and isinstance(outcome, _Outcome):
            check._arrived(generation, outcome)


_relay: _Relay | None = None


def _the_relay() -> _Relay:
    """The relay, created on first use by the first BackgroundCheck (on the GUI thread)."""
    global _relay
    if _relay is None:
        _relay = _Relay()
    return _relay


class _Lane:
    """The thread side: at most one thread, which runs the newest pending work until none is
    left, then ends."""

    def __init__(self, owner: weakref.ref[BackgroundCheck], relay: _Relay) -> None:
        self._owner = owner
        self._relay = relay
        self._lock = threading.Lock()
        self._next: tuple[int, Callable[[], object]] | None = None
        self._thread: threading.Thread | None = None

    def put(self, generation: int, work: Callable[[], object]) -> None:
        """Run `work` next (replacing any work not started yet)."""
        with self._lock:
            self._next = (generation, work)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._drain, name="background-check", daemon=False
                )
                self._thread.start()

    def discard(self) -> None:
        """Forget the work not started yet."""
        with self._lock:
            self._next = None

    def wait(self, timeout_s: float) -> bool:
        """Wait until no thread is left; True when none is."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            thread.join(remaining)

    def _drain(self) -> None:
        while True:
            with self._lock:
                job, self._next = self._next, None
                if job is None:
                    self._thread = None
                    return
            generation, work = job
            self._relay.arrived.emit(self._owner, generation, _run(work))


def _run(work: Callable[[], object]) -> _Outcome:
    try:
        with collections_held():  # a collection here would stop the GUI thread too
            return _Outcome(value=work())
    except Exception as error:  # handed to the GUI thread, which says it in a sentence
        _log.error("background check failed", exc_info=error)
        return _Outcome(error=error)


class BackgroundCheck(QObject):
    """`submit(work, done, failed)` runs `work()` off the GUI thread and calls `done(result)`
    (or `failed(error)`) on the GUI thread, unless a newer `submit` or a `cancel` came first.

    `dropped` is emitted when a superseded result arrives and is thrown away.
    """

    dropped = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._done: Callable[[Any], None] | None = None
        self._failed: Callable[[Exception], None] | None = None
        self._lane = _Lane(weakref.ref(self), _the_relay())

    def submit(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None:
        """Run `work` in the background; answer with its result unless superseded first.

        `work` must be pure (plain data in, plain data out): it runs on another thread.
        """
        self._generation += 1
        self._done, self._failed = done, failed
        self._lane.put(self._generation, work)

    def cancel(self) -> None:
        """Drop the pending answer (and the work, when it has not started)."""
        self._generation += 1
        self._done = self._failed = None
        self._lane.discard()

    def is_pending(self) -> bool:
        """True from `submit` until its answer has been delivered (or cancelled)."""
        return self._done is not None

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        """Block until no background thread of this check is running (for shutdown and tests;
        the answer itself still arrives through the event loop)."""
        return self._lane.wait(timeout_s)

    def _arrived(self, generation: int, outcome: _Outcome) -> None:
        if generation != self._generation or self._done is None or self._failed is None:
            self.dropped.emit()
            return
        done, failed = self._done, self._failed
        self._done = self._failed = None
        if outcome.error is not None:
            failed(outcome.error)
        else:
            done(outcome.value)
