"""The socket-proxy policy (socket-proxy/haproxy.cfg), exercised with the docker SDK and raw HTTP
against the real dockerd: only ping, version, and inspect, logs and restart of the LiteLLM
container by name get through; everything else is refused by the proxy, and says so.

Nothing here restarts LiteLLM: a refused call never reaches Docker, and the allowed calls used
here only read."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from docker.errors import APIError

from llmproxy_desktop.remote.docker_control import (
    REFUSAL_HEADER,
    DockerControl,
    as_remote_error,
)
from llmproxy_desktop.remote.errors import (
    ContainerNotFound,
    DockerError,
    Layer,
    SocketProxyRefused,
    SocketProxyUnreachable,
)
from tests.fixtures.docker_stack import BUSYBOX_IMAGE, TestStack, free_port, run_socket_proxy

pytestmark = pytest.mark.integration

REFUSAL_TEXT = "refused by the LLM-Proxy socket-proxy"


@pytest.fixture(scope="module")
def sdk(docker_stack: TestStack) -> Iterator[docker.DockerClient]:
    """The plain docker SDK pointed at the socket-proxy, as any client of the forwarded port."""
    client = docker.DockerClient(base_url=docker_stack.socket_proxy_url, version="1.41")
    yield client
    client.close()


def _assert_refused(call: Callable[[], Any]) -> SocketProxyRefused:
    with pytest.raises(APIError) as info:
        call()
    error = info.value
    assert error.response is not None
    assert error.response.status_code == 403
    assert error.response.headers[REFUSAL_HEADER] == "refused"
    assert REFUSAL_TEXT in str(error)  # what a plain docker SDK user sees
    layered = as_remote_error(error, "socket-proxy")
    assert isinstance(layered, SocketProxyRefused)
    assert layered.layer is Layer.SOCKET_PROXY
    assert "socket-proxy refused" in str(layered)
    return layered


# -- refused through the docker SDK ------------------------------------------------------------

FORBIDDEN: dict[str, Callable[[docker.DockerClient, str, str], Any]] = {
    # Creating a (privileged) container is root on the host: the reason for this policy.
    "create a container": lambda sdk, name, other: sdk.containers.create(
        BUSYBOX_IMAGE, ["sh"], privileged=True, network_mode="none"
    ),
    "exec in the LiteLLM container": lambda sdk, name, other: sdk.api.exec_create(name, "id"),
    "list images": lambda sdk, name, other: sdk.images.list(),
    "list containers": lambda sdk, name, other: sdk.containers.list(all=True),
    "system info": lambda sdk, name, other: sdk.info(),
    "list networks": lambda sdk, name, other: sdk.networks.list(),
    "list volumes": lambda sdk, name, other: sdk.volumes.list(),
    "prune containers": lambda sdk, name, other: sdk.containers.prune(),
    "restart another container": lambda sdk, name, other: sdk.api.restart(other, timeout=1),
    "inspect another container": lambda sdk, name, other: sdk.api.inspect_container(other),
    "logs of another container": lambda sdk, name, other: sdk.api.logs(other),
    "kill LiteLLM": lambda sdk, name, other: sdk.api.kill(name),
    "stop LiteLLM": lambda sdk, name, other: sdk.api.stop(name, timeout=1),
    "remove LiteLLM": lambda sdk, name, other: sdk.api.remove_container(name, force=True),
    "rename LiteLLM": lambda sdk, name, other: sdk.api.rename(name, "taken-over"),
    "update LiteLLM": lambda sdk, name, other: sdk.api.update_container(name, mem_limit="8m"),
    "attach to LiteLLM": lambda sdk, name, other: sdk.api.attach(name),
    "write files into LiteLLM": lambda sdk, name, other: sdk.api.put_archive(name, "/tmp", b""),
    "restart LiteLLM by upper-case name": lambda sdk, name, other: sdk.api.restart(name.upper()),
}


@pytest.mark.parametrize("call", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_socket_proxy_refuses_forbidden_docker_calls(
    sdk: docker.DockerClient,
    docker_stack: TestStack,
    bystander: str,
    call: Callable[[docker.DockerClient, str, str], Any],
) -> None:
    _assert_refused(lambda: call(sdk, docker_stack.container_name, bystander))


def test_socket_proxy_refuses_the_litellm_container_by_id(
    sdk: docker.DockerClient, docker_stack: TestStack
) -> None:
    container_id = sdk.api.inspect_container(docker_stack.container_name)["Id"]

    refusal = _assert_refused(lambda: sdk.api.restart(container_id, timeout=1))

    assert refusal.method == "POST"
    assert refusal.path == f"/v1.41/containers/{container_id}/restart"


def test_created_container_never_reached_docker(
    sdk: docker.DockerClient, docker_stack: TestStack, bystander: str
) -> None:
    _assert_refused(lambda: sdk.containers.create(BUSYBOX_IMAGE, ["true"], name="escape"))

    with docker_stack.direct_docker() as direct:
        names = {c.name for c in direct.containers.list(all=True)}
    assert names == {docker_stack.container_name, bystander}


# -- path tricks, sent byte for byte ------------------------------------------------------------


def _raw_request(port: int, method: str, target: str) -> tuple[int, str]:
    """One HTTP/1.1 request with the request target exactly as given (no client normalises
    `..` or percent-escapes). Returns the status and the X-Socket-Proxy header."""
    request = (
        f"{method} {target} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    marker = {k.lower(): v for k, v in headers.items()}.get(REFUSAL_HEADER.lower(), "")
    return int(head[0].split()[1]), marker


PATH_TRICKS = {
    "dot-dot": "POST /v1.41/containers/{name}/../{other}/restart",
    "dot-dot in the name": "POST /v1.41/containers/../containers/{name}/restart",
    "encoded slash": "POST /v1.41/containers/{name}%2F..%2F{other}/restart",
    "encoded name": "POST /v1.41/containers/litellm%2Dproxy/restart",
    "upper-case section": "POST /v1.41/CONTAINERS/{name}/restart",
    "upper-case version": "POST /V1.41/containers/{name}/restart",
    "upper-case name": "POST /v1.41/containers/{upper}/restart",
    "double slash": "POST /v1.41//containers/{name}/restart",
    "trailing slash": "POST /v1.41/containers/{name}/restart/",
    "double version": "POST /v1.41/v1.41/containers/{name}/restart",
    "name prefix": "POST /v1.41/containers/{other}/restart",
    "create behind json": "POST /v1.41/containers/{name}/json/../../create",
    "absolute form": "POST http://docker/v1.41/containers/create",
    "restart by GET": "GET /v1.41/containers/{name}/restart",
    "inspect by POST": "POST /v1.41/containers/{name}/json",
    "exec start": "POST /v1.41/exec/0123456789ab/start",
}


@pytest.mark.parametrize("trick", PATH_TRICKS.values(), ids=PATH_TRICKS.keys())
def test_socket_proxy_refuses_path_tricks(
    docker_stack: TestStack, bystander: str, trick: str
) -> None:
    name = docker_stack.container_name
    method, target = trick.format(name=name, other=bystander, upper=name.upper()).split(" ", 1)

    status, marker = _raw_request(docker_stack.socket_proxy_port, method, target)

    assert (status, marker) == (403, "refused")


# -- allowed -----------------------------------------------------------------------------------


def test_socket_proxy_allows_ping_version_inspect_and_logs(
    sdk: docker.DockerClient, docker_stack: TestStack
) -> None:
    name = docker_stack.container_name

    assert sdk.ping() is True
    assert sdk.version()["ApiVersion"]
    assert sdk.api.version(api_version=False)["ApiVersion"]  # unversioned /version
    assert sdk.api.inspect_container(name)["Name"] == f"/{name}"
    assert sdk.api.logs(name, tail=5)
    head = httpx.head(f"http://127.0.0.1:{docker_stack.socket_proxy_port}/_ping")
    assert head.status_code == 200  # the docker CLI's first call


def test_docker_control_reads_state_through_the_socket_proxy(
    docker_control: DockerControl, docker_stack: TestStack
) -> None:
    docker_control.ping()
    state = docker_control.litellm_state()

    assert state.name == docker_stack.container_name
    assert state.running
    assert state.started_at is not None
    assert state.image == BUSYBOX_IMAGE


def test_docker_control_for_another_container_is_refused_by_name(
    docker_stack: TestStack, bystander: str
) -> None:
    with (
        DockerControl(docker_stack.socket_proxy_url, bystander) as control,
        pytest.raises(SocketProxyRefused) as info,
    ):
        control.restart_litellm(stop_timeout=1)

    assert info.value.method == "POST"
    assert info.value.path == f"/v1.41/containers/{bystander}/restart"
    assert "LITELLM_CONTAINER" in str(info.value)  # tells the admin what to check


# -- failures of the layers around the proxy ---------------------------------------------------


def test_unreachable_socket_proxy_is_a_socket_proxy_error() -> None:
    with (
        DockerControl(f"tcp://127.0.0.1:{free_port()}") as control,
        pytest.raises(SocketProxyUnreachable) as info,
    ):
        control.litellm_state()

    assert info.value.layer is Layer.SOCKET_PROXY
    assert "connection refused" in str(info.value)


def test_docker_down_behind_the_proxy_is_a_docker_error(docker_stack: TestStack) -> None:
    with tempfile.TemporaryDirectory(prefix="lpd-", dir="/tmp") as work:
        dead_socket = Path(work) / "absent.sock"
        with (
            run_socket_proxy(
                dead_socket, docker_stack.container_name, Path(work), expect_docker=False
            ) as proxy,
            DockerControl(proxy.url, docker_stack.container_name) as control,
            pytest.raises(DockerError) as info,
        ):
            control.litellm_state()

    assert info.value.layer is Layer.DOCKER
    assert "cannot reach the Docker daemon" in str(info.value)


def test_missing_container_is_named_as_such(docker_stack: TestStack) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="lpd-", dir="/tmp") as work,
        run_socket_proxy(docker_stack.docker_socket, "litellm-absent", Path(work)) as proxy,
        DockerControl(proxy.url, "litellm-absent") as control,
        pytest.raises(ContainerNotFound) as info,
    ):
        control.litellm_state()

    assert info.value.layer is Layer.DOCKER
    assert "litellm-absent" in str(info.value)
