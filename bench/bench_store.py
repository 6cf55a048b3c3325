"""Store benchmark: stage 1,000 model items and fold them, on a local PostgreSQL.

Target: stage + fold of 1,000 models <= 1 s. Run:

    .venv/bin/pytest bench/bench_store.py --benchmark-columns=min,median,max,rounds

Each round starts from an empty Master in its own schema (set up outside the timing), so the
rounds measure the same work. Every model carries a vault Secret (api_key), the worst case for
sealing.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.items import Item, ItemKind, Secret
from llmproxy_desktop.store import Actor, Master

pytestmark = pytest.mark.integration

N_ITEMS = 1_000
TARGET_SECONDS = 1.0
ROUNDS = 5
ADMIN = Actor("bench", "bench-host")
FAST_KDF = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
YAML = "model_list: []\n"
SHA = hashlib.sha256(YAML.encode()).hexdigest()


def _model(name: str, n: int, group: str) -> Item:
    return Item(
        ItemKind.MODEL,
        name,
        {
            "model_name": f"{group}-{n % 50}",
            "litellm_params": {
                "model": f"openai/{group}-{n % 50}",
                "api_base": "https://api.example.invalid/v1",
                "api_key": Secret(f"sk-bench-{n:06d}-{uuid.uuid4().hex}"),
                "rpm": 600,
                "timeout": 30,
            },
            "model_info": {"id": name, "mode": "chat", "input_cost_per_token": 2.5e-06},
        },
    )


def _fresh_master(engine: Engine, schema: str) -> Master:
    master = Master.open(engine, schema=schema)
    master.init_vault("bench passphrase", ADMIN, **FAST_KDF)
    return master


def _check_target(benchmark: Any) -> None:
    if benchmark.stats is not None:  # None under --benchmark-disable
        assert benchmark.stats.stats.median <= TARGET_SECONDS


def test_stage_1000_new_models_and_fold(benchmark: Any, engine: Engine) -> None:
    schemas = (f"bench_new_{i}" for i in itertools.count())
    phases: dict[str, list[float]] = {"stage_many": [], "fold": []}

    def setup() -> tuple[tuple[Master, list[tuple[Item, int]]], dict[str, Any]]:
        master = _fresh_master(engine, next(schemas))
        names = [str(uuid.uuid4()) for _ in range(N_ITEMS)]
        return (master, [(_model(n, i, "gpt"), 0) for i, n in enumerate(names)]), {}

    def stage_and_fold(master: Master, changes: list[tuple[Item, int]]) -> int:
        start = time.perf_counter()
        master.stage_many(changes, ADMIN)
        staged = time.perf_counter()
        revision = master.fold("bench", YAML, SHA, ADMIN, master.staged_versions())
        phases["stage_many"].append(staged - start)
        phases["fold"].append(time.perf_counter() - staged)
        return revision

    benchmark.pedantic(stage_and_fold, setup=setup, rounds=ROUNDS, iterations=1)

    benchmark.extra_info.update(
        {f"{k}_median_s": sorted(v)[len(v) // 2] for k, v in phases.items()}
    )
    _check_target(benchmark)


def test_edit_1000_applied_models_and_fold(benchmark: Any, engine: Engine) -> None:
    schemas = (f"bench_edit_{i}" for i in itertools.count())

    def setup() -> tuple[tuple[Master, list[tuple[Item, int]]], dict[str, Any]]:
        master = _fresh_master(engine, next(schemas))
        names = [str(uuid.uuid4()) for _ in range(N_ITEMS)]
        master.seed_from_import([_model(n, i, "gpt") for i, n in enumerate(names)], ADMIN, None)
        edits = [
            (_model(e.item.name, i, "gpt-edited"), e.version)
            for i, e in enumerate(master.effective())
        ]
        return (master, edits), {}

    def stage_and_fold(master: Master, changes: list[tuple[Item, int]]) -> int:
        master.stage_many(changes, ADMIN)
        return master.fold("bench", YAML, SHA, ADMIN, master.staged_versions())

    benchmark.pedantic(stage_and_fold, setup=setup, rounds=ROUNDS, iterations=1)
    _check_target(benchmark)


def test_read_effective_view_of_1000_sealed_models(benchmark: Any, engine: Engine) -> None:
    master = _fresh_master(engine, "bench_read")
    names = [str(uuid.uuid4()) for _ in range(N_ITEMS)]
    master.seed_from_import([_model(n, i, "gpt") for i, n in enumerate(names)], ADMIN, None)

    view = benchmark.pedantic(master.effective, rounds=ROUNDS, iterations=1)

    assert len(view) == N_ITEMS
    _check_target(benchmark)
