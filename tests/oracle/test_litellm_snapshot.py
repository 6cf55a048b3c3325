"""The committed LiteLLM snapshot (providers.py, model_catalog.json) matches the pinned LiteLLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmproxy_desktop.core import providers
from llmproxy_desktop.core.validate import ALLOWED_ROUTING_STRATEGIES

from .oracle_support import LITELLM_VERSION, REPO, run_python

pytestmark = pytest.mark.oracle

CATALOG = REPO / "resources" / "catalog" / "model_catalog.json"


def test_snapshot_files_are_what_the_pinned_litellm_generates(litellm_venv_dir: Path) -> None:
    proc = run_python(litellm_venv_dir, "scripts/snapshot_litellm_catalog.py", "--check")
    assert proc.returncode == 0, proc.stderr


def test_snapshot_is_of_the_pinned_version() -> None:
    assert providers.LITELLM_VERSION == LITELLM_VERSION
    catalog = json.loads(CATALOG.read_text("utf-8"))
    assert catalog["litellm_version"] == LITELLM_VERSION


def test_catalog_is_compact_and_complete() -> None:
    assert CATALOG.stat().st_size < 3 * 1024 * 1024
    catalog = json.loads(CATALOG.read_text("utf-8"))
    models = catalog["models"]
    assert catalog["model_count"] == len(models) > 1000
    assert list(models) == sorted(models)
    assert models["gpt-4o"]["provider"] == "openai"
    assert models["gpt-4o"]["mode"] == "chat"
    assert set(catalog["fields"]) >= {f for entry in models.values() for f in entry}


def test_our_routing_strategies_are_ones_litellm_accepts() -> None:
    """Our allow-list may be stricter than LiteLLM's, never looser."""
    assert set(ALLOWED_ROUTING_STRATEGIES) <= set(providers.VALID_ROUTING_STRATEGIES)


def test_known_providers_cover_the_common_prefixes() -> None:
    assert {
        "openai",
        "anthropic",
        "azure",
        "bedrock",
        "vertex_ai",
        "ollama_chat",
        "hosted_vllm",
        "openrouter",
        "gemini",
        "groq",
    } <= providers.KNOWN_PROVIDERS
