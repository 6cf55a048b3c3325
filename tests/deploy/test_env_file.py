"""The .env writer: comments and order kept, placeholders filled, real values never lost."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from llmproxy_desktop.core.env_file import (
    NEVER_ROTATE,
    SECRET_KEYS,
    EnvFile,
    backup_advice,
    conflicting_secrets,
    is_placeholder,
    merge_env,
)
from llmproxy_desktop.stack_files import ENV_TEMPLATE, read_bundled

TEMPLATE = read_bundled(ENV_TEMPLATE).decode("utf-8")


def counting_hex() -> Callable[[int], str]:
    """Deterministic token_hex: 00…01, 00…02, ... of the requested length."""
    counter = itertools.count(1)
    return lambda n: f"{next(counter):0{2 * n}x}"


def test_parse_and_render_round_trip_the_template_byte_for_byte() -> None:
    assert EnvFile.parse(TEMPLATE).render() == TEMPLATE


def test_parse_reads_quotes_export_and_inline_comments() -> None:
    values = EnvFile.parse(
        '# c\nA=1\nexport B = two\nC="x # y"\nD=plain # note\nE=\nnot a line\n'
    ).values()
    assert values == {"A": "1", "B": "two", "C": "x # y", "D": "plain", "E": ""}


def test_init_from_the_template_fills_every_placeholder_and_keeps_the_comments() -> None:
    result = merge_env(TEMPLATE, None, counting_hex())

    assert result.generated == SECRET_KEYS
    assert result.kept == result.replaced == ()
    values = EnvFile.parse(result.text).values()
    assert not any(is_placeholder(values[key]) for key in SECRET_KEYS)
    assert values["LITELLM_MASTER_KEY"].startswith("sk-")
    assert values["LITELLM_SALT_KEY"].startswith("sk-")
    assert re.fullmatch(r"[0-9a-f]{64}", values["POSTGRES_PASSWORD"])
    # Every comment line of the template is still there, in order.
    comments = [line for line in TEMPLATE.splitlines() if line.startswith("#")]
    assert [line for line in result.text.splitlines() if line.startswith("#")] == comments
    assert EnvFile.parse(result.text).keys() == EnvFile.parse(TEMPLATE).keys()


def test_generated_secrets_have_at_least_256_bits_and_differ() -> None:
    result = merge_env(TEMPLATE, None, secrets.token_hex)
    values = EnvFile.parse(result.text).values()
    generated = [values[key].removeprefix("sk-") for key in SECRET_KEYS]
    assert all(len(bytes.fromhex(value)) * 8 >= 256 for value in generated)
    assert len(set(generated)) == len(generated)


def test_a_second_merge_changes_nothing() -> None:
    first = merge_env(TEMPLATE, None, counting_hex())
    second = merge_env(TEMPLATE, first.text, counting_hex())
    assert second.text == first.text
    assert not second.changed
    assert second.kept == SECRET_KEYS


def test_real_secrets_are_replaced_only_when_overwrite_says_so() -> None:
    existing = merge_env(TEMPLATE, None, counting_hex()).text
    asked: list[str] = []

    def overwrite(key: str) -> bool:
        asked.append(key)
        return key == "REDIS_PASSWORD"

    result = merge_env(TEMPLATE, existing, lambda n: "f" * 2 * n, overwrite)
    assert asked == list(SECRET_KEYS)
    assert result.replaced == ("REDIS_PASSWORD",)
    before, after = EnvFile.parse(existing).values(), EnvFile.parse(result.text).values()
    assert after["REDIS_PASSWORD"] == "f" * 64
    assert {k: v for k, v in after.items() if k != "REDIS_PASSWORD"} == {
        k: v for k, v in before.items() if k != "REDIS_PASSWORD"
    }


def test_missing_keys_come_from_the_template_and_own_lines_stay() -> None:
    existing = "# mine\nLITELLM_PORT=4100\nCUSTOM=keep me\nPOSTGRES_PASSWORD=hunter2hunter2\n"
    result = merge_env(TEMPLATE, existing, counting_hex())
    values = EnvFile.parse(result.text).values()
    assert result.text.startswith(existing)
    assert values["LITELLM_PORT"] == "4100"
    assert values["CUSTOM"] == "keep me"
    assert values["POSTGRES_PASSWORD"] == "hunter2hunter2"
    assert "SOCKET_PROXY_PORT" in result.added
    assert set(result.generated) == set(SECRET_KEYS) - {"POSTGRES_PASSWORD"}


_KEY = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True)
_VALUE = st.from_regex(r"[A-Za-z0-9_.:/@+-]{1,24}", fullmatch=True).filter(
    lambda v: not is_placeholder(v)
)


@given(st.dictionaries(st.one_of(_KEY, st.sampled_from(SECRET_KEYS)), _VALUE, max_size=12))
def test_merge_never_loses_an_existing_real_value(existing: dict[str, str]) -> None:
    text = "".join(f"{key}={value}\n" for key, value in existing.items())
    merged = EnvFile.parse(merge_env(TEMPLATE, text, counting_hex()).text).values()
    for key, value in existing.items():
        assert merged[key] == value


def test_conflicting_secrets_names_only_real_differing_secrets() -> None:
    local = "LITELLM_SALT_KEY=sk-a\nPOSTGRES_PASSWORD=p1\nREDIS_PASSWORD=r\nLITELLM_PORT=1\n"
    remote = (
        "LITELLM_SALT_KEY=sk-b\nPOSTGRES_PASSWORD=change-me\nREDIS_PASSWORD=r\nLITELLM_PORT=2\n"
    )
    assert conflicting_secrets(local, remote) == ("LITELLM_SALT_KEY",)


def test_backup_advice_names_the_salt_key_and_the_vault_passphrase() -> None:
    text = " ".join(backup_advice())
    assert "LITELLM_SALT_KEY" in text and "never" in text
    assert "vault passphrase" in text
    assert set(SECRET_KEYS) >= NEVER_ROTATE
