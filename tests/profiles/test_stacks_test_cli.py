"""`llmproxy-desktop stacks test NAME` against real components: the test sshd (and its jump
host), a throwaway PostgreSQL, and the docker test stack (socket-proxy policy + LiteLLM).

Every layer's line must say OK, or name that layer's own failure while the layers before it
stay OK and the ones after it are skipped."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmproxy_desktop.cli import main
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles import StackProfile, to_ssh_target
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.remote.ssh_session import SshSession
from llmproxy_desktop.remote.ssh_target import AuthMethod
from tests.fixtures.docker_stack import TestStack, docker_stack
from tests.fixtures.postgres_harness import integration_harness
from tests.fixtures.sshd import (
    ClientKeys,
    SshdServer,
    client_keys,
    openssh_root,
    password_user,
    sshd_jump,
    sshd_target,
)

from .fake_keyrings import MemoryKeyring

_integration_harness = integration_harness


pg_cluster = _integration_harness().pg_cluster
__all__ = [  # fixtures, used by name
    "client_keys",
    "docker_stack",
    "openssh_root",
    "password_user",
    "pg_cluster",
    "sshd_jump",
    "sshd_target",
]

LAYERS = (
    "SSH connect",
    "host key",
    "SSH auth",
    "forwards",
    "Postgres",
    "socket-proxy",
    "LiteLLM",
)


def layer_lines(out: str) -> dict[str, tuple[str, str]]:
    """{layer: (outcome, detail)} from `stacks test` output, checking the layer order."""
    found: dict[str, tuple[str, str]] = {}
    layer_output = [line for line in out.splitlines() if not line.startswith("session ")]
    for line, layer in zip(layer_output, LAYERS, strict=True):
        assert line.startswith(layer), out
        outcome, _, detail = line[len(layer) :].strip().partition(" ")
        found[layer] = (outcome, detail.strip())
    return found


def session_states(out: str) -> list[str]:
    """The SSH session's status changes as `stacks test` shows them."""
    return [line.split()[1] for line in out.splitlines() if line.startswith("session ")]


def trust(server: SshdServer, home: Path) -> None:
    known_hosts = home / ".ssh" / "known_hosts"
    known_hosts.parent.mkdir(mode=0o700, exist_ok=True)
    with known_hosts.open("a") as stream:
        stream.write(server.known_hosts_line())


@pytest.fixture
def stack_profile(
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    docker_stack: TestStack,
    memory_keyring: MemoryKeyring,
) -> Iterator[StackProfile]:
    """A profile of the whole real test stack, reached over SSH with the protected key; its
    secrets saved in the (in-memory) keyring as `--save-secrets` would."""
    profile = StackProfile(
        name="e2e",
        compose_dir="/srv/llm",
        host="127.0.0.1",
        port=sshd_target.port,
        user="root",
        auth=AuthMethod.KEY_FILE,
        key_file=client_keys.protected,
        postgres_port=pg_cluster.port,
        socket_proxy_port=docker_stack.socket_proxy_port,
        litellm_port=docker_stack.litellm_port,
        litellm_container=docker_stack.container_name,
        db_name="postgres",
        db_user="llmproxy",
    )
    ProfileStore().add(profile)
    memory_keyring.set_password(SERVICE, "e2e:ssh-key-passphrase", client_keys.passphrase)
    memory_keyring.set_password(SERVICE, "e2e:db-password", pg_cluster.password)
    memory_keyring.set_password(SERVICE, "e2e:litellm-master-key", docker_stack.master_key)
    yield profile


@pytest.mark.integration
def test_every_layer_is_ok_through_the_real_stack(
    stack_profile: StackProfile,
    sshd_target: SshdServer,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
) -> None:
    trust(sshd_target, isolated_home)

    code = main(["stacks", "test", "e2e"])
    out, err = capsys.readouterr()

    lines = layer_lines(out)
    assert code == 0, out + err
    assert {outcome for outcome, _ in lines.values()} == {"OK"}, out
    assert session_states(out)[:2] == ["connecting", "connected"]
    assert lines["SSH auth"][1] == "key-file as root"
    assert lines["socket-proxy"][1].startswith(
        f"container {stack_profile.litellm_container}: running"
    )
    assert "master key accepted" in lines["LiteLLM"][1]
    assert not [v for v in memory_keyring.entries.values() if v in out + err]


@pytest.mark.integration
def test_an_unknown_host_key_fails_that_layer_until_its_fingerprint_is_accepted(
    stack_profile: StackProfile,
    sshd_target: SshdServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["stacks", "test", "e2e"])
    lines = layer_lines(capsys.readouterr().out)
    assert code == 2
    assert lines["SSH connect"][0] == "OK"
    outcome, detail = lines["host key"]
    assert outcome == "FAILED" and "not known yet" in detail
    assert f"--accept-host-key {sshd_target.fingerprint()}" in detail
    assert [lines[layer][0] for layer in LAYERS[2:]] == ["skipped"] * 5

    code = main(["stacks", "test", "e2e", "--accept-host-key", sshd_target.fingerprint()])
    lines = layer_lines(capsys.readouterr().out)
    assert code == 0
    assert lines["host key"] == (
        "OK",
        f"accepted and recorded: {sshd_target.known_hosts_name} {sshd_target.fingerprint()}",
    )

    code = main(["stacks", "test", "e2e"])  # remembered in the app's known_hosts
    assert code == 0 and layer_lines(capsys.readouterr().out)["host key"][1] == (
        "matches known_hosts"
    )


