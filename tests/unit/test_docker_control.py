"""The pure parts of docker_control: reading Docker's inspect JSON, choosing the API version, and
naming the layer of a failure. The calls themselves run against the real socket-proxy and
dockerd in tests/stack/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from docker.errors import APIError, NotFound

from llmproxy_desktop.remote.docker_control import (
    PREFERRED_API_VERSION,
    ContainerStatus,
    HealthStatus,
    as_remote_error,
    choose_api_version,
    parse_container_state,
)
from llmproxy_desktop.remote.errors import (
    ContainerNotFound,
    DockerError,
    Layer,
    SocketProxyRefused,
    SocketProxyUnreachable,
)

INSPECT = {
    "Name": "/litellm-proxy",
    "RestartCount": 2,
    "State": {
        "Status": "running",
        "StartedAt": "2026-11-27T07:49:46.821341123Z",
        "FinishedAt": "2026-11-27T07:49:44.5Z",
        "ExitCode": 0,
        "Health": {"Status": "healthy", "FailingStreak": 0, "Log": []},
    },
    "Config": {"Image": "ghcr.io/berriai/litellm:v1.108.7"},
}


def test_parse_container_state_reads_status_health_and_times() -> None:
    state = parse_container_state(INSPECT)

    assert state.name == "litellm-proxy"
    assert state.status is ContainerStatus.RUNNING and state.running
    assert state.health is HealthStatus.HEALTHY
    assert state.started_at == datetime(2026, 11, 27, 7, 49, 46, 821341, tzinfo=UTC)
    assert state.restart_count == 2
    assert state.exit_code == 0
    assert state.image == "ghcr.io/berriai/litellm:v1.108.7"


def test_parse_container_state_of_a_never_started_container_without_healthcheck() -> None:
    state = parse_container_state(
        {
            "Name": "/x",
            "State": {
                "Status": "created",
                "StartedAt": "0001-01-01T00:00:00Z",
                "FinishedAt": "0001-01-01T00:00:00Z",
                "ExitCode": 0,
            },
        }
    )

    assert state.status is ContainerStatus.CREATED
    assert state.health is HealthStatus.NONE
    assert state.started_at is None
    assert state.exit_code is None


def test_unknown_states_do_not_crash() -> None:
    state = parse_container_state({"State": {"Status": "hibernating", "Health": {"Status": "?"}}})

    assert state.status is ContainerStatus.UNKNOWN
    assert state.health is HealthStatus.UNKNOWN


@pytest.mark.parametrize(
    ("server_min", "server_max", "chosen"),
    [
        ("1.12", "1.41", PREFERRED_API_VERSION),  # Debian 12's Docker 20.10
        ("1.24", "1.47", PREFERRED_API_VERSION),  # Docker 27
        ("1.44", "1.51", "1.44"),  # an engine that no longer serves 1.41
        ("1.12", "1.40", "1.40"),  # older than 20.10
        (None, None, PREFERRED_API_VERSION),
    ],
)
def test_choose_api_version_keeps_the_pin_when_the_server_can(
    server_min: str | None, server_max: str | None, chosen: str
) -> None:
    assert choose_api_version(server_min, server_max) == chosen


def _api_error(
    status: int, method: str, url: str, headers: dict[str, str] | None = None
) -> APIError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response.url = url
    response.request = requests.Request(method, url).prepare()
    cls = NotFound if status == 404 else APIError
    return cls("error", response=response, explanation="from the server")


def test_a_403_marked_by_the_proxy_is_a_refusal_naming_method_and_path() -> None:
    error = _api_error(
        403, "POST", "http://127.0.0.1:2375/v1.41/containers/create", {"X-Socket-Proxy": "refused"}
    )

    refusal = as_remote_error(error, "127.0.0.1:2375")

    assert isinstance(refusal, SocketProxyRefused)
    assert refusal.layer is Layer.SOCKET_PROXY
    assert (refusal.method, refusal.path) == ("POST", "/v1.41/containers/create")


def test_a_403_of_docker_itself_is_a_docker_error() -> None:
    error = _api_error(403, "POST", "http://h/v1.41/containers/x/restart", {"Api-Version": "1.41"})

    result = as_remote_error(error, "h", "x")

    assert type(result) is DockerError
    assert result.layer is Layer.DOCKER


def test_a_404_for_the_container_names_it() -> None:
    error = _api_error(404, "GET", "http://h/v1.41/containers/litellm-proxy/json")

    result = as_remote_error(error, "h", "litellm-proxy")

    assert isinstance(result, ContainerNotFound)
    assert "litellm-proxy" in str(result)


def test_a_503_of_the_proxy_means_docker_is_down_behind_it() -> None:
    error = _api_error(503, "GET", "http://h/v1.41/containers/litellm-proxy/json")

    result = as_remote_error(error, "h", "litellm-proxy")

    assert result.layer is Layer.DOCKER
    assert "cannot reach the Docker daemon" in str(result)


def test_connection_failures_are_the_socket_proxy_layer() -> None:
    result = as_remote_error(requests.ConnectionError("[Errno 111] Connection refused"), "h:1")

    assert isinstance(result, SocketProxyUnreachable)
    assert result.layer is Layer.SOCKET_PROXY
    assert "connection refused" in str(result)


def test_read_timeouts_are_the_docker_layer() -> None:
    result = as_remote_error(requests.ReadTimeout("read timed out"), "h:1")

    assert result.layer is Layer.DOCKER


def test_docker_calls_ignore_proxy_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmproxy_desktop.remote.docker_control import DockerControl

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    control = DockerControl.through_forward(9, "litellm-proxy")
    client = control._new_client("1.41", timeout=1)
    assert client.trust_env is False
    assert client.proxies == {} or not any(client.proxies.values())
