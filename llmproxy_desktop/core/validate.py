"""Guardrails: findings about a LiteLLM config (a file, or what the Master would render).

Rules guard what crashes LiteLLM on load (bad routing strategy, models without a model) and what
makes it misbehave silently (ssl keys in cache_params, dangling fallbacks, literal secrets).
Every rule has a stable id. `validate_*` never raise, whatever the input.
"""

from __future__ import annotations

import fnmatch
import functools
import math
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any, Final

from .findings import Finding, Severity
from .items import SETTING_SECTIONS, EffectiveItem, Item, ItemKind, Secret, live_items, model_group
from .providers import KNOWN_PROVIDERS
from .render import build_config
from .secrets import (
    SECRET_FIELDS,
    has_embedded_password,
    is_literal,
    is_literal_secret,
    looks_secret_key,
)
from .yamltext import decode_config_bytes, dump_yaml, parse_yaml

ALLOWED_ROUTING_STRATEGIES: Final = (
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
)
KNOWN_MISTAKES: Final = {
    "lowest-cost": "cost-based-routing",
    "lowest-latency": "latency-based-routing",
    "usage-based": "usage-based-routing",
    "shuffle": "simple-shuffle",
    "round-robin": "simple-shuffle",
}
CACHE_SSL_KEYS: Final = ("ssl", "ssl_check_hostname", "ssl_cert_reqs")

# What each LiteLLM cache type needs to load (read from LiteLLM 1.108.7, checked by the oracle
# tests): any one alternative, every key of it. We ask for explicit keys even where LiteLLM would
# fall back to REDIS_* environment variables, so the file says what runs.
CACHE_REQUIREMENTS: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "local": ((),),
    "disk": ((),),
    "redis": (("host",), ("url",), ("redis_startup_nodes",), ("sentinel_nodes",)),
    "redis-semantic": (
        ("similarity_threshold", "redis_url"),
        ("similarity_threshold", "host", "port", "password"),
    ),
    "valkey-semantic": (("similarity_threshold", "redis_url"), ("similarity_threshold", "host")),
    "qdrant-semantic": (("qdrant_collection_name", "similarity_threshold", "qdrant_api_base"),),
    "s3": (("s3_bucket_name",),),
    "gcs": (("gcs_bucket_name",),),
    "azure-blob": (("azure_account_url", "azure_blob_container"),),
}
# Types that construct but do not work with the pinned LiteLLM image as shipped.
CACHE_TYPE_CAVEATS: Final[Mapping[str, tuple[Severity, str]]] = {
    "valkey-semantic": (
        Severity.ERROR,
        "fails to load in LiteLLM 1.108.7 (an import error "
        "with its redis client); use redis-semantic against Valkey instead.",
    ),
    "disk": (
        Severity.WARNING,
        "needs the diskcache package, which LiteLLM's proxy install does not include.",
    ),
}
NUMERIC_MODEL_PARAMS: Final = (
    "rpm",
    "tpm",
    "timeout",
    "stream_timeout",
    "max_retries",
    "max_parallel_requests",
)

MODEL_SECRET_FIELDS: Final = (
    "api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "vertex_credentials",
)
CACHE_SECRET_FIELDS: Final = ("password", "s3_aws_secret_access_key")
ROUTER_SECRET_FIELDS: Final = ("redis_password", "redis_url")
GENERAL_SECRET_FIELDS: Final = ("master_key", "database_url")
FALLBACK_KEYS: Final = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks")
# Values local servers accept as "no key": not secrets, but worth a note.
PLACEHOLDER_KEYS: Final = frozenset(
    {
        "none",
        "null",
        "dummy",
        "fake",
        "fake-key",
        "not-needed",
        "not-used",
        "no-key",
        "nokey",
        "empty",
        "placeholder",
        "ollama",
        "lm-studio",
        "x",
        "sk-no-key-required",
        "unused",
    }
)

E, W = Severity.ERROR, Severity.WARNING


def validate_bytes(raw: bytes) -> list[Finding]:
    """Findings for the raw bytes of a config file (encoding, size, YAML, then the rules)."""
    text, problem = decode_config_bytes(raw)
    if problem is not None or text is None:
        return [problem] if problem else []
    return validate_text(text)


