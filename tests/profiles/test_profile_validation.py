"""StackProfile and JumpHost: defaults that match the shipped stack, and every rule a hand edit
or a form can break, reported by field in one line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmproxy_desktop.remote.errors import Layer
from llmproxy_desktop.remote.profiles import (
    JumpHost,
    ProfileError,
    SecretKind,
    StackProfile,
    Transport,
)
from llmproxy_desktop.remote.ssh_target import AuthMethod

REPO_ROOT = Path(__file__).resolve().parents[2]


def profile(**overrides: Any) -> StackProfile:
    values: dict[str, Any] = {"name": "prod", "compose_dir": "/opt/llm", "host": "gw.example"}
    values.update(overrides)
    return StackProfile(**values)


def problems_of(**overrides: Any) -> dict[str, str]:
    with pytest.raises(ProfileError) as caught:
        profile(**overrides)
    assert caught.value.layer is Layer.PROFILE
    assert "\n" not in str(caught.value)
    return {p.field: p.message for p in caught.value.problems}


def _compose_value(text: str, env: dict[str, str]) -> str:
    """A compose value as a fresh stack gets it: ${VAR:-default} from .env, else the default."""
    found = re.fullmatch(r"\$\{(\w+):-([^}]*)\}", text)
    return env.get(found[1], found[2]) if found else text


def test_defaults_match_the_compose_file_and_env_example() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    env = dict(
        line.split("=", 1)
        for line in (REPO_ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    services = compose["services"]
    p = profile()

    assert p.litellm_container == _compose_value(services["litellm"]["container_name"], env)
    assert p.litellm_container == _compose_value(services["litellm"]["container_name"], {})
    assert p.db_name == _compose_value(services["postgres"]["environment"]["POSTGRES_DB"], env)
    assert p.db_user == env["POSTGRES_USER"]
    assert (env["POSTGRES_PORT"], env["SOCKET_PROXY_PORT"], env["LITELLM_PORT"]) == (
        str(p.postgres_port),
        str(p.socket_proxy_port),
        str(p.litellm_port),
    )
    assert (p.transport, p.keepalive_seconds) == (Transport.SSH, 15)


def test_config_path_defaults_to_the_compose_layout_and_follows_the_compose_dir() -> None:
    assert profile(compose_dir="/srv/stack/").effective_config_path == (
        "/srv/stack/config/config.yaml"
    )
    explicit = profile(config_path="/etc/litellm/config.yaml")
    assert explicit.effective_config_path == "/etc/litellm/config.yaml"


def test_an_ssh_stack_needs_a_host_or_an_alias() -> None:
    assert "host" in problems_of(host=None)
    assert profile(host=None, ssh_config_alias="prod-gw").host is None


def test_every_problem_is_reported_at_once_by_field() -> None:
    found = problems_of(
        name=" padded",
        port=0,
        postgres_port=70000,
        litellm_port=True,  # a bool is not a port, even though it is an int
        keepalive_seconds=-1,
        compose_dir="relative/dir",
        config_path="/opt/llm/config/",
        litellm_container="-bad name",
        db_name="has space",
        db_user="",
    )

    assert set(found) == {
        "name",
        "port",
        "postgres_port",
        "litellm_port",
        "keepalive_seconds",
        "compose_dir",
        "config_path",
        "litellm_container",
        "db_name",
        "db_user",
    }
    assert "start with /" in found["compose_dir"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 65),
        ("name", "tab\there"),
        ("host", "two words"),
        ("host", "-oProxyCommand=evil"),
        ("user", "root\n"),
        ("ssh_config_alias", "prod*"),
        ("key_file", Path("relative/id_ed25519")),
        ("compose_dir", "/opt/../etc"),
        ("compose_dir", "/opt/llm\x00"),
        ("keepalive_seconds", 3601),
    ],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    assert field in problems_of(**{field: value})


def test_display_names_may_hold_spaces_punctuation_and_unicode() -> None:
    assert profile(name="Prod (EU) — Zürich").name == "Prod (EU) — Zürich"


def test_key_file_auth_needs_a_key_unless_an_alias_may_supply_one() -> None:
    assert "key_file" in problems_of(auth=AuthMethod.KEY_FILE)
    aliased = profile(host=None, ssh_config_alias="gw", auth=AuthMethod.KEY_FILE)
    assert aliased.key_file is None
    assert profile(auth=AuthMethod.KEY_FILE, key_file=Path("~/.ssh/id_ed25519")).key_file


def test_a_local_stack_uses_no_ssh_fields() -> None:
    local = StackProfile(name="here", compose_dir="/srv/llm", transport=Transport.LOCAL)
    assert local.target_label() == "this machine"
    found = problems_of(transport=Transport.LOCAL, port=22)
    assert set(found) == {"host", "port"}
    assert "local stack" in found["host"]


def test_jump_host_rules() -> None:
    with pytest.raises(ProfileError) as caught:
        JumpHost(host="bastion", port=0, auth=AuthMethod.KEY_FILE)
    assert {p.field for p in caught.value.problems} == {"jump.port", "jump.key_file"}
    jump = JumpHost(host="::1", port=2222, user="ann")
    assert str(jump) == "ann@[::1]:2222"


def test_the_profile_repr_and_fields_hold_no_secrets() -> None:
    # Secrets are not profile fields at all: nothing to leak into the profiles file or a repr.
    names = set(StackProfile.__dataclass_fields__)
    assert not {n for n in names if any(w in n for w in ("password", "passphrase", "secret"))}


def test_secret_kinds_follow_the_auth_methods() -> None:
    base = (SecretKind.DB_PASSWORD, SecretKind.LITELLM_MASTER_KEY, SecretKind.VAULT_PASSPHRASE)
    assert profile().secret_kinds() == base  # agent: no SSH secret
    assert profile(auth=AuthMethod.PASSWORD).secret_kinds() == (SecretKind.SSH_PASSWORD, *base)
    with_jump = profile(
        auth=AuthMethod.KEY_FILE,
        key_file=Path("/k"),
        jump=JumpHost(host="b", auth=AuthMethod.PASSWORD),
    )
    assert with_jump.secret_kinds() == (
        SecretKind.SSH_KEY_PASSPHRASE,
        SecretKind.JUMP_PASSWORD,
        *base,
    )
    local = StackProfile(name="l", compose_dir="/x", transport=Transport.LOCAL)
    assert local.secret_kinds() == base


def test_list_labels() -> None:
    p = profile(
        user="admin", port=2200, jump=JumpHost(host="bastion", user="ann"), auth=AuthMethod.AGENT
    )
    assert p.target_label() == "admin@gw.example:2200 via ann@bastion:22"
    assert p.auth_label() == "agent"
    aliased = profile(host=None, ssh_config_alias="gw")
    assert (aliased.target_label(), aliased.auth_label()) == ("gw (ssh config)", "from ssh config")
