"""Virtual keys (issue #6 §1): list, search, create, edit, block, regenerate, delete.

Each use-case takes the stack's `LiteLLMClient` (`connection.target.litellm`) and talks to
LiteLLM's /key/* endpoints; nothing here touches LiteLLM's tables directly, so LiteLLM's own
rules (unique aliases, budget resets, its caches) stay in force. Failures are `KeysError`s
whose message is one sentence for the UI and CLI; a key's plaintext is returned once, by
`create_key` and `regenerate_key`, and never logged or put in a message.

Where the settings live in LiteLLM (1.108.7):
- model aliases: the key's `aliases` ({alias: model group}); the alias names are added to the
  key's `models` because LiteLLM checks the requested name against them before resolving it;
- the routing override: the key's `router_settings` (`routing_strategy`, `fallbacks`); LiteLLM
  prefers it over the team's and passes it per request over the global router_settings, so an
  empty override ({}) means "inherit the global routing".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from ..core.items import ItemKind, model_group
from ..core.virtual_keys import (
    NEVER,
    CreatedKey,
    KeyPage,
    KeySpec,
    RoutingOverride,
    VirtualKey,
    check_spec,
    merge_metadata,
    models_with_aliases,
    spec_body,
)
from ..remote.litellm_client import LiteLLMClient
from ..remote.litellm_keys import PAGE_SIZE, KeyRequestFailed, LiteLLMKeys
from ..store import Master

__all__ = [
    "NEVER",
    "CreatedKey",
    "KeyPage",
    "KeySpec",
    "KeysError",
    "RoutingOverride",
    "VirtualKey",
    "applied_model_groups",
    "block_key",
    "create_key",
    "delete_expired_keys",
    "delete_key",
    "find_key",
    "list_keys",
    "list_page",
    "regenerate_key",
    "set_model_aliases",
    "set_routing_override",
    "spec_of",
    "unblock_key",
    "update_key",
    "update_metadata",
]

KeysProgress = Callable[[str, float, str], None]


class KeysError(Exception):
    """A key operation was refused: by the app's own checks (`problems`) or by LiteLLM.

    str() is the sentence to show; `problems` lists each reason when there are several. When
    LiteLLM cannot be reached or refuses the master key, the remote layer's own errors
    (LiteLLMDown, MasterKeyRefused: RemoteErrors naming the layer) pass through unchanged."""

    def __init__(self, sentence: str, problems: Sequence[str] = ()) -> None:
        super().__init__(sentence)
        self.problems = tuple(problems) or (sentence,)


def _keys(client: LiteLLMClient) -> LiteLLMKeys:
    return LiteLLMKeys(client)


def _refused(error: KeyRequestFailed) -> KeysError:
    return KeysError(" ".join(str(error).split()))


def _checked(spec: KeySpec, model_groups: Sequence[str], *, creating: bool) -> None:
    problems = check_spec(spec, model_groups, creating=creating)
    if problems:
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems: {problems[0]}"
        raise KeysError(head if len(problems) == 1 else head + " (and more)", problems)


# --- reading -----------------------------------------------------------------------------------


def list_page(
    client: LiteLLMClient, page: int = 1, search: str | None = None, size: int = PAGE_SIZE
) -> KeyPage:
    """One page of keys (newest first); `search` filters by alias, any case, as a substring."""
    try:
        return _keys(client).list_page(page, size, search or None)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def list_keys(
    client: LiteLLMClient,
    search: str | None = None,
    *,
    progress: KeysProgress | None = None,
    cancel: threading.Event | None = None,
    size: int = PAGE_SIZE,
) -> list[VirtualKey]:
    """Every key, page by page (no ceiling); `progress("keys", fraction, message)` per page."""
    keys: list[VirtualKey] = []
    page = 1
    while True:
        if cancel is not None and cancel.is_set():
            raise KeysError("Listing the keys was cancelled.")
        current = list_page(client, page, search, size)
        keys.extend(current.keys)
        if progress is not None:
            fraction = current.page / max(current.total_pages, 1)
            progress("keys", min(fraction, 1.0), f"{len(keys)} of {current.total_count} keys")
        if not current.has_more or not current.keys:
            return keys
        page += 1


def find_key(client: LiteLLMClient, reference: str) -> VirtualKey:
    """The key named by `reference`: its alias (exactly), its hash, or its plaintext."""
    import hashlib

    if reference.startswith("sk-"):
        reference = hashlib.sha256(reference.encode()).hexdigest()
    for key in list_keys(client, search=reference):
        if reference in (key.alias, key.token):
            return key
    raise KeysError(f"There is no key named {reference!r} (by alias or hash).")


def spec_of(key: VirtualKey) -> KeySpec:
    """The edit form's starting values for `key` (the alias names are not shown as models)."""
    models = tuple(m for m in key.models if m not in key.aliases)
    return KeySpec(
        alias=key.alias,
        models=models,
        max_budget=key.max_budget,
        budget_duration=key.budget_duration,
        rpm_limit=key.rpm_limit,
        tpm_limit=key.tpm_limit,
        aliases=dict(key.aliases),
        routing=key.routing,
    )


