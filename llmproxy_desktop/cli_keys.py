"""`llmproxy-desktop --stack NAME keys list|create|update|block|unblock|regenerate|delete`.

Virtual keys from the command line (issue #6 §5), through the same use-cases as the Virtual
Keys page (ops/keys.py). A key is named by its alias or its hash (`token`, as `keys list
--json` shows it); a plaintext key is printed exactly once, by `create` and `regenerate`, and
nowhere else. Exit codes as in cli_stack: 0 ok, 1 refused (by the app's checks or by LiteLLM),
2 connection or usage error (including "no such key").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CliError
from .cli_stack import Output, StackCommands, confirm, connected

if TYPE_CHECKING:
    from .core.virtual_keys import CreatedKey, KeySpec, VirtualKey

__all__ = ["add_commands", "key_json"]


def add_commands(registry: StackCommands) -> None:
    """Register `keys ACTION ...` on the stack commands."""
    group = registry.group(
        "keys", "virtual keys: list, create, update, block, delete", "list|create|update|..."
    )
    listing = group.add("list", "every key (all pages), newest first", cmd_list)
    listing.add_argument("--search", metavar="TEXT", help="only aliases containing TEXT")
    create = group.add("create", "create a key; prints it ONCE", cmd_create)
    create.add_argument("--alias", required=True, help="the key's alias (unique)")
    _add_spec_options(create)
    update = group.add("update", "change a key's settings (only the options given)", cmd_update)
    update.add_argument("key", metavar="KEY", help="alias or hash")
    update.add_argument("--alias", help="a new alias")
    _add_spec_options(update)
    update.add_argument(
        "--remove-metadata", action="append", default=[], metavar="NAME", help="(repeatable)"
    )
    update.add_argument("--never-expires", action="store_true", help="remove the expiry")
    update.add_argument(
        "--inherit-routing", action="store_true", help="drop the key's routing override"
    )
    for name, text, run in (
        ("block", "block a key (its requests are refused)", cmd_block),
        ("unblock", "unblock a key", cmd_unblock),
    ):
        group.add(name, text, run).add_argument("key", metavar="KEY", help="alias or hash")
    regenerate = group.add(
        "regenerate", "a new secret for a key; prints it ONCE", cmd_regenerate, confirmable=True
    )
    regenerate.add_argument("key", metavar="KEY", help="alias or hash")
    delete = group.add("delete", "delete a key", cmd_delete, confirmable=True)
    delete.add_argument("key", metavar="KEY", help="alias or hash")
    group.add(
        "delete-expired", "delete every expired key (audited)", cmd_delete_expired, confirmable=True
    )


def _add_spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", metavar="A,B", help="allowed model groups (applied ones)")
    parser.add_argument("--max-budget", type=float, metavar="USD")
    parser.add_argument("--budget-duration", metavar="30d", help="budget period (1h, 7d, 1mo)")
    parser.add_argument("--duration", metavar="30d", help="expires after (from now)")
    parser.add_argument("--rpm", type=int, metavar="N", help="requests per minute")
    parser.add_argument("--tpm", type=int, metavar="N", help="tokens per minute")
    parser.add_argument(
        "--metadata", action="append", default=[], metavar="NAME=VALUE", help="(repeatable)"
    )
    parser.add_argument(
        "--model-alias", action="append", default=[], metavar="ALIAS=GROUP", help="(repeatable)"
    )
    parser.add_argument("--routing-strategy", metavar="NAME", help="override the global strategy")
    parser.add_argument(
        "--fallback", action="append", default=[], metavar="GROUP=A,B", help="(repeatable)"
    )


# --- JSON and lines ------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def key_json(key: VirtualKey) -> dict[str, Any]:
    """A key for `--json` output: never its plaintext."""
    return {
        "alias": key.alias,
        "key_name": key.key_name,
        "token": key.token,
        "models": list(key.models),
        "spend": key.spend,
        "max_budget": key.max_budget,
        "budget_duration": key.budget_duration,
        "budget_reset_at": _when(key.budget_reset_at),
        "expires": _when(key.expires),
        "rpm_limit": key.rpm_limit,
        "tpm_limit": key.tpm_limit,
        "blocked": key.blocked,
        "last_active": _when(key.last_active),
        "metadata": dict(key.metadata),
        "aliases": dict(key.aliases),
        "router_settings": dict(key.router_settings),
    }


def _budget(key: VirtualKey) -> str:
    limit = "unlimited" if key.max_budget is None else f"${key.max_budget:.2f}"
    period = f"/{key.budget_duration}" if key.budget_duration else ""
    return f"${key.spend:.2f} of {limit}{period}"


def _line(key: VirtualKey) -> str:
    models = ", ".join(key.models) or "all models"
    expires = f"expires {key.expires:%Y-%m-%d %H:%M}" if key.expires else "never expires"
    state = "  BLOCKED" if key.blocked else ""
    return f"{key.label:<24} {key.key_name:<12} {_budget(key):<24} {expires:<26} {models}{state}"


# --- parsing the options -------------------------------------------------------------------------


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise CliError(f"{what} {value!r} is not NAME=VALUE")
        pairs[name.strip()] = rest.strip()
    return pairs


def _metadata(values: Sequence[str]) -> dict[str, Any]:
    """NAME=VALUE, VALUE read as JSON when it is JSON (numbers, true, lists), else as text."""
    parsed: dict[str, Any] = {}
    for name, text in _pairs(values, "--metadata").items():
        try:
            parsed[name] = json.loads(text)
        except ValueError:
            parsed[name] = text
    return parsed


def _models(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def _spec(args: argparse.Namespace, base: KeySpec) -> KeySpec:
    """`base` with every option the admin gave laid over it."""
    from .core.virtual_keys import NEVER, RoutingOverride

    spec = base
    changes: dict[str, Any] = {}
    if args.alias is not None:
        changes["alias"] = args.alias
    if args.models is not None:
        changes["models"] = _models(args.models)
    for option, name in (
        ("max_budget", "max_budget"),
        ("budget_duration", "budget_duration"),
        ("duration", "duration"),
        ("rpm", "rpm_limit"),
        ("tpm", "tpm_limit"),
    ):
        if getattr(args, option) is not None:
            changes[name] = getattr(args, option)
    if getattr(args, "never_expires", False):
        if args.duration is not None:
            raise CliError("--duration and --never-expires contradict each other")
        changes["duration"] = NEVER
    if args.metadata:
        changes["metadata"] = _metadata(args.metadata)
    if getattr(args, "remove_metadata", None):
        changes["metadata_removed"] = tuple(args.remove_metadata)
    if args.model_alias:
        changes["aliases"] = {**(spec.aliases or {}), **_pairs(args.model_alias, "--model-alias")}
    routing = spec.routing or RoutingOverride()
    if getattr(args, "inherit_routing", False):
        routing = RoutingOverride()
    if args.routing_strategy is not None:
        routing = replace(routing, strategy=args.routing_strategy)
    if args.fallback:
        pairs = _pairs(args.fallback, "--fallback")
        routing = replace(routing, fallbacks=tuple((g, _models(t)) for g, t in pairs.items()))
    if routing != spec.routing:
        changes["routing"] = routing
    return replace(spec, **changes)


# --- commands ------------------------------------------------------------------------------------


def _refused(error: Exception, out: Output) -> int:
    from .ops.keys import KeysError

    problems = error.problems if isinstance(error, KeysError) else (str(error),)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr, flush=True)
    out.payload.update(ok=False, error=str(error), problems=list(problems))
    return out.finish(EXIT_FINDINGS)


def _find(connection: Any, reference: str) -> VirtualKey:
    from .ops.keys import KeysError, find_key

    try:
        key: VirtualKey = find_key(connection.target.litellm, reference)
    except KeysError as error:
        raise CliError(str(error), EXIT_USAGE) from None
    return key


def cmd_list(args: argparse.Namespace, out: Output) -> int:
    """Every key, page by page, with spend against budget, expiry and state."""
    from .ops.keys import KeysError, list_keys

    with connected(args, out) as connection:
        try:
            keys = list_keys(connection.target.litellm, args.search)
        except KeysError as error:
            return _refused(error, out)
    out.payload.update(keys=[key_json(k) for k in keys], count=len(keys))
    if not keys:
        out.say("no keys" + (f" matching {args.search!r}" if args.search else ""))
    for key in keys:
        out.say(_line(key))
    return out.finish(EXIT_OK)


def _show_secret(created: CreatedKey, out: Output, verb: str) -> None:
    out.payload.update(key=created.secret, created=key_json(created.key))
    out.say(f"{verb} {created.key.label}. The key is shown this once; store it now:")
    if not out.json_mode:
        out.say(created.secret)


def cmd_create(args: argparse.Namespace, out: Output) -> int:
    """Create a key limited to applied model groups; print it once."""
    from .core.virtual_keys import KeySpec
    from .ops.keys import KeysError, applied_model_groups, create_key

    with connected(args, out) as connection:
        client = connection.target.litellm
        try:
            spec = _spec(args, KeySpec())
            groups = applied_model_groups(connection.master, client)
            created = create_key(client, spec, groups)
        except KeysError as error:
            return _refused(error, out)
    _show_secret(created, out, "created")
    return out.finish(EXIT_OK)


def cmd_update(args: argparse.Namespace, out: Output) -> int:
    """Change the given settings of a key; the rest (and its metadata) stays."""
    from .ops.keys import KeysError, applied_model_groups, spec_of, update_key

    with connected(args, out) as connection:
        client = connection.target.litellm
        key = _find(connection, args.key)
        try:
            spec = _spec(args, spec_of(key))
            groups = applied_model_groups(connection.master, client)
            updated = update_key(client, key.token, spec, groups)
        except KeysError as error:
            return _refused(error, out)
    out.payload.update(updated=key_json(updated))
    out.say(f"updated {updated.label}")
    out.say(_line(updated))
    return out.finish(EXIT_OK)


def _simple(args: argparse.Namespace, out: Output, action: str) -> int:
    from .ops import keys as ops

    run = {"block": ops.block_key, "unblock": ops.unblock_key, "delete": ops.delete_key}[action]
    with connected(args, out) as connection:
        key = _find(connection, args.key)
        if action == "delete" and not confirm(args, f"Delete the key {key.label}?"):
            out.say("not deleted")
            return out.finish(EXIT_OK)
        try:
            run(connection.target.litellm, key.token)
        except ops.KeysError as error:
            return _refused(error, out)
    out.payload.update(action=action, key=key_json(key))
    out.say(f"{action}ed {key.label}" if action != "delete" else f"deleted {key.label}")
    return out.finish(EXIT_OK)


def cmd_block(args: argparse.Namespace, out: Output) -> int:
    """Block a key: LiteLLM refuses its requests."""
    return _simple(args, out, "block")


def cmd_unblock(args: argparse.Namespace, out: Output) -> int:
    """Unblock a key."""
    return _simple(args, out, "unblock")


def cmd_delete(args: argparse.Namespace, out: Output) -> int:
    """Delete a key, after confirmation."""
    return _simple(args, out, "delete")


def cmd_regenerate(args: argparse.Namespace, out: Output) -> int:
    """A new secret for a key (the old one stops working); print it once."""
    from .ops.keys import KeysError, regenerate_key

    with connected(args, out) as connection:
        key = _find(connection, args.key)
        question = f"Regenerate the key {key.label}? Its current secret stops working."
        if not confirm(args, question):
            out.say("not regenerated")
            return out.finish(EXIT_OK)
        try:
            created = regenerate_key(connection.target.litellm, key.token)
        except KeysError as error:
            return _refused(error, out)
    _show_secret(created, out, "regenerated")
    return out.finish(EXIT_OK)


def cmd_delete_expired(args: argparse.Namespace, out: Output) -> int:
    """Count the expired keys, ask naming the count, delete them and audit it."""
    from .ops.keys import KeysError, delete_expired_keys

    with connected(args, out) as connection:
        client = connection.target.litellm
        try:
            expired = delete_expired_keys(client, dry_run=True)
            labels = [key.label for key in expired]
            out.payload.update(expired=labels)
            if not expired:
                out.say("no key has expired")
                out.payload.update(deleted=0)
                return out.finish(EXIT_OK)
            for label in labels:
                out.say(f"expired: {label}")
            if not confirm(args, f"Delete {len(expired)} expired key(s)?"):
                out.say("nothing deleted")
                out.payload.update(deleted=0)
                return out.finish(EXIT_OK)
            deleted = delete_expired_keys(client)
        except KeysError as error:
            return _refused(error, out)
        connection.master.audit(
            "housekeeping.delete_expired_keys",
            {"deleted": len(deleted), "aliases": [k.alias for k in deleted if k.alias]},
            connection.actor,
        )
    out.say(f"deleted {len(deleted)} expired key(s)")
    out.payload.update(deleted=len(deleted))
    return out.finish(EXIT_OK)
