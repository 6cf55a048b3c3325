"""Hypothesis strategies for JSON-shaped config data and canonical Master items."""

from __future__ import annotations

import string
import uuid

from hypothesis import strategies as st

from llmproxy_desktop.core.items import PASSTHROUGH_NAME, Item, ItemKind, Secret
from llmproxy_desktop.core.yamltext import dump_yaml

# Any text YAML can carry: no surrogates (not encodable).
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
keys = st.text(string.ascii_letters + string.digits + "_-./: ", min_size=1, max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)

_safe_word = st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=12)
_env_ref = _safe_word.map(lambda w: f"os.environ/{w.upper()}")
_NOT_SECRET_KEYS = ["api_base", "api_version", "region", "timeout", "rpm", "mode", "organization"]


@st.composite
def model_items(draw: st.DrawFn) -> Item:
    params = {"model": "openai/" + draw(_safe_word)}
    params |= draw(st.dictionaries(st.sampled_from(_NOT_SECRET_KEYS), json_values, max_size=3))
    if draw(st.booleans()):
        params["api_key"] = draw(_env_ref)
    data: dict[str, object] = {"model_name": draw(_safe_word), "litellm_params": params}
    info = draw(
        st.dictionaries(
            st.sampled_from(["mode", "base_model", "tier", "x"]), json_values, max_size=3
        )
    )
    if info:
        data["model_info"] = info
    return Item(ItemKind.MODEL, str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))), data)


@st.composite
def credential_items(draw: st.DrawFn) -> Item:
    values: dict[str, object] = {"api_key": Secret(draw(texts.filter(lambda t: t.strip() != "")))}
    if draw(st.booleans()):
        values["api_base"] = "https://" + draw(_safe_word) + ".example.com/v1"
    info = draw(st.dictionaries(st.sampled_from(["description", "provider"]), texts, max_size=2))
    return Item(
        ItemKind.CREDENTIAL,
        draw(_safe_word),
        {"credential_values": values, "credential_info": info},
    )


def setting_items(kind: ItemKind) -> st.SearchStrategy[Item]:
    return st.builds(lambda k, v: Item(kind, k, v), _safe_word, json_values)


passthrough_items = st.dictionaries(
    st.sampled_from(["guardrails", "mcp_servers", "environment_variables", "callback_settings"]),
    json_values,
    min_size=1,
    max_size=3,
).map(lambda d: Item(ItemKind.PASSTHROUGH, PASSTHROUGH_NAME, dump_yaml(d)))


def _unique(items: list[Item]) -> list[Item]:
    seen: dict[tuple[ItemKind, str], Item] = {}
    for item in items:
        seen.setdefault((item.kind, item.name), item)
    return list(seen.values())


item_sets = st.tuples(
    st.lists(model_items(), max_size=5),
    st.lists(credential_items(), max_size=3),
    st.lists(setting_items(ItemKind.ROUTER_SETTING), max_size=3),
    st.lists(setting_items(ItemKind.LITELLM_SETTING), max_size=3),
    st.lists(setting_items(ItemKind.GENERAL_SETTING), max_size=3),
    st.lists(passthrough_items, max_size=1),
).map(lambda parts: _unique([i for part in parts for i in part]))
