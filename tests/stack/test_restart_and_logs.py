"""Docker control of the LiteLLM container through the socket-proxy: logs, state, and the restart
that ends every Apply, verified the way the product verifies it (readiness, then /v1/models).

The restart test leaves LiteLLM ready again, so tests after it see a serving LiteLLM."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest

from llmproxy_desktop.remote.docker_control import (
    ContainerState,
    ContainerStatus,
    DockerControl,
    HealthStatus,
)
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from tests.fixtures.docker_stack import BUSYBOX_IMAGE, TestStack

pytestmark = pytest.mark.integration

T = TypeVar("T")


def poll_until(what: str, probe: Callable[[], T], accept: Callable[[T], bool], timeout: float) -> T:
    """Call `probe` until `accept` takes its result; fail after `timeout` s with the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if accept(value):
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"{what} within {timeout:g} s; last: {value!r}")
        time.sleep(0.1)


def test_tail_logs_returns_the_last_lines(docker_control: DockerControl) -> None:
    recent = docker_control.tail_logs(5)
    # Fetched second: the health check may have added lines meanwhile, but none can be missing.
    everything = docker_control.tail_logs(5000)

    assert len(recent) == 5
    assert any(everything[i : i + 5] == recent for i in range(len(everything) - 4))
    assert any("Uvicorn running on" in line for line in everything)  # LiteLLM's start-up line


def test_colour_codes_in_a_containers_output_are_removed(docker_stack: TestStack) -> None:
    """LiteLLM's colour logger writes ANSI codes; the Logs page and the CLI get plain lines."""
    name = f"lpd-colours-{uuid.uuid4().hex[:8]}"
    script = r"printf '\033[92mgreen\033[0m line\r\n\033[1;31mred\033[0m\tend\n'"
    with docker_stack.direct_docker() as client:
        container = client.containers.run(
            BUSYBOX_IMAGE, ["sh", "-c", script], name=name, detach=True
        )
        try:
            assert container.wait(timeout=30)["StatusCode"] == 0
            # Straight to the private dockerd: the socket-proxy only serves the LiteLLM container.
            with DockerControl(f"unix://{docker_stack.docker_socket}", name) as docker:
                assert docker.tail_logs(10) == ["green line", "red\tend"]
                with docker.follow_logs(tail=10) as follow:
                    assert list(follow) == ["green line", "red\tend"]
        finally:
            container.remove(force=True)


def test_follow_logs_streams_new_lines(
    docker_control: DockerControl, litellm: LiteLLMClient
) -> None:
    lines: queue.Queue[str] = queue.Queue()
    with docker_control.follow_logs(tail=0) as follow:

        def read() -> None:
            for line in follow:
                lines.put(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 20
        seen: list[str] = []
        # LiteLLM logs each request it serves; make requests until one shows up in the stream.
        while not any("GET /health/liveliness" in line for line in seen):
            assert time.monotonic() < deadline, f"no live log line; got {seen[-5:]}"
            litellm.liveliness()
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=0.5))
    reader.join(timeout=10)  # close() ends the iteration in the reader thread
    assert not reader.is_alive()


def test_restart_through_the_socket_proxy_brings_litellm_back_ready(
    docker_control: DockerControl, litellm: LiteLLMClient, docker_stack: TestStack
) -> None:
    # Docker's own verdict comes from the compose file's health check (python3, no curl).
    before = poll_until(
        "Docker never reported the compose health check healthy",
        docker_control.litellm_state,
        lambda s: s.health is HealthStatus.HEALTHY,
        timeout=30,
    )
    assert before.started_at is not None

    started = time.monotonic()
    docker_control.restart_litellm(stop_timeout=10)
    just_restarted = docker_control.litellm_state()
    readiness = litellm.wait_until_ready(timeout=60)
    ready_after = time.monotonic() - started

    assert just_restarted.status is ContainerStatus.RUNNING
    assert just_restarted.started_at is not None and just_restarted.started_at > before.started_at
    # LiteLLM needs seconds to import; Docker's health check cannot have passed yet.
    assert just_restarted.health is HealthStatus.STARTING
    assert just_restarted.exit_code == 0  # the previous run ended by the graceful stop
    assert readiness.ready
    assert ready_after < 45, f"restart to ready took {ready_after:.1f} s"
    assert sorted(litellm.models()) == sorted(docker_stack.model_groups)
    after: ContainerState = poll_until(
        "Docker never reported the restarted container healthy",
        docker_control.litellm_state,
        lambda s: s.health is HealthStatus.HEALTHY,
        timeout=30,
    )
    assert after.started_at == just_restarted.started_at
    # Requested restarts are not counted by Docker (only its restart policy's are).
    assert after.restart_count == before.restart_count
