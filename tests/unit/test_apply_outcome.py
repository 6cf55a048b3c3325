"""Reading an Apply's recorded outcome back from the audit log (ops/apply_outcome.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from llmproxy_desktop.ops.apply_outcome import (
    APPLY_RESULT_ACTION,
    ApplyAttempt,
    attempt_from_audit,
    latest_attempt,
    outcome_detail,
)
from llmproxy_desktop.store import Actor, AuditEntry

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BOB = Actor("bob", "laptop")


def _entry(detail: dict[str, Any], action: str = APPLY_RESULT_ACTION) -> AuditEntry:
    return AuditEntry(id=3, at=AT, by=BOB, action=action, detail=detail)


def test_what_apply_records_reads_back_as_the_same_attempt() -> None:
    detail = outcome_detail(ok=False, failed_step="VERIFY", detail="gpt-5 missing", revision_id=9)

    assert attempt_from_audit(_entry(detail)) == ApplyAttempt(
        at=AT, by=BOB, ok=False, failed_step="VERIFY", detail="gpt-5 missing", revision_id=9
    )


@pytest.mark.parametrize(
    "detail",
    [{}, {"ok": "yes"}, {"ok": None}, {"failed_step": "RENDER"}],
    ids=["empty", "ok-not-bool", "ok-null", "no-ok"],
)
def test_a_malformed_entry_is_no_attempt(detail: dict[str, Any]) -> None:
    assert attempt_from_audit(_entry(detail)) is None


def test_wrong_types_in_the_optional_fields_are_dropped() -> None:
    attempt = attempt_from_audit(
        _entry({"ok": True, "failed_step": 3, "detail": [], "revision": "9"})
    )

    assert attempt is not None
    assert (attempt.failed_step, attempt.detail, attempt.revision_id) == (None, "", None)


def test_another_action_is_no_attempt() -> None:
    assert attempt_from_audit(_entry({"ok": True}, action="stage")) is None


class _Audit:
    def __init__(self, entry: AuditEntry | None) -> None:
        self.entry = entry
        self.asked: list[str] = []

    def latest_audit(self, action: str) -> AuditEntry | None:
        self.asked.append(action)
        return self.entry


def test_latest_attempt_asks_for_apply_results_only() -> None:
    audit = _Audit(_entry(outcome_detail(ok=True, failed_step=None, detail="", revision_id=4)))

    attempt = latest_attempt(audit)

    assert audit.asked == [APPLY_RESULT_ACTION]
    assert attempt is not None and attempt.ok and attempt.revision_id == 4
    assert latest_attempt(_Audit(None)) is None
