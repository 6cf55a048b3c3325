"""LiteLLM virtual keys as plain values: what a key is, what the admin asks for, and the rules a
request must pass before it goes to LiteLLM (issue #6 §1).

Pure: no network, no clock (`now` is an argument). The HTTP calls live in
remote/litellm_keys.py, the use-cases in ops/keys.py.

Two LiteLLM facts shape this module (litellm 1.108.7):
- `/key/update` replaces `metadata` whole, so edits read the key, merge, and write it back
  (`merge_metadata`).
- A key's model aliases (`aliases`) are resolved AFTER LiteLLM checks that the key may call the
  requested name, so the alias names themselves must be in the key's `models`
  (`models_with_aliases`). An empty `models` list means "every model", which aliases must not
  narrow.
- The per-key routing override is the key's `router_settings` column (UpdateRouterConfig): the
  proxy takes key settings over team settings and passes `routing_strategy` and `fallbacks` as
  per-request overrides; without it (None or {}) the global router_settings apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

__all__ = [
    "ROUTING_STRATEGIES",
    "CreatedKey",
    "KeyPage",
    "KeySpec",
    "RoutingOverride",
    "VirtualKey",
    "check_spec",
    "is_duration",
    "mask_key",
    "merge_metadata",
    "models_with_aliases",
    "redact_keys",
    "spec_body",
]

# Strategies LiteLLM's Router honours as a per-request override (Router.
# _OVERRIDABLE_ROUTING_STRATEGIES in 1.108.7); others stored on a key are ignored with a warning.
ROUTING_STRATEGIES: Final = (
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
)

# LiteLLM's duration_in_seconds: <number> followed by s, m, h, d, w or mo.
_DURATION: Final = re.compile(r"^\d+(s|m|h|d|w|mo)$")
# A plaintext LiteLLM key (sk-…) anywhere in a text, e.g. echoed back in an error message.
_KEY_IN_TEXT: Final = re.compile(r"sk-[A-Za-z0-9_\-]{4,}")
_MIN_KEY_LENGTH: Final = 8  # shorter values are masked without their tail


def mask_key(secret: str) -> str:
    """A key as LiteLLM displays it (its `key_name`): "sk-...abcd"; never more of it."""
    if len(secret) < _MIN_KEY_LENGTH:
        return "sk-..."
    return f"sk-...{secret[-4:]}"


def redact_keys(text: str) -> str:
    """`text` with every plaintext key in it masked (LiteLLM echoes keys in some errors)."""
    return _KEY_IN_TEXT.sub(lambda match: mask_key(match.group(0)), text)


def is_duration(value: str) -> bool:
    """Whether LiteLLM reads `value` as a duration ("30d", "1h", "1mo", ...)."""
    return bool(_DURATION.match(value.strip()))


# --- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingOverride:
    """A key's own routing: a strategy (None: the global one) and fallbacks (group → targets).

    Stored as the key's `router_settings`; `empty` means "inherit everything"."""

    strategy: str | None = None
    fallbacks: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def empty(self) -> bool:
        """True when the key inherits the global routing entirely."""
        return self.strategy is None and not self.fallbacks

    def router_settings(self) -> dict[str, Any]:
        """The `router_settings` object LiteLLM stores on the key ({} = inherit)."""
        settings: dict[str, Any] = {}
        if self.strategy is not None:
            settings["routing_strategy"] = self.strategy
        if self.fallbacks:
            settings["fallbacks"] = [{group: list(targets)} for group, targets in self.fallbacks]
        return settings

    @classmethod
    def from_router_settings(cls, settings: Mapping[str, Any] | None) -> RoutingOverride:
        """Read the strategy and fallbacks back from a key's `router_settings` (other settings a
        key may carry are left alone by the app and not shown here)."""
        if not settings:
            return cls()
        strategy = settings.get("routing_strategy")
        fallbacks: list[tuple[str, tuple[str, ...]]] = []
        raw = settings.get("fallbacks")
        for entry in raw if isinstance(raw, list) else []:
            if isinstance(entry, Mapping):
                for group, targets in entry.items():
                    if isinstance(targets, list):
                        fallbacks.append((str(group), tuple(str(t) for t in targets)))
        return cls(strategy if isinstance(strategy, str) else None, tuple(fallbacks))


