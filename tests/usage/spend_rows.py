"""Crafted `"LiteLLM_SpendLogs"` rows (and key/team/user labels), inserted as LiteLLM writes
them: naive UTC timestamps, hashed key, status 'failure' on errors, cache_hit as text."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

_ids = itertools.count(1)


@dataclass(frozen=True)
class Req:
    """One request; `at` is an aware datetime (stored as naive UTC)."""

    at: datetime
    spend: float = 1.0
    model: str = "gpt-4o"
    key: str = "k" * 64
    user: str | None = "u1"
    team: str | None = "t1"
    tokens_in: int = 10
    tokens_out: int = 5
    failed: bool = False
    cache_hit: str | None = None
    duration_ms: int | None = 100
    request_id: str | None = None


def insert(engine: Engine, requests: Iterable[Req]) -> None:
    rows = []
    for r in requests:
        start = r.at.astimezone(UTC).replace(tzinfo=None)
        rows.append(
            {
                "id": r.request_id or f"req-{next(_ids):08d}",
                "key": r.key,
                "spend": r.spend,
                "total": r.tokens_in + r.tokens_out,
                "tin": r.tokens_in,
                "tout": r.tokens_out,
                "start": start,
                "end": start + timedelta(milliseconds=r.duration_ms or 250),
                "dur": r.duration_ms,
                "model": r.model,
                "user": r.user,
                "team": r.team,
                "hit": r.cache_hit,
                "status": "failure" if r.failed else "success",
            }
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, '
                'total_tokens, prompt_tokens, completion_tokens, "startTime", "endTime", '
                'request_duration_ms, model, model_group, "user", team_id, cache_hit, status) '
                "VALUES (:id, 'acompletion', :key, :spend, :total, :tin, :tout, :start, :end, "
                ":dur, :model, :model, :user, :team, :hit, :status)"
            ),
            rows,
        )


def add_key(engine: Engine, token: str, alias: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias) '
                "VALUES (:token, :name, :alias)"
            ),
            {"token": token, "name": "sk-...abcd", "alias": alias},
        )


def add_team(engine: Engine, team_id: str, alias: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, updated_at) '
                "VALUES (:id, :alias, now())"
            ),
            {"id": team_id, "alias": alias},
        )
