"""The dashboard's figures: what the Master holds and how the stack is doing, as plain data.

`build_summary` combines what a refresh gathered (effective items, LiteLLM's readiness and served
model groups, Docker's container state, the last revision) into a `DashboardSummary`, and
`DashboardSummary.figures` turns it into the cards the page shows: a value, a caption, a short
note and a tooltip. Anything a refresh could not learn stays None and shows as "—" with the reason
in the tooltip. No Qt, no I/O, no clock: the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ..core.items import EffectiveItem, Flag, Item, ItemKind, model_group
from ..remote.container_state import ContainerState, ContainerStatus, HealthStatus
from ..remote.litellm_status import Readiness
from ..store.records import RevisionInfo, format_time
from .apply_outcome import ApplyAttempt

UNKNOWN: Final = "—"
NOT_READ: Final = "Not read yet: refresh to ask the stack."


class Tone(StrEnum):
    """How a figure should read: calm by default, coloured only when it means something."""

    NEUTRAL = "neutral"
    GOOD = "good"
    BAD = "bad"
    STAGED = "staged"


class FigureId(StrEnum):
    """The dashboard's cards, in display order."""

    MODELS = "models"
    MODEL_GROUPS = "model_groups"
    STAGED = "staged"
    PROXY = "proxy"
    SERVED = "served"
    CONTAINER = "container"
    UPTIME = "uptime"
    LAST_APPLY = "last_apply"


@dataclass(frozen=True)
class Figure:
    """One card: `value` large, `caption` under it, `note` small, `detail` as the tooltip."""

    id: FigureId
    value: str
    caption: str
    note: str = ""
    detail: str = ""
    tone: Tone = Tone.NEUTRAL

    @property
    def known(self) -> bool:
        """False when the value is the unknown dash."""
        return self.value != UNKNOWN


