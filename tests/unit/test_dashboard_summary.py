"""The dashboard's pure summary: counts from the effective items, uptime from a given now, and
unknown values shown as a dash with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind
from llmproxy_desktop.ops.apply_outcome import ApplyAttempt
from llmproxy_desktop.ops.dashboard import (
    NOT_READ,
    UNKNOWN,
    Figure,
    FigureId,
    Tone,
    build_summary,
    format_duration,
)
from llmproxy_desktop.remote.container_state import ContainerState, ContainerStatus, HealthStatus
from llmproxy_desktop.remote.litellm_client import Readiness
from llmproxy_desktop.store.actor import Actor
from llmproxy_desktop.store.records import RevisionInfo

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def _model(name: str, group: str, flag: Flag | None = None) -> EffectiveItem:
    data = {"model_name": group, "litellm_params": {"model": f"openai/{group}"}}
    return EffectiveItem(Item(ItemKind.MODEL, name, data), flag, 1)


EFFECTIVE = [
    _model("m1", "gpt-4o"),
    _model("m2", "gpt-4o", Flag.NEW),
    _model("m3", "claude"),
    _model("m4", "legacy", Flag.DELETED),
    EffectiveItem(Item(ItemKind.ROUTER_SETTING, "num_retries", 2)),
]


def _container(
    status: ContainerStatus = ContainerStatus.RUNNING,
    started: datetime | None = NOW - timedelta(days=2, hours=3, minutes=10),
    health: HealthStatus = HealthStatus.HEALTHY,
) -> ContainerState:
    return ContainerState("litellm", status, health, started, 0, None, "litellm:main")


REVISION = RevisionInfo(7, NOW - timedelta(hours=5), Actor("alice", "laptop"), "1 new", "ab", 4)


def _full(**overrides: Any) -> dict[FigureId, Figure]:
    args: dict[str, Any] = {
        "effective": EFFECTIVE,
        "staged_count": 2,
        "readiness": Readiness(True, "healthy", "connected", 200),
        "served_models": ["gpt-4o", "claude"],
        "container_state": _container(),
        "last_revision": REVISION,
        "last_apply_ok": True,
        "now": NOW,
    }
    args.update(overrides)
    summary = build_summary(**args)
    return {f.id: f for f in summary.figures()}


def test_counts_exclude_deletions_and_count_distinct_groups() -> None:
    summary = build_summary(EFFECTIVE, 2, None, None, None, None, None, now=NOW)

    assert (summary.model_count, summary.model_group_count, summary.staged_count) == (3, 2, 2)


def test_uptime_is_measured_from_the_given_now() -> None:
    summary = build_summary(EFFECTIVE, 0, None, None, _container(), None, None, now=NOW)

    assert summary.uptime == timedelta(days=2, hours=3, minutes=10)
    figures = {f.id: f for f in summary.figures()}
    assert figures[FigureId.UPTIME].value == "2 d 3 h"


def test_uptime_is_never_negative_when_the_server_clock_runs_ahead() -> None:
    ahead = _container(started=NOW + timedelta(seconds=30))

    assert build_summary([], 0, None, None, ahead, None, None, now=NOW).uptime == timedelta(0)


def test_a_stopped_container_has_no_uptime_and_reads_bad() -> None:
    figures = _full(container_state=_container(ContainerStatus.EXITED, health=HealthStatus.NONE))

    assert figures[FigureId.UPTIME].value == UNKNOWN
    assert "not running" in figures[FigureId.UPTIME].detail
    assert figures[FigureId.CONTAINER].tone is Tone.BAD


def test_every_figure_is_known_when_everything_was_read() -> None:
    figures = _full()

    assert all(f.known for f in figures.values())
    assert figures[FigureId.PROXY].value == "Ready"
    assert figures[FigureId.SERVED].value == "2"
    assert figures[FigureId.LAST_APPLY].value == "#7"
    assert figures[FigureId.LAST_APPLY].note == "5 h ago by alice"
    assert figures[FigureId.STAGED].tone is Tone.STAGED


def test_unknowns_show_a_dash_and_say_why() -> None:
    summary = build_summary(
        EFFECTIVE,
        0,
        None,
        None,
        None,
        None,
        None,
        now=NOW,
        readiness_error="LiteLLM at 127.0.0.1:4000 did not answer.",
    )
    figures = {f.id: f for f in summary.figures()}

    unknown = {fid for fid, f in figures.items() if not f.known}
    assert unknown == {
        FigureId.PROXY,
        FigureId.SERVED,
        FigureId.CONTAINER,
        FigureId.UPTIME,
        FigureId.LAST_APPLY,
    }
    assert figures[FigureId.PROXY].detail == "LiteLLM at 127.0.0.1:4000 did not answer."
    assert figures[FigureId.SERVED].detail == NOT_READ
    assert all(figures[fid].detail for fid in unknown)


def test_not_ready_names_the_database() -> None:
    figures = _full(readiness=Readiness(False, "unhealthy", "disconnected", 503))

    proxy = figures[FigureId.PROXY]
    assert proxy.value == "Not ready"
    assert "database is disconnected" in proxy.note
    assert proxy.tone is Tone.BAD


def test_groups_the_proxy_does_not_serve_are_named() -> None:
    # "legacy" is staged for deletion: still applied, so LiteLLM must still serve it.
    figures = _full(served_models=["gpt-4o", "legacy"])

    served = figures[FigureId.SERVED]
    assert served.note == "1 not served"
    assert "claude" in served.detail


def test_a_failed_last_apply_is_marked() -> None:
    figures = _full(last_apply_ok=False)

    figure = figures[FigureId.LAST_APPLY]
    assert figure.tone is Tone.BAD
    assert figure.note == "Last attempt failed" and "did not complete" in figure.detail


def _attempt(ok: bool, hours_ago: float, **overrides: Any) -> ApplyAttempt:
    fields: dict[str, Any] = {
        "at": NOW - timedelta(hours=hours_ago),
        "by": Actor("bob", "ci-runner"),
        "ok": ok,
        "failed_step": None if ok else "VERIFY",
        "detail": "revision 8" if ok else "LiteLLM does not serve gpt-5",
        "revision_id": 8,
    }
    return ApplyAttempt(**{**fields, **overrides})


def test_a_failed_apply_recorded_by_anyone_after_the_revision_is_shown() -> None:
    figure = _full(last_attempt=_attempt(False, hours_ago=2))[FigureId.LAST_APPLY]

    assert (figure.value, figure.tone) == ("Failed", Tone.BAD)
    assert figure.note == "2 h ago by bob"
    assert "bob@ci-runner" in figure.detail and "failed at VERIFY" in figure.detail
    assert "LiteLLM does not serve gpt-5" in figure.detail
    assert "recorded revision 8; fix forward" in figure.detail


def test_a_failure_before_the_commit_point_says_to_fix_and_apply_again() -> None:
    attempt = _attempt(False, hours_ago=1, failed_step="RENDER", revision_id=None)
    figure = _full(last_attempt=attempt)[FigureId.LAST_APPLY]

    assert figure.value == "Failed" and "failed at RENDER" in figure.detail
    assert "fix the cause and Apply again" in figure.detail


def test_a_failure_older_than_the_last_revision_is_history() -> None:
    figure = _full(last_attempt=_attempt(False, hours_ago=9))[FigureId.LAST_APPLY]

    assert (figure.value, figure.tone) == (f"#{REVISION.id}", Tone.NEUTRAL)


def test_a_successful_last_attempt_shows_the_revision() -> None:
    figure = _full(last_attempt=_attempt(True, hours_ago=5))[FigureId.LAST_APPLY]

    assert (figure.value, figure.tone) == (f"#{REVISION.id}", Tone.NEUTRAL)


def test_a_failed_first_apply_is_shown_without_any_revision() -> None:
    attempt = _attempt(False, hours_ago=0.5, failed_step="RESTART", revision_id=1)
    figure = _full(last_revision=None, last_attempt=attempt)[FigureId.LAST_APPLY]

    assert figure.value == "Failed" and "failed at RESTART" in figure.detail


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5 s"), (600, "10 min"), (3600, "1 h"), (3900, "1 h 5 min"), (86400 * 3, "3 d")],
)
def test_durations_are_compact(seconds: int, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


def test_a_staged_new_group_is_not_reported_as_unserved() -> None:
    effective = [*EFFECTIVE, _model("m5", "o4-mini", Flag.NEW)]  # staged, not applied yet
    applied = [e.item for e in EFFECTIVE if e.flag is not Flag.NEW]

    without = _full(effective=effective, served_models=["gpt-4o", "claude", "legacy"])
    with_applied = _full(
        effective=effective, served_models=["gpt-4o", "claude", "legacy"], applied=applied
    )

    assert without[FigureId.SERVED].note == with_applied[FigureId.SERVED].note
    assert "not served" not in (with_applied[FigureId.SERVED].note or "")
    # An applied group LiteLLM lost is still named.
    lost = _full(effective=effective, served_models=["gpt-4o", "legacy"], applied=applied)
    assert lost[FigureId.SERVED].note == "1 not served" and "claude" in lost[FigureId.SERVED].detail


def test_a_ready_proxy_names_its_litellm_version() -> None:
    figures = _full(readiness=Readiness(True, "healthy", "connected", 200, "1.108.7"))
    assert figures[FigureId.PROXY].note == "LiteLLM 1.108.7"
    assert _full()[FigureId.PROXY].note in ("", None)  # no version said: nothing invented
