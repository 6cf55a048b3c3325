"""Reading `docker inspect` for the deploy's health wait."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmproxy_desktop.core.compose_health import Readiness, overall, parse_inspect


def container(
    service: str,
    status: str,
    *,
    health: str | None = None,
    code: int = 0,
    restart: str = "unless-stopped",
) -> dict[str, Any]:
    state: dict[str, Any] = {"Status": status, "ExitCode": code}
    if health:
        state["Health"] = {"Status": health}
    return {
        "Name": f"/proj-{service}-1",
        "State": state,
        "Config": {"Labels": {"com.docker.compose.service": service}},
        "HostConfig": {"RestartPolicy": {"Name": restart}},
    }


@pytest.mark.parametrize(
    ("entry", "verdict"),
    [
        (container("a", "running"), Readiness.READY),
        (container("a", "running", health="healthy"), Readiness.READY),
        (container("a", "running", health="starting"), Readiness.WAITING),
        (container("a", "running", health="unhealthy"), Readiness.FAILED),
        (container("seed", "exited", restart="no"), Readiness.READY),
        (container("seed", "exited", code=1, restart="no"), Readiness.FAILED),
        (container("a", "exited", code=1), Readiness.WAITING),  # restarts by policy
        (container("a", "restarting"), Readiness.WAITING),
        (container("a", "created"), Readiness.WAITING),
        (container("a", "dead"), Readiness.FAILED),
    ],
)
def test_each_state_has_its_verdict(entry: dict[str, Any], verdict: Readiness) -> None:
    [state] = parse_inspect(json.dumps([entry]))
    assert state.readiness is verdict


def test_overall_needs_every_service_ready_and_at_least_one() -> None:
    ready = parse_inspect(json.dumps([container("b", "running"), container("a", "running")]))
    assert [s.service for s in ready] == ["a", "b"]
    assert overall(ready) is Readiness.READY
    assert overall(()) is Readiness.WAITING
    mixed = parse_inspect(
        json.dumps([container("a", "running"), container("b", "running", health="starting")])
    )
    assert overall(mixed) is Readiness.WAITING
    broken = parse_inspect(
        json.dumps([container("a", "running", health="starting"), container("b", "dead")])
    )
    assert overall(broken) is Readiness.FAILED


def test_describe_says_state_exit_code_and_health() -> None:
    [state] = parse_inspect(json.dumps([container("seed", "exited", code=3, restart="no")]))
    assert state.describe() == "seed: exited (code 3)"
    [state] = parse_inspect(json.dumps([container("db", "running", health="starting")]))
    assert state.describe() == "db: running, health starting"


def test_not_a_list_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_inspect("{}")
