"""Stack tests: the real test stack of tests/fixtures/docker_stack.py, started once per session
(dockerd, the repository's socket-proxy policy in HAProxy, LiteLLM 1.108.7 as a container, a
fake upstream, Redis). Tests that restart LiteLLM wait until it is ready again before they end,
so the order of tests does not matter for correctness; it only matters for time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmproxy_desktop.remote.docker_control import DockerControl
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from tests.fixtures.docker_stack import BUSYBOX_IMAGE, TestStack, docker_stack
from tests.fixtures.sshd import client_keys, openssh_root

# Re-exported: pytest finds fixtures by name in this module. The SSH ones serve the restart
# through an SSH tunnel (test_restart_through_tunnel.py).
__all__ = ["client_keys", "docker_stack", "openssh_root"]

BYSTANDER = "litellm-proxy-bystander"  # starts with the LiteLLM name, on purpose


@pytest.fixture(scope="session")
def docker_control(docker_stack: TestStack) -> Iterator[DockerControl]:
    """The product's Docker control, through the socket-proxy (as through an SSH forward)."""
    with DockerControl(docker_stack.socket_proxy_url, docker_stack.container_name) as control:
        yield control


@pytest.fixture(scope="session")
def litellm(docker_stack: TestStack) -> Iterator[LiteLLMClient]:
    with LiteLLMClient(docker_stack.litellm_url, docker_stack.master_key) as client:
        yield client


@pytest.fixture(scope="session")
def bystander(docker_stack: TestStack) -> str:
    """Another container on the same Docker host, which the policy must not let anyone touch.
    Created directly on the private socket; the stack's teardown removes it."""
    with docker_stack.direct_docker() as client:
        container = client.containers.create(
            BUSYBOX_IMAGE, ["sleep", "3600"], name=BYSTANDER, network_mode="none"
        )
        container.start()
    return BYSTANDER