@pytest.mark.integration
def test_a_wrong_database_password_fails_only_postgres(
    stack_profile: StackProfile,
    sshd_target: SshdServer,
    isolated_home: Path,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trust(sshd_target, isolated_home)
    memory_keyring.set_password(SERVICE, "e2e:db-password", "wrong-db-password-1234")
    memory_keyring.delete_password(SERVICE, "e2e:litellm-master-key")

    code = main(["stacks", "test", "e2e"])
    out, err = capsys.readouterr()
    lines = layer_lines(out)

    assert code == 2 and err.strip() == "e2e: failed at Postgres"
    outcome, detail = lines["Postgres"]
    assert outcome == "FAILED" and "password authentication failed" in detail
    assert "wrong-db-password-1234" not in out + err
    assert lines["socket-proxy"][0] == "OK"
    assert lines["LiteLLM"] == ("OK", "ready; master key not checked (none saved or given)")


@pytest.mark.integration
def test_a_wrong_container_name_is_reported_by_the_socket_proxy_layer(
    stack_profile: StackProfile,
    sshd_target: SshdServer,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trust(sshd_target, isolated_home)
    main(["stacks", "edit", "e2e", "--litellm-container", "not-the-litellm"])
    capsys.readouterr()

    code = main(["stacks", "test", "e2e"])
    lines = layer_lines(capsys.readouterr().out)

    assert code == 2
    assert lines["socket-proxy"][0] == "FAILED" and "[socket-proxy]" in lines["socket-proxy"][1]
    assert (lines["Postgres"][0], lines["LiteLLM"][0]) == ("OK", "OK")


@pytest.mark.integration
def test_ssh_connect_failure_skips_everything_after_it(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as unused:  # a port nobody listens on: bound, never listening
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        add = ("stacks", "add", "down", "--host", "127.0.0.1", "--port", str(port))
        main([*add, "--user", "root", "--compose-dir", "/srv"])
        capsys.readouterr()
        code = main(["stacks", "test", "down"])
    out = capsys.readouterr().out
    lines = layer_lines(out)
    assert code == 2
    assert session_states(out) == ["connecting", "failed", "disconnected"]
    assert lines["SSH connect"][0] == "FAILED" and "[ssh-connect]" in lines["SSH connect"][1]
    assert [lines[layer][0] for layer in LAYERS[1:]] == ["skipped"] * 6


@pytest.mark.integration
def test_an_alias_proxyjump_connects_through_the_real_jump_host(
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    client_keys: ClientKeys,
    tmp_path: Path,
    isolated_home: Path,
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host stack\n    HostName 127.0.0.1\n    Port {sshd_target.port}\n    User root\n"
        f"    IdentityFile {client_keys.plain}\n    ProxyJump bastion\n"
        f"Host bastion\n    HostName 127.0.0.1\n    Port {sshd_jump.port}\n    User root\n"
        f"    IdentityFile {client_keys.plain}\n"
    )
    trust(sshd_target, isolated_home)
    trust(sshd_jump, isolated_home)
    profile = StackProfile(name="via-jump", compose_dir="/srv", ssh_config_alias="stack")

    target = to_ssh_target(profile, {}, ssh_config_path=config)
    assert target.jump is not None and target.jump.port == sshd_jump.port

    with SshSession(target, HostKeyStore()) as session:
        result = session.exec("echo $SSH_CONNECTION")
    # The target sees the connection coming from the jump host's direct-tcpip channel.
    assert result.exit_status == 0 and result.stdout.split()[2:] == [
        b"127.0.0.1",
        str(sshd_target.port).encode(),
    ]


@pytest.mark.integration
def test_a_local_stack_skips_ssh_and_reaches_its_ports_directly(
    pg_cluster: Any,
    docker_stack: TestStack,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add = ("stacks", "add", "here", "--transport", "local", "--compose-dir", "/srv/llm")
    ports = (
        "--postgres-port",
        str(pg_cluster.port),
        "--litellm-port",
        str(docker_stack.litellm_port),
    )
    main(
        [
            *add,
            *ports,
            "--socket-proxy-port",
            str(docker_stack.socket_proxy_port),
            "--litellm-container",
            docker_stack.container_name,
            "--db-name",
            "postgres",
        ]
    )
    memory_keyring.set_password(SERVICE, "here:db-password", pg_cluster.password)
    capsys.readouterr()

    code = main(["stacks", "test", "here"])
    lines = layer_lines(capsys.readouterr().out)

    assert code == 0
    assert [lines[layer][0] for layer in LAYERS] == ["skipped"] * 4 + ["OK"] * 3
    assert lines["SSH connect"][1] == "local stack: no SSH"
