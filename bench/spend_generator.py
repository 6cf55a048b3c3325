"""Realistic `"LiteLLM_SpendLogs"` rows for the usage benchmark, bulk-loaded with COPY.

90 days (by default) ending at `end`, with a skewed (Zipf-like) choice of model, key, user and
team, a day/night rhythm and slow growth, ~2 % failures, ~10 % cache hits, and a metadata blob of
the size LiteLLM writes when prompts are not stored (~0.5 kB), so rows are as wide as in
production. Deterministic for a seed.

    python -m bench.spend_generator POSTGRES_URL ROWS   # e.g. to fill a scratch database
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

COLUMNS = (
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    '"startTime"',
    '"endTime"',
    "request_duration_ms",
    '"completionStartTime"',
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    '"user"',
    "metadata",
    "cache_hit",
    "cache_key",
    "request_tags",
    "team_id",
    "end_user",
    "status",
    "session_id",
)


@dataclass(frozen=True)
class Shape:
    """How many distinct things the traffic spreads over."""

    models: int = 40
    keys: int = 2_000
    users: int = 5_000
    teams: int = 50
    days: int = 90
    failure_rate: float = 0.02
    cache_hit_rate: float = 0.10


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _metadata(key_alias: str, user: str, team: str) -> str:
    return json.dumps(
        {
            "user_api_key": "hashed",
            "user_api_key_alias": key_alias,
            "user_api_key_user_id": user,
            "user_api_key_team_id": team,
            "user_api_key_team_alias": f"alias-{team}",
            "requester_ip_address": "10.0.0.1",
            "additional_usage_values": {"prompt_tokens_details": {"cached_tokens": 0}},
            "spend_logs_metadata": None,
            "headers": {"user-agent": "openai-python/1.54.0", "x-stainless-lang": "python"},
            "applied_guardrails": [],
            "model_map_information": {"model_map_key": "gpt-4o", "model_map_value": None},
        }
    )


def rows(count: int, end: datetime, shape: Shape = Shape(), seed: int = 6) -> Iterator[tuple]:  # type: ignore[type-arg]
    """`count` rows as COPY tuples, start times spread over `shape.days` days before `end`."""
    rng = random.Random(seed)
    models = [f"model-{n:02d}" for n in range(shape.models)]
    prices = [rng.uniform(0.1, 30.0) / 1e6 for _ in models]
    keys = [hashlib.sha256(f"sk-bench-{n}".encode()).hexdigest() for n in range(shape.keys)]
    users = [f"user-{n:05d}" for n in range(shape.users)]
    teams = [f"team-{n:03d}" for n in range(shape.teams)]
    key_owner = [(rng.randrange(shape.users), rng.randrange(shape.teams)) for _ in keys]
    model_cum = _cumulative(_zipf_weights(shape.models))
    key_cum = _cumulative(_zipf_weights(shape.keys, 1.05))
    # Time: slow growth over the period, a day/night rhythm (UTC working hours busiest).
    seconds = shape.days * 86_400
    start = end - timedelta(days=shape.days)
    metadata_cache: dict[int, str] = {}
    batch = 10_000
    produced = 0
    while produced < count:
        n = min(batch, count - produced)
        model_idx = rng.choices(range(shape.models), cum_weights=model_cum, k=n)
        key_idx = rng.choices(range(shape.keys), cum_weights=key_cum, k=n)
        for i in range(n):
            while True:
                offset = seconds * math.sqrt(rng.random())  # density grows linearly with time
                hour = ((offset % 86_400) / 3600.0 + start.hour) % 24
                if rng.random() < 0.35 + 0.65 * math.exp(-(((hour - 14) / 5) ** 2)):
                    break
            begin = start + timedelta(seconds=offset)
            m, k = model_idx[i], key_idx[i]
            user_n, team_n = key_owner[k]
            failed = rng.random() < shape.failure_rate
            hit = not failed and rng.random() < shape.cache_hit_rate
            tokens_in = int(rng.lognormvariate(6.5, 1.0))
            tokens_out = 0 if failed else int(rng.lognormvariate(5.0, 0.9))
            duration = int(rng.lognormvariate(6.8, 0.7)) if not hit else rng.randint(2, 20)
            spend = 0.0 if failed or hit else (tokens_in + 3 * tokens_out) * prices[m]
            meta = metadata_cache.get(k)
            if meta is None:
                meta = metadata_cache[k] = _metadata(f"key-{k}", users[user_n], teams[team_n])
            naive_begin = begin.astimezone(UTC).replace(tzinfo=None)
            yield (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "acompletion",
                keys[k],
                spend,
                tokens_in + tokens_out,
                tokens_in,
                tokens_out,
                naive_begin,
                naive_begin + timedelta(milliseconds=duration),
                duration,
                naive_begin + timedelta(milliseconds=duration // 3),
                models[m],
                f"deploy-{m}",
                models[m],
                "openai",
                "https://api.example.invalid/v1",
                users[user_n],
                meta,
                "True" if hit else "",
                "",
                "[]",
                teams[team_n],
                None,
                "failure" if failed else "success",
                None,
            )
        produced += n


def load(conninfo: str, count: int, end: datetime, shape: Shape = Shape()) -> float:
    """COPY `count` rows into `"LiteLLM_SpendLogs"`, create the indexes LiteLLM builds at run
    time, ANALYZE; return the seconds it took."""
    began = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        with conn.cursor() as cur:
            copy_sql = f'COPY "LiteLLM_SpendLogs" ({", ".join(COLUMNS)}) FROM STDIN'
            with cur.copy(copy_sql) as copy:
                for row in rows(count, end, shape):
                    copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        # As litellm_proxy_extras/request_log_indexes.py does on a running proxy.
        conn.execute(
            'CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_api_key_startTime_idx" '
            'ON "LiteLLM_SpendLogs" (api_key, "startTime")'
        )
        conn.execute('VACUUM ANALYZE "LiteLLM_SpendLogs"')
    return time.perf_counter() - began


if __name__ == "__main__":
    target, how_many = sys.argv[1], int(sys.argv[2])
    took = load(target, how_many, datetime.now(UTC).replace(microsecond=0))
    print(f"{how_many} rows in {took:.1f} s")