def validate_text(text: str) -> list[Finding]:
    """Findings for config.yaml text."""
    parsed = parse_yaml(text)
    if not parsed.usable:
        return list(parsed.findings)
    return [*parsed.findings, *validate_config(parsed.value)]


def validate_config(config: object) -> list[Finding]:
    """Findings for a parsed config (Secret leaves count as vault references)."""
    try:
        return list(_Checker(config).run())
    except RecursionError:
        return [Finding("config.too-deep", E, "", "The config is nested too deeply to check.")]


def _where(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


class _Checker:
    def __init__(self, config: object) -> None:
        self.config = config

    def run(self) -> Iterator[Finding]:
        config = self.config
        if config is None or config == {}:
            yield Finding(
                "config.empty", E, "", "The config is empty; LiteLLM refuses to start without one."
            )
            return
        strings: list[tuple[tuple[object, ...], object, str]] = []
        yield from _unstorable(config, strings)
        if not isinstance(config, Mapping):
            kind = type(config).__name__
            yield Finding(
                "config.not-mapping",
                E,
                "",
                f"The top of a LiteLLM config must be a mapping of sections, not a {kind}.",
            )
            return
        sections: dict[str, Mapping[str, Any]] = {}
        for name in ("router_settings", "litellm_settings", "general_settings"):
            value = config.get(name)
            if value is None:
                sections[name] = {}
            elif isinstance(value, Mapping):
                sections[name] = value
            else:
                sections[name] = {}
                yield _type_error(name, value, "a mapping")
        env = config.get("environment_variables")
        if env is not None and not isinstance(env, Mapping):
            yield _type_error("environment_variables", env, "a mapping of VARIABLE: value")
        models = config.get("model_list")
        if models is not None and not isinstance(models, list):
            yield _type_error("model_list", models, "a list of models")
            models = None
        model_list = models or []
        credentials = yield from self.credentials(config.get("credential_list"))
        yield from self.models(model_list, credentials)
        groups = _model_groups(model_list, sections["router_settings"])
        yield from self.routing(sections["router_settings"], groups)
        yield from self.litellm_settings(sections["litellm_settings"], groups)
        yield from self.general(sections["general_settings"])
        yield from _suspicious_literals(strings)

    # -- models --------------------------------------------------------------------------------
    def models(self, model_list: list[Any], credentials: set[str]) -> Iterator[Finding]:
        ids: dict[str, int] = {}
        for index, entry in enumerate(model_list):
            path = f"model_list[{index}]"
            if not isinstance(entry, Mapping):
                yield _type_error(path, entry, "a mapping with model_name and litellm_params")
                continue
            name = entry.get("model_name")
            if name is None or name == "":
                yield Finding(
                    "model.name-missing",
                    E,
                    _where(path, "model_name"),
                    "This model has no model_name, the public name clients ask for.",
                )
            elif not isinstance(name, str):
                yield _type_error(_where(path, "model_name"), name, "a string")
            yield from self.model_params(path, entry.get("litellm_params"), credentials)
            info = entry.get("model_info")
            if info is not None and not isinstance(info, Mapping):
                yield _type_error(_where(path, "model_info"), info, "a mapping")
            elif isinstance(info, Mapping) and isinstance(info.get("id"), str):
                model_id = info["id"]
                if model_id in ids:
                    yield Finding(
                        "model.id-duplicate",
                        E,
                        _where(path, "model_info.id"),
                        f"Model id {model_id!r} is also used by model_list[{ids[model_id]}];"
                        " ids must be unique.",
                    )
                else:
                    ids[model_id] = index

    def model_params(self, path: str, params: object, credentials: set[str]) -> Iterator[Finding]:
        ppath = _where(path, "litellm_params")
        if params is None:
            yield Finding(
                "model.model-missing",
                E,
                ppath,
                "This model has no litellm_params; LiteLLM needs litellm_params.model.",
            )
            return
        if not isinstance(params, Mapping):
            yield _type_error(ppath, params, "a mapping")
            return
        model = params.get("model")
        if not isinstance(model, str) or not model.strip():
            yield Finding(
                "model.model-missing",
                E,
                _where(ppath, "model"),
                "litellm_params.model is missing; it names the upstream model, e.g. openai/gpt-4o.",
            )
        elif "/" in model and "custom_llm_provider" not in params:
            prefix = model.split("/", 1)[0]
            if prefix not in KNOWN_PROVIDERS:
                yield Finding(
                    "model.provider-unknown",
                    W,
                    _where(ppath, "model"),
                    f"{prefix!r} is not a provider LiteLLM knows; it would drop this deployment "
                    "silently. Check the prefix (e.g. openai/, anthropic/, bedrock/).",
                )
        for field in NUMERIC_MODEL_PARAMS:
            if field in params and not _is_number(params[field]):
                yield Finding(
                    "model.param-type",
                    E,
                    _where(ppath, field),
                    f"{field} must be a number; LiteLLM silently drops a deployment "
                    f"with {field}: {params[field]!r}.",
                )
        for field in MODEL_SECRET_FIELDS:
            value = params.get(field)
            if field == "api_key" and isinstance(value, str) and value.lower() in PLACEHOLDER_KEYS:
                continue  # "none"/"dummy" for local servers: not a secret
            yield from _literal_secret(_where(ppath, field), value)
        cred = params.get("litellm_credential_name")
        if cred is not None and (not isinstance(cred, str) or cred not in credentials):
            yield Finding(
                "ref.credential-missing",
                E,
                _where(ppath, "litellm_credential_name"),
                f"This model uses credential {cred!r}, which is not in credential_list.",
            )

    # -- credentials ---------------------------------------------------------------------------
    def credentials(self, credential_list: object) -> Generator[Finding, None, set[str]]:
        names: set[str] = set()
        if credential_list is None:
            return names
        if not isinstance(credential_list, list):
            yield _type_error("credential_list", credential_list, "a list")
            return names
        for index, entry in enumerate(credential_list):
            path = f"credential_list[{index}]"
            if not isinstance(entry, Mapping):
                yield _type_error(path, entry, "a mapping")
                continue
            name = entry.get("credential_name")
            if not isinstance(name, str) or not name:
                yield Finding(
                    "credential.name-missing",
                    E,
                    _where(path, "credential_name"),
                    "This credential has no credential_name.",
                )
            elif name in names:
                yield Finding(
                    "credential.name-duplicate",
                    E,
                    _where(path, "credential_name"),
                    f"Credential {name!r} is defined twice.",
                )
            else:
                names.add(name)
            if not isinstance(entry.get("credential_info"), Mapping):
                yield Finding(
                    "credential.info-missing",
                    E,
                    _where(path, "credential_info"),
                    "LiteLLM requires credential_info (a mapping, may be {}).",
                )
            values = entry.get("credential_values")
            if not isinstance(values, Mapping):
                yield _type_error(_where(path, "credential_values"), values, "a mapping")
                continue
            for key, value in values.items():
                if isinstance(key, str) and looks_secret_key(key) and is_literal_secret(value):
                    yield Finding(
                        "secret.literal-credential",
                        W,
                        _where(path, f"credential_values.{key}"),
                        "A literal secret in credential_list; importing this file moves "
                        "it into the encrypted vault.",
                    )
        return names

    # -- router_settings -----------------------------------------------------------------------
    def routing(self, router: Mapping[str, Any], groups: _Groups) -> Iterator[Finding]:
        if "routing_strategy" in router:
            yield from _strategy("router_settings.routing_strategy", router["routing_strategy"])
        yield from _routing_groups(router.get("routing_groups"), groups)
        for field in ROUTER_SECRET_FIELDS:
            yield from _literal_secret(f"router_settings.{field}", router.get(field))
        yield from _fallback_refs("router_settings", router, groups)
        yield from _alias_refs(router.get("model_group_alias"), groups)

    # -- litellm_settings ----------------------------------------------------------------------
    def litellm_settings(self, settings: Mapping[str, Any], groups: _Groups) -> Iterator[Finding]:
        yield from _fallback_refs("litellm_settings", settings, groups)
        params = settings.get("cache_params")
        path = "litellm_settings.cache_params"
        if params is not None and not isinstance(params, Mapping):
            yield _type_error(path, params, "a mapping")
            params = None
        params = params or {}
        for key in CACHE_SSL_KEYS:
            if key in params:
                yield Finding(
                    "cache.ssl-key",
                    E,
                    _where(path, key),
                    f"{key!r} in cache_params makes LiteLLM open a TLS connection even "
                    "when false (LiteLLM #10949): against a plain Valkey/Redis the cache "
                    "hangs. Remove the key.",
                )
        for field in CACHE_SECRET_FIELDS:
            yield from _literal_secret(_where(path, field), params.get(field))
        cache = settings.get("cache")
        if isinstance(cache, str) and cache.strip().lower() in ("true", "false"):
            yield Finding(
                "cache.not-boolean",
                W,
                "litellm_settings.cache",
                f"cache: {cache!r} is text, which LiteLLM ignores (no cache is built); "
                "write true or false without quotes.",
            )
        yield from _cache_type(path, params, enabled=cache is True)

    # -- general_settings ----------------------------------------------------------------------
    # -- general_settings ----------------------------------------------------------------------
    def general(self, general: Mapping[str, Any]) -> Iterator[Finding]:
        for field in GENERAL_SECRET_FIELDS:
            yield from _literal_secret(f"general_settings.{field}", general.get(field))
        if _truthy(general.get("store_model_in_db")):
            yield Finding(
                "general.store-model-in-db",
                E,
                "general_settings.store_model_in_db",
                "store_model_in_db: true makes LiteLLM take models from its database "
                "instead of this file; the Master keeps models in the file. Set it to "
                "false.",
            )
        webhooks = general.get("alert_to_webhook_url")
        if isinstance(webhooks, Mapping):
            for alert, urls in webhooks.items():
                for i, url in enumerate(urls if isinstance(urls, list) else [urls]):
                    suffix = f"[{i}]" if isinstance(urls, list) else ""
                    where = f"general_settings.alert_to_webhook_url.{alert}{suffix}"
                    if isinstance(url, str | Secret):
                        yield from _literal_secret(where, url)
                    else:
                        yield _type_error(where, url, "a webhook URL (os.environ/VARIABLE)")
        elif webhooks is not None:
            yield _type_error(
                "general_settings.alert_to_webhook_url",
                webhooks,
                "a mapping {alert type: webhook URL}",
            )


def _cache_type(path: str, params: Mapping[str, Any], *, enabled: bool) -> Iterator[Finding]:
    if "type" not in params:
        if params and enabled and any(k in params for k in ("host", "port", "url")):
            yield Finding(
                "cache.type-missing",
                W,
                _where(path, "type"),
                "cache_params has no type: LiteLLM then builds an in-memory cache and "
                "ignores host/port. Add type: redis.",
            )
        # No cache_params at all: LiteLLM assumes redis from REDIS_* environment variables.
        cache_type = "redis" if not params else "local"
    else:
        cache_type = params["type"]
    if not isinstance(cache_type, str) or cache_type not in CACHE_REQUIREMENTS:
        known = ", ".join(CACHE_REQUIREMENTS)
        yield Finding(
            "cache.type-unknown",
            E,
            _where(path, "type"),
            f"Unknown cache type {cache_type!r}; LiteLLM knows {known}.",
        )
        return
    if not enabled:
        return
    if cache_type in CACHE_TYPE_CAVEATS:
        severity, caveat = CACHE_TYPE_CAVEATS[cache_type]
        yield Finding(
            "cache.type-unusable",
            severity,
            _where(path, "type"),
            f"Cache type {cache_type!r} {caveat}",
        )
    alternatives = CACHE_REQUIREMENTS[cache_type]
    if not any(all(params.get(k) not in (None, "") for k in keys) for keys in alternatives):
        need = " or ".join(" + ".join(keys) for keys in alternatives)
        yield Finding(
            "cache.params-missing",
            E,
            path,
            f"cache: true with type {cache_type!r} needs cache_params {need} "
            "(e.g. host: os.environ/REDIS_HOST).",
        )


class _Groups:
    """Model-group names a reference may point at: model names, aliases and wildcards."""

    def __init__(self, names: set[str], aliases: set[str]) -> None:
        self.models = names
        self.aliases = aliases
        self.patterns = [n for n in names if "*" in n]

    def is_model(self, name: object) -> bool:
        """A real model group (aliases resolve one level only, so they must end here)."""
        if not isinstance(name, str):
            return False
        return name in self.models or any(fnmatch.fnmatchcase(name, p) for p in self.patterns)

    def __contains__(self, name: object) -> bool:
        return self.is_model(name) or (isinstance(name, str) and name in self.aliases)


def _model_groups(model_list: list[Any], router: Mapping[str, Any]) -> _Groups:
    names = [e.get("model_name") for e in model_list if isinstance(e, Mapping)]
    aliases = router.get("model_group_alias")
    alias_names = {str(a) for a in aliases} if isinstance(aliases, Mapping) else set()
    return _Groups({n for n in names if isinstance(n, str)}, alias_names)


def _strategy(path: str, value: object) -> Iterator[Finding]:
    if value in ALLOWED_ROUTING_STRATEGIES:
        return
    allowed = ", ".join(ALLOWED_ROUTING_STRATEGIES)
    hint = ""
    if isinstance(value, str) and value in KNOWN_MISTAKES:
        hint = f" {value!r} is a known mistake: did you mean {KNOWN_MISTAKES[value]!r}?"
    yield Finding(
        "routing.strategy-invalid",
        E,
        path,
        f"routing_strategy {value!r} is not allowed.{hint} Use one of: {allowed}.",
    )


def _routing_groups(routing_groups: object, groups: _Groups) -> Iterator[Finding]:
    if routing_groups is None:
        return
    path = "router_settings.routing_groups"
    if not isinstance(routing_groups, list):
        yield _type_error(path, routing_groups, "a list")
        return
    owner: dict[str, int] = {}
    for index, group in enumerate(routing_groups):
        gpath = f"{path}[{index}]"
        if not isinstance(group, Mapping):
            yield _type_error(gpath, group, "a mapping")
            continue
        if "routing_strategy" in group:
            yield from _strategy(_where(gpath, "routing_strategy"), group["routing_strategy"])
        members = group.get("models")
        for j, model in enumerate(members if isinstance(members, list) else []):
            mpath = f"{gpath}.models[{j}]"
            if model not in groups:
                yield _dangling(mpath, model)
            elif isinstance(model, str):
                if model in owner and owner[model] != index:
                    yield Finding(
                        "routing.group-overlap",
                        E,
                        mpath,
                        f"Model {model!r} is already in routing group {owner[model]}; "
                        "a model can be in one routing group only.",
                    )
                owner.setdefault(model, index)


def _fallback_refs(section: str, settings: Mapping[str, Any], groups: _Groups) -> Iterator[Finding]:
    for key in FALLBACK_KEYS:
        entries = settings.get(key)
        if entries is None:
            continue
        path = f"{section}.{key}"
        if not isinstance(entries, list):
            yield _type_error(path, entries, "a list of {model group: [fallback groups]}")
            continue
        for index, entry in enumerate(entries):
            epath = f"{path}[{index}]"
            if not isinstance(entry, Mapping):
                yield _type_error(epath, entry, "a mapping {model group: [fallback groups]}")
                continue
            for primary, targets in entry.items():
                if primary not in groups:
                    yield _dangling(f"{epath}.{primary}", primary)
                for j, target in enumerate(targets if isinstance(targets, list) else [targets]):
                    if target not in groups:
                        yield _dangling(f"{epath}.{primary}[{j}]", target)
    defaults = settings.get("default_fallbacks")
    if isinstance(defaults, list):
        for index, target in enumerate(defaults):
            if target not in groups:
                yield _dangling(f"{section}.default_fallbacks[{index}]", target)
    elif defaults is not None:
        yield _type_error(f"{section}.default_fallbacks", defaults, "a list of model groups")


def _alias_refs(aliases: object, groups: _Groups) -> Iterator[Finding]:
    if aliases is None:
        return
    path = "router_settings.model_group_alias"
    if not isinstance(aliases, Mapping):
        yield _type_error(path, aliases, "a mapping {alias: model group}")
        return
    for alias, target in aliases.items():
        name = target.get("model") if isinstance(target, Mapping) else target
        if not groups.is_model(name):
            hint = " (an alias must point at a model group, not at another alias)"
            yield _dangling(f"{path}.{alias}", name, hint if name in groups.aliases else "")


def _dangling(path: str, name: object, hint: str = "") -> Finding:
    return Finding(
        "ref.dangling",
        E,
        path,
        f"{name!r} is not a model group of this config{hint}; a fallback or alias to it "
        "would fail only when it fires.",
    )


def _literal_secret(path: str, value: object) -> Iterator[Finding]:
    if not is_literal_secret(value):
        return
    yield Finding(
        "secret.literal",
        E,
        path,
        "This field holds a literal secret. Use os.environ/VARIABLE (set in the "
        "stack's .env) or a credential from the vault.",
    )


_EXPLICIT_SHAPES: Final = frozenset(
    {
        *(("model_list", "[]", "litellm_params", f) for f in MODEL_SECRET_FIELDS),
        *(("litellm_settings", "cache_params", f) for f in CACHE_SECRET_FIELDS),
        *(("router_settings", f) for f in ROUTER_SECRET_FIELDS),
        *(("general_settings", f) for f in GENERAL_SECRET_FIELDS),
    }
)


def _suspicious_literals(
    strings: Iterable[tuple[tuple[object, ...], object, str]],
) -> Iterator[Finding]:
    """Literal values under secret-looking keys that the explicit rules do not cover: errors for
    the known secret fields (and webhook URLs), warnings for other secret-looking keys."""
    for trail, key, value in strings:
        url_password = has_embedded_password(value)
        secretish = isinstance(key, str) and (_secret_key(key) or "webhook" in key.lower())
        if not (url_password or secretish) or not is_literal(value):
            continue
        shape = tuple("[]" if isinstance(p, int) else p for p in trail)
        if shape[:1] == ("credential_list",) or shape in _EXPLICIT_SHAPES:
            continue  # covered by the credential and explicit-field rules
        path = _path(trail)
        if (
            secretish
            and isinstance(key, str)
            and (key in SECRET_FIELDS or "webhook" in key.lower())
        ):
            yield from _literal_secret(path, value)
        elif url_password:
            yield Finding(
                "secret.url-password",
                W,
                path,
                "This URL carries a password; use os.environ/VARIABLE instead.",
            )
        elif value.lower() not in PLACEHOLDER_KEYS:
            yield Finding(
                "secret.literal-suspicious",
                W,
                path,
                f"{key!r} looks like a secret but holds a literal; prefer os.environ/VARIABLE.",
            )


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    return looks_secret_key(key)


def _path(trail: tuple[object, ...]) -> str:
    out = ""
    for part in trail:
        out = f"{out}[{part}]" if isinstance(part, int) else _where(out, part)
    return out


def _unstorable(
    config: object, strings: list[tuple[tuple[object, ...], object, str]]
) -> Iterator[Finding]:
    """Values neither JSON (the Master's store) nor LiteLLM's database can hold. The same walk
    collects (trail, key, text) of every string leaf for the secret scan: one pass, not two.
    Concrete-class isinstance checks only: ABC checks dominated the time of this hot loop."""
    stack: list[tuple[tuple[object, ...], object, object]] = [((), None, config)]
    while stack:
        trail, key, node = stack.pop()
        if isinstance(node, str):
            strings.append((trail, key, node))
            if "\x00" in node:
                yield Finding(
                    "config.nul-character",
                    E,
                    _path(trail),
                    "This text contains a NUL character, which cannot be stored.",
                )
        elif isinstance(node, dict):
            stack.extend(((*trail, k), k, v) for k, v in node.items())
            if any(not isinstance(k, str) for k in node):
                yield Finding(
                    "config.key-type",
                    E,
                    _path(trail),
                    "Mapping keys must be text; quote numbers and booleans used as keys.",
                )
        elif isinstance(node, list):
            stack.extend(((*trail, i), key, v) for i, v in enumerate(node))
        elif isinstance(node, float):
            if not math.isfinite(node):
                yield Finding(
                    "config.number",
                    E,
                    _path(trail),
                    f"{node} is not a finite number; use a real value.",
                )
        elif node is None or isinstance(node, bool | int | Secret):
            continue
        elif isinstance(node, Mapping):  # a non-dict mapping built in code: walk it too
            stack.append((trail, key, dict(node)))
        else:
            yield Finding(
                "config.type",
                E,
                _path(trail),
                f"A {type(node).__name__} value has no place in a LiteLLM config.",
            )


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return value is None
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _type_error(path: str, value: object, expected: str) -> Finding:
    return Finding(
        "config.type", E, path, f"Expected {expected} here, found {type(value).__name__}."
    )


# ---------------------------------------------------------------------------------------------
# Item-level rules: what only the Master knows (staged deletions, the passthrough as text).


def validate_items(effective: Iterable[EffectiveItem]) -> list[Finding]:
    """Findings for what Apply would render from the effective items; errors block Apply."""
    return render_checked(effective)[1]


def render_checked(effective: Iterable[EffectiveItem]) -> tuple[str, list[Finding]]:
    """What Apply would write and its findings, building the config once (Apply needs both)."""
    effective = list(effective)
    live = live_items(effective)
    findings = list(_passthrough_findings(live))
    deleted_credentials = {
        e.item.name for e in effective if e.is_deleted and e.item.kind is ItemKind.CREDENTIAL
    }
    findings += _credentials_in_use(live, deleted_credentials)
    config = build_config(live)
    findings += validate_config(config)
    return dump_yaml(config), findings


def _passthrough_findings(live: list[Item]) -> Iterator[Finding]:
    for item in live:
        if item.kind is not ItemKind.PASSTHROUGH:
            continue
        if not isinstance(item.data, str):
            yield Finding(
                "passthrough.not-mapping",
                E,
                "passthrough",
                "The passthrough must be YAML text of a mapping.",
            )
            continue
        parsed = parse_yaml(item.data, path="passthrough")
        yield from parsed.findings
        if not parsed.usable:
            continue
        if parsed.value is None:
            continue
        if not isinstance(parsed.value, Mapping):
            yield Finding(
                "passthrough.not-mapping",
                E,
                "passthrough",
                "The passthrough must be a YAML mapping of top-level keys, not a "
                f"{type(parsed.value).__name__}.",
            )
            continue
        yield from _collisions(parsed.value, live)


def _collisions(passthrough: Mapping[str, Any], live: list[Item]) -> Iterator[Finding]:
    has_credentials = any(i.kind is ItemKind.CREDENTIAL for i in live)
    if "model_list" in passthrough:
        yield Finding(
            "passthrough.collision",
            W,
            "passthrough.model_list",
            "model_list in the passthrough is ignored: models are managed on the Models page.",
        )
    if "credential_list" in passthrough:
        if has_credentials:
            yield Finding(
                "passthrough.collision",
                W,
                "passthrough.credential_list",
                "credential_list in the passthrough is ignored: the vault's credentials win.",
            )
        else:
            yield Finding(
                "passthrough.credential-list",
                E,
                "passthrough.credential_list",
                "Credentials belong in the encrypted vault (Provider Keys), not in the "
                "passthrough.",
            )
    for kind, section in SETTING_SECTIONS.items():
        values = passthrough.get(section)
        if not isinstance(values, Mapping):
            continue
        managed = {i.name for i in live if i.kind is kind}
        for key in values:
            if key in managed:
                yield Finding(
                    "passthrough.collision",
                    W,
                    f"passthrough.{section}.{key}",
                    f"{section}.{key} is also managed by the app; the managed value wins.",
                )


def _credentials_in_use(live: list[Item], deleted: set[str]) -> Iterator[Finding]:
    if not deleted:
        return
    users: dict[str, list[str]] = {}
    for item in live:
        if item.kind is not ItemKind.MODEL or not isinstance(item.data, Mapping):
            continue
        params = item.data.get("litellm_params")
        cred = params.get("litellm_credential_name") if isinstance(params, Mapping) else None
        if isinstance(cred, str) and cred in deleted:
            users.setdefault(cred, []).append(model_group(item) or item.name)
    for cred, models in sorted(users.items()):
        names = ", ".join(sorted(set(models)))
        yield Finding(
            "ref.credential-in-use",
            E,
            f"credential_list.{cred}",
            f"Credential {cred!r} is staged for deletion but models still use it: "
            f"{names}. Point them at another credential first.",
        )
