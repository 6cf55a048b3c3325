"""What Apply would change: per item, and as a unified diff of the rendered YAML.

Secrets never show: a changed secret is reported as changed, with *** on both sides.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from .items import (
    REDACTED,
    SETTING_SECTIONS,
    EffectiveItem,
    Flag,
    Item,
    ItemKey,
    JSONValue,
    Secret,
    live_items,
)
from .render import render
from .secrets import looks_secret_key, mask_secret_value, redact

_MISSING: Final = object()


@dataclass(frozen=True)
class FieldChange:
    """One changed leaf. Values are redacted (*** for secrets); `secret` marks such a change."""

    path: str
    before: JSONValue
    after: JSONValue
    secret: bool = False


@dataclass(frozen=True)
class ItemChange:
    """How one staged item differs from its applied version."""

    key: ItemKey
    flag: Flag
    fields: tuple[FieldChange, ...]


def diff_items(applied: Iterable[Item], effective: Iterable[EffectiveItem]) -> list[ItemChange]:
    """Per-item changes of every staged item, in a stable order (kind, name)."""
    before = {i.key: i for i in applied}
    changes: list[ItemChange] = []
    for e in effective:
        if e.flag is None:
            continue
        old = before.get(e.item.key)
        old_data = old.data if old is not None else _MISSING
        new_data = _MISSING if e.flag is Flag.DELETED else e.item.data
        # A settings item's name is its key in the file (master_key, redis_password...).
        named_secret = e.item.kind in SETTING_SECTIONS and _secret_name(e.item.name)
        fields = tuple(_leaf_changes("", old_data, new_data, named_secret))
        changes.append(ItemChange(e.item.key, e.flag, fields))
    return sorted(changes, key=lambda c: (c.key.kind.value, c.key.name))


def unified_config_diff(applied: Iterable[Item], effective: Iterable[EffectiveItem]) -> str:
    """Unified diff between the applied config and what Apply would write (secrets as ***)."""
    old = render(applied, redact=True).splitlines(keepends=True)
    new = render(live_items(effective), redact=True).splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, "applied/config.yaml", "staged/config.yaml"))


def _shown(value: object) -> JSONValue:
    if value is _MISSING:
        return None
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, Mapping | list):
        return redact(value)
    return value


def _leaf_changes(
    path: str, old: object, new: object, under_secret: bool = False
) -> Iterable[FieldChange]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}, key=str):
            sub = f"{path}.{key}" if path else str(key)
            secret_key = under_secret or (isinstance(key, str) and _secret_name(key))
            yield from _leaf_changes(
                sub, old.get(key, _MISSING), new.get(key, _MISSING), secret_key
            )
        return
    if old == new and type(old) is type(new):
        return
    secret = under_secret or isinstance(old, Secret) or isinstance(new, Secret)
    if secret:
        yield FieldChange(path or "(value)", _masked(old), _masked(new), True)
    else:
        yield FieldChange(path or "(value)", _shown(old), _shown(new))


def _secret_name(key: str) -> bool:
    return looks_secret_key(key) or "webhook" in key.lower()


def _masked(value: object) -> JSONValue:
    return None if value is _MISSING else mask_secret_value(value)
