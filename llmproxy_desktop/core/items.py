"""The Master's unit of configuration: an item is kind + name + data.

Items are plain, JSON-shaped data with one exception: a secret held by the credential vault is a
`Secret`, which never shows its value in repr/str and renders as a literal only into the file
LiteLLM reads. Everything in this module is pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

# JSON-shaped values (with `Secret` leaves). Kept loose on purpose: unknown keys of LiteLLM's
# ~260 litellm_params must survive untouched.
JSONValue = Any

PASSTHROUGH_NAME: Final = "_"
REDACTED: Final = "***"
ENV_PREFIX: Final = "os.environ/"


class ItemKind(StrEnum):
    """What an item configures; each kind renders into one place of config.yaml."""

    MODEL = "model"  # name: stable UUID (= model_info.id); data: one model_list entry
    CREDENTIAL = "credential"  # name: credential_name; data: {credential_values, credential_info}
    ROUTER_SETTING = "router_setting"  # name: a router_settings key; data: its value
    LITELLM_SETTING = "litellm_setting"  # name: a litellm_settings key (cache, cache_params...)
    GENERAL_SETTING = "general_setting"  # name: a general_settings key; data: its value
    PASSTHROUGH = "passthrough"  # name: "_"; data: raw YAML text of keys the app does not model


SETTING_SECTIONS: Final[Mapping[ItemKind, str]] = {
    ItemKind.ROUTER_SETTING: "router_settings",
    ItemKind.LITELLM_SETTING: "litellm_settings",
    ItemKind.GENERAL_SETTING: "general_settings",
}


class Flag(StrEnum):
    """How a staged item differs from the applied one."""

    NEW = "new"
    CHANGED = "changed"
    DELETED = "deleted"


class Secret:
    """A secret value held by the vault. Its value is never part of repr/str/format.

    Deliberately not a dataclass: `dataclasses.asdict` on an item would otherwise copy the value
    out as a plain string.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret(***)"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))

    def reveal(self) -> str:
        """The literal, for the rendered file and the vault only."""
        return self._value


@dataclass(frozen=True)
class ItemKey:
    """Identity of an item across applied and staged state."""

    kind: ItemKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Item:
    """One unit of configuration. `data` is JSON-shaped (Secret leaves allowed)."""

    kind: ItemKind
    name: str
    data: JSONValue

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.kind, self.name)


@dataclass(frozen=True)
class EffectiveItem:
    """An item as the admin sees it: applied overlaid by staged, with its staged flag.

    For a deleted item, `item` holds the applied data (shown struck through until Apply).
    `version` is the optimistic-concurrency token the store hands out for the next edit.
    """

    item: Item
    flag: Flag | None = None
    version: int = 0

    @property
    def is_deleted(self) -> bool:
        return self.flag is Flag.DELETED


def effective_view(
    applied: Iterable[Item], staged: Iterable[tuple[Item, Flag]]
) -> list[EffectiveItem]:
    """Overlay staged items on applied ones. Order: applied order, then new items."""
    result: dict[ItemKey, EffectiveItem] = {i.key: EffectiveItem(i) for i in applied}
    for item, flag in staged:
        if flag is Flag.DELETED:
            base = result.get(item.key)
            if base is not None:
                result[item.key] = EffectiveItem(base.item, Flag.DELETED)
        else:
            result[item.key] = EffectiveItem(item, flag)
    return list(result.values())


def live_items(effective: Iterable[EffectiveItem]) -> list[Item]:
    """The items Apply would render: everything effective except deletions."""
    return [e.item for e in effective if not e.is_deleted]


def is_env_reference(value: object) -> bool:
    """True for LiteLLM's `os.environ/VAR` secret-reference convention."""
    return isinstance(value, str) and value.startswith(ENV_PREFIX) and len(value) > len(ENV_PREFIX)


def model_group(item: Item) -> str | None:
    """The public model-group name of a model item, if it has a usable one."""
    name = item.data.get("model_name") if isinstance(item.data, Mapping) else None
    return name if isinstance(name, str) else None


def item_label(item: Item) -> str:
    """How an admin names an item: a model by its group and model, others by kind and name."""
    if item.kind is ItemKind.MODEL and isinstance(item.data, dict):
        params = item.data.get("litellm_params")
        model = params.get("model") if isinstance(params, dict) else None
        group = model_group(item) or item.name
        return f"model {group}" + (f" ({model})" if isinstance(model, str) else "")
    return f"{item.kind.value.replace('_', ' ')} {item.name}"
