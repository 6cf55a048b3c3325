"""Render, first-boot import and diff on concrete configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from llmproxy_desktop.core.diff import diff_items, unified_config_diff
from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind, Secret
from llmproxy_desktop.core.render import build_config, render
from llmproxy_desktop.core.validate import validate_text
from tests.fixtures.corpus import corpus_files

CORPUS_FILES = corpus_files()

SOURCE = """\
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      litellm_credential_name: openai-prod
      some_future_param: {nested: [1, 2]}
    model_info:
      id: 11111111-1111-1111-1111-111111111111
      custom_tier: gold
  - model_name: local
    litellm_params:
      model: ollama/llama3
      api_base: http://ollama:11434
credential_list:
  - credential_name: openai-prod
    credential_values:
      api_key: sk-live-abc
      api_base: https://api.openai.com/v1
    credential_info: {description: prod}
router_settings:
  routing_strategy: least-busy
litellm_settings:
  drop_params: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
guardrails:
  - guardrail_name: pii
    litellm_params: {guardrail: presidio, mode: pre_call}
environment_variables:
  LOG_LEVEL: info
"""


def _items() -> dict[tuple[ItemKind, str], Item]:
    return {(i.kind, i.name): i for i in import_config(SOURCE).items}


def test_import_splits_managed_sections_into_items() -> None:
    items = _items()
    kinds = sorted((k.value, n) for k, n in items)
    assert ("credential", "openai-prod") in kinds
    assert ("router_setting", "routing_strategy") in kinds
    assert ("litellm_setting", "drop_params") in kinds
    assert ("general_setting", "master_key") in kinds
    assert ("passthrough", "_") in kinds
    model = items[(ItemKind.MODEL, "11111111-1111-1111-1111-111111111111")]
    assert model.data["model_info"] == {"custom_tier": "gold"}  # id lives in the item name
    passthrough = yaml.safe_load(items[(ItemKind.PASSTHROUGH, "_")].data)
    assert set(passthrough) == {"guardrails", "environment_variables"}


def test_literal_credential_secrets_become_vault_secrets_and_other_values_stay_plain() -> None:
    values = _items()[(ItemKind.CREDENTIAL, "openai-prod")].data["credential_values"]
    assert values["api_key"] == Secret("sk-live-abc")
    assert values["api_base"] == "https://api.openai.com/v1"


def test_models_without_ids_get_stable_ids_across_imports() -> None:
    first = {i.name for i in import_config(SOURCE).items if i.kind is ItemKind.MODEL}
    second = {i.name for i in import_config(SOURCE).items if i.kind is ItemKind.MODEL}
    assert first == second and len(first) == 2


def test_duplicate_model_ids_in_a_file_are_reassigned_with_a_warning() -> None:
    text = (
        "model_list:\n"
        "  - {model_name: a, litellm_params: {model: openai/x}, model_info: {id: same}}\n"
        "  - {model_name: b, litellm_params: {model: openai/y}, model_info: {id: same}}\n"
    )
    result = import_config(text)
    assert len({i.name for i in result.items}) == 2
    assert "import.model-id-reassigned" in {f.rule for f in result.findings}


def test_literal_secrets_outside_credential_list_are_findings() -> None:
    text = "model_list:\n  - {model_name: a, litellm_params: {model: openai/x, api_key: sk-x}}\n"
    result = import_config(text)
    assert [f.rule for f in result.findings] == ["secret.literal"]
    assert result.items[0].data["litellm_params"]["api_key"] == "sk-x"  # kept, never lost


def test_render_keeps_unknown_params_and_credential_references() -> None:
    config = yaml.safe_load(render(list(_items().values())))
    gpt = next(m for m in config["model_list"] if m["model_name"] == "gpt")
    assert gpt["litellm_params"]["some_future_param"] == {"nested": [1, 2]}
    assert gpt["litellm_params"]["litellm_credential_name"] == "openai-prod"
    assert gpt["model_info"] == {
        "id": "11111111-1111-1111-1111-111111111111",
        "custom_tier": "gold",
    }
    assert config["credential_list"] == [
        {
            "credential_name": "openai-prod",
            "credential_values": {
                "api_base": "https://api.openai.com/v1",
                "api_key": "sk-live-abc",
            },
            "credential_info": {"description": "prod"},
        }
    ]
    assert config["guardrails"][0]["guardrail_name"] == "pii"


def test_redacted_render_shows_no_secret_and_real_render_holds_the_literal() -> None:
    items = list(_items().values())
    assert "sk-live-abc" in render(items)
    redacted = render(items, redact=True)
    assert "sk-live-abc" not in redacted and '"***"' in redacted


def test_managed_sections_win_over_the_passthrough() -> None:
    passthrough = Item(
        ItemKind.PASSTHROUGH,
        "_",
        "router_settings: {routing_strategy: least-busy, num_retries: 3}\n"
        "model_list: [{model_name: stray, litellm_params: {model: openai/x}}]\n"
        "mcp_servers: {}\n",
    )
    strategy = Item(ItemKind.ROUTER_SETTING, "routing_strategy", "simple-shuffle")
    config = build_config([passthrough, strategy])
    assert config["router_settings"] == {"num_retries": 3, "routing_strategy": "simple-shuffle"}
    assert config["model_list"] == []
    assert list(config) == ["model_list", "router_settings", "mcp_servers"]


def test_render_is_stable_across_input_order() -> None:
    items = list(_items().values())
    assert render(items) == render(list(reversed(items)))


def test_diff_lists_changed_fields_and_hides_secret_values() -> None:
    applied = list(_items().values())
    cred = next(i for i in applied if i.kind is ItemKind.CREDENTIAL)
    rotated = Item(
        cred.kind,
        cred.name,
        {
            **cred.data,
            "credential_values": {
                **cred.data["credential_values"],
                "api_key": Secret("sk-new-xyz"),
            },
        },
    )
    strategy = Item(ItemKind.ROUTER_SETTING, "routing_strategy", "latency-based-routing")
    new_model = Item(
        ItemKind.MODEL,
        "new-id",
        {"model_name": "mini", "litellm_params": {"model": "openai/gpt-4o-mini"}},
    )
    gone = next(i for i in applied if i.kind is ItemKind.MODEL and i.data["model_name"] == "local")
    staged = {
        rotated.key: (rotated, Flag.CHANGED),
        strategy.key: (strategy, Flag.CHANGED),
        new_model.key: (new_model, Flag.NEW),
        gone.key: (gone, Flag.DELETED),
    }
    effective = [
        EffectiveItem(*staged[i.key]) if i.key in staged else EffectiveItem(i) for i in applied
    ] + [EffectiveItem(new_model, Flag.NEW)]
    changes = {str(c.key): c for c in diff_items(applied, effective)}
    secret_change = changes["credential:openai-prod"].fields
    assert [(f.path, f.before, f.after, f.secret) for f in secret_change] == [
        ("credential_values.api_key", "***", "***", True)
    ]
    assert changes["router_setting:routing_strategy"].fields[0].after == "latency-based-routing"
    assert changes["model:new-id"].flag is Flag.NEW
    assert changes[f"model:{gone.name}"].flag is Flag.DELETED
    text = unified_config_diff(applied, effective)
    assert "+    model_name: mini" not in text  # entries start with "- "
    assert "+  - model_name: mini" in text
    assert "-  - model_name: local" in text
    assert "sk-new-xyz" not in text and "sk-live-abc" not in text


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name[:3])
def test_every_corpus_config_imports_and_re_renders_to_the_same_config(path: Path) -> None:
    text = path.read_text()
    original = yaml.safe_load(text) or {}
    result = import_config(text)
    rendered = yaml.safe_load(render(result.items))
    # Same models (ids added), same settings, same passthrough keys: nothing lost.
    assert sorted(map(_without_id, rendered["model_list"])) == sorted(
        map(_without_id, original.get("model_list") or [])
    )
    for section in ("router_settings", "litellm_settings", "general_settings"):
        if isinstance(original.get(section), dict) and original[section]:
            assert rendered[section] == original[section]
    for key in set(original) - {
        "model_list",
        "credential_list",
        "router_settings",
        "litellm_settings",
        "general_settings",
    }:
        assert rendered[key] == original[key]
    # Re-rendering never adds errors the original did not have.
    before_rules = {f.rule for f in validate_text(text) if f.severity == "error"}
    after_rules = {f.rule for f in validate_text(render(result.items)) if f.severity == "error"}
    assert after_rules <= before_rules


def _without_id(entry: object) -> str:
    """A model entry as canonical JSON, minus model_info.id (import assigns missing ids)."""
    if isinstance(entry, dict):
        entry = dict(entry)
        info = {k: v for k, v in (entry.get("model_info") or {}).items() if k != "id"}
        entry.pop("model_info", None)
        if info:
            entry["model_info"] = info
    return json.dumps(entry, sort_keys=True, default=str)
