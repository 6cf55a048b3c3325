"""Snapshot what the app needs to know about LiteLLM from the pinned LiteLLM itself.

Run with the LiteLLM venv's python (scripts/make-litellm-venv.sh creates it)::

    .venv-litellm/bin/python scripts/snapshot_litellm_catalog.py          # write both files
    .venv-litellm/bin/python scripts/snapshot_litellm_catalog.py --check  # exit 1 if stale

Writes (both committed, both deterministic: the same LiteLLM gives the same bytes):

* ``llmproxy_desktop/core/providers.py``: ``LITELLM_VERSION``, ``KNOWN_PROVIDERS`` (the
  ``LlmProviders`` enum behind ``litellm.provider_list``, plus the OpenAI-compatible providers
  LiteLLM configures from ``litellm/llms/openai_like/providers.json``, which it also accepts as
  ``provider/`` model prefixes), ``VALID_ROUTING_STRATEGIES``
  (``litellm/router_utils/routing_groups.py``) and ``CACHE_TYPES`` (``LiteLLMCacheType``).
* ``resources/catalog/model_catalog.json``: per model of LiteLLM's bundled
  ``model_prices_and_context_window_backup.json``: provider, mode, max input/output tokens and
  input/output cost per token (fields absent in LiteLLM's data are left out).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

PINNED_VERSION = "1.108.7"
REPO = Path(__file__).resolve().parents[1]
PROVIDERS_PY = REPO / "llmproxy_desktop" / "core" / "providers.py"
CATALOG_JSON = REPO / "resources" / "catalog" / "model_catalog.json"
SCRIPT = "scripts/snapshot_litellm_catalog.py"
CATALOG_FIELDS = (
    ("provider", "litellm_provider"),
    ("mode", "mode"),
    ("max_input_tokens", "max_input_tokens"),
    ("max_output_tokens", "max_output_tokens"),
    ("input_cost_per_token", "input_cost_per_token"),
    ("output_cost_per_token", "output_cost_per_token"),
)


def _frozenset_literal(name: str, values: Iterable[str], comment: str) -> str:
    lines = [f"# {comment}", f"{name}: Final[frozenset[str]] = frozenset(", "    {"]
    lines += [f"        {json.dumps(v)}," for v in sorted(set(values))]
    lines += ["    }", ")", ""]
    return "\n".join(lines)


def _tuple_literal(name: str, values: Iterable[str], comment: str) -> str:
    lines = [f"# {comment}", f"{name}: Final[tuple[str, ...]] = ("]
    lines += [f"    {json.dumps(v)}," for v in values]
    lines += [")", ""]
    return "\n".join(lines)


def providers_module() -> str:
    import litellm
    from litellm.llms.openai_like.json_loader import JSONProviderRegistry
    from litellm.router_utils.routing_groups import VALID_ROUTING_STRATEGIES
    from litellm.types.caching import LiteLLMCacheType

    enum_providers = sorted(p.value for p in litellm.provider_list)
    json_providers = sorted(set(JSONProviderRegistry.list_providers()) - set(enum_providers))
    header = f'''"""LiteLLM's provider names, routing strategies and cache types.

GENERATED from litellm {PINNED_VERSION} by {SCRIPT}; do not edit by hand.
After changing the LiteLLM pin, regenerate with:
    .venv-litellm/bin/python {SCRIPT}
"""

from __future__ import annotations

from typing import Final

LITELLM_VERSION: Final = {json.dumps(PINNED_VERSION)}
'''
    parts = [
        header,
        _frozenset_literal(
            "LLM_PROVIDERS",
            enum_providers,
            f"litellm.provider_list (the LlmProviders enum): {len(enum_providers)} names.",
        ),
        _frozenset_literal(
            "JSON_PROVIDERS",
            json_providers,
            "OpenAI-compatible providers from litellm/llms/openai_like/providers.json that are"
            f"\n# not in the enum, also accepted as model prefixes: {len(json_providers)} names.",
        ),
        "# Every name LiteLLM accepts as the `provider/` prefix of litellm_params.model.\n"
        "KNOWN_PROVIDERS: Final[frozenset[str]] = LLM_PROVIDERS | JSON_PROVIDERS\n",
        _tuple_literal(
            "VALID_ROUTING_STRATEGIES",
            VALID_ROUTING_STRATEGIES,
            "litellm/router_utils/routing_groups.py VALID_ROUTING_STRATEGIES, in LiteLLM's order:"
            "\n# router_settings.routing_strategy must be one of these or the proxy fails to load.",
        ),
        _tuple_literal(
            "CACHE_TYPES",
            [t.value for t in LiteLLMCacheType],
            "litellm.types.caching.LiteLLMCacheType: the values of cache_params.type.",
        ),
    ]
    return "\n".join(parts)


def catalog_json() -> str:
    import litellm

    source = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    data = json.loads(source.read_text("utf-8"))
    models: dict[str, dict[str, object]] = {}
    for name in sorted(data):
        spec = data[name]
        if name == "sample_spec" or not isinstance(spec, dict):
            continue
        models[name] = {
            ours: spec[theirs] for ours, theirs in CATALOG_FIELDS if spec.get(theirs) is not None
        }
    head = {
        "generated_by": SCRIPT,
        "litellm_version": PINNED_VERSION,
        "source": "litellm/model_prices_and_context_window_backup.json",
        "fields": [ours for ours, _ in CATALOG_FIELDS],
        "model_count": len(models),
    }
    # One model per line: compact, yet a LiteLLM upgrade shows up as a readable diff.
    lines = ["{"]
    lines += [f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}," for k, v in head.items()]
    lines.append('"models":{')
    body = [
        f"{json.dumps(name)}:{json.dumps(entry, separators=(',', ':'), sort_keys=True)}"
        for name, entry in models.items()
    ]
    lines.append(",\n".join(body))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 when the committed files differ"
    )
    args = parser.parse_args(argv)
    installed = importlib.metadata.version("litellm")
    if installed != PINNED_VERSION:
        print(
            f"litellm {installed} is installed; this snapshot is pinned to {PINNED_VERSION}. "
            "Run it with .venv-litellm/bin/python.",
            file=sys.stderr,
        )
        return 2
    # No network: use the bundled cost map instead of fetching the remote one at import.
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    outputs = {PROVIDERS_PY: providers_module(), CATALOG_JSON: catalog_json()}
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(REPO)} (re-run {SCRIPT})", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"wrote {path.relative_to(REPO)} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
