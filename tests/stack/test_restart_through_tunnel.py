"""The product path end to end: one SSH session to the stack's host, a forward to the
socket-proxy and one to LiteLLM, a restart through the first, readiness through the second.

The SSH server is a real sshd on loopback (tests/fixtures/sshd.py); "the stack's host" is this
machine, so the forwards point at the test stack's loopback ports, as on a server they point at
the ports compose publishes on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmproxy_desktop.remote.docker_control import DockerControl, HealthStatus
from llmproxy_desktop.remote.errors import SocketProxyRefused
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from llmproxy_desktop.remote.ssh_session import SshSession
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer, running_sshd, trusting_session

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack_host_sshd(openssh_root: Path, client_keys: ClientKeys) -> Iterator[SshdServer]:
    """The stack host's SSH server (root with the plain client key)."""
    with running_sshd(openssh_root / "stack-host", client_keys) as server:
        yield server


@pytest.fixture
def session(stack_host_sshd: SshdServer, tmp_path: Path) -> Iterator[SshSession]:
    with trusting_session(stack_host_sshd, tmp_path) as connected:
        yield connected


def test_restart_through_the_ssh_tunnel_brings_litellm_back_ready(
    session: SshSession, docker_stack: TestStack, bystander: str
) -> None:
    proxy = session.forward("127.0.0.1", docker_stack.socket_proxy_port, probe=True)
    api = session.forward("127.0.0.1", docker_stack.litellm_port, probe=True)
    with (
        DockerControl.through_forward(proxy.local_port, docker_stack.container_name) as control,
        LiteLLMClient.through_forward(api.local_port, docker_stack.master_key) as litellm,
    ):
        before = control.litellm_state()

        started = time.monotonic()
        control.restart_litellm()
        readiness = litellm.wait_until_ready(timeout=60)
        ready_after = time.monotonic() - started

        after = control.litellm_state()
        assert readiness.ready
        assert ready_after < 45, f"restart to ready took {ready_after:.1f} s"
        assert before.started_at is not None and after.started_at is not None
        assert after.started_at > before.started_at
        assert after.health in (HealthStatus.STARTING, HealthStatus.HEALTHY)
        assert sorted(litellm.models()) == sorted(docker_stack.model_groups)
        assert litellm.cache_ping().healthy

    # The tunnel adds reach, not rights: the policy still refuses everything else.
    with (
        DockerControl.through_forward(proxy.local_port, bystander) as other,
        pytest.raises(SocketProxyRefused),
    ):
        other.restart_litellm(stop_timeout=1)
