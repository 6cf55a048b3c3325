"""BackgroundCheck: the work runs off the GUI thread, the answer comes back on it, only the
newest submission is answered, a failure is handed over as the exception, and no thread is
left once the work is done."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.background_check import BackgroundCheck


class Gates:
    """Work that blocks until the test opens its gate (every gate opens at teardown)."""

    def __init__(self) -> None:
        self._gates: dict[str, threading.Event] = {}
        self.threads: list[str] = []

    def work(self, name: str) -> Callable[[], str]:
        gate = self._gates.setdefault(name, threading.Event())

        def run() -> str:
            self.threads.append(threading.current_thread().name)
            assert gate.wait(10)
            return name

        return run

    def open(self, name: str) -> None:
        self._gates[name].set()

    def open_all(self) -> None:
        for gate in self._gates.values():
            gate.set()


@pytest.fixture
def gates() -> Iterator[Gates]:
    gates = Gates()
    yield gates
    gates.open_all()


@pytest.fixture
def check(qtbot: QtBot) -> Iterator[BackgroundCheck]:
    owner = QObject()
    check = BackgroundCheck(owner)
    yield check
    assert check.wait_idle(10)
    owner.deleteLater()


def _fail(error: Exception) -> None:
    raise AssertionError(f"unexpected failure: {error}")


def test_the_work_runs_off_the_gui_thread_and_answers_on_it(
    qtbot: QtBot, check: BackgroundCheck, gates: Gates
) -> None:
    answers: list[tuple[str, bool]] = []
    gui = QThread.currentThread()

    check.submit(
        gates.work("a"), lambda r: answers.append((r, QThread.currentThread() is gui)), _fail
    )
    assert check.is_pending()
    gates.open("a")
    qtbot.waitUntil(lambda: bool(answers))

    assert answers == [("a", True)]
    assert gates.threads and gates.threads[0] != threading.current_thread().name
    assert not check.is_pending()


def test_a_newer_submission_supersedes_the_running_one(
    qtbot: QtBot, check: BackgroundCheck, gates: Gates
) -> None:
    answers: list[str] = []
    check.submit(gates.work("old"), answers.append, _fail)
    qtbot.waitUntil(lambda: len(gates.threads) == 1)  # "old" is running
    check.submit(gates.work("new"), answers.append, _fail)

    with qtbot.waitSignal(check.dropped, timeout=5000):
        gates.open("old")
    assert answers == []  # the old answer arrived and was thrown away
    gates.open("new")
    qtbot.waitUntil(lambda: bool(answers))

    assert answers == ["new"]


def test_work_not_started_yet_never_runs_when_superseded(
    qtbot: QtBot, check: BackgroundCheck, gates: Gates
) -> None:
    answers: list[str] = []
    check.submit(gates.work("first"), answers.append, _fail)
    qtbot.waitUntil(lambda: len(gates.threads) == 1)
    check.submit(gates.work("skipped"), answers.append, _fail)
    check.submit(gates.work("last"), answers.append, _fail)
    gates.open("first")
    gates.open("last")
    qtbot.waitUntil(lambda: bool(answers))

    assert answers == ["last"]
    assert len(gates.threads) == 2  # "first" and "last"; "skipped" never ran


def test_cancel_drops_the_answer(qtbot: QtBot, check: BackgroundCheck, gates: Gates) -> None:
    answers: list[str] = []
    check.submit(gates.work("a"), answers.append, _fail)
    qtbot.waitUntil(lambda: len(gates.threads) == 1)  # running: only its answer can be dropped
    check.cancel()
    assert not check.is_pending()

    with qtbot.waitSignal(check.dropped, timeout=5000):
        gates.open("a")

    assert answers == []


def test_a_failure_is_handed_over_as_the_exception(qtbot: QtBot, check: BackgroundCheck) -> None:
    errors: list[Exception] = []

    def broken() -> str:
        raise ValueError("bad input")

    check.submit(broken, lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))

    assert isinstance(errors[0], ValueError)
    assert str(errors[0]) == "bad input"


def test_no_thread_is_left_once_the_work_is_done(qtbot: QtBot, check: BackgroundCheck) -> None:
    answers: list[int] = []
    check.submit(lambda: 42, answers.append, _fail)
    qtbot.waitUntil(lambda: bool(answers))

    assert check.wait_idle(5)
    assert not [t for t in threading.enumerate() if t.name == "background-check"]


def test_an_answer_for_a_deleted_owner_is_ignored(qtbot: QtBot, gates: Gates) -> None:
    owner = QObject()
    check = BackgroundCheck(owner)
    answers: list[str] = []
    check.submit(gates.work("a"), answers.append, _fail)
    qtbot.waitUntil(lambda: len(gates.threads) == 1)

    with qtbot.waitSignal(owner.destroyed, timeout=1000):
        owner.deleteLater()
    gates.open("a")
    assert check.wait_idle(5)
    QCoreApplication.sendPostedEvents()  # the answer was posted before the thread ended

    assert answers == []
