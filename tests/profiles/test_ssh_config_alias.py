"""A profile's ~/.ssh/config alias: HostName, User, Port, IdentityFile and ProxyJump honoured
(with Include), explicit profile fields winning, and every hop becoming part of the SshTarget."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from llmproxy_desktop.remote.profiles import (
    JumpHost,
    ProfileError,
    SecretKind,
    StackProfile,
    Transport,
    to_ssh_target,
)
from llmproxy_desktop.remote.ssh_config import (
    JumpSpec,
    SshConfigError,
    SshConfigFile,
    parse_jump_spec,
    parse_proxy_jump,
)
from llmproxy_desktop.remote.ssh_target import AuthMethod, SshTarget


@pytest.fixture
def ssh_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "dot-ssh"
    directory.mkdir()
    for key in ("id_prod", "id_bastion", "id_shared"):
        (directory / key).write_text("not a real key; only its existence matters here\n")
    return directory


def write_config(ssh_dir: Path, text: str, name: str = "config") -> Path:
    path = ssh_dir / name
    path.write_text(textwrap.dedent(text).replace("{dir}", str(ssh_dir)))
    return path


def aliased(**overrides: Any) -> StackProfile:
    values: dict[str, Any] = {"name": "prod", "compose_dir": "/opt/llm", "ssh_config_alias": "gw"}
    values.update(overrides)
    return StackProfile(**values)


def target(profile: StackProfile, config: Path, **secrets: str) -> SshTarget:
    return to_ssh_target(
        profile,
        {SecretKind(k.replace("_", "-")): v for k, v in secrets.items()},
        ssh_config_path=config,
        local_user="me",
    )


GW = """\
    Host gw
        HostName gw.internal.example
        User deploy
        Port 2201
        IdentityFile {dir}/id_missing
        IdentityFile {dir}/id_prod
        ProxyJump ops@bastion.example:2222
        ServerAliveInterval 30
        SomeFutureOption yes
    """


def test_the_alias_supplies_hostname_user_port_identityfile_and_proxyjump(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, GW)

    found = target(aliased(), config, ssh_key_passphrase="pp")

    assert (found.host, found.user, found.port) == ("gw.internal.example", "deploy", 2201)
    # One key per hop: the first IdentityFile that exists, as OpenSSH would end up using.
    assert found.auth.method is AuthMethod.KEY_FILE
    assert found.auth.key_file == ssh_dir / "id_prod"
    assert found.auth.secret == "pp"
    assert found.jump is not None
    assert (found.jump.host, found.jump.user, found.jump.port) == ("bastion.example", "ops", 2222)
    assert found.jump.auth.method is AuthMethod.AGENT
    assert found.jump.known_hosts_name == "[bastion.example]:2222"


def test_explicit_profile_fields_win_over_the_alias(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, GW)
    profile = aliased(
        host="10.0.0.5",
        port=22,
        user="root",
        auth=AuthMethod.PASSWORD,
        jump=JumpHost(host="jump.example", user="j", auth=AuthMethod.PASSWORD),
        keepalive_seconds=0,
    )

    found = target(profile, config, ssh_password="pw", jump_password="jpw")

    assert (found.host, found.port, found.user) == ("10.0.0.5", 22, "root")
    assert (found.auth.method, found.auth.secret) == (AuthMethod.PASSWORD, "pw")
    assert found.jump is not None and found.jump.jump is None
    assert (found.jump.host, found.jump.user, found.jump.auth.secret) == (
        "jump.example",
        "j",
        "jpw",
    )
    assert (found.keepalive_seconds, found.jump.keepalive_seconds) == (0, 0)


def test_an_explicit_agent_choice_is_not_overridden_by_the_alias_key(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, GW)
    found = target(aliased(auth=AuthMethod.AGENT), config, ssh_key_passphrase="unused")
    assert found.auth.method is AuthMethod.AGENT and found.auth.key_file is None
    assert found.auth.secret is None  # a passphrase is never sent where no key is used


def test_an_explicit_key_file_wins_over_identityfile(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, GW)
    found = target(aliased(key_file=Path("~/.ssh/other")), config)
    assert found.auth.key_file == Path.home() / ".ssh" / "other"


def test_proxyjump_hops_are_aliases_resolved_through_the_same_config(ssh_dir: Path) -> None:
    config = write_config(
        ssh_dir,
        """\
        Host gw
            HostName 10.1.0.7
            ProxyJump inner,outer-user@bastion
        Host bastion
            HostName bastion.example
            Port 2200
            User ignored-because-the-hop-names-one
            IdentityFile {dir}/id_bastion
        Host inner
            HostName inner.example
            IdentityFile {dir}/id_shared
            ProxyJump edge
        Host edge
            HostName edge.example
        """,
    )

    found = target(aliased(), config)

    # ProxyJump inner,bastion: dial inner (itself behind edge), then bastion through inner, then
    # the stack's host through bastion.
    hops = []
    hop: SshTarget | None = found
    while hop is not None:
        hops.append((hop.host, hop.port, hop.user, hop.auth.method, hop.auth.key_file))
        hop = hop.jump
    assert hops == [
        ("10.1.0.7", 22, "me", AuthMethod.AGENT, None),
        ("bastion.example", 2200, "outer-user", AuthMethod.KEY_FILE, ssh_dir / "id_bastion"),
        ("inner.example", 22, "me", AuthMethod.KEY_FILE, ssh_dir / "id_shared"),
        ("edge.example", 22, "me", AuthMethod.AGENT, None),
    ]


def test_a_hop_with_the_targets_own_key_reuses_its_passphrase(ssh_dir: Path) -> None:
    config = write_config(
        ssh_dir,
        """\
        Host gw
            HostName gw.example
            IdentityFile {dir}/id_shared
            ProxyJump b
        Host b
            IdentityFile {dir}/id_shared
        """,
    )
    found = target(aliased(), config, ssh_key_passphrase="same-key")
    assert found.jump is not None and found.jump.auth.secret == "same-key"
    separate = target(aliased(), config, ssh_key_passphrase="a", jump_key_passphrase="b")
    assert separate.jump is not None and separate.jump.auth.secret == "b"


def test_include_with_globs_is_followed_and_does_not_capture_the_outer_block(
    ssh_dir: Path,
) -> None:
    (ssh_dir / "config.d").mkdir()
    write_config(
        ssh_dir,
        """\
        Host other
            HostName other.example
        """,
        "config.d/10-other.conf",
    )
    write_config(
        ssh_dir,
        """\
        Host gw
            HostName gw.from-include.example
        """,
        "config.d/20-gw.conf",
    )
    config = write_config(
        ssh_dir,
        """\
        Host gw
            Include config.d/*.conf
            User after-include
        Include does-not-exist/*
        """,
    )

    found = target(aliased(), config)
    assert found.host == "gw.from-include.example"
    # Back in "Host gw" after the Include: the User line still belongs to gw, not to "other".
    assert found.user == "after-include"
    other = SshConfigFile.load(config).resolve("other")
    assert other.user is None


def test_an_include_cycle_is_an_error_not_a_hang(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, "Include config\n")
    with pytest.raises(SshConfigError, match="Include nested"):
        SshConfigFile.load(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Host other\n    HostName x\n", "no 'Host gw' entry"),
        ("Host *\n    User everyone\n", "no 'Host gw' entry"),
        ("Host gw\n    ProxyCommand ssh -W %h:%p bastion\n", "ProxyCommand"),
        ("Host gw\n    ProxyJump gw2\nHost gw2\n    ProxyJump gw\n", None),
        ("Host gw\n    Port nope\n", "Port"),
        ("Host gw\n    ProxyJump a b\n", "not a jump host"),
    ],
)
def test_config_problems_are_profile_errors_naming_the_file(
    ssh_dir: Path, text: str, message: str | None
) -> None:
    config = write_config(ssh_dir, text)
    try:
        found = target(aliased(), config)
    except SshConfigError as exc:
        assert str(config) in str(exc)
        if message is not None:
            assert message in str(exc)
        return
    # A ProxyJump cycle a→b→a is harmless: only the first hop's own ProxyJump is followed.
    assert text.startswith("Host gw\n    ProxyJump gw2")
    assert found.jump is not None and found.jump.host == "gw2"


def test_match_exec_blocks_are_never_run_and_count_as_not_matching(
    ssh_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "exec-ran"
    config = write_config(
        ssh_dir,
        f"""\
        Host gw
            HostName gw.example
        Match exec "touch {marker}"
            User from-exec
        Match host gw.example
            Port 2022
        """,
    )
    found = target(aliased(), config)
    assert (found.user, found.port) == ("me", 2022)
    assert not marker.exists()


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SshConfigError, match="no such ssh config file"):
        target(aliased(), tmp_path / "nope")


def test_the_alias_hops_own_proxyjump_cycle_is_stopped(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, "Host gw\n    ProxyJump a\nHost a\n    ProxyJump a\n")
    with pytest.raises(SshConfigError, match="cycle"):
        target(aliased(), config)


def test_without_alias_the_config_is_not_read(tmp_path: Path) -> None:
    profile = StackProfile(name="p", compose_dir="/x", host="h", user="u")
    found = to_ssh_target(profile, {}, ssh_config_path=tmp_path / "absent")
    assert (found.host, found.port, found.user, found.jump) == ("h", 22, "u", None)


def test_a_local_stack_has_no_ssh_target() -> None:
    local = StackProfile(name="l", compose_dir="/x", transport=Transport.LOCAL)
    with pytest.raises(ProfileError, match="local stack"):
        to_ssh_target(local, {})


def test_key_file_auth_without_any_key_is_reported(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, "Host gw\n    HostName h\n")
    with pytest.raises(ProfileError, match="no key file"):
        target(aliased(auth=AuthMethod.KEY_FILE), config)


def test_secrets_never_show_in_the_targets_repr(ssh_dir: Path) -> None:
    config = write_config(ssh_dir, GW)
    found = target(aliased(), config, ssh_key_passphrase="hunter2-passphrase")
    assert "hunter2" not in repr(found)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("bastion", JumpSpec("bastion")),
        ("ann@bastion", JumpSpec("bastion", "ann")),
        ("ann@bastion:2222", JumpSpec("bastion", "ann", 2222)),
        ("ann@corp@bastion:22", JumpSpec("bastion", "ann@corp", 22)),
        ("[::1]:2222", JumpSpec("::1", None, 2222)),
        ("ann@[fe80::1]", JumpSpec("fe80::1", "ann")),
        ("fe80::1", JumpSpec("fe80::1")),
        ("ssh://ann@bastion:2200", JumpSpec("bastion", "ann", 2200)),
    ],
)
def test_jump_specs_parse_like_openssh(text: str, spec: JumpSpec) -> None:
    assert parse_jump_spec(text) == spec


@pytest.mark.parametrize(
    "text", ["", "@bastion", "ann@", "bastion:0", "bastion:99999", "bastion:x", "[::1", "-oX"]
)
def test_bad_jump_specs_are_refused(text: str) -> None:
    with pytest.raises(SshConfigError):
        parse_jump_spec(text)


def test_proxyjump_none_means_no_hop() -> None:
    assert parse_proxy_jump("none") == ()
    assert parse_proxy_jump("a,b:2") == (JumpSpec("a"), JumpSpec("b", None, 2))
