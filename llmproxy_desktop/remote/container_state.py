"""What Docker reports about the LiteLLM container, as plain data (no docker SDK import), so
the window can show it without loading the SDK."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["ContainerState", "ContainerStatus", "HealthStatus"]


class ContainerStatus(StrEnum):
    """Docker's container states (`State.Status`)."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"
    UNKNOWN = "unknown"  # a state this version of the app does not know


class HealthStatus(StrEnum):
    """Docker's health-check verdict (`State.Health.Status`); NONE without a health check."""

    NONE = "none"
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ContainerState:
    """What Docker reports about the LiteLLM container.

    `health` lags behind LiteLLM itself: Docker runs the check only every interval, so right after
    a (re)start it says STARTING while /health/readiness may already answer. Ask LiteLLM
    (`LiteLLMClient.wait_until_ready`) to know whether it serves; use this to show the state.
    `restart_count` counts restarts by Docker's restart policy only, not requested restarts.
    """

    name: str
    status: ContainerStatus
    health: HealthStatus
    started_at: datetime | None  # None when it never started
    restart_count: int
    exit_code: int | None  # of the last run; None while it has never stopped
    image: str

    @property
    def running(self) -> bool:
        return self.status is ContainerStatus.RUNNING
