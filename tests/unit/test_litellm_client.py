"""LiteLLMClient against a double of the HTTP layer (httpx.MockTransport): the rules that must
hold for every answer LiteLLM could give, above all that plain /health (a billed call to every
model) is never requested. The real LiteLLM is exercised in tests/stack/."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable

import httpx
import pytest

from llmproxy_desktop.remote.errors import Layer, LiteLLMDown, LiteLLMError, MasterKeyRefused
from llmproxy_desktop.remote.litellm_client import LiteLLMClient

KEY = "sk-master-0123456789abcdef"
BASE = "http://127.0.0.1:4000"

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, seen: list[httpx.Request] | None = None) -> LiteLLMClient:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return LiteLLMClient(BASE, KEY, transport=httpx.MockTransport(record))


def _error(status: int, error_type: str, message: str) -> httpx.Response:
    body = {"error": {"message": message, "type": error_type, "param": None, "code": str(status)}}
    return httpx.Response(status, json=body)


def healthy_litellm(request: httpx.Request) -> httpx.Response:
    """A LiteLLM that answers everything well; plain /health would be a billed call."""
    path = request.url.path
    if path == "/health/readiness":
        return httpx.Response(200, json={"status": "healthy", "db": "connected"})
    if path == "/health/liveliness":
        return httpx.Response(200, json="I'm alive!")
    if path == "/v1/models":
        return httpx.Response(200, json={"data": [{"id": "a"}, {"id": "b"}], "object": "list"})
    if path == "/cache/ping":
        return httpx.Response(
            200, json={"status": "healthy", "cache_type": "redis", "ping_response": True}
        )
    return httpx.Response(404)


def test_no_call_ever_requests_plain_health() -> None:
    """Every public call, in success and failure, never touches /health itself."""
    seen: list[httpx.Request] = []
    responses: list[Handler] = [
        healthy_litellm,
        lambda r: _error(401, "auth_error", "bad key"),
        lambda r: httpx.Response(503, json={"status": "shutting_down"}),
        lambda r: httpx.Response(307, headers={"Location": f"{BASE}/health"}),
        lambda r: httpx.Response(500, text="oops"),
    ]
    for handler in responses:
        with _client(handler, seen) as client:
            for call in (client.readiness, client.liveliness, client.models, client.cache_ping):
                with contextlib.suppress(LiteLLMError):
                    call()
            with contextlib.suppress(LiteLLMError):
                client.wait_until_ready(timeout=0.05, poll=0.01)

    paths = {request.url.path for request in seen}
    assert "/health" not in paths
    assert paths == {"/health/readiness", "/health/liveliness", "/v1/models", "/cache/ping"}


def test_the_master_key_goes_only_to_admin_calls() -> None:
    seen: list[httpx.Request] = []
    with _client(healthy_litellm, seen) as client:
        client.readiness()
        client.liveliness()
        client.models()
        client.cache_ping()

    keyed = {r.url.path for r in seen if r.headers.get("Authorization") == f"Bearer {KEY}"}
    assert keyed == {"/v1/models", "/cache/ping"}
    assert all("Authorization" not in r.headers for r in seen if r.url.path.startswith("/health"))


def test_the_master_key_is_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with _client(lambda r: _error(401, "auth_error", f"Invalid key {KEY}")) as client:
        with pytest.raises(MasterKeyRefused) as info:
            client.models()
        shown = [repr(client), str(info.value), repr(info.value), caplog.text]

    assert all(KEY not in text for text in shown)


def test_readiness_parses_a_ready_litellm() -> None:
    with _client(healthy_litellm) as client:
        readiness = client.readiness()

    assert readiness.ready and readiness.status == "healthy" and readiness.db == "connected"
    assert readiness.http_status == 200


def test_readiness_503_is_not_ready_rather_than_an_error() -> None:
    with _client(
        lambda r: httpx.Response(503, json={"status": "healthy", "db": "disconnected"})
    ) as c:
        readiness = c.readiness()

    assert not readiness.ready
    assert readiness.db == "disconnected"


def test_models_returns_the_public_names() -> None:
    with _client(healthy_litellm) as client:
        assert client.models() == ["a", "b"]


@pytest.mark.parametrize(
    ("status", "error_type"), [(401, "auth_error"), (400, "no_db_connection"), (403, "auth_error")]
)
def test_key_errors_become_master_key_refused(status: int, error_type: str) -> None:
    with (
        _client(lambda r: _error(status, error_type, "No connected db.")) as client,
        pytest.raises(MasterKeyRefused) as info,
    ):
        client.models()

    assert info.value.layer is Layer.LITELLM
    assert info.value.status == status
    assert "master key" in str(info.value)


def test_other_400_is_not_blamed_on_the_key() -> None:
    with (
        _client(lambda r: _error(400, "invalid_request_error", "bad model")) as client,
        pytest.raises(LiteLLMError) as info,
    ):
        client.models()

    assert not isinstance(info.value, MasterKeyRefused)
    assert "HTTP 400" in str(info.value) and "bad model" in str(info.value)


def test_cache_not_configured_is_an_unhealthy_result() -> None:
    inner = json.dumps({"message": "Cache not initialized. litellm.cache is None"})
    with _client(lambda r: _error(503, "cache_ping_error", inner)) as client:
        cache = client.cache_ping()

    assert not cache.healthy
    assert cache.cache_type is None
    assert cache.detail == "Cache not initialized. litellm.cache is None"


def test_cache_ping_healthy() -> None:
    with _client(healthy_litellm) as client:
        cache = client.cache_ping()

    assert cache.healthy and cache.cache_type == "redis"


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _stall(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("handler", "reason"), [(_refuse, "connection refused"), (_stall, "in time")]
)
def test_transport_failures_are_litellm_down(handler: Handler, reason: str) -> None:
    with _client(handler) as client, pytest.raises(LiteLLMDown) as info:
        client.readiness()

    assert info.value.layer is Layer.LITELLM
    assert reason in str(info.value)


def test_wait_until_ready_polls_until_ready() -> None:
    answers = iter(
        [
            _refuse,
            lambda r: httpx.Response(503, json={"status": "shutting_down"}),
            healthy_litellm,
        ]
    )
    seen: list[httpx.Request] = []
    with _client(lambda r: next(answers)(r), seen) as client:
        readiness = client.wait_until_ready(timeout=5, poll=0.01)

    assert readiness.ready
    assert len(seen) == 3


def test_wait_until_ready_gives_up_with_the_last_observation() -> None:
    with (
        _client(lambda r: httpx.Response(503, json={"status": "shutting_down"})) as client,
        pytest.raises(LiteLLMDown) as info,
    ):
        client.wait_until_ready(timeout=0.05, poll=0.01)

    assert "not ready after 0.05 s" in str(info.value)
    assert "shutting_down" in str(info.value)


def test_redirects_are_not_followed() -> None:
    seen: list[httpx.Request] = []
    with (
        _client(lambda r: httpx.Response(307, headers={"Location": f"{BASE}/health"}), seen) as c,
        pytest.raises(LiteLLMError),
    ):
        c.models()

    assert [r.url.path for r in seen] == ["/v1/models"]