@dataclass(frozen=True)
class DashboardSummary:
    """The numbers behind the dashboard. None means unknown; the `*_reason` fields say why
    (or, for the proxy, why it is not ready)."""

    now: datetime
    model_count: int
    model_group_count: int
    staged_count: int
    proxy_ready: bool | None = None
    proxy_reason: str = NOT_READ
    proxy_version: str | None = None
    served_group_count: int | None = None
    missing_groups: tuple[str, ...] = ()  # groups of the config LiteLLM does not serve
    served_reason: str = NOT_READ
    container: ContainerState | None = None
    uptime: timedelta | None = None
    container_reason: str = NOT_READ
    last_revision: RevisionInfo | None = None
    last_apply_ok: bool | None = None
    last_attempt: ApplyAttempt | None = None

    def figures(self) -> list[Figure]:
        """The cards, in `FigureId` order."""
        return [
            Figure(FigureId.MODELS, str(self.model_count), "Models", detail=_MODELS_DETAIL),
            Figure(
                FigureId.MODEL_GROUPS,
                str(self.model_group_count),
                "Model groups",
                detail="Public model names clients can ask for; a group may have several "
                "deployments that LiteLLM balances.",
            ),
            self._staged_figure(),
            self._proxy_figure(),
            self._served_figure(),
            self._container_figure(),
            self._uptime_figure(),
            self._last_apply_figure(),
        ]

    def _staged_figure(self) -> Figure:
        if not self.staged_count:
            return Figure(FigureId.STAGED, "0", "Staged changes", detail="Nothing waits for Apply.")
        return Figure(
            FigureId.STAGED,
            str(self.staged_count),
            "Staged changes",
            note="Not applied yet",
            detail="Changes saved in the Master that the stack does not run yet; Apply sends them.",
            tone=Tone.STAGED,
        )

    def _proxy_figure(self) -> Figure:
        if self.proxy_ready is None:
            return Figure(FigureId.PROXY, UNKNOWN, "Proxy", detail=self.proxy_reason)
        if self.proxy_ready:
            version = f"LiteLLM {self.proxy_version}" if self.proxy_version else ""
            return Figure(
                FigureId.PROXY,
                "Ready",
                "Proxy",
                note=version,
                detail="LiteLLM answers /health/readiness." + (f" ({version})" if version else ""),
                tone=Tone.GOOD,
            )
        return Figure(
            FigureId.PROXY,
            "Not ready",
            "Proxy",
            note=self.proxy_reason,
            detail=self.proxy_reason,
            tone=Tone.BAD,
        )

    def _served_figure(self) -> Figure:
        if self.served_group_count is None:
            return Figure(
                FigureId.SERVED, UNKNOWN, "Served model groups", detail=self.served_reason
            )
        if not self.missing_groups:
            return Figure(
                FigureId.SERVED,
                str(self.served_group_count),
                "Served model groups",
                detail="What LiteLLM lists at /v1/models.",
            )
        missing = ", ".join(self.missing_groups)
        return Figure(
            FigureId.SERVED,
            str(self.served_group_count),
            "Served model groups",
            note=f"{len(self.missing_groups)} not served",
            detail=f"LiteLLM does not serve these groups of the config: {missing}. Apply, or "
            "check the container's log.",
            tone=Tone.BAD,
        )

    def _container_figure(self) -> Figure:
        state = self.container
        if state is None:
            return Figure(FigureId.CONTAINER, UNKNOWN, "Container", detail=self.container_reason)
        good = state.running and state.health in (HealthStatus.HEALTHY, HealthStatus.NONE)
        bad = not state.running or state.health is HealthStatus.UNHEALTHY
        return Figure(
            FigureId.CONTAINER,
            state.status.value.capitalize(),
            "Container",
            note=_health_note(state),
            detail=_container_detail(state),
            tone=Tone.GOOD if good else Tone.BAD if bad else Tone.NEUTRAL,
        )

    def _uptime_figure(self) -> Figure:
        if self.uptime is None:
            why = self.container_reason
            if self.container is not None:
                why = f"The container {self.container.name} is not running."
            return Figure(FigureId.UPTIME, UNKNOWN, "Uptime", detail=why)
        assert self.container is not None and self.container.started_at is not None
        return Figure(
            FigureId.UPTIME,
            format_duration(self.uptime),
            "Uptime",
            detail=f"Running since {format_time(self.container.started_at)}.",
        )

    def _last_apply_figure(self) -> Figure:
        attempt, last = self.last_attempt, self.last_revision
        newer = attempt is not None and (last is None or attempt.at >= last.created_at)
        if attempt is not None and newer and not attempt.ok:
            return self._failed_attempt_figure(attempt)
        if last is None:
            return Figure(
                FigureId.LAST_APPLY,
                UNKNOWN,
                "Last apply",
                detail="Nothing has been applied to this stack from the app yet.",
            )
        ago = format_duration(max(self.now - last.created_at, timedelta(0)))
        note = f"{ago} ago by {last.created_by.user}"
        when = format_time(last.created_at)
        detail = f"Revision {last.id}, applied by {last.created_by} at {when}: {last.summary}."
        tone = Tone.NEUTRAL
        if self.last_apply_ok is False:
            note = "Last attempt failed"
            detail += " The Apply after it did not complete; see History."
            tone = Tone.BAD
        return Figure(FigureId.LAST_APPLY, f"#{last.id}", "Last apply", note, detail, tone)

    def _failed_attempt_figure(self, attempt: ApplyAttempt) -> Figure:
        """The newest Apply failed (whoever ran it, wherever): say at which step and after which
        point, so the admin knows whether the file changed."""
        ago = format_duration(max(self.now - attempt.at, timedelta(0)))
        step = attempt.failed_step or "an unknown step"
        detail = (
            f"The Apply by {attempt.by} at {format_time(attempt.at)} failed at {step}: "
            f"{attempt.detail.rstrip('.')}."
        )
        if attempt.revision_id is not None:
            detail += f" It had recorded revision {attempt.revision_id}; fix forward and Apply."
        else:
            detail += " See the Logs page or History, fix the cause and Apply again."
        return Figure(
            FigureId.LAST_APPLY,
            "Failed",
            "Last apply",
            f"{ago} ago by {attempt.by.user}",
            detail,
            Tone.BAD,
        )


