"""Virtual keys (issue #6 §1): ops/keys.py and remote/litellm_keys.py against the double of
LiteLLM's /key/* endpoints, which validates every request against LiteLLM's own OpenAPI schema
and keeps the keys in LiteLLM's real "LiteLLM_VerificationToken" table."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from llmproxy_desktop.core.virtual_keys import RoutingOverride
from llmproxy_desktop.ops import keys
from llmproxy_desktop.ops.keys import KeysError, KeySpec
from llmproxy_desktop.remote.errors import MasterKeyRefused
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from tests.fixtures.litellm_keys_double import LiteLLMKeysDouble

from .conftest import MODEL_GROUPS

pytestmark = pytest.mark.integration


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create(client: LiteLLMClient, alias: str, **fields: object) -> keys.CreatedKey:
    spec = KeySpec(alias=alias, models=("gpt-4o",), **fields)  # type: ignore[arg-type]
    return keys.create_key(client, spec, MODEL_GROUPS)


def test_create_key_stores_the_hash_in_litellms_table_and_returns_the_plaintext_once(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    spec = KeySpec(
        alias="team-a",
        models=("gpt-4o", "claude-sonnet"),
        max_budget=25.0,
        budget_duration="30d",
        duration="7d",
        rpm_limit=60,
        tpm_limit=100_000,
        metadata={"owner": "alice"},
    )
    created = keys.create_key(client, spec, MODEL_GROUPS)

    assert created.secret.startswith("sk-")
    assert created.secret not in repr(created)
    rows = keys_double.keys_in_table()
    assert len(rows) == 1
    row = rows[0]
    assert row["token"] == sha256(created.secret) == created.key.token
    assert row["key_name"] == f"sk-...{created.secret[-4:]}" == created.key.key_name
    assert row["models"] == ["gpt-4o", "claude-sonnet"]
    assert (row["max_budget"], row["budget_duration"]) == (25.0, "30d")
    assert (row["rpm_limit"], row["tpm_limit"]) == (60, 100_000)
    assert row["metadata"] == {"owner": "alice"}
    expires = created.key.expires
    assert expires is not None
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)


def test_create_refuses_models_outside_the_applied_groups_without_calling_litellm(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    spec = KeySpec(alias="x", models=("gpt-5", "gpt-4o"), budget_duration="monthly")
    with pytest.raises(KeysError) as caught:
        keys.create_key(client, spec, MODEL_GROUPS)
    assert "'gpt-5' is not an applied model group" in caught.value.problems[0]
    assert any("monthly" in p for p in caught.value.problems)
    assert keys_double.requests == []


def test_a_duplicate_alias_is_litellms_sentence_not_a_traceback(client: LiteLLMClient) -> None:
    create(client, "dup")
    with pytest.raises(KeysError) as caught:
        create(client, "dup")
    assert str(caught.value) == (
        "LiteLLM did not create the key: Key with alias 'dup' already exists. Unique key "
        "aliases across all keys are required."
    )


def test_list_keys_pages_past_a_hundred_keys(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    for number in range(5):
        create(client, f"k{number}")
    seen: list[float] = []

    listed = keys.list_keys(client, size=2, progress=lambda _s, f, _m: seen.append(f))

    assert sorted(k.alias or "" for k in listed) == [f"k{n}" for n in range(5)]
    pages = [r.query["page"] for r in keys_double.requests if r.path == "/key/list"]
    assert pages == ["1", "2", "3"]
    assert seen[-1] == 1.0


def test_search_by_alias_is_a_case_insensitive_substring(client: LiteLLMClient) -> None:
    create(client, "Billing-Prod")
    create(client, "billing-dev")
    create(client, "search")
    found = keys.list_keys(client, search="BILLING")
    assert sorted(k.alias or "" for k in found) == ["Billing-Prod", "billing-dev"]


def test_update_merges_metadata_instead_of_replacing_it(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    created = create(client, "meta", metadata={"owner": "alice", "cost_centre": "42"})
    token = created.key.token

    spec = KeySpec(
        alias="meta-renamed",
        models=("gpt-4o", "gpt-4o-mini"),
        max_budget=5.0,
        metadata={"owner": "bob"},
        metadata_removed=("cost_centre",),
    )
    updated = keys.update_key(client, token, spec, MODEL_GROUPS)

    assert updated.alias == "meta-renamed"
    assert updated.models == ("gpt-4o", "gpt-4o-mini")
    assert updated.metadata == {"owner": "bob"}
    keys.update_metadata(client, token, {"ticket": "OPS-7"})
    assert keys_double.keys_in_table()[0]["metadata"] == {"owner": "bob", "ticket": "OPS-7"}
    # The expiry was not part of the edit, so it was not sent (it would reset the clock).
    updates = [r.body for r in keys_double.requests if r.path == "/key/update"]
    assert all("duration" not in body for body in updates)


def test_update_can_remove_the_expiry(client: LiteLLMClient) -> None:
    created = create(client, "temp", duration="1d")
    assert created.key.expires is not None
    spec = KeySpec(alias="temp", models=("gpt-4o",), duration=keys.NEVER)
    assert keys.update_key(client, created.key.token, spec, MODEL_GROUPS).expires is None


def test_model_aliases_join_the_keys_models(client: LiteLLMClient) -> None:
    token = create(client, "aliased").key.token

    key = keys.set_model_aliases(client, token, {"fast": "gpt-4o-mini"}, MODEL_GROUPS)
    assert key.aliases == {"fast": "gpt-4o-mini"}
    assert key.models == ("gpt-4o", "fast")

    key = keys.set_model_aliases(client, token, {}, MODEL_GROUPS)
    assert key.aliases == {}
    assert key.models == ("gpt-4o",)


def test_an_alias_must_not_hide_a_model_group(client: LiteLLMClient) -> None:
    token = create(client, "hide").key.token
    with pytest.raises(KeysError, match="already a model group"):
        keys.set_model_aliases(client, token, {"gpt-4o-mini": "gpt-4o"}, MODEL_GROUPS)


def test_routing_override_is_the_keys_router_settings_and_empty_inherits(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    created = keys.create_key(
        client, KeySpec(alias="routed", models=("gpt-4o", "gpt-4o-mini")), MODEL_GROUPS
    )
    token = created.key.token
    override = RoutingOverride("latency-based-routing", (("gpt-4o", ("gpt-4o-mini",)),))

    key = keys.set_routing_override(client, token, override, MODEL_GROUPS)

    assert key.routing == override
    assert keys_double.keys_in_table()[0]["router_settings"] == {
        "routing_strategy": "latency-based-routing",
        "fallbacks": [{"gpt-4o": ["gpt-4o-mini"]}],
    }
    key = keys.set_routing_override(client, token, RoutingOverride(), MODEL_GROUPS)
    assert key.routing.empty
    assert keys_double.keys_in_table()[0]["router_settings"] == {}


def test_fallbacks_are_limited_to_the_keys_models(client: LiteLLMClient) -> None:
    token = create(client, "narrow").key.token
    override = RoutingOverride(None, (("gpt-4o", ("claude-sonnet",)),))
    with pytest.raises(KeysError, match="limited to the key's models"):
        keys.set_routing_override(client, token, override, MODEL_GROUPS)


def test_block_and_unblock(client: LiteLLMClient, keys_double: LiteLLMKeysDouble) -> None:
    token = create(client, "blockme").key.token
    keys.block_key(client, token)
    assert keys.list_keys(client)[0].blocked
    keys.unblock_key(client, token)
    assert not keys.list_keys(client)[0].blocked
    assert all(r.body == {"key": token} for r in keys_double.requests if "block" in r.path)


def test_regenerate_without_an_enterprise_licence_says_so(client: LiteLLMClient) -> None:
    token = create(client, "regen").key.token
    with pytest.raises(KeysError, match="Enterprise licence"):
        keys.regenerate_key(client, token)


def test_regenerate_replaces_the_secret_and_keeps_the_settings(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    keys_double.premium = True
    old = create(client, "regen", max_budget=3.0)
    new = keys.regenerate_key(client, old.key.token)
    assert new.secret != old.secret
    rows = keys_double.keys_in_table()
    assert [r["token"] for r in rows] == [sha256(new.secret)]
    assert (rows[0]["key_alias"], rows[0]["max_budget"]) == ("regen", 3.0)


def test_delete_archives_the_key_as_litellm_does(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble, pg_cluster: object, master_db: str
) -> None:
    token = create(client, "gone").key.token
    keys.delete_key(client, token)
    assert keys_double.keys_in_table() == []
    with psycopg.connect(pg_cluster.conninfo(master_db)) as conn:  # type: ignore[attr-defined]
        archived = conn.execute(
            'SELECT token, key_alias FROM "LiteLLM_DeletedVerificationToken"'
        ).fetchall()
    assert archived == [(token, "gone")]
    with pytest.raises(KeysError, match="there is no such key"):
        keys.delete_key(client, token)


def test_delete_expired_keys_removes_only_keys_past_their_expiry(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    expiring = create(client, "expiring", duration="1h").key
    create(client, "forever")
    later = datetime.now(UTC) + timedelta(hours=2)

    assert [k.alias for k in keys.delete_expired_keys(client, later, dry_run=True)] == ["expiring"]
    assert len(keys_double.keys_in_table()) == 2
    keys.delete_expired_keys(client, later)
    assert [r["key_alias"] for r in keys_double.keys_in_table()] == ["forever"]
    assert expiring.token not in {r["token"] for r in keys_double.keys_in_table()}


def test_find_key_by_alias_hash_or_plaintext(client: LiteLLMClient) -> None:
    created = create(client, "findme")
    create(client, "findme-too")
    assert keys.find_key(client, "findme").token == created.key.token
    assert keys.find_key(client, created.key.token).alias == "findme"
    assert keys.find_key(client, created.secret).alias == "findme"
    with pytest.raises(KeysError, match="no key named 'nope'"):
        keys.find_key(client, "nope")


def test_a_wrong_master_key_is_refused_by_name(keys_double: LiteLLMKeysDouble) -> None:
    with (
        LiteLLMClient(keys_double.url, "sk-wrong-master-key") as wrong,
        pytest.raises(MasterKeyRefused),
    ):
        keys.list_keys(wrong)


def test_the_double_rejects_a_field_litellm_would_silently_drop(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    from llmproxy_desktop.remote.litellm_keys import LiteLLMKeys

    with pytest.raises(Exception, match="not a field of GenerateKeyRequest"):
        LiteLLMKeys(client).generate({"key_alias": "typo", "max_budgte": 1})
    assert keys_double.violations
    keys_double.violations.clear()


def test_no_plaintext_key_travels_outside_generate_answers(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    created = create(client, "quiet")
    keys.block_key(client, created.key.token)
    keys.list_keys(client)
    keys.update_metadata(client, created.key.token, {"a": 1})
    for request in keys_double.requests:
        assert created.secret not in repr(request)


def test_the_double_checks_query_parameters_against_litellms_schema(
    client: LiteLLMClient, keys_double: LiteLLMKeysDouble
) -> None:
    from llmproxy_desktop.remote.litellm_keys import LiteLLMKeys

    with pytest.raises(Exception, match="rejected the request"):
        LiteLLMKeys(client).list_page(size=500)  # LiteLLM allows at most 100 a page
    assert any("size" in v for v in keys_double.violations)
    keys_double.violations.clear()
