"""Virtual-key rules (core/virtual_keys.py) and how LiteLLM's /key/* errors become sentences
(remote/litellm_keys.py, through an httpx mock transport: no server)."""

from __future__ import annotations

import json

import httpx
import pytest

from llmproxy_desktop.core.virtual_keys import (
    NEVER,
    KeySpec,
    RoutingOverride,
    VirtualKey,
    check_spec,
    mask_key,
    merge_metadata,
    models_with_aliases,
    redact_keys,
    spec_body,
)
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from llmproxy_desktop.remote.litellm_keys import KeyRequestFailed, LiteLLMKeys

GROUPS = ("gpt-4o", "gpt-4o-mini")
PLAINTEXT = "sk-AbCdEfGhIjKlMnOp1234"


def test_mask_key_keeps_only_the_last_four_characters() -> None:
    assert mask_key(PLAINTEXT) == "sk-...1234"
    assert mask_key("sk-1") == "sk-..."
    assert redact_keys(f"Key {PLAINTEXT} not found.") == "Key sk-...1234 not found."


def test_merge_metadata_lays_changes_over_the_existing_and_drops_removed() -> None:
    merged = merge_metadata({"a": 1, "b": 2, "c": 3}, {"b": 20, "d": 4}, ["c"])
    assert merged == {"a": 1, "b": 20, "d": 4}


def test_alias_names_join_the_models_but_never_narrow_all_models() -> None:
    assert models_with_aliases(["gpt-4o"], {"fast": "gpt-4o-mini"}) == ("gpt-4o", "fast")
    assert models_with_aliases([], {"fast": "gpt-4o-mini"}) == ()


def test_check_spec_names_every_problem() -> None:
    spec = KeySpec(
        alias=" ",
        models=("gpt-5",),
        max_budget=-1,
        rpm_limit=-5,
        budget_duration="monthly",
        duration=NEVER,
        aliases={"gpt-4o": "gpt-4o-mini", "x": "nowhere"},
        routing=RoutingOverride("round-robin", (("gpt-5", ("gpt-5",)),)),
    )
    problems = check_spec(spec, GROUPS, creating=True)
    assert problems == [
        "The alias cannot be blank.",
        "'gpt-5' is not an applied model group; pick models from the applied groups.",
        "The budget cannot be negative.",
        "The RPM limit cannot be negative.",
        "The budget period 'monthly' is not a duration like 30d, 1h or 1mo.",
        "The expiry 'never' is not a duration like 30d, 1h or 1mo.",
        "The alias gpt-4o is already a model group; an alias must not hide one.",
        "The alias x points at nowhere, which is not an applied model group.",
        "LiteLLM cannot use 'round-robin' as a per-key strategy; choose one of simple-shuffle, "
        "least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, "
        "cost-based-routing, or inherit the global one.",
        "gpt-5 cannot fall back to itself.",
    ]
    assert check_spec(KeySpec(duration=NEVER), GROUPS, creating=False) == []


def test_update_body_merges_metadata_keeps_other_router_settings_and_omits_expiry() -> None:
    existing = VirtualKey(
        token="t",
        key_name="sk-...1234",
        metadata={"owner": "a", "old": 1},
        router_settings={"num_retries": 3, "routing_strategy": "least-busy"},
    )
    spec = KeySpec(
        models=("gpt-4o",),
        metadata={"owner": "b"},
        metadata_removed=("old",),
        aliases={"fast": "gpt-4o-mini"},
        routing=RoutingOverride(),
    )
    body = spec_body(spec, existing)
    assert body["metadata"] == {"owner": "b"}
    assert body["router_settings"] == {"num_retries": 3}
    assert body["models"] == ["gpt-4o", "fast"]
    assert "duration" not in body
    assert spec_body(KeySpec(duration=NEVER), existing)["duration"] is None


def test_routing_override_round_trips_through_router_settings() -> None:
    override = RoutingOverride("latency-based-routing", (("a", ("b", "c")),))
    assert RoutingOverride.from_router_settings(override.router_settings()) == override
    assert RoutingOverride.from_router_settings({}).empty


def _keys_answering(status: int, body: object) -> LiteLLMKeys:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode())

    return LiteLLMKeys(
        LiteLLMClient("http://litellm", "sk-master", transport=httpx.MockTransport(handler))
    )


def test_an_http_exception_detail_is_unwrapped_and_any_echoed_key_masked() -> None:
    detail = {"error": {"message": str({"error": f"Key {PLAINTEXT} not found."}), "code": "400"}}
    with pytest.raises(KeyRequestFailed) as caught:
        _keys_answering(400, detail).regenerate("hash")
    assert str(caught.value) == "LiteLLM did not regenerate the key: Key sk-...1234 not found."
    assert PLAINTEXT not in str(caught.value)


def test_no_database_and_no_licence_get_their_own_sentences() -> None:
    with pytest.raises(KeyRequestFailed, match="it has no database"):
        _keys_answering(
            500, {"error": {"message": "DB not connected. prisma_client is None"}}
        ).generate({})
    with pytest.raises(KeyRequestFailed) as caught:
        _keys_answering(
            500, {"error": {"message": "Regenerating Virtual Keys is an Enterprise feature"}}
        ).regenerate("h")
    assert caught.value.needs_enterprise
