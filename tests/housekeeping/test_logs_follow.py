"""Following the LiteLLM container's log (issue #6 §4) against the real test stack: dockerd,
the socket-proxy policy, LiteLLM 1.108.7. The stream must end cleanly when cancelled and when the
connection to the socket-proxy drops (the SSH tunnel going away, played here by a relay that
cuts its connections)."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from llmproxy_desktop.ops.logs import (
    LOGS_STEP,
    LogEnd,
    LogStreamEnd,
    follow_container_logs,
    start_log_pump,
)
from llmproxy_desktop.remote.docker_control import DockerControl
from llmproxy_desktop.remote.errors import RemoteError
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.tcp_services import LoopbackService

pytestmark = pytest.mark.integration

ENDS_WITHIN = 10.0  # seconds; a clean end takes well under one (the pump polls every 0.1 s)


@pytest.fixture
def litellm(docker_stack: TestStack) -> Iterator[LiteLLMClient]:
    with LiteLLMClient(docker_stack.litellm_url, docker_stack.master_key) as client:
        yield client


class Relay:
    """A TCP relay to the socket-proxy whose connections can be cut: a tunnel that drops."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.service = LoopbackService(self._handle)

    def _handle(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self._target))
        with self._lock:
            self._sockets += [client, upstream]
        pump = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
        pump.start()
        _copy(client, upstream)
        pump.join(5)

    def drop(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def close(self) -> None:
        self.drop()
        self.service.close()


def _copy(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def wait_for_line(lines: queue.Queue[str], litellm: LiteLLMClient, needle: str) -> None:
    """Make requests until LiteLLM's log line for one arrives (bounded, no fixed sleeps)."""
    deadline = time.monotonic() + 30
    seen: list[str] = []
    while not any(needle in line for line in seen):
        assert time.monotonic() < deadline, f"no live log line; got {seen[-5:]}"
        litellm.liveliness()
        with contextlib.suppress(queue.Empty):
            seen.append(lines.get(timeout=0.5))


def test_follow_job_reports_batches_and_ends_cleanly_when_cancelled(
    docker_stack: TestStack, litellm: LiteLLMClient
) -> None:
    lines: queue.Queue[str] = queue.Queue()
    steps: set[str] = set()
    cancel = threading.Event()
    ended: queue.Queue[LogEnd | BaseException] = queue.Queue()

    def progress(step: str, _fraction: float, message: str) -> None:
        steps.add(step)
        for line in message.split("\n"):
            lines.put(line)

    with DockerControl(docker_stack.socket_proxy_url, docker_stack.container_name) as docker:

        def job() -> None:
            try:
                ended.put(follow_container_logs(docker, progress, cancel, tail=5))
            except BaseException as error:
                ended.put(error)

        worker = threading.Thread(target=job, daemon=True)
        worker.start()
        wait_for_line(lines, litellm, "GET /health/liveliness")
        cancel.set()
        end = ended.get(timeout=ENDS_WITHIN)
        worker.join(ENDS_WITHIN)

    assert not worker.is_alive()
    assert isinstance(end, LogEnd), end
    assert end.reason is LogStreamEnd.CANCELLED
    assert end.lines >= 5  # the tail, then live lines
    assert steps == {LOGS_STEP}


def test_pump_ends_when_the_tunnel_drops_and_follows_again_after(
    docker_stack: TestStack, litellm: LiteLLMClient
) -> None:
    relay = Relay(docker_stack.socket_proxy_port)
    try:
        with DockerControl.through_forward(relay.service.port, docker_stack.container_name) as dc:
            lines: queue.Queue[str] = queue.Queue()
            ends: queue.Queue[tuple[LogEnd | None, BaseException | None]] = queue.Queue()

            def emit(batch: list[str]) -> None:
                for line in batch:
                    lines.put(line)

            pump = start_log_pump(dc.follow_logs(tail=0), emit, lambda e, x: ends.put((e, x)))
            wait_for_line(lines, litellm, "GET /health/liveliness")
            relay.drop()
            end, error = ends.get(timeout=ENDS_WITHIN)
            # A cut connection reads as the end of Docker's chunked stream (ENDED) or, when cut
            # mid-chunk, as a RemoteError; either way the pump ends at once instead of hanging.
            ended = end is not None and end.reason is LogStreamEnd.ENDED and error is None
            assert ended or (end is None and isinstance(error, RemoteError)), (end, error)
            pump.stop()
            assert not pump.running

            # Reconnected: a new follow on a new connection streams again; stopping it is clean.
            again: queue.Queue[str] = queue.Queue()

            def emit_again(batch: list[str]) -> None:
                for line in batch:
                    again.put(line)

            pump = start_log_pump(dc.follow_logs(tail=0), emit_again, lambda e, x: ends.put((e, x)))
            wait_for_line(again, litellm, "GET /health/liveliness")
            pump.stop()
            end, error = ends.get(timeout=ENDS_WITHIN)
            assert error is None and end is not None and end.reason is LogStreamEnd.CANCELLED
            assert not pump.running
    finally:
        relay.close()
