"""The job runner: one serial queue per stack, signals on the GUI thread, cancel and shutdown.

Ordering is proven with threading.Event / Barrier handshakes, never with sleeps. Every wait
inside a job is bounded, so a broken runner fails a test instead of hanging the suite.

The last test runs the real ops.apply through the runner against the loopback stack, with the
fixtures of tests/apply/conftest.py re-exported here (as bench/conftest.py does). pytest keys
session fixtures by where they are declared, so a full run starts a second PostgreSQL cluster
and stack sshd for it; the docker stack itself is shared (tests/fixtures/docker_stack.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.validate import render_checked
from llmproxy_desktop.ops.apply import ApplyResult, Step, apply
from llmproxy_desktop.ops.apply_target import ApplyTarget
from llmproxy_desktop.store import Master
from llmproxy_desktop.ui.job_runner import Job, JobCancelled, JobProgress, JobRunner
from tests.apply import conftest as _apply
from tests.fixtures.docker_stack import TestStack

# Re-exported: pytest finds fixtures by name in this module (only the last test uses them).
client_keys = _apply.client_keys
docker_stack = _apply.docker_stack
engine = _apply.engine
master = _apply.master
master_db = _apply.master_db
master_db_url = _apply.master_db_url
openssh_root = _apply.openssh_root
pg_cluster = _apply.pg_cluster
ssh_session = _apply.ssh_session
stack_host_sshd = _apply.stack_host_sshd
stack_restored = _apply.stack_restored
target = _apply.target

# Long enough never to be reached by a working runner, short enough to end a broken test.
_BOUND = 10.0


@dataclass
class Recorder:
    """Every signal of a runner, in arrival order, and whether it arrived on the GUI thread."""

    events: list[tuple[object, ...]] = field(default_factory=list)
    off_gui_thread: list[tuple[object, ...]] = field(default_factory=list)

    def attach(self, runner: JobRunner) -> None:
        for name in ("queued", "started", "progress", "finished", "failed", "cancelled"):
            getattr(runner, name).connect(lambda *args, name=name: self._record(name, *args))

    def _record(self, name: str, *args: object) -> None:
        event = (name, *args)
        self.events.append(event)
        if QThread.currentThread() is not QApplication.instance().thread():  # type: ignore[union-attr]
            self.off_gui_thread.append(event)

    def of(self, job_id: str) -> list[str]:
        """The names of the signals about `job_id`, in order."""
        return [str(event[0]) for event in self.events if event[1] == job_id]


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[JobRunner]:
    job_runner = JobRunner()
    yield job_runner
    assert job_runner.shutdown(timeout_ms=int(_BOUND * 1000))


@pytest.fixture
def recorder(runner: JobRunner) -> Recorder:
    rec = Recorder()
    rec.attach(runner)
    return rec


def _wait(event: threading.Event) -> None:
    """Block a job until the test sets `event`; fail instead of hanging when it never does."""
    if not event.wait(_BOUND):
        raise TimeoutError("the test never released this job")


def test_progress_and_result_arrive_on_the_gui_thread_in_order(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    job_threads: list[QThread] = []

    def work(progress: JobProgress, cancel: threading.Event) -> object:
        job_threads.append(QThread.currentThread())
        for i, step in enumerate(("lock", "render", "upload")):
            progress(step, i / 3, f"doing {step}")
        return {"revision": 7}

    with qtbot.waitSignal(runner.finished, timeout=5000):
        job_id = runner.submit(Job("Apply", "prod", work))

    assert recorder.events == [
        ("queued", job_id),
        ("started", job_id),
        ("progress", job_id, "lock", 0.0, "doing lock"),
        ("progress", job_id, "render", pytest.approx(1 / 3), "doing render"),
        ("progress", job_id, "upload", pytest.approx(2 / 3), "doing upload"),
        ("finished", job_id, {"revision": 7}),
    ]
    assert recorder.off_gui_thread == []
    assert job_threads[0] is not QApplication.instance().thread()  # type: ignore[union-attr]
    assert not runner.is_busy()


def test_jobs_on_one_stack_run_one_at_a_time_in_submission_order(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    first_started, release_first, second_started = (threading.Event() for _ in range(3))
    log: list[str] = []

    def first(progress: JobProgress, cancel: threading.Event) -> object:
        log.append("first starts")
        first_started.set()
        _wait(release_first)
        log.append("first ends")
        return None

    def second(progress: JobProgress, cancel: threading.Event) -> object:
        log.append("second starts")
        second_started.set()
        return None

    first_id = runner.submit(Job("first", "prod", first))
    second_id = runner.submit(Job("second", "prod", second))
    assert first_started.wait(_BOUND)
    # An observation window, not synchronisation: a runner that let the second job through
    # would start it at once, while the first is still blocked.
    assert not second_started.wait(0.2)
    with qtbot.waitSignal(runner.finished, check_params_cb=lambda i, _: i == second_id):
        release_first.set()

    assert log == ["first starts", "first ends", "second starts"]
    assert [e[:2] for e in recorder.events if e[0] != "queued"] == [
        ("started", first_id),
        ("finished", first_id),
        ("started", second_id),
        ("finished", second_id),
    ]


def test_two_stacks_run_side_by_side(qtbot: QtBot, runner: JobRunner, recorder: Recorder) -> None:
    # Each job waits until both have arrived: serialised stacks would break the barrier.
    barrier = threading.Barrier(2, timeout=_BOUND)
    threads: dict[str, QThread] = {}

    def meet(stack: str) -> Job:
        def work(progress: JobProgress, cancel: threading.Event) -> object:
            threads[stack] = QThread.currentThread()
            barrier.wait()
            return stack

        return Job("meet", stack, work)

    ids = [runner.submit(meet("prod")), runner.submit(meet("staging"))]
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=int(_BOUND * 1000) + 1000)

    finished = {e[1]: e[2] for e in recorder.events if e[0] == "finished"}
    assert finished == {ids[0]: "prod", ids[1]: "staging"}
    assert threads["prod"] is not threads["staging"]


def test_a_job_cancelled_while_queued_never_runs(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    blocker_started, release_blocker = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocker(progress: JobProgress, cancel: threading.Event) -> object:
        blocker_started.set()
        _wait(release_blocker)
        return None

    def victim(progress: JobProgress, cancel: threading.Event) -> object:
        ran.append("victim")
        return None

    def after(progress: JobProgress, cancel: threading.Event) -> object:
        ran.append("after")
        return None

    runner.submit(Job("blocker", "prod", blocker))
    victim_id = runner.submit(Job("victim", "prod", victim))
    assert blocker_started.wait(_BOUND)

    assert runner.cancel(victim_id)
    assert recorder.of(victim_id) == ["queued", "cancelled"]  # emitted by cancel() itself
    assert not runner.cancel(victim_id)  # already gone

    # The queue must have moved past the withdrawn job once a later one has finished.
    release_blocker.set()
    with qtbot.waitSignal(runner.finished, check_params_cb=lambda i, _: i == after_id):
        after_id = runner.submit(Job("after", "prod", after))

    assert ran == ["after"]
    assert recorder.of(victim_id) == ["queued", "cancelled"]


def test_cancel_while_running_sets_the_token_and_the_job_ends_itself(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    def work(progress: JobProgress, cancel: threading.Event) -> object:
        progress("waiting", 0.5, "waiting for the gateway")
        _wait(cancel)
        raise JobCancelled

    with qtbot.waitSignal(runner.progress):
        job_id = runner.submit(Job("Verify", "prod", work))
    with qtbot.waitSignal(runner.cancelled, timeout=5000) as cancelled:
        assert runner.cancel(job_id)

    assert cancelled.args == [job_id]
    assert recorder.of(job_id) == ["queued", "started", "progress", "cancelled"]
    assert not runner.cancel(job_id)


def test_a_running_job_that_cannot_be_cancelled_is_left_to_finish(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    release = threading.Event()
    tokens: list[threading.Event] = []

    def work(progress: JobProgress, cancel: threading.Event) -> object:
        tokens.append(cancel)
        _wait(release)
        return "committed"

    with qtbot.waitSignal(runner.started):
        job_id = runner.submit(Job("Apply", "prod", work, cancellable=False))
    assert not runner.cancel(job_id)
    with qtbot.waitSignal(runner.finished, timeout=5000) as finished:
        release.set()

    assert finished.args == [job_id, "committed"]
    assert not tokens[0].is_set()


def test_an_exception_fails_the_job_with_one_sentence_and_the_stack_goes_on(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    error = ConnectionError("connection refused\n  by 10.0.0.5:22.")

    def broken(progress: JobProgress, cancel: threading.Event) -> object:
        raise error

    def silent(progress: JobProgress, cancel: threading.Event) -> object:
        raise ValueError

    with qtbot.waitSignal(runner.failed, timeout=5000) as failed:
        job_id = runner.submit(Job("Refresh usage", "prod", broken))
    expected = "Refresh usage failed: connection refused by 10.0.0.5:22."
    assert failed.args == [job_id, expected, error]

    with qtbot.waitSignal(runner.failed, timeout=5000) as failed:
        runner.submit(Job("Drift check", "prod", silent))
    message = str(failed.args[1])
    assert message == "Drift check failed: ValueError."
    assert "Traceback" not in message and "\n" not in message

    with qtbot.waitSignal(runner.finished, timeout=5000) as finished:
        runner.submit(Job("after", "prod", lambda progress, cancel: "still serving"))
    assert finished.args[1] == "still serving"


def test_the_gui_thread_stays_responsive_while_a_job_blocks(
    qtbot: QtBot, runner: JobRunner, recorder: Recorder
) -> None:
    release = threading.Event()

    def work(progress: JobProgress, cancel: threading.Event) -> object:
        _wait(release)
        return "done"

    with qtbot.waitSignal(runner.started):
        job_id = runner.submit(Job("slow", "prod", work))

    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=2000):
        timer.start(10)

    assert recorder.of(job_id) == ["queued", "started"]  # still blocked while the timer fired
    with qtbot.waitSignal(runner.finished, timeout=5000):
        release.set()


def test_shutdown_cancels_everything_and_leaves_no_thread_running(
    qtbot: QtBot, qapp: QApplication, recorder: Recorder
) -> None:
    runner = JobRunner()
    recorder.attach(runner)
    threads: list[QThread] = []
    ready = threading.Barrier(3, timeout=_BOUND)  # both jobs and the test

    def until_cancelled(progress: JobProgress, cancel: threading.Event) -> object:
        threads.append(QThread.currentThread())
        ready.wait()
        _wait(cancel)
        raise JobCancelled

    running = [
        runner.submit(Job("a", "prod", until_cancelled)),
        runner.submit(Job("b", "staging", until_cancelled)),
    ]
    waiting = runner.submit(Job("queued", "prod", until_cancelled))
    ready.wait()

    assert runner.shutdown(timeout_ms=int(_BOUND * 1000))

    assert len(threads) == 2
    assert all(thread.isFinished() for thread in threads)
    # Every job got its final signal before shutdown returned, the queued one without starting.
    assert [recorder.of(job_id)[-1] for job_id in [*running, waiting]] == ["cancelled"] * 3
    assert recorder.of(waiting) == ["queued", "cancelled"]
    assert recorder.off_gui_thread == []
    assert not runner.is_busy()
    assert runner.shutdown()  # idempotent
    with pytest.raises(RuntimeError):
        runner.submit(Job("late", "prod", lambda progress, cancel: None))


def test_shutdown_reports_a_job_that_outlives_its_bound(qtbot: QtBot, qapp: QApplication) -> None:
    runner = JobRunner()
    release, started = threading.Event(), threading.Event()
    threads: list[QThread] = []

    def past_the_point_of_no_return(progress: JobProgress, cancel: threading.Event) -> object:
        threads.append(QThread.currentThread())
        started.set()
        _wait(release)
        return None

    runner.submit(Job("Apply", "prod", past_the_point_of_no_return, cancellable=False))
    assert started.wait(_BOUND)

    assert not runner.shutdown(timeout_ms=50)
    assert threads[0].isRunning()

    release.set()
    assert threads[0].wait(int(_BOUND * 1000))


@pytest.mark.integration
def test_a_real_noop_apply_reports_every_step_through_the_runner(
    qtbot: QtBot,
    runner: JobRunner,
    recorder: Recorder,
    master: Master,
    target: ApplyTarget,
    stack_restored: TestStack,
) -> None:
    # The file already holds the Master's render, so the Apply is a no-op: no restart to wait for.
    text, _findings = render_checked(master.effective())
    (stack_restored.config_dir / "config.yaml").write_bytes(text.encode("utf-8"))

    def work(progress: JobProgress, cancel: threading.Event) -> object:
        return apply(
            master,
            target,
            progress=progress,
            cancel=cancel,
            actor=_apply.ALICE,
            verify_timeout=60.0,
        )

    with qtbot.waitSignal(runner.finished, timeout=120_000) as finished:
        job_id = runner.submit(Job("Apply", "loopback", work))

    result = finished.args[1]
    assert isinstance(result, ApplyResult)
    assert result.ok and result.noop, result.advice
    steps = [str(e[2]) for e in recorder.events if e[0] == "progress"]
    # In pipeline order, from the lock to the verification (a no-op does not report them all).
    order = [list(Step).index(Step(step)) for step in steps]
    assert order == sorted(order)
    assert (steps[0], steps[-1]) == (Step.LOCK, Step.VERIFY)
    fractions = [float(str(e[3])) for e in recorder.events if e[0] == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert recorder.of(job_id)[-1] == "finished"
    assert recorder.off_gui_thread == []


def test_shutdown_still_runs_a_queued_job_that_is_not_cancellable(
    qtbot: QtBot, qapp: QApplication, recorder: Recorder
) -> None:
    runner = JobRunner()
    recorder.attach(runner)
    release = threading.Event()
    closed: list[str] = []

    def close_connection(progress: JobProgress, cancel: threading.Event) -> object:
        closed.append("closed")  # e.g. the stack's Disconnect: cleanup must not be withdrawn
        return None

    started = threading.Event()

    def blocks_until_released(progress: JobProgress, cancel: threading.Event) -> object:
        started.set()
        release.wait(_BOUND)
        return "done"

    first = runner.submit(Job("busy", "prod", blocks_until_released, cancellable=False))
    cleanup = runner.submit(Job("Disconnect", "prod", close_connection, cancellable=False))
    assert started.wait(_BOUND)
    # Released only once shutdown is under way, so the cleanup is still queued when it starts.
    threading.Timer(0.1, release.set).start()

    assert runner.shutdown(timeout_ms=int(_BOUND * 1000))

    assert closed == ["closed"]
    assert recorder.of(first)[-1] == "finished" and recorder.of(cleanup)[-1] == "finished"
