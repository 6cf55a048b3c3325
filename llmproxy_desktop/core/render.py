"""Items → LiteLLM config.yaml. Deterministic: the same items give the same bytes.

Layout of the rendered file: `model_list`, `credential_list` (when the vault holds credentials),
`router_settings`, `litellm_settings`, `general_settings`, then the passthrough's other top-level
keys in the order the admin wrote them. Managed sections win over passthrough: a settings section
present in both is merged key by key with the managed value winning; `model_list` and a non-empty
managed `credential_list` replace the passthrough's outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from .items import SETTING_SECTIONS, Item, ItemKind, JSONValue
from .yamltext import dump_yaml, parse_yaml

MANAGED_TOP_KEYS: Final = ("model_list", "credential_list", *SETTING_SECTIONS.values())


def canonical(value: JSONValue) -> JSONValue:
    """Recursively key-sorted copy: item data loses its key order in JSONB, the file must not
    depend on it. Exact dict/list checks: this runs on every value of every model."""
    kind = type(value)
    if kind is dict:
        try:
            pairs = sorted(value.items(), key=_first_of)
        except TypeError:  # keys of mixed types
            pairs = sorted(value.items(), key=lambda kv: str(kv[0]))
        return {k: canonical(v) if type(v) in _CONTAINERS else v for k, v in pairs}
    if kind is list:
        return [canonical(v) if type(v) in _CONTAINERS else v for v in value]
    if isinstance(value, Mapping):
        return canonical(dict(value))
    return value


_CONTAINERS: Final = (dict, list)


def _first_of(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _first(mapping: Mapping[str, Any], *leading: str) -> dict[str, Any]:
    """Canonical copy of a mapping with the given keys (when present) first."""
    ordered = {k: canonical(mapping[k]) for k in leading if k in mapping}
    for k in sorted(mapping, key=str):
        if k not in ordered:
            ordered[k] = canonical(mapping[k])
    return ordered


def model_entry(item: Item) -> dict[str, Any]:
    """One model_list entry. `model_info.id` is always the item's stable id."""
    data: Mapping[str, Any] = item.data if isinstance(item.data, Mapping) else {}
    entry = _first(data, "model_name", "litellm_params", "model_info")
    params = data.get("litellm_params")
    if isinstance(params, Mapping):
        entry["litellm_params"] = _first(params, "model")
    info = data.get("model_info")
    info_map: Mapping[str, Any] = info if isinstance(info, Mapping) else {}
    rest = {k: v for k, v in _first(info_map).items() if k != "id"}
    entry["model_info"] = {"id": item.name, **rest}
    return entry


def credential_entry(item: Item) -> dict[str, Any]:
    """One credential_list entry; LiteLLM requires credential_info, so it is always present."""
    data: Mapping[str, Any] = item.data if isinstance(item.data, Mapping) else {}
    values = data.get("credential_values")
    info = data.get("credential_info")
    entry: dict[str, Any] = {
        "credential_name": item.name,
        "credential_values": canonical(values) if isinstance(values, Mapping) else {},
        "credential_info": canonical(info) if isinstance(info, Mapping) else {},
    }
    for k in sorted(data, key=str):
        if k not in ("credential_values", "credential_info"):
            entry[k] = canonical(data[k])
    return entry


def _model_sort_key(item: Item) -> tuple[str, str]:
    name = item.data.get("model_name") if isinstance(item.data, Mapping) else None
    return (name if isinstance(name, str) else "", item.name)


def passthrough_mapping(items: Iterable[Item]) -> dict[str, Any]:
    """The passthrough's parsed mapping, or {} when absent or not a usable mapping
    (validation reports why)."""
    for item in items:
        if item.kind is ItemKind.PASSTHROUGH and isinstance(item.data, str) and item.data.strip():
            parsed = parse_yaml(item.data)
            if parsed.usable and isinstance(parsed.value, dict):
                return parsed.value
    return {}


def build_config(items: Iterable[Item]) -> dict[str, Any]:
    """The config as a mapping, with `Secret` leaves still wrapped (validation needs to tell a
    vault secret from a literal)."""
    items = list(items)
    models = sorted((i for i in items if i.kind is ItemKind.MODEL), key=_model_sort_key)
    credentials = sorted((i for i in items if i.kind is ItemKind.CREDENTIAL), key=lambda i: i.name)
    base = passthrough_mapping(items)

    config: dict[str, Any] = {"model_list": [model_entry(m) for m in models]}
    if credentials:
        config["credential_list"] = [credential_entry(c) for c in credentials]
    elif "credential_list" in base:
        config["credential_list"] = base["credential_list"]
    for kind, section in SETTING_SECTIONS.items():
        managed = {i.name: canonical(i.data) for i in items if i.kind is kind}
        inherited = base.get(section)
        merged: dict[str, Any] = dict(inherited) if isinstance(inherited, Mapping) else {}
        merged.update(managed)
        if merged:
            config[section] = {k: merged[k] for k in sorted(merged, key=str)}
        elif section in base:
            config[section] = inherited
    for key, value in base.items():
        if key not in config and key not in MANAGED_TOP_KEYS:
            config[key] = value
    return config


def render(items: Iterable[Item], *, redact: bool = False) -> str:
    """LiteLLM config.yaml text. Secrets are literals (the file LiteLLM reads) unless `redact`,
    which shows them as *** for every preview, diff and log."""
    return dump_yaml(build_config(items), redact=redact)
