"""Sealing Secret leaves for JSONB and back (pure; the database is not involved)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmproxy_desktop.core.items import Secret
from llmproxy_desktop.store.errors import (
    ReservedKeyInData,
    UnstorableValue,
    VaultKeyMismatch,
    VaultLocked,
)
from llmproxy_desktop.store.sealing import contains_secret, is_sealed_data, reseal, seal, unseal
from llmproxy_desktop.store.vault import create_vault, new_data_key

_RECORD, VAULT = create_vault("pw", time_cost=1, memory_cost=8, parallelism=1)
_, ROTATED = new_data_key(_RECORD, "pw")

# JSONB cannot hold NUL characters (the store refuses them, tested below).
_text = st.characters(exclude_characters="\x00")
_keys = st.text(_text, min_size=1, max_size=8).filter(lambda k: k != "$secret")
_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(_text, max_size=20)
    | st.builds(Secret, st.text(max_size=30))
)
json_with_secrets = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


@given(json_with_secrets)
def test_unseal_inverts_seal_for_any_json_with_secrets(data: Any) -> None:
    sealed = seal(data, VAULT)
    assert unseal(json.loads(json.dumps(sealed)), VAULT) == data
    assert is_sealed_data(sealed) == contains_secret(data)


@given(st.text(max_size=40).map(lambda t: "S3CR3T:" + t))
def test_sealed_data_never_contains_the_plaintext(secret: str) -> None:
    # The prefix keeps the secret from matching JSON structure by chance; ":" is not base64.
    sealed = seal({"litellm_params": {"api_key": Secret(secret)}}, VAULT)
    token = sealed["litellm_params"]["api_key"]
    assert set(token) == {"$secret", "kid"} and token["kid"] == VAULT.key_id
    assert secret not in json.dumps(sealed)


def test_data_without_secrets_needs_no_vault() -> None:
    data = {"model_name": "gpt-4o", "litellm_params": {"api_key": "os.environ/KEY"}}
    assert seal(data, None) == data
    assert unseal(data, None) == data


def test_sealing_a_secret_without_a_vault_is_refused() -> None:
    with pytest.raises(VaultLocked):
        seal([Secret("x")], None)


def test_unsealing_without_a_vault_is_refused() -> None:
    with pytest.raises(VaultLocked):
        unseal(seal([Secret("x")], VAULT), None)


def test_unsealing_with_another_data_key_names_both_key_ids() -> None:
    sealed = seal({"k": Secret("x")}, VAULT)
    with pytest.raises(VaultKeyMismatch, match=r"key 1.*key 2"):
        unseal(sealed, ROTATED)


def test_reseal_moves_every_value_to_the_new_key() -> None:
    data = {"a": Secret("one"), "b": [Secret("two"), "plain"]}
    moved = reseal(seal(data, VAULT), VAULT, ROTATED)
    assert moved["a"]["kid"] == ROTATED.key_id and moved["b"][0]["kid"] == ROTATED.key_id
    assert unseal(moved, ROTATED) == data


def test_the_sealing_tag_is_reserved_in_item_data() -> None:
    with pytest.raises(ReservedKeyInData):
        seal({"nested": [{"$secret": "forged", "kid": 1}]}, VAULT)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"litellm_params": {"rpm": float("inf")}}, "litellm_params.rpm"),
        ({"a": [1, float("nan")]}, "a[1]"),
        ({"api_key": "sk-secret\x00tail"}, "api_key"),
        ({"x": {1: "a"}}, "x"),
        ({"when": object()}, "when"),
    ],
)
def test_unstorable_values_are_refused_naming_the_place_not_the_value(
    data: Any, where: str
) -> None:
    with pytest.raises(UnstorableValue) as caught:
        seal(data, None)
    assert caught.value.where == where
    assert "sk-secret" not in str(caught.value)
