"""A thin, synchronous HTTP client for the few LiteLLM endpoints the app needs.

Base URL: LiteLLM's port as forwarded over SSH (`http://127.0.0.1:<port>`). The master key goes
in the Authorization header of the calls that need it, and nowhere else: not in reprs, not in
error messages, not in logs (httpx logs the request line, never headers).

Deliberately NOT here: plain `GET /health`. LiteLLM answers it by sending a real, billed
completion to every deployment (litellm.md §2.11). Liveness and readiness are
`/health/liveliness` and `/health/readiness`; a per-model health call belongs behind an explicit
user action, and a unit test asserts that nothing in this client requests `/health`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from llmproxy_desktop.remote.errors import LiteLLMDown, LiteLLMError, MasterKeyRefused

from .closing import ClosesOnExit
from .litellm_status import CacheStatus, ChatTest, Readiness

__all__ = ["CacheStatus", "ChatTest", "LiteLLMClient", "Readiness"]

_DEFAULT_TIMEOUT = 10.0  # seconds per request


class LiteLLMClient(ClosesOnExit):
    """The app's client for one stack's LiteLLM. Not thread-safe; one per stack worker."""

    def __init__(
        self,
        base_url: str,
        master_key: str,
        *,
        timeout: float = _DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._master_key = master_key
        # Redirects are not followed: a redirect to /health would be a billed call.
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            # The forward is to loopback; a proxy from the environment must not intercept it.
            trust_env=False,
        )

    @classmethod
    def through_forward(cls, local_port: int, master_key: str) -> LiteLLMClient:
        """A client for LiteLLM forwarded to `127.0.0.1:local_port`."""
        return cls(f"http://127.0.0.1:{local_port}", master_key)

    def __repr__(self) -> str:
        return f"LiteLLMClient({self.base_url!r}, master_key=***)"

    # -- public (no key) ----------------------------------------------------------------------

    def readiness(self) -> Readiness:
        """GET /health/readiness (public). Raises `LiteLLMDown` when nothing answers."""
        response = self._get("/health/readiness", authenticated=False)
        if response.status_code not in (200, 503):
            raise _unexpected(response)
        body = _json_object(response)
        status = str(body.get("status", ""))
        db = body.get("db")
        return Readiness(
            ready=response.status_code == 200 and status == "healthy",
            status=status,
            db=None if db is None else str(db),
            http_status=response.status_code,
            # Only when the admin made the public answer detailed; else `version()` asks.
            version=_optional_str(body.get("litellm_version")),
        )

    def version(self) -> str | None:
        """LiteLLM's version, from GET /health/readiness/details (master key; the public
        readiness answer no longer carries it). None when LiteLLM does not say."""
        response = self._get("/health/readiness/details", authenticated=True)
        if response.status_code not in (200, 503):
            raise _unexpected(response)
        return _optional_str(_json_object(response).get("litellm_version"))

    def liveliness(self) -> bool:
        """GET /health/liveliness (public): True when the process answers "I'm alive!".
        Raises `LiteLLMDown` when nothing answers."""
        return self._get("/health/liveliness", authenticated=False).status_code == 200

    def wait_until_ready(self, timeout: float = 60.0, poll: float = 0.25) -> Readiness:
        """Poll readiness until LiteLLM serves, e.g. after a restart; the app's verify step.

        Returns the first ready answer. Raises `LiteLLMDown` with the last observation if it is
        not ready within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                readiness = self.readiness()
                if readiness.ready:
                    return readiness
                last = f"not ready (HTTP {readiness.http_status}, status {readiness.status!r})"
            except LiteLLMDown as exc:
                last = exc.reason
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LiteLLMDown(self.base_url, f"not ready after {timeout:g} s; last: {last}")
            time.sleep(min(poll, remaining))

    # -- admin (master key) -------------------------------------------------------------------

    def models(self) -> list[str]:
        """GET /v1/models: the public model names (model groups) LiteLLM serves."""
        response = self._get("/v1/models", authenticated=True)
        if response.status_code != 200:
            raise _unexpected(response)
        data = _json_object(response).get("data")
        if not isinstance(data, list):
            raise LiteLLMError("LiteLLM's /v1/models answer has no 'data' list.")
        return [str(entry["id"]) for entry in data if isinstance(entry, dict) and "id" in entry]

    def cache_ping(self) -> CacheStatus:
        """GET /cache/ping: whether LiteLLM's cache answers. An unhealthy or missing cache is a
        result (healthy=False), not an error: LiteLLM itself still serves, uncached."""
        response = self._get("/cache/ping", authenticated=True)
        body = _json_object(response)
        if response.status_code == 200:
            return CacheStatus(
                healthy=str(body.get("status", "")).lower() == "healthy",
                cache_type=_optional_str(body.get("cache_type")),
                detail=str(body.get("ping_response", "")),
            )
        if response.status_code == 503:
            message = _error_message(body)
            not_configured = "not initialized" in message.lower()
            return CacheStatus(
                healthy=False,
                cache_type=None if not_configured else _optional_str(body.get("cache_type")),
                detail=message or "cache unavailable",
            )
        raise _unexpected(response)

    def chat_test(self, model_group: str, timeout: float = 60.0) -> ChatTest:
        """POST one tiny chat completion to `model_group` through the proxy: the Models page's
        "Test". It is a real, billed upstream call of a few tokens; the admin asks for it.

        Returns the latency and the reply's first line; raises LiteLLMDown when nothing answers
        and LiteLLMError with LiteLLM's own message when the model fails (wrong key, upstream
        down, unknown group).
        """
        body = {
            "model": model_group,
            "messages": [{"role": "user", "content": "Reply with the word OK."}],
            "max_tokens": 5,
        }
        headers = {"Authorization": f"Bearer {self._master_key}"}
        started = time.monotonic()
        try:
            response = self._http.post(
                "/v1/chat/completions", json=body, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException as exc:
            raise LiteLLMDown(self.base_url, f"no answer in {timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise LiteLLMDown(self.base_url, _transport_reason(exc)) from exc
        latency = time.monotonic() - started
        if response.status_code != 200:
            raise _unexpected(response)
        return ChatTest(latency, _first_reply_line(_json_object(response)))

    def admin_request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One admin call with the master key, for the endpoint modules built on this client
        (remote/litellm_keys.py). Raises LiteLLMDown when nothing answers and MasterKeyRefused
        when the key is refused; any other answer is returned for the caller to read."""
        return self._send(method, path, authenticated=True, params=params, body=body)

    # -- plumbing -----------------------------------------------------------------------------

    def _get(self, path: str, *, authenticated: bool) -> httpx.Response:
        return self._send("GET", path, authenticated=authenticated)

    def _send(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._master_key}"} if authenticated else None
        try:
            response = self._http.request(method, path, headers=headers, params=params, json=body)
        except httpx.TimeoutException as exc:
            raise LiteLLMDown(self.base_url, f"no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise LiteLLMDown(self.base_url, _transport_reason(exc)) from exc
        if authenticated and response.status_code in (400, 401, 403):
            error_type = _error_type(response)
            # Without a database LiteLLM answers any key but its master key with 400
            # "No connected db." (litellm.md §3.1); with one, 401.
            if response.status_code != 400 or error_type == "no_db_connection":
                raise MasterKeyRefused(response.status_code, error_type)
        return response

    def close(self) -> None:
        self._http.close()


def _first_reply_line(body: dict[str, Any]) -> str:
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            lines = message["content"].strip().splitlines()
            return lines[0][:200] if lines else ""
    return ""


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_fields(body: dict[str, Any]) -> dict[str, Any]:
    error = body.get("error")
    if isinstance(error, dict):
        return error
    detail = body.get("detail")  # FastAPI-style errors of some routes
    return detail if isinstance(detail, dict) else {}


def _error_type(response: httpx.Response) -> str:
    return str(_error_fields(_json_object(response)).get("type") or "")


def _error_message(body: dict[str, Any]) -> str:
    message = str(_error_fields(body).get("message") or body.get("message") or "")
    # Some routes (/cache/ping) put a JSON document in the message; show its own message.
    try:
        inner = json.loads(message)
    except ValueError:
        return message
    return str(inner["message"]) if isinstance(inner, dict) and "message" in inner else message


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _unexpected(response: httpx.Response) -> LiteLLMError:
    path = response.request.url.path
    message = _error_message(_json_object(response)) or response.reason_phrase
    return LiteLLMError(
        f"LiteLLM answered {response.request.method} {path} with HTTP {response.status_code}: "
        f"{message[:300]}"
    )


def _transport_reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text
