"""The bundled model catalog: which models each LiteLLM provider offers, with limits and prices.

Parses the text of ``resources/catalog/model_catalog.json`` (written by
``scripts/snapshot_litellm_catalog.py`` from LiteLLM's own price list). Pure: the caller reads
the file. LiteLLM's catalog keys are not uniformly what goes into ``litellm_params.model``: most
are bare (``claude-x`` under provider ``anthropic``), many already carry the prefix
(``bedrock/...``), some carry a prefix that differs from their provider entry
(``vertex_ai/claude-...`` under ``vertex_ai-anthropic_models``, ``amazon-nova/...`` under
``amazon_nova``), and some are per-size price variants of image models (``1024-x-1024/...``)
that are not model names at all. `parse_catalog` resolves all of that into ``provider/model``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from .providers import KNOWN_PROVIDERS

_T = TypeVar("_T")

# Image price variants: a "<w>-x-<h>" or "max-x-max" path segment (e.g. "low/1024-x-1024/...").
_PRICE_VARIANT: Final = re.compile(r"(^|/)(\d+-x-\d+|max-x-max)/")


@dataclass(frozen=True)
class CatalogModel:
    """One model of the catalog. `litellm_model` is the value for ``litellm_params.model``."""

    provider: str  # the routing prefix, e.g. "vertex_ai"
    name: str  # the model without the prefix, e.g. "claude-3-5-haiku"
    mode: str | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None

    @property
    def litellm_model(self) -> str:
        """``provider/name``, what LiteLLM expects in ``litellm_params.model``. Always
        prefixed: some names repeat the provider (``perplexity/perplexity/sonar``)."""
        return f"{self.provider}/{self.name}"


@dataclass(frozen=True)
class Catalog:
    """All catalog models, grouped by provider. Build it with `parse_catalog`."""

    litellm_version: str
    by_provider: Mapping[str, tuple[CatalogModel, ...]] = field(default_factory=dict)

    @property
    def providers(self) -> tuple[str, ...]:
        """Provider prefixes, sorted."""
        return tuple(sorted(self.by_provider))

    def models(self, provider: str) -> tuple[CatalogModel, ...]:
        """The models of one provider, sorted by name; () for a provider the catalog lacks."""
        return self.by_provider.get(provider, ())

    def model_value(self, provider: str, name: str) -> str:
        """The ``litellm_params.model`` value for a provider and a picked or typed name: exact
        for catalog models, `litellm_model`'s prefix filling for anything else."""
        entry = next((m for m in self.models(provider.strip()) if m.name == name.strip()), None)
        return entry.litellm_model if entry is not None else litellm_model(provider, name)

    def find(self, model: str) -> CatalogModel | None:
        """The catalog entry for a ``provider/name`` value, if the catalog has it."""
        provider, name = split_model(model)
        if provider is None:
            return None
        return next((m for m in self.models(provider) if m.name == name), None)


def litellm_model(provider: str, model: str) -> str:
    """The ``litellm_params.model`` value: `model` with the provider prefix filled in.

    A model that already starts with ``provider/`` is returned as it is, so filling in twice is
    harmless; any other model is prefixed (``openrouter`` + ``openai/gpt-4o`` →
    ``openrouter/openai/gpt-4o``, as LiteLLM expects). An empty provider leaves `model` alone.
    """
    provider, model = provider.strip(), model.strip()
    if not provider or model.startswith(f"{provider}/"):
        return model
    return f"{provider}/{model}"


def split_model(model: str) -> tuple[str | None, str]:
    """``provider/name`` → (provider, name); a value without a slash has no provider."""
    provider, slash, name = model.partition("/")
    return (provider, name) if slash else (None, model)


def parse_catalog(text: str) -> Catalog:
    """Parse the bundled catalog JSON text. Raises ValueError when it is not a catalog."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"The model catalog is not valid JSON: {error}") from error
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict):
        raise ValueError("The model catalog has no 'models' mapping.")
    grouped: dict[str, dict[str, CatalogModel]] = {}
    for key, spec in models.items():
        entry = _entry(key, spec)
        if entry is not None:
            # The first of duplicate spellings wins (keys come sorted from the snapshot).
            grouped.setdefault(entry.provider, {}).setdefault(entry.name, entry)
    version = document.get("litellm_version")
    return Catalog(
        litellm_version=version if isinstance(version, str) else "",
        by_provider={
            p: tuple(sorted(named.values(), key=lambda m: m.name)) for p, named in grouped.items()
        },
    )


def _entry(key: str, spec: object) -> CatalogModel | None:
    if not isinstance(spec, dict) or _PRICE_VARIANT.search(key):
        return None
    provider = spec.get("provider")
    if not isinstance(provider, str) or not provider:
        return None  # e.g. LiteLLM's "fallback_generalizations" table
    prefix, name = _resolve(key, provider)
    return CatalogModel(
        provider=prefix,
        name=name,
        mode=_typed(spec, "mode", str),
        max_input_tokens=_typed(spec, "max_input_tokens", int),
        max_output_tokens=_typed(spec, "max_output_tokens", int),
        input_cost_per_token=_cost(spec, "input_cost_per_token"),
        output_cost_per_token=_cost(spec, "output_cost_per_token"),
    )


def _resolve(key: str, provider: str) -> tuple[str, str]:
    """(routing prefix, bare name) of one catalog key."""
    head, slash, rest = key.partition("/")
    if slash and (head == provider or head in KNOWN_PROVIDERS):
        return head, rest  # already prefixed, e.g. "vertex_ai/claude-..."
    if slash and head.replace("-", "_") == provider:
        return provider, rest  # "amazon-nova/nova-pro-v1" → amazon_nova/nova-pro-v1
    return _routing_prefix(provider), key


def _routing_prefix(provider: str) -> str:
    """LiteLLM files some models under a sub-table name ("vertex_ai-language-models"); the
    model prefix is the provider before the dash."""
    if provider in KNOWN_PROVIDERS:
        return provider
    head = provider.split("-", 1)[0]
    return head if head in KNOWN_PROVIDERS else provider


def _typed(spec: Mapping[str, Any], key: str, kind: type[_T]) -> _T | None:
    value = spec.get(key)
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _cost(spec: Mapping[str, Any], key: str) -> float | None:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
