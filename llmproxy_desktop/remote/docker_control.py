"""Docker control of one stack's LiteLLM container, through the stack's socket-proxy.

The app never talks to a Docker socket: it talks HTTP to the socket-proxy (forwarded over SSH
to a local port), whose policy (socket-proxy/haproxy.cfg) allows only ping, version, and
inspect, logs and restart of the LiteLLM container addressed BY NAME. Everything here therefore
uses the docker SDK's low-level API with the container name: the high-level `Container` objects
address containers by id, which the policy refuses.

Calls the SDK makes, all allowed by the policy:
  GET  /version                            once, to agree on an API version (see below)
  GET  /_ping                              ping()
  GET  /v1.41/containers/<name>/json       litellm_state(); also before every logs call
                                           (the SDK checks whether the container has a TTY)
  GET  /v1.41/containers/<name>/logs       tail_logs(), follow_logs()
  POST /v1.41/containers/<name>/restart    restart_litellm()

Errors name their layer (errors.py): the proxy unreachable or refusing → `Layer.SOCKET_PROXY`;
Docker answering with an error → `Layer.DOCKER`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import docker
import requests
from docker.errors import APIError, DockerException
from docker.utils import version_lt

from llmproxy_desktop.core.log_text import plain_log_line
from llmproxy_desktop.remote.errors import (
    ContainerNotFound,
    DockerError,
    RemoteError,
    SocketProxyRefused,
    SocketProxyUnreachable,
)

from .closing import ClosesOnExit
from .container_state import ContainerState, ContainerStatus, HealthStatus

__all__ = [
    "DEFAULT_LITELLM_CONTAINER",
    "PREFERRED_API_VERSION",
    "REFUSAL_HEADER",
    "ContainerState",
    "ContainerStatus",
    "DockerControl",
    "HealthStatus",
    "LogFollow",
    "as_remote_error",
    "choose_api_version",
    "parse_container_state",
]

# The container name the compose file gives LiteLLM by default (LITELLM_CONTAINER in .env);
# a unit test keeps the two equal.
DEFAULT_LITELLM_CONTAINER = "litellm-proxy"

# Docker Engine 20.10's API. Every call made here exists unchanged since long before it. It is
# pinned rather than taken from the server because the SDK's "auto" would adopt whatever newer
# API the server speaks; it is only moved when the server's /version says it cannot serve 1.41
# (an older engine, or a newer one whose minimum API is above it).
PREFERRED_API_VERSION = "1.41"

# The header socket-proxy/haproxy.cfg puts on its own refusals, to tell them from a Docker 403.
REFUSAL_HEADER = "X-Socket-Proxy"

_DEFAULT_TIMEOUT = 30.0  # seconds per request; a restart adds its stop timeout on top
_ZERO_TIME = "0001-01-01T00:00:00Z"  # Docker's "never" for StartedAt/FinishedAt


def parse_container_state(inspect: dict[str, Any]) -> ContainerState:
    """Build a `ContainerState` from the JSON of GET /containers/<name>/json."""
    state = inspect.get("State") or {}
    health = state.get("Health") or {}
    finished = state.get("FinishedAt") or _ZERO_TIME
    return ContainerState(
        name=str(inspect.get("Name", "")).lstrip("/"),
        status=_enum(ContainerStatus, state.get("Status")),
        health=_enum(HealthStatus, health.get("Status")) if health else HealthStatus.NONE,
        started_at=_parse_time(state.get("StartedAt")),
        restart_count=int(inspect.get("RestartCount") or 0),
        exit_code=None if finished == _ZERO_TIME else int(state.get("ExitCode") or 0),
        image=str((inspect.get("Config") or {}).get("Image", "")),
    )


_E = TypeVar("_E", bound=StrEnum)


def choose_api_version(server_min: object, server_max: object) -> str:
    """PREFERRED_API_VERSION, moved into the server's [MinAPIVersion, ApiVersion] when outside
    it (an engine older than 20.10, or one that no longer serves 1.41)."""
    newest = str(server_max or PREFERRED_API_VERSION)
    oldest = str(server_min or newest)
    if version_lt(PREFERRED_API_VERSION, oldest):
        return oldest
    if version_lt(newest, PREFERRED_API_VERSION):
        return newest
    return PREFERRED_API_VERSION


def _enum(cls: type[_E], value: object) -> _E:
    try:
        return cls(str(value))
    except ValueError:
        return cls("unknown")


def _parse_time(value: object) -> datetime | None:
    """Docker's RFC 3339 time with nanoseconds, or None for its zero time."""
    if not isinstance(value, str) or not value or value == _ZERO_TIME:
        return None
    # Python 3.11 parses "Z" and more than six fractional digits (it keeps microseconds).
    return datetime.fromisoformat(value)