def applied_model_groups(master: Master, client: LiteLLMClient) -> list[str]:
    """The model groups a key may name: those of the applied configuration. When the vault is
    locked (applied items cannot be unsealed), the groups LiteLLM serves, which Apply keeps
    equal to them."""
    from ..store import VaultLocked

    try:
        items = master.applied()
    except VaultLocked:
        return sorted(set(client.models()), key=str.casefold)
    groups = {g for item in items if item.kind is ItemKind.MODEL and (g := model_group(item))}
    return sorted(groups, key=str.casefold)


# --- changing ----------------------------------------------------------------------------------


def create_key(client: LiteLLMClient, spec: KeySpec, model_groups: Sequence[str]) -> CreatedKey:
    """Create a key limited to applied model groups; the plaintext is in the result, once."""
    _checked(spec, model_groups, creating=True)
    try:
        return _keys(client).generate(spec_body(spec))
    except KeyRequestFailed as error:
        raise _refused(error) from None


def update_key(
    client: LiteLLMClient, token: str, spec: KeySpec, model_groups: Sequence[str]
) -> VirtualKey:
    """Edit a key: read it, merge its metadata with the spec's, write, and read it back."""
    _checked(spec, model_groups, creating=False)
    api = _keys(client)
    try:
        existing = api.info(token)
        api.update(token, spec_body(spec, existing))
        return api.info(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def update_metadata(
    client: LiteLLMClient,
    token: str,
    changes: Mapping[str, object],
    removed: Sequence[str] = (),
) -> VirtualKey:
    """Change some metadata of a key and keep the rest (read, merge, write)."""
    api = _keys(client)
    try:
        existing = api.info(token)
        merged = merge_metadata(existing.metadata, changes, removed)
        api.update(token, {"metadata": merged})
        return api.info(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def set_model_aliases(
    client: LiteLLMClient, token: str, aliases: Mapping[str, str], model_groups: Sequence[str]
) -> VirtualKey:
    """Replace the key's model aliases; alias names join its models (see module docstring),
    and names of aliases removed leave them."""
    api = _keys(client)
    try:
        existing = api.info(token)
        spec = replace(spec_of(existing), aliases=dict(aliases))
        _checked(spec, model_groups, creating=False)
        api.update(
            token,
            {"aliases": dict(aliases), "models": list(models_with_aliases(spec.models, aliases))},
        )
        return api.info(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def set_routing_override(
    client: LiteLLMClient, token: str, routing: RoutingOverride, model_groups: Sequence[str]
) -> VirtualKey:
    """Set the key's routing override (an empty one inherits the global routing). Fallbacks may
    name only the key's own models. Other router_settings the key carries are kept."""
    api = _keys(client)
    try:
        existing = api.info(token)
        spec = replace(spec_of(existing), routing=routing)
        _checked(spec, model_groups, creating=False)
        settings = {
            name: value
            for name, value in existing.router_settings.items()
            if name not in ("routing_strategy", "fallbacks")
        }
        settings.update(routing.router_settings())
        api.update(token, {"router_settings": settings})
        return api.info(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def block_key(client: LiteLLMClient, token: str) -> None:
    """Block the key: LiteLLM refuses its requests until it is unblocked."""
    try:
        _keys(client).block(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def unblock_key(client: LiteLLMClient, token: str) -> None:
    """Let a blocked key make requests again."""
    try:
        _keys(client).unblock(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def regenerate_key(client: LiteLLMClient, token: str) -> CreatedKey:
    """A new plaintext for the key (settings kept; the old plaintext stops working at once).
    LiteLLM allows this only with an Enterprise licence; the error says so."""
    try:
        return _keys(client).regenerate(token)
    except KeyRequestFailed as error:
        raise _refused(error) from None


def delete_key(client: LiteLLMClient, token: str) -> None:
    """Delete the key (LiteLLM archives the row in LiteLLM_DeletedVerificationToken)."""
    try:
        _keys(client).delete([token])
    except KeyRequestFailed as error:
        raise _refused(error) from None


def delete_expired_keys(
    client: LiteLLMClient, now: datetime | None = None, *, dry_run: bool = False
) -> list[VirtualKey]:
    """Delete every key whose expiry lies before `now` (default: the current UTC time); with
    `dry_run`, only say which. Returns the expired keys."""
    moment = now or datetime.now(UTC)
    expired = [key for key in list_keys(client) if key.is_expired(moment)]
    if expired and not dry_run:
        try:
            _keys(client).delete([key.token for key in expired])
        except KeyRequestFailed as error:
            raise _refused(error) from None
    return expired
