"""Is a compose project up? Reads `docker inspect` output of its containers (issue #7 §2).

After `docker compose up -d` a deploy waits until every service is ready: a long-running service
is running and, when it has a health check, healthy; a one-shot (restart "no", such as
config-seed) has exited with code 0. An unhealthy service, a one-shot that failed, or a dead
container ends the wait at once: waiting longer would not change them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Readiness", "ServiceState", "overall", "parse_inspect"]

_SERVICE_LABEL = "com.docker.compose.service"


class Readiness(StrEnum):
    """One service's verdict, and the project's."""

    READY = "ready"
    WAITING = "waiting"
    FAILED = "failed"


@dataclass(frozen=True)
class ServiceState:
    """One container of the project, as far as the wait cares."""

    service: str
    container: str
    status: str  # docker's State.Status: created, running, restarting, exited, dead, ...
    health: str | None  # State.Health.Status: starting, healthy, unhealthy; None: no check
    exit_code: int
    restart_policy: str

    @property
    def readiness(self) -> Readiness:
        """Ready, still coming up, or failed for good (see the module docstring)."""
        if self.status == "running":
            if self.health in (None, "", "healthy"):
                return Readiness.READY
            return Readiness.FAILED if self.health == "unhealthy" else Readiness.WAITING
        if self.status == "exited":
            one_shot = self.restart_policy in ("", "no")
            if one_shot and self.exit_code == 0:
                return Readiness.READY
            return Readiness.FAILED if one_shot else Readiness.WAITING
        if self.status in ("dead", "removing"):
            return Readiness.FAILED
        return Readiness.WAITING  # created, restarting, paused

    def describe(self) -> str:
        """A short state for progress lines: "litellm: running, health starting"."""
        text = f"{self.service}: {self.status}"
        if self.status == "exited":
            text += f" (code {self.exit_code})"
        if self.health:
            text += f", health {self.health}"
        return text


def parse_inspect(text: str) -> tuple[ServiceState, ...]:
    """The states in `docker inspect` JSON output (a list of containers), sorted by service.
    Raises ValueError when `text` is not such a list."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("docker inspect did not print a list")
    states = [_state(entry) for entry in data if isinstance(entry, dict)]
    return tuple(sorted(states, key=lambda s: (s.service, s.container)))


def _state(entry: dict[str, Any]) -> ServiceState:
    state = entry.get("State") or {}
    config = entry.get("Config") or {}
    host = entry.get("HostConfig") or {}
    container = str(entry.get("Name") or "").lstrip("/")
    labels = config.get("Labels") or {}
    health = state.get("Health") or {}
    return ServiceState(
        service=str(labels.get(_SERVICE_LABEL) or container),
        container=container,
        status=str(state.get("Status") or "unknown"),
        health=str(health["Status"]) if health.get("Status") else None,
        exit_code=int(state.get("ExitCode") or 0),
        restart_policy=str((host.get("RestartPolicy") or {}).get("Name") or ""),
    )


def overall(states: Sequence[ServiceState]) -> Readiness:
    """READY when every service is (and there is at least one), FAILED when any failed."""
    verdicts = [state.readiness for state in states]
    if Readiness.FAILED in verdicts:
        return Readiness.FAILED
    if verdicts and all(v is Readiness.READY for v in verdicts):
        return Readiness.READY
    return Readiness.WAITING
