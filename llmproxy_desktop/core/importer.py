"""config.yaml text → items: the first-boot import of an existing LiteLLM config.

Managed sections split into items (one per model, credential and settings key); every other
top-level key goes into the passthrough. Literal secrets in `credential_list` become vault
`Secret`s; literal secrets anywhere else stay as written and are reported by validation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .findings import Finding, Severity
from .items import PASSTHROUGH_NAME, SETTING_SECTIONS, Item, ItemKind, Secret
from .render import MANAGED_TOP_KEYS
from .secrets import is_literal_secret, looks_secret_key
from .validate import validate_config
from .yamltext import dump_yaml, parse_yaml

# Stable ids for models that have none: the same file imports to the same ids.
_MODEL_ID_NAMESPACE: Final = uuid.UUID("6f1f3c2e-4f55-4a43-9d3a-2b1c6f7e8a90")


@dataclass(frozen=True)
class ImportResult:
    """Items the Master would hold, and findings about the imported text."""

    items: tuple[Item, ...]
    findings: tuple[Finding, ...]

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def import_config(text: str) -> ImportResult:
    """Split config.yaml text into items. Never raises on bad input: it returns findings."""
    parsed = parse_yaml(text)
    if not parsed.usable:
        return ImportResult((), parsed.findings)
    config = parsed.value
    findings = [*parsed.findings, *validate_config(config)]
    if not isinstance(config, dict):
        return ImportResult((), tuple(findings))
    items: list[Item] = []
    items += _models(config.get("model_list"), findings)
    items += _credentials(config.get("credential_list"))
    for kind, section in SETTING_SECTIONS.items():
        values = config.get(section)
        if isinstance(values, Mapping):
            items += [Item(kind, str(k), v) for k, v in values.items()]
    rest = {k: v for k, v in config.items() if k not in MANAGED_TOP_KEYS}
    if rest:
        items.append(Item(ItemKind.PASSTHROUGH, PASSTHROUGH_NAME, dump_yaml(rest)))
    return ImportResult(tuple(items), tuple(findings))


def stable_model_id(index: int, entry: object) -> str:
    """A deterministic UUID for a model entry that has no model_info.id."""
    try:
        body = json.dumps(entry, sort_keys=True, default=str)
    except TypeError:  # keys of mixed types cannot be sorted
        body = repr(entry)
    return str(uuid.uuid5(_MODEL_ID_NAMESPACE, f"{index}:{body}"))


def normalise_model_data(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Model item data: the entry without model_info.id (the item name holds it) and without an
    empty model_info."""
    data = dict(entry)
    info = data.get("model_info")
    if isinstance(info, Mapping):
        rest = {k: v for k, v in info.items() if k != "id"}
        if rest:
            data["model_info"] = rest
        else:
            del data["model_info"]
    return data


def _models(model_list: object, findings: list[Finding]) -> list[Item]:
    if not isinstance(model_list, list):
        return []
    items: list[Item] = []
    seen: set[str] = set()
    for index, entry in enumerate(model_list):
        if not isinstance(entry, Mapping):
            continue  # validation already reported it; nothing importable
        info = entry.get("model_info")
        given = info.get("id") if isinstance(info, Mapping) else None
        model_id = given if isinstance(given, str) and given.strip() else None
        if model_id is None or model_id in seen:
            if model_id is not None:
                findings.append(
                    Finding(
                        "import.model-id-reassigned",
                        Severity.WARNING,
                        f"model_list[{index}].model_info.id",
                        f"Model id {model_id!r} is used twice; this entry gets a new id.",
                    )
                )
            model_id = stable_model_id(index, entry)
        seen.add(model_id)
        items.append(Item(ItemKind.MODEL, model_id, normalise_model_data(entry)))
    return items


def _credentials(credential_list: object) -> list[Item]:
    if not isinstance(credential_list, list):
        return []
    items: list[Item] = []
    seen: set[str] = set()
    for entry in credential_list:
        if not isinstance(entry, Mapping):
            continue
        name = entry.get("credential_name")
        if not isinstance(name, str) or not name or name in seen:
            continue  # reported by validation (missing or duplicate name)
        seen.add(name)
        data = {k: v for k, v in entry.items() if k != "credential_name"}
        values = entry.get("credential_values")
        if isinstance(values, Mapping):
            data["credential_values"] = {k: _vault_if_secret(k, v) for k, v in values.items()}
        items.append(Item(ItemKind.CREDENTIAL, name, data))
    return items


def _vault_if_secret(key: object, value: object) -> object:
    """Literal secrets go into the vault: strings as they are, numbers as their text, inline
    mappings (e.g. a service-account JSON under vertex_credentials) as JSON text, which LiteLLM
    accepts in place of the mapping."""
    if not (isinstance(key, str) and looks_secret_key(key) and is_literal_secret(value)):
        return value
    if isinstance(value, dict | list):
        return Secret(json.dumps(value, sort_keys=True, default=str))
    return Secret(str(value))
