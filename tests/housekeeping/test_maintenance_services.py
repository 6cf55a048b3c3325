"""The pages' services on a stack (ui/maintenance_services.py) with a stand-in for the stack
controller that runs each job at once on the calling thread, against the real database and the
real test stack: the housekeeping jobs return the use-cases' results; the log follow opens as a
job, streams on its own thread (never holding the stack's worker), delivers on the GUI thread and
stops cleanly."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from llmproxy_desktop.ops.housekeeping import DatabaseStats, TrimPreview, TrimResult
from llmproxy_desktop.remote.docker_control import DockerControl
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from llmproxy_desktop.store import Actor, Master
from llmproxy_desktop.ui.maintenance_services import StackHousekeepingService, StackLogsService
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.spend_logs import count_rows, insert_spend_rows

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class _Target:
    master_engine: Any = None
    docker: Any = None


@dataclass
class _Connection:
    target: _Target
    actor: Actor | None = None
    master: Master | None = None


class InlineController:
    """`StackRunner` double: runs the job at once, on this thread, reporting like the runner."""

    def __init__(self, connection: _Connection) -> None:
        self.connection = connection
        self.jobs: list[str] = []
        self.cancelled: list[str] = []

    def run(
        self,
        name: str,
        operation: Callable[..., object],
        on_result: Callable[[object], None],
        on_error: Callable[[str], None],
        *,
        on_progress: Callable[[str, float, str], None] | None = None,
        cancellable: bool = True,
        refresh_after: bool = False,
    ) -> str:
        self.jobs.append(name)
        progress = on_progress or (lambda _s, _f, _m: None)
        try:
            result = operation(self.connection, progress, threading.Event())
        except Exception as error:
            on_error(f"{name} failed: {error}")
        else:
            on_result(result)
        return f"job-{len(self.jobs)}"

    def cancel(self, job_id: str) -> bool:
        self.cancelled.append(job_id)
        return False


def test_housekeeping_service_runs_stats_preview_and_trim_as_jobs(
    engine: Engine, master: Master, alice: Actor
) -> None:
    insert_spend_rows(
        engine, 500, (NOW - timedelta(days=60)).replace(tzinfo=None), timedelta(minutes=1)
    )
    controller = InlineController(_Connection(_Target(master_engine=engine), alice, master))
    service = StackHousekeepingService(controller, clock=lambda: NOW)
    got: list[object] = []

    service.load_stats(got.append, pytest.fail)
    service.preview_trim(30, got.append, pytest.fail)
    stats, preview = got
    assert isinstance(stats, DatabaseStats) and stats.spend_logs_oldest is not None
    assert isinstance(preview, TrimPreview) and preview.rows == 500
    fractions: list[float] = []
    service.trim(preview, lambda _s, f, _m: fractions.append(f), got.append, pytest.fail)

    result = got[-1]
    assert isinstance(result, TrimResult) and result.deleted == 500
    assert fractions[-1] == 1.0
    assert count_rows(engine) == 0
    assert controller.jobs == ["Read database sizes", "Count spend logs", "Trim spend logs"]
    service.cancel_trim()  # nothing running: nothing to cancel
    assert controller.cancelled == []


@pytest.fixture
def stack_docker(docker_stack: TestStack) -> Iterator[DockerControl]:
    with DockerControl(docker_stack.socket_proxy_url, docker_stack.container_name) as docker:
        yield docker


def test_logs_service_streams_on_its_own_thread_and_stops_cleanly(
    qtbot: QtBot, docker_stack: TestStack, stack_docker: DockerControl
) -> None:
    controller = InlineController(_Connection(_Target(docker=stack_docker)))
    service = StackLogsService(controller)
    lines: list[str] = []
    ends: list[str | None] = []
    gui = threading.current_thread()
    threads: set[threading.Thread] = set()

    def on_lines(batch: list[str]) -> None:
        threads.add(threading.current_thread())
        lines.extend(batch)

    service.start_follow(3, on_lines, ends.append)
    assert controller.jobs == ["Open the log"]  # the job returned: the worker is free again

    with LiteLLMClient(docker_stack.litellm_url, docker_stack.master_key) as litellm:

        def liveliness_logged() -> bool:
            litellm.liveliness()
            return any("GET /health/liveliness" in line for line in lines)

        qtbot.waitUntil(liveliness_logged, timeout=30_000)
    assert threads == {gui}  # delivered on the GUI thread

    service.stop_follow()
    assert ends == [None]
    pump_threads = [t for t in threading.enumerate() if t.name in ("log-pump", "log-reader")]
    for thread in pump_threads:
        thread.join(10)
    assert not any(t.is_alive() for t in pump_threads)
    # The pump threads have ended, so whatever they emitted is queued: deliver it now. A last
    # batch or end of the stopped follow must not reach its page.
    QCoreApplication.processEvents()
    assert ends == [None]
