"""Run ops in the background, one queue and one worker thread per stack (issue 4 §3).

The shape is Vorta's per-repository job queue: operations on one stack (one SSH session, one
Apply lock) never race, so they run one at a time in submission order on that stack's own
thread, while different stacks run side by side. Results travel back as Picard does it: by
signal, on the GUI thread; workers never touch widgets.

Every job's life, as the runner's signals tell it (all emitted on the runner's own thread, the
GUI thread)::

    queued -> started -> progress* -> finished | failed | cancelled
    queued -> cancelled                       (withdrawn before it started: it never runs)

Exactly one of finished / failed / cancelled ends every job, even when `shutdown()` ends it.

A job is a plain function `run(progress, cancel) -> result`, the shape of `ops.apply`:
`progress(step, fraction, message)` may be called from the job at any time, and `cancel` is a
`threading.Event` the job checks (`is_set()`) or waits on where stopping is safe.
"""

from __future__ import annotations

import enum
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtCore import (
    QCoreApplication,
    QDeadlineTimer,
    QEvent,
    QObject,
    Qt,
    QThread,
    Signal,
    Slot,
)

__all__ = ["Job", "JobCancelled", "JobProgress", "JobRunner", "error_sentence"]

_log = logging.getLogger(__name__)

# Workers that outlived shutdown's bound (a job that ignores its token or cannot be cancelled).
# Kept referenced on purpose: destroying a running QThread aborts the whole process.
_ABANDONED: set[QThread] = set()


class JobProgress(Protocol):
    """`progress(step, fraction, message)`, as ops report it; `fraction` is 0..1 of the job."""

    def __call__(self, step: str, fraction: float, message: str) -> None:
        """Report progress; safe to call from the job's thread."""
        ...


class JobCancelled(Exception):
    """A job may raise this when it saw its cancel token; the runner then emits `cancelled`.

    Any exception raised after the token was set counts as a cancel too, since a job that was
    asked to stop often stops by failing whatever it was waiting for.
    """


@dataclass(frozen=True)
class Job:
    """One operation for the runner.

    `name` is what the user would call it ("Apply", "Refresh usage"): failure messages start
    with it. `stack` chooses the queue. `cancellable` False means a running job must be left to
    finish (it is past a point of no return); a queued one can still be withdrawn, because it
    has not done anything yet.
    """

    name: str
    stack: str
    run: Callable[[JobProgress, threading.Event], object]
    cancellable: bool = True


class _State(enum.Enum):
    QUEUED = enum.auto()
    RUNNING = enum.auto()
    WITHDRAWN = enum.auto()  # cancelled before it started; its signal is already out
    DONE = enum.auto()  # ran; its final signal is on its way to the GUI thread


@dataclass
class _Entry:
    job_id: str
    job: Job
    cancel: threading.Event = field(default_factory=threading.Event)
    state: _State = _State.QUEUED


def error_sentence(job_name: str, error: BaseException) -> str:
    """Say in one sentence that `job_name` failed and why, from the error's own message.

    Never a traceback: only the message's text, whitespace folded onto one line, or the
    error's type when it carries no message.
    """
    reason = " ".join(str(error).split()) or type(error).__name__
    reason = reason.rstrip(".")
    return f"{job_name} failed: {reason}."


class _StackWorker(QThread):
    """The thread of one stack: takes entries off its queue and runs them one at a time.

    Its signals are emitted from the worker thread; the runner receives them through queued
    connections, so they arrive on the GUI thread in the order they were emitted.
    """

    job_started = Signal(str)
    job_progress = Signal(str, str, float, str)
    job_finished = Signal(str, object)
    job_failed = Signal(str, str, object)
    job_cancelled = Signal(str)

    def __init__(self, stack: str, lock: threading.Lock) -> None:
        super().__init__()
        self.setObjectName(f"job-runner:{stack}")
        self.jobs: queue.Queue[_Entry | None] = queue.Queue()  # None tells the thread to end
        self._lock = lock

    def run(self) -> None:
        """Run entries until the None sentinel; a withdrawn entry is skipped without a word."""
        while (entry := self.jobs.get()) is not None:
            with self._lock:
                if entry.state is not _State.QUEUED:
                    continue
                entry.state = _State.RUNNING
            self._run_one(entry)

    def _run_one(self, entry: _Entry) -> None:
        job_id = entry.job_id
        self.job_started.emit(job_id)

        def progress(step: str, fraction: float, message: str) -> None:
            # str(): ops pass StrEnum steps; the signal carries plain text.
            self.job_progress.emit(job_id, str(step), float(fraction), message)

        try:
            result = entry.job.run(progress, entry.cancel)
        except Exception as error:
            with self._lock:
                entry.state = _State.DONE
            if entry.cancel.is_set():
                self.job_cancelled.emit(job_id)
            else:
                # The traceback goes to the log for whoever debugs; the user gets a sentence.
                _log.error("job %s (%s) failed", job_id, entry.job.name, exc_info=error)
                self.job_failed.emit(job_id, error_sentence(entry.job.name, error), error)
        else:
            with self._lock:
                entry.state = _State.DONE
            self.job_finished.emit(job_id, result)