class DockerControl(ClosesOnExit):
    """Inspect, read the logs of and restart the LiteLLM container through the socket-proxy.

    `proxy_url` is the socket-proxy's address as seen from here, e.g. `tcp://127.0.0.1:<port>`
    of the SSH forward. Opening does no I/O; the first call agrees on the API version. Not
    thread-safe (one per stack worker, as the GUIDE's job queue has it), except `LogFollow.close`.
    """

    def __init__(
        self,
        proxy_url: str,
        container: str = DEFAULT_LITELLM_CONTAINER,
        *,
        api_version: str | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
    ) -> None:
        self.proxy_url = proxy_url
        self.container = container
        self.timeout = timeout
        self._address = _address_of(proxy_url)
        self._api_version = api_version  # None: agree on one at the first call
        self._client: docker.APIClient | None = None

    @classmethod
    def through_forward(
        cls, local_port: int, container: str = DEFAULT_LITELLM_CONTAINER
    ) -> DockerControl:
        """A control for a socket-proxy forwarded to `127.0.0.1:local_port`."""
        return cls(f"tcp://127.0.0.1:{local_port}", container)

    # -- the calls --------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise unless the socket-proxy answers and Docker behind it is up."""
        with _translated(self._address):
            self._api().ping()

    def litellm_state(self) -> ContainerState:
        """The LiteLLM container's status, health, start time and restart count."""
        with _translated(self._address, self.container):
            return parse_container_state(self._api().inspect_container(self.container))

    def restart_litellm(self, stop_timeout: int = 10) -> None:
        """Restart the LiteLLM container: Docker stops it gracefully (killing it after
        `stop_timeout` s) and starts it again. Returns once Docker has started it; LiteLLM needs
        a few more seconds to serve (`LiteLLMClient.wait_until_ready`)."""
        with _translated(self._address, self.container):
            self._api().restart(self.container, timeout=stop_timeout)

    def tail_logs(self, lines: int = 200, *, timestamps: bool = False) -> list[str]:
        """The last `lines` lines of the container's output (stdout and stderr interleaved)."""
        with _translated(self._address, self.container):
            raw = self._api().logs(
                self.container, stdout=True, stderr=True, tail=lines, timestamps=timestamps
            )
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return [plain_log_line(line) for line in text.splitlines()]

    def follow_logs(self, tail: int = 0, *, timestamps: bool = False) -> LogFollow:
        """A live stream of the container's output, line by line, starting with the last
        `tail` lines. It ends when the container stops (e.g. on restart: follow again) or the
        connection drops. Close it when done; `close()` may be called from another thread."""
        # Its own connection without a read timeout: a quiet LiteLLM writes nothing for minutes.
        client = self._new_client(self._version(), timeout=None)
        try:
            with _translated(self._address, self.container):
                stream = client.logs(
                    self.container,
                    stdout=True,
                    stderr=True,
                    stream=True,
                    follow=True,
                    tail=tail,
                    timestamps=timestamps,
                )
        except BaseException:
            client.close()
            raise
        return LogFollow(stream, client, self._address, self.container)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- plumbing -----------------------------------------------------------------------------

    def _api(self) -> docker.APIClient:
        if self._client is None:
            self._client = self._new_client(self._version(), timeout=self.timeout)
        return self._client

    def _version(self) -> str:
        if self._api_version is None:
            self._api_version = self._negotiate()
        return self._api_version

    def _negotiate(self) -> str:
        """PREFERRED_API_VERSION, unless the server's /version says it cannot serve it."""
        probe = self._new_client(PREFERRED_API_VERSION, timeout=self.timeout)
        try:
            with _translated(self._address):
                info = probe.version(api_version=False)
        finally:
            probe.close()
        return choose_api_version(info.get("MinAPIVersion"), info.get("ApiVersion"))

    def _new_client(self, version: str, *, timeout: float | None) -> docker.APIClient:
        try:
            client = docker.APIClient(base_url=self.proxy_url, version=version, timeout=timeout)
        except DockerException as exc:
            raise SocketProxyUnreachable(self._address, f"unusable address ({exc})") from exc
        # The forward is on loopback: an HTTP(S)_PROXY from the desktop's environment must not
        # carry Docker calls (and their answers, which include LiteLLM's environment) elsewhere.
        client.trust_env = False
        return client


