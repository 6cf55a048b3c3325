"""Properties of the config engine over generated inputs."""

from __future__ import annotations

import json
import random

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.items import Item, Secret
from llmproxy_desktop.core.render import render
from llmproxy_desktop.core.secrets import map_secrets
from llmproxy_desktop.core.validate import validate_config, validate_text
from llmproxy_desktop.core.yamltext import dump_yaml, parse_yaml
from tests.fixtures.corpus import corpus_files

from .strategies import item_sets, json_values, texts

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _by_key(items: list[Item] | tuple[Item, ...]) -> dict[tuple[str, str], object]:
    return {(i.kind.value, i.name): i.data for i in items}


@PROPERTY
@given(json_values)
def test_emitted_yaml_loads_back_to_the_same_data(value: object) -> None:
    assert yaml.safe_load(dump_yaml(value)) == value


@PROPERTY
@given(item_sets)
def test_import_of_render_gives_back_the_items(items: list[Item]) -> None:
    result = import_config(render(items))
    assert _by_key(result.items) == _by_key(items)


@PROPERTY
@given(item_sets, st.randoms())
def test_render_is_deterministic_whatever_the_order_and_key_order(
    items: list[Item], rnd: random.Random
) -> None:
    shuffled = items[:]
    rnd.shuffle(shuffled)
    # JSONB returns keys in its own order: simulate a round trip through the database.
    reloaded = [
        Item(i.kind, i.name, _reorder(map_secrets(i.data, lambda s: {"$s": s.reveal()}), rnd))
        for i in shuffled
    ]
    reloaded = [Item(i.kind, i.name, _unseal(i.data)) for i in reloaded]
    assert render(reloaded).encode() == render(items).encode()


def _reorder(value: object, rnd: random.Random) -> object:
    if isinstance(value, dict):
        pairs = list(value.items())
        rnd.shuffle(pairs)
        return {k: _reorder(v, rnd) for k, v in pairs}
    if isinstance(value, list):
        return [_reorder(v, rnd) for v in value]
    return value


def _unseal(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"$s"}:
            return Secret(value["$s"])
        return {k: _unseal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unseal(v) for v in value]
    return value


config_like = st.recursive(
    json_values,
    lambda inner: (
        st.dictionaries(
            st.sampled_from(
                [
                    "model_list",
                    "litellm_params",
                    "model_name",
                    "model",
                    "router_settings",
                    "litellm_settings",
                    "general_settings",
                    "cache",
                    "cache_params",
                    "type",
                    "fallbacks",
                    "routing_groups",
                    "models",
                    "model_group_alias",
                    "credential_list",
                    "credential_values",
                    "credential_name",
                    "api_key",
                    "alert_to_webhook_url",
                    "routing_strategy",
                    "store_model_in_db",
                    "default_fallbacks",
                    "model_info",
                    "id",
                ]
            ),
            inner,
            max_size=5,
        )
        | st.lists(inner, max_size=4)
    ),
    max_leaves=30,
)


@PROPERTY
@given(config_like)
def test_validate_never_raises_on_arbitrary_config_shapes(config: object) -> None:
    findings = validate_config(config)
    assert all(f.rule and f.message for f in findings)
    validate_text(yaml.safe_dump(config))


@PROPERTY
@given(texts)
def test_validate_never_raises_on_arbitrary_text(text: str) -> None:
    for finding in validate_text(text):
        assert finding.message


def test_jsonb_like_round_trip_helper_is_faithful() -> None:
    data = {"b": 1, "a": {"d": [1, {"f": 2, "e": 3}], "c": None}}
    assert _reorder(data, random.Random(1)) == data
    assert json.dumps(_reorder(data, random.Random(3))) != ""


@PROPERTY
@given(json_values)
def test_our_loader_reads_what_pyyaml_reads(value: object) -> None:
    text = yaml.safe_dump({"v": value})
    assert parse_yaml(text).value == yaml.safe_load(text)


def test_our_loader_reads_every_corpus_file_as_pyyaml_does() -> None:
    for path in corpus_files():
        text = path.read_text()
        assert parse_yaml(text).value == yaml.safe_load(text), path.name