class JobRunner(QObject):
    """Background jobs with one serial queue and worker thread per stack.

    Create, submit and cancel on the GUI thread (the runner's thread). Call `shutdown()` before
    the app exits; the runner does so itself on `QCoreApplication.aboutToQuit`.
    """

    queued = Signal(str)
    """`queued(job_id)`: accepted; emitted before `submit` returns."""
    started = Signal(str)
    """`started(job_id)`: the job's function is being called on its stack's thread."""
    progress = Signal(str, str, float, str)
    """`progress(job_id, step, fraction, message)`, in the order the job reported it."""
    finished = Signal(str, object)
    """`finished(job_id, result)`: the job returned `result`."""
    failed = Signal(str, str, object)
    """`failed(job_id, message, error)`: one sentence for the user, and the exception itself."""
    cancelled = Signal(str)
    """`cancelled(job_id)`: withdrawn before it started, or it stopped after being cancelled."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Guards every entry's state: the GUI thread withdraws entries while workers take them.
        self._lock = threading.Lock()
        self._workers: dict[str, _StackWorker] = {}
        self._entries: dict[str, _Entry] = {}
        self._ids = itertools.count(1)
        self._closed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def submit(self, job: Job) -> str:
        """Queue `job` on its stack's thread (started on first use); return its job id.

        Raises RuntimeError after `shutdown()`, or when called off the runner's thread.
        """
        self._require_own_thread()
        if self._closed:
            raise RuntimeError("the job runner was shut down")
        job_id = f"job-{next(self._ids)}"
        entry = _Entry(job_id, job)
        self._entries[job_id] = entry
        worker = self._workers.get(job.stack)
        if worker is None:
            worker = self._start_worker(job.stack)
        self.queued.emit(job_id)
        worker.jobs.put(entry)
        return job_id

    def cancel(self, job_id: str) -> bool:
        """Ask job `job_id` to stop; return True when the request took effect.

        A queued job is withdrawn: it never starts, and `cancelled` is emitted now. A running
        cancellable job gets its token set, and ends when it next checks it. A running job
        that is not cancellable, a finished one or an unknown id: False, nothing changes.
        """
        self._require_own_thread()
        entry = self._entries.get(job_id)
        if entry is None:
            return False
        with self._lock:
            if entry.state is _State.RUNNING and entry.job.cancellable:
                entry.cancel.set()
                return True
            if entry.state is not _State.QUEUED:
                return False
            # Under the lock, so the worker cannot take it between our check and this.
            entry.state = _State.WITHDRAWN
            entry.cancel.set()
        # Emitted outside the lock: a connected slot may well call back into the runner.
        self._on_cancelled(job_id)
        return True

    def is_closed(self) -> bool:
        """True after `shutdown()`: no job runs any more, and none can be submitted."""
        return self._closed

    def is_busy(self) -> bool:
        """True while any job is queued or running (its final signal not yet delivered)."""
        return bool(self._entries)

    @Slot()
    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every cancellable job, let the others finish, end every worker thread and
        deliver the jobs' final signals.

        Waits at most `timeout_ms` in total. Returns True when no worker thread is left
        running; False when a job outlived the bound (one that is not cancellable, or ignores
        its token): its thread is then left to end on its own and kept referenced until it
        does, because destroying a running QThread aborts the process. Idempotent.
        """
        self._require_own_thread()
        self._closed = True
        for job_id, entry in list(self._entries.items()):
            # A job that is not cancellable is cleanup or past its point of no return (closing
            # a connection, a stage): it still runs, within the bound below.
            if entry.job.cancellable:
                self.cancel(job_id)
        workers, self._workers = self._workers, {}
        for worker in workers.values():
            worker.jobs.put(None)
        deadline = QDeadlineTimer(timeout_ms)
        stopped = True
        for stack, worker in workers.items():
            if not worker.wait(deadline):
                _log.warning("the job thread of stack %r did not stop in time", stack)
                _ABANDONED.add(worker)
                stopped = False
        # Pruned here rather than from a callable connected to QThread.finished: that crashed
        # the interpreter at exit (a refcount error inside PySide6 6.12) in our tests.
        for leftover in [thread for thread in _ABANDONED if thread.isFinished()]:
            _ABANDONED.discard(leftover)
        # The finished workers' last signals are queued events for this object; deliver them
        # now, because after shutdown the event loop may never run again.
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        return stopped

    def _start_worker(self, stack: str) -> _StackWorker:
        worker = _StackWorker(stack, self._lock)
        queued_connection = Qt.ConnectionType.QueuedConnection
        # Explicitly queued: these are emitted on the worker thread and must run on ours.
        worker.job_started.connect(self._on_started, queued_connection)
        worker.job_progress.connect(self._on_progress, queued_connection)
        worker.job_finished.connect(self._on_finished, queued_connection)
        worker.job_failed.connect(self._on_failed, queued_connection)
        worker.job_cancelled.connect(self._on_cancelled, queued_connection)
        self._workers[stack] = worker
        worker.start()
        return worker

    def _require_own_thread(self) -> None:
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("JobRunner is used from its own thread only")

    @Slot(str)
    def _on_started(self, job_id: str) -> None:
        self.started.emit(job_id)

    @Slot(str, str, float, str)
    def _on_progress(self, job_id: str, step: str, fraction: float, message: str) -> None:
        self.progress.emit(job_id, step, fraction, message)

    @Slot(str, object)
    def _on_finished(self, job_id: str, result: object) -> None:
        self._entries.pop(job_id, None)
        self.finished.emit(job_id, result)

    @Slot(str, str, object)
    def _on_failed(self, job_id: str, message: str, error: object) -> None:
        self._entries.pop(job_id, None)
        self.failed.emit(job_id, message, error)

    @Slot(str)
    def _on_cancelled(self, job_id: str) -> None:
        self._entries.pop(job_id, None)
        self.cancelled.emit(job_id)
