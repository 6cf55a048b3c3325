"""The bundled model catalog, parsed from the real snapshot in resources/catalog/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmproxy_desktop.core.catalog import Catalog, litellm_model, parse_catalog, split_model
from llmproxy_desktop.core.providers import KNOWN_PROVIDERS

CATALOG_JSON = Path(__file__).resolve().parents[2] / "resources" / "catalog" / "model_catalog.json"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG_JSON.read_text("utf-8"))


def test_catalog_knows_the_pinned_litellm_version(catalog: Catalog) -> None:
    assert catalog.litellm_version == json.loads(CATALOG_JSON.read_text())["litellm_version"]


def test_providers_are_sorted_and_include_the_common_ones(catalog: Catalog) -> None:
    assert list(catalog.providers) == sorted(catalog.providers)
    for provider in ("openai", "anthropic", "bedrock", "vertex_ai", "azure", "gemini"):
        assert provider in catalog.providers


def test_bare_keys_get_their_provider_prefix(catalog: Catalog) -> None:
    entry = catalog.find("anthropic/claude-haiku-4-5")
    assert entry is not None
    assert (entry.provider, entry.name) == ("anthropic", "claude-haiku-4-5")
    assert entry.litellm_model == "anthropic/claude-haiku-4-5"
    assert entry.mode == "chat"
    assert entry.max_input_tokens == 200000
    assert entry.input_cost_per_token == pytest.approx(1e-06)


def test_keys_that_already_carry_a_prefix_are_not_prefixed_twice(catalog: Catalog) -> None:
    vertex = {m.litellm_model for m in catalog.models("vertex_ai")}
    assert "vertex_ai/claude-3-5-haiku" in vertex  # filed under vertex_ai-anthropic_models
    assert not any(m.startswith("vertex_ai/vertex_ai/") for m in vertex)
    fireworks = {m.litellm_model for m in catalog.models("fireworks_ai")}
    assert "fireworks_ai/nomic-ai/nomic-embed-text-v1" in fireworks
    nova = {m.litellm_model for m in catalog.models("amazon_nova")}
    assert "amazon_nova/nova-pro-v1" in nova  # the catalog spells it amazon-nova/


def test_sub_table_names_are_not_offered_as_providers(catalog: Catalog) -> None:
    assert not any(p.startswith("vertex_ai-") for p in catalog.providers)
    assert "fireworks_ai-embedding-models" not in catalog.providers


def test_image_price_variants_and_tables_without_provider_are_left_out(catalog: Catalog) -> None:
    names = {m.name for p in catalog.providers for m in catalog.models(p)}
    assert not any("-x-" in n.split("/")[0] for n in names)
    assert "fallback_generalizations" not in names


def test_every_model_value_starts_with_its_provider(catalog: Catalog) -> None:
    for provider in catalog.providers:
        models = catalog.models(provider)
        assert models, provider
        assert [m.name for m in models] == sorted(m.name for m in models)
        for model in models:
            assert model.litellm_model.startswith(f"{provider}/")
            assert catalog.find(model.litellm_model) is not None


def test_most_catalog_providers_are_known_to_litellm(catalog: Catalog) -> None:
    # Search/tool providers (tavily, serper...) are in the price list but not in provider_list.
    unknown = [p for p in catalog.providers if p not in KNOWN_PROVIDERS]
    assert len(unknown) < len(catalog.providers) // 4


@pytest.mark.parametrize(
    ("provider", "model", "expected"),
    [
        ("anthropic", "claude-x", "anthropic/claude-x"),
        ("anthropic", "anthropic/claude-x", "anthropic/claude-x"),
        ("openrouter", "openai/gpt-4o", "openrouter/openai/gpt-4o"),
        (" openai ", " gpt-4o ", "openai/gpt-4o"),
        ("", "gpt-4o", "gpt-4o"),
    ],
)
def test_litellm_model_fills_in_the_prefix_once(provider: str, model: str, expected: str) -> None:
    assert litellm_model(provider, model) == expected


def test_names_that_repeat_the_provider_keep_both_segments(catalog: Catalog) -> None:
    assert catalog.model_value("perplexity", "perplexity/sonar") == "perplexity/perplexity/sonar"
    assert catalog.find("perplexity/perplexity/sonar") is not None
    # Not in the catalog: a typed-in prefix is not doubled.
    assert catalog.model_value("anthropic", "anthropic/claude-new") == "anthropic/claude-new"
    assert catalog.model_value("anthropic", "claude-haiku-4-5") == "anthropic/claude-haiku-4-5"


def test_split_model() -> None:
    assert split_model("openrouter/openai/gpt-4o") == ("openrouter", "openai/gpt-4o")
    assert split_model("gpt-4o") == (None, "gpt-4o")


def test_find_unknown_model_gives_none(catalog: Catalog) -> None:
    assert catalog.find("openai/no-such-model") is None
    assert catalog.find("gpt-4o") is None
    assert catalog.models("no-such-provider") == ()


def test_bad_text_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_catalog("{")
    with pytest.raises(ValueError, match="no 'models'"):
        parse_catalog('{"models": []}')


def test_malformed_entries_are_skipped_not_fatal() -> None:
    text = json.dumps(
        {
            "litellm_version": "x",
            "models": {
                "good": {"provider": "openai", "max_input_tokens": True, "mode": 3},
                "bad": "not a mapping",
                "nop": {},
            },
        }
    )
    catalog = parse_catalog(text)
    assert catalog.providers == ("openai",)
    (good,) = catalog.models("openai")
    assert good.max_input_tokens is None and good.mode is None
