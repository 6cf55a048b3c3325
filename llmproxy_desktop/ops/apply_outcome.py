"""The outcome of every Apply that ran, recorded in the Master's audit log, so the Dashboard (and
`status`) can say how the last Apply ended, whoever ran it and from wherever: a window, the
command line, another admin's machine. Plain data, no SQLAlchemy: the window imports it early.

Recorded by `ops.apply.apply` for every Apply that got past the lock and was neither cancelled
nor a no-op (those change nothing); `latest_attempt` reads the newest one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from ..store.actor import Actor
from ..store.records import AuditEntry

__all__ = ["APPLY_RESULT_ACTION", "ApplyAttempt", "attempt_from_audit", "latest_attempt"]

APPLY_RESULT_ACTION: Final = "apply.result"


@dataclass(frozen=True)
class ApplyAttempt:
    """How one Apply ended: who ran it, when, and the step that failed (None when it succeeded)."""

    at: datetime
    by: Actor
    ok: bool
    failed_step: str | None
    detail: str  # the failed step's one-line detail, or the revision's summary
    revision_id: int | None  # the revision it recorded (FOLD), if it got that far


def outcome_detail(
    *, ok: bool, failed_step: str | None, detail: str, revision_id: int | None
) -> dict[str, Any]:
    """The audit detail `attempt_from_audit` reads back."""
    return {"ok": ok, "failed_step": failed_step, "detail": detail, "revision": revision_id}


def attempt_from_audit(entry: AuditEntry) -> ApplyAttempt | None:
    """The attempt an `apply.result` audit entry records; None for any other or malformed one."""
    detail = entry.detail
    if entry.action != APPLY_RESULT_ACTION or not isinstance(detail.get("ok"), bool):
        return None
    step, text, revision = detail.get("failed_step"), detail.get("detail"), detail.get("revision")
    return ApplyAttempt(
        at=entry.at,
        by=entry.by,
        ok=detail["ok"],
        failed_step=step if isinstance(step, str) else None,
        detail=text if isinstance(text, str) else "",
        revision_id=revision if isinstance(revision, int) else None,
    )


class _AuditReader(Protocol):
    def latest_audit(self, action: str) -> AuditEntry | None: ...


def latest_attempt(master: _AuditReader) -> ApplyAttempt | None:
    """The newest recorded Apply outcome of this Master, if any."""
    entry = master.latest_audit(APPLY_RESULT_ACTION)
    return None if entry is None else attempt_from_audit(entry)