@dataclass(frozen=True)
class VirtualKey:
    """One LiteLLM virtual key as listed: never its plaintext, only its hash and masked name."""

    token: str  # sha256 hex of the key: how LiteLLM (and the spend logs) identify it
    key_name: str  # LiteLLM's masked form, "sk-...abcd"
    alias: str | None = None
    models: tuple[str, ...] = ()
    spend: float = 0.0
    max_budget: float | None = None
    budget_duration: str | None = None
    budget_reset_at: datetime | None = None
    expires: datetime | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    blocked: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    router_settings: Mapping[str, Any] = field(default_factory=dict)
    last_active: datetime | None = None
    created_at: datetime | None = None
    user_id: str | None = None
    team_id: str | None = None

    @property
    def label(self) -> str:
        """How to name the key to a person: its alias, else its masked name."""
        return self.alias or self.key_name

    @property
    def routing(self) -> RoutingOverride:
        """The key's routing override, read from its router_settings."""
        return RoutingOverride.from_router_settings(self.router_settings)

    def is_expired(self, now: datetime) -> bool:
        """True when `expires` lies before `now` (both timezone-aware)."""
        return self.expires is not None and self.expires < now


@dataclass(frozen=True)
class KeyPage:
    """One page of `/key/list`."""

    keys: tuple[VirtualKey, ...]
    total_count: int
    page: int
    total_pages: int

    @property
    def has_more(self) -> bool:
        """True when later pages exist."""
        return self.page < self.total_pages


@dataclass(frozen=True)
class CreatedKey:
    """A key just created or regenerated: the only moment its plaintext exists for the app.

    `secret` is excluded from repr so it never reaches a log through a dataclass dump."""

    key: VirtualKey
    secret: str = field(repr=False)


@dataclass(frozen=True)
class KeySpec:
    """What the create/edit sheet and the CLI ask for.

    `duration`: on create, how long the key lives (None: forever); on update, None leaves the
    expiry as it is and "never" removes it. `metadata` is merged into the key's metadata, keys
    in `metadata_removed` are dropped. `aliases` (alias → model group) replaces the key's
    aliases when not None; `routing` replaces its routing override when not None.
    """

    alias: str | None = None
    models: tuple[str, ...] = ()
    max_budget: float | None = None
    budget_duration: str | None = None
    duration: str | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    metadata_removed: tuple[str, ...] = ()
    aliases: Mapping[str, str] | None = None
    routing: RoutingOverride | None = None


NEVER: Final = "never"


# --- rules -------------------------------------------------------------------------------------


def merge_metadata(
    existing: Mapping[str, Any], changes: Mapping[str, Any], removed: Iterable[str] = ()
) -> dict[str, Any]:
    """The metadata to write back: the key's own, `changes` laid over it, `removed` dropped.
    (LiteLLM's /key/update replaces metadata whole; sending only the changes would lose the
    rest, including fields LiteLLM itself keeps there.)"""
    merged = dict(existing)
    merged.update(changes)
    for name in removed:
        merged.pop(name, None)
    return merged


def models_with_aliases(models: Sequence[str], aliases: Mapping[str, str]) -> tuple[str, ...]:
    """The key's models plus its alias names: LiteLLM checks the name a client sends against the
    key's models before it resolves the alias. An empty list (every model) stays empty."""
    if not models:
        return ()
    extra = [name for name in aliases if name not in models]
    return (*models, *extra)


