"""Config-engine benchmarks (issue #2 targets): render + validate of 1,000 models ≤ 50 ms;
import of a 1,000-model config ≤ 200 ms.

Run: .venv/bin/pytest bench/bench_core.py --benchmark-only
"""

from __future__ import annotations

import uuid

import yaml
from pytest_benchmark.fixture import BenchmarkFixture

from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.items import EffectiveItem, Item, ItemKind, Secret
from llmproxy_desktop.core.render import build_config, render
from llmproxy_desktop.core.secrets import map_secrets
from llmproxy_desktop.core.validate import render_checked

MODELS = 1000


def realistic_items(count: int = MODELS) -> list[Item]:
    """A gateway-sized Master: load-balanced groups, credentials, fallbacks, cache settings."""
    items = [
        Item(
            ItemKind.CREDENTIAL,
            f"cred-{c}",
            {
                "credential_values": {
                    "api_key": Secret(f"sk-{c:040d}"),
                    "api_base": f"https://p{c}.example.com/v1",
                },
                "credential_info": {"description": f"provider {c}"},
            },
        )
        for c in range(10)
    ]
    for i in range(count):
        items.append(
            Item(
                ItemKind.MODEL,
                str(uuid.UUID(int=i + 1)),
                {
                    "model_name": f"group-{i % 200}",
                    "litellm_params": {
                        "model": f"openai/gpt-4o-{i}",
                        "litellm_credential_name": f"cred-{i % 10}",
                        "rpm": 600,
                        "tpm": 100_000,
                        "timeout": 60,
                        "tags": ["prod", f"team-{i % 7}"],
                    },
                    "model_info": {
                        "mode": "chat",
                        "input_cost_per_token": 2.5e-06,
                        "output_cost_per_token": 1e-05,
                        "max_tokens": 4096,
                    },
                },
            )
        )
    items += [
        Item(ItemKind.ROUTER_SETTING, "routing_strategy", "latency-based-routing"),
        Item(
            ItemKind.ROUTER_SETTING,
            "fallbacks",
            [{f"group-{g}": [f"group-{(g + 1) % 200}"]} for g in range(200)],
        ),
        Item(ItemKind.LITELLM_SETTING, "cache", True),
        Item(
            ItemKind.LITELLM_SETTING,
            "cache_params",
            {
                "type": "redis",
                "host": "os.environ/REDIS_HOST",
                "password": "os.environ/REDIS_PASSWORD",
            },
        ),
        Item(ItemKind.GENERAL_SETTING, "master_key", "os.environ/LITELLM_MASTER_KEY"),
    ]
    return items


def test_render_and_validate_1000_models(benchmark: BenchmarkFixture) -> None:
    effective = [EffectiveItem(i) for i in realistic_items()]
    text, findings = benchmark(render_checked, effective)
    assert findings == [] and text.count("model_name:") == MODELS
    assert text == render(e.item for e in effective)
    if benchmark.stats:  # None under --benchmark-disable
        assert benchmark.stats.stats.median < 0.050


def test_import_1000_model_config(benchmark: BenchmarkFixture) -> None:
    text = render(realistic_items())
    result = benchmark(import_config, text)
    assert sum(i.kind is ItemKind.MODEL for i in result.items) == MODELS
    if benchmark.stats:
        assert benchmark.stats.stats.median < 0.200


# Reference points measured in the same run, so results can be read as ratios on a noisy machine.


def test_reference_pyyaml_c_dump_of_the_same_config(benchmark: BenchmarkFixture) -> None:
    config = build_config(realistic_items())
    plain = map_secrets(config, Secret.reveal)
    text = benchmark(yaml.dump, plain, Dumper=yaml.CSafeDumper, sort_keys=False)
    assert text.count("model_name:") == MODELS


def test_reference_libyaml_parse_of_the_same_config(benchmark: BenchmarkFixture) -> None:
    text = render(realistic_items())
    data = benchmark(yaml.load, text, Loader=yaml.CSafeLoader)
    assert len(data["model_list"]) == MODELS
