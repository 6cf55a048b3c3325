"""Small builders shared by the store's integration tests (plain functions, no fixtures)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import psycopg

from llmproxy_desktop.core.items import Item, ItemKind, Secret

# Argon2 at its minimum: the store's behaviour is under test here, not the KDF's cost.
FAST_KDF: dict[str, int] = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def model(name: str, group: str = "gpt-4o", api_key: str | Secret | None = None) -> Item:
    """A model item as the import would make it."""
    params: dict[str, Any] = {"model": f"openai/{group}"}
    if api_key is not None:
        params["api_key"] = api_key
    return Item(
        ItemKind.MODEL,
        name,
        {"model_name": group, "litellm_params": params, "model_info": {"id": name}},
    )


def setting(name: str, value: Any) -> Item:
    """A router setting item."""
    return Item(ItemKind.ROUTER_SETTING, name, value)


def sha(text: str) -> str:
    """SHA-256 hex of a rendered file."""
    return hashlib.sha256(text.encode()).hexdigest()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` (a database query) until true; fail after `timeout` seconds.

    Used only to observe that other threads are *blocked* on a lock, which nothing signals.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")


def count_advisory_waiters(conn: psycopg.Connection[Any]) -> int:
    """Sessions of the current database waiting (not granted) on an advisory lock."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
    ).fetchone()
    assert row is not None
    return int(row[0])