def check_spec(spec: KeySpec, model_groups: Sequence[str], *, creating: bool) -> list[str]:
    """Every reason (one sentence each) LiteLLM or the app would refuse `spec`; [] when fine.

    `model_groups` are the applied model groups: a key may only name those."""
    problems: list[str] = []
    groups = set(model_groups)
    if spec.alias is not None and not spec.alias.strip():
        problems.append("The alias cannot be blank.")
    unknown = [m for m in spec.models if m not in groups]
    if unknown:
        problems.append(
            f"{_names(unknown)} {'is' if len(unknown) == 1 else 'are'} not an applied model "
            "group; pick models from the applied groups."
        )
    if spec.max_budget is not None and spec.max_budget < 0:
        problems.append("The budget cannot be negative.")
    for label, value in (("RPM", spec.rpm_limit), ("TPM", spec.tpm_limit)):
        if value is not None and value < 0:
            problems.append(f"The {label} limit cannot be negative.")
    if spec.budget_duration is not None and not is_duration(spec.budget_duration):
        problems.append(
            f"The budget period {spec.budget_duration!r} is not a duration like 30d, 1h or 1mo."
        )
    if spec.duration is not None and not (
        is_duration(spec.duration) or (spec.duration == NEVER and not creating)
    ):
        problems.append(f"The expiry {spec.duration!r} is not a duration like 30d, 1h or 1mo.")
    problems.extend(_alias_problems(spec, groups))
    problems.extend(_routing_problems(spec))
    return problems


def _alias_problems(spec: KeySpec, groups: set[str]) -> list[str]:
    problems: list[str] = []
    for name, target in (spec.aliases or {}).items():
        if not name.strip():
            problems.append("A model alias needs a name.")
        elif name in groups:
            problems.append(
                f"The alias {name} is already a model group; an alias must not hide one."
            )
        # LiteLLM checks the alias name against the key's models, not the target: the
        # target only has to be served.
        if target not in groups:
            problems.append(
                f"The alias {name} points at {target}, which is not an applied model group."
            )
    return problems


def _routing_problems(spec: KeySpec) -> list[str]:
    routing = spec.routing
    if routing is None:
        return []
    problems: list[str] = []
    if routing.strategy is not None and routing.strategy not in ROUTING_STRATEGIES:
        problems.append(
            f"LiteLLM cannot use {routing.strategy!r} as a per-key strategy; choose one of "
            f"{', '.join(ROUTING_STRATEGIES)}, or inherit the global one."
        )
    allowed = set(spec.models) | set(spec.aliases or {})
    for group, targets in routing.fallbacks:
        outside = [m for m in (group, *targets) if spec.models and m not in allowed]
        if outside:
            problems.append(
                f"The fallback of {group} names {_names(outside)}, which this key may not call; "
                "fallbacks are limited to the key's models."
            )
        if group in targets:
            problems.append(f"{group} cannot fall back to itself.")
    return problems


def _names(names: Sequence[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def spec_body(spec: KeySpec, existing: VirtualKey | None = None) -> dict[str, Any]:
    """The JSON body of /key/generate (existing None) or the fields of /key/update.

    On update, metadata is the key's own merged with the spec's, and alias names are added to
    the models, as the module docstring explains."""
    aliases = dict(spec.aliases) if spec.aliases is not None else None
    effective_aliases = (
        aliases if aliases is not None else dict(existing.aliases if existing else {})
    )
    body: dict[str, Any] = {
        "models": list(models_with_aliases(spec.models, effective_aliases)),
        "max_budget": spec.max_budget,
        "budget_duration": spec.budget_duration,
        "rpm_limit": spec.rpm_limit,
        "tpm_limit": spec.tpm_limit,
    }
    if spec.alias is not None:
        body["key_alias"] = spec.alias.strip()
    if existing is None:
        if spec.duration is not None:
            body["duration"] = spec.duration
        body["metadata"] = merge_metadata({}, spec.metadata, spec.metadata_removed)
    else:
        if spec.duration is not None:
            body["duration"] = None if spec.duration == NEVER else spec.duration
        body["metadata"] = merge_metadata(existing.metadata, spec.metadata, spec.metadata_removed)
    if aliases is not None:
        body["aliases"] = aliases
    if spec.routing is not None:
        # Other router settings a key carries (set outside the app) are kept.
        kept = {
            name: value
            for name, value in (existing.router_settings if existing else {}).items()
            if name not in ("routing_strategy", "fallbacks")
        }
        body["router_settings"] = {**kept, **spec.routing.router_settings()}
    return body