_SERVED: Final = "Served model groups"
_MODELS_DETAIL: Final = "Model deployments in the Master, staged ones included, deletions not."


def build_summary(
    effective: Iterable[EffectiveItem],
    staged_count: int,
    readiness: Readiness | None,
    served_models: Sequence[str] | None,
    container_state: ContainerState | None,
    last_revision: RevisionInfo | None,
    last_apply_ok: bool | None,
    *,
    now: datetime,
    readiness_error: str | None = None,
    served_error: str | None = None,
    container_error: str | None = None,
    applied: Iterable[Item] | None = None,
    last_attempt: ApplyAttempt | None = None,
) -> DashboardSummary:
    """The dashboard's numbers from what one refresh gathered.

    A None input is unknown; the matching `*_error` (a sentence, e.g. from a LiteLLMDown) says
    why, else "not read yet". Uptime is `now - started_at` of a running container, never negative
    (the server's clock may run ahead of ours). `last_apply_ok` is False when this window's newest
    Apply failed after `last_revision` was recorded; `last_attempt` is the newest Apply outcome
    recorded in the Master (any admin, any client), shown when it failed after that revision.
    Missing groups are those of `applied` (what LiteLLM should serve now; staged groups are not
    live before Apply) that LiteLLM does not list; without `applied`, the effective items that
    are not new stand in for it.
    """
    effective = list(effective)
    models = [e.item for e in effective if e.item.kind is ItemKind.MODEL and not e.is_deleted]
    groups = {g for g in (model_group(m) for m in models) if g is not None}
    live = (
        [i for i in applied if i.kind is ItemKind.MODEL]
        if applied is not None
        else [e.item for e in effective if e.item.kind is ItemKind.MODEL and e.flag is not Flag.NEW]
    )
    expected = {g for g in (model_group(m) for m in live) if g is not None}
    served = None if served_models is None else set(served_models)
    return DashboardSummary(
        now=now,
        model_count=len(models),
        model_group_count=len(groups),
        staged_count=staged_count,
        proxy_ready=None if readiness is None else readiness.ready,
        proxy_reason=_readiness_reason(readiness, readiness_error),
        proxy_version=None if readiness is None else readiness.version,
        served_group_count=None if served is None else len(served),
        missing_groups=() if served is None else tuple(sorted(expected - served)),
        served_reason=served_error or NOT_READ,
        container=container_state,
        uptime=_uptime(container_state, now),
        container_reason=container_error or NOT_READ,
        last_revision=last_revision,
        last_apply_ok=last_apply_ok,
        last_attempt=last_attempt,
    )


def _readiness_reason(readiness: Readiness | None, error: str | None) -> str:
    if readiness is None:
        return error or NOT_READ
    if readiness.ready:
        return ""
    if readiness.db and readiness.db.lower() not in ("connected", "healthy"):
        return f"LiteLLM runs but its database is {readiness.db}."
    status = readiness.status or f"HTTP {readiness.http_status}"
    return f"LiteLLM runs but does not serve ({status})."


def _uptime(state: ContainerState | None, now: datetime) -> timedelta | None:
    if state is None or state.started_at is None or state.status is not ContainerStatus.RUNNING:
        return None
    return max(now - state.started_at, timedelta(0))


def _health_note(state: ContainerState) -> str:
    if state.health is HealthStatus.NONE:
        return "No health check"
    return f"Health: {state.health.value}"


def _container_detail(state: ContainerState) -> str:
    parts = [f"{state.name} ({state.image})" if state.image else state.name]
    if state.restart_count:
        parts.append(f"restarted {state.restart_count} times by Docker's restart policy")
    if state.exit_code is not None and not state.running:
        parts.append(f"last exit code {state.exit_code}")
    return "; ".join(parts) + "."


def format_duration(delta: timedelta) -> str:
    """A compact duration for a card: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
