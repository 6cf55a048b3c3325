"""LiteLLM's answers as plain data (no httpx import), for pages that only show them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CacheStatus", "ChatTest", "Readiness"]


@dataclass(frozen=True)
class Readiness:
    """LiteLLM's answer to GET /health/readiness.

    `ready` only when it answered 200 with status "healthy". A 503 means LiteLLM runs but is
    not serving: a configured database is down (`db`), or it is shutting down (`status`).
    """

    ready: bool
    status: str
    db: str | None
    http_status: int
    version: str | None = None  # "litellm_version" of the answer, when LiteLLM says it


@dataclass(frozen=True)
class ChatTest:
    """The answer of `chat_test`: seconds from request to complete answer, and its first line."""

    latency_seconds: float
    reply: str


@dataclass(frozen=True)
class CacheStatus:
    """LiteLLM's answer to GET /cache/ping: whether its cache (Valkey/Redis) answers."""

    healthy: bool
    cache_type: str | None  # "redis", ... ; None when LiteLLM has no cache configured
    detail: str  # the ping response, or LiteLLM's explanation when unhealthy