class LogFollow(ClosesOnExit):
    """Iterator over live log lines of a container (see `DockerControl.follow_logs`)."""

    def __init__(self, stream: Any, client: docker.APIClient, address: str, container: str) -> None:
        self._stream = stream
        self._client = client
        self._address, self._container = address, container
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[str]:
        pending = b""
        try:
            # One chunk is one write of the container, which may hold several lines or part
            # of one; lines are cut here.
            for chunk in self._stream:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield plain_log_line(line.decode("utf-8", "replace"))
        except (requests.RequestException, OSError) as exc:
            # After close() the broken stream is expected; before, it is a failure to report.
            if not self._closed.is_set():
                if isinstance(exc, requests.RequestException):
                    raise as_remote_error(exc, self._address, self._container) from exc
                raise SocketProxyUnreachable(self._address, f"log stream broke: {exc}") from exc
        if pending:
            yield plain_log_line(pending.decode("utf-8", "replace"))

    def close(self) -> None:
        """Stop following; a thread blocked in the iteration returns."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._stream.close()
        self._client.close()


# -- error translation -----------------------------------------------------------------------


def _address_of(proxy_url: str) -> str:
    parts = urlsplit(proxy_url)
    return parts.netloc or proxy_url


class _translated:
    """Turn what the docker SDK and requests raise into layered `RemoteError`s."""

    def __init__(self, address: str, container: str | None = None) -> None:
        self.address, self.container = address, container

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, RemoteError):
            return
        if isinstance(exc, requests.RequestException | DockerException):
            raise as_remote_error(exc, self.address, self.container) from exc


def as_remote_error(
    exc: requests.RequestException | DockerException, address: str, container: str | None = None
) -> RemoteError:
    """The layered error for an exception the docker SDK raised talking to the socket-proxy at
    `address`. Public so that code (and tests) using the SDK directly can classify failures."""
    if isinstance(exc, APIError) and exc.response is not None:
        return _from_response(exc, exc.response, container)
    if isinstance(exc, requests.ConnectionError):
        # ConnectTimeout lands here too: both mean the forward or the proxy is not there.
        return SocketProxyUnreachable(address, _reason(exc))
    if isinstance(exc, requests.Timeout):
        return DockerError(f"Docker did not answer through the socket-proxy in time ({exc}).")
    return DockerError(f"Docker API call failed: {exc}")


def _from_response(
    exc: APIError, response: requests.Response, container: str | None
) -> RemoteError:
    status = response.status_code
    request = response.request
    method = str(request.method) if request is not None else "?"
    path = urlsplit(str(request.url if request is not None else response.url)).path
    if status == 403 and response.headers.get(REFUSAL_HEADER, "").lower() == "refused":
        return SocketProxyRefused(method, path)
    if status == 404 and container is not None and "/containers/" in path:
        return ContainerNotFound(container)
    if status in (502, 503, 504) and not _is_docker_answer(response):
        # HAProxy's own answer: the proxy runs, but the Docker daemon behind it does not answer.
        return DockerError(
            f"The socket-proxy cannot reach the Docker daemon (HTTP {status} for {method} "
            f"{path}). Is Docker running on the stack's host?"
        )
    explanation = exc.explanation or response.reason or ""
    return DockerError(f"Docker refused {method} {path} (HTTP {status}): {explanation}")


def _is_docker_answer(response: requests.Response) -> bool:
    # dockerd stamps every response of its API with its API version.
    return "Api-Version" in response.headers


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Connection reset", "Name or service"):
        if marker in text:
            return marker.lower()
    return text
