"""The CLI end to end: `stack init DIR`, then `--stack NAME deploy --from DIR` through the real
sshd to the private dockerd (docker-compose v1, busybox services: see test_deploy_over_ssh)."""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path

import keyring.core
import pytest

from llmproxy_desktop.cli import CliError, _Parser
from llmproxy_desktop.cli_deploy import add_commands, add_init_command
from llmproxy_desktop.cli_stack import StackCommands
from llmproxy_desktop.core.env_file import SECRET_KEYS, EnvFile
from llmproxy_desktop.remote.profiles import StackProfile
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.remote.ssh_target import AuthMethod
from tests.fixtures.docker_stack import Dockerd
from tests.fixtures.sshd import ClientKeys, SshdServer
from tests.profiles.fake_keyrings import MemoryKeyring

from .test_deploy_over_ssh import _COMPOSE

STACK = "fresh"


def parser() -> argparse.ArgumentParser:
    """The two registrations as the lead wires them into cli.build_parser."""
    root = _Parser(prog="llmproxy-desktop")
    root.add_argument("--stack")
    root.add_argument("--json", action="store_true")
    commands = root.add_subparsers(dest="command", parser_class=_Parser)
    add_init_command(commands)
    add_commands(StackCommands(commands))
    return root


def run(*argv: str) -> int:
    args = parser().parse_args(list(argv))
    try:
        code: int = args.run(args)
    except CliError as error:  # what cli.main does
        print(f"error: {error}")
        return error.code
    return code


def deploy_over_ssh(
    local: Path, remote: Path, sshd: SshdServer, keys: ClientKeys, dockerd: Dockerd
) -> int:
    """Add the stack's profile (root over the test sshd) and run `deploy --from local` to
    `remote` on the private dockerd, unattended."""
    ProfileStore().add(
        StackProfile(
            name=STACK,
            compose_dir=str(remote),
            host="127.0.0.1",
            port=sshd.port,
            user="root",
            auth=AuthMethod.KEY_FILE,
            key_file=keys.plain,
        )
    )
    return run(
        "--stack", STACK, "deploy", "--from", str(local), "--yes", "--no-import",
        "--docker-host", dockerd.url, "--accept-host-key", sshd.fingerprint(),
    )  # fmt: skip


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())
    return home


def test_stack_init_writes_the_directory_and_prints_the_backup_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "new-stack"
    assert run("stack", "init", str(directory)) == 0
    out = capsys.readouterr().out

    assert "wrote     .env  (mode 0600)" in out
    assert "BACK UP:" in out and "LITELLM_SALT_KEY" in out
    env = (directory / ".env").read_text()
    for value in EnvFile.parse(env).values().values():
        if len(value) > 40:  # a generated secret
            assert value not in out
    assert stat.S_IMODE((directory / ".env").stat().st_mode) == 0o600

    assert run("--json", "stack", "init", str(directory)) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["written"] == [] and again["kept"] == list(SECRET_KEYS)


def test_deploy_from_an_init_directory_brings_the_services_up(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    server_sshd: SshdServer,
    client_keys: ClientKeys,
    dockerd: Dockerd,
) -> None:
    local = tmp_path / "local"
    assert run("stack", "init", str(local)) == 0
    # The product's compose file needs registry images; the test's uses the local busybox.
    (local / "docker-compose.yml").write_text(_COMPOSE.replace("{seed_exit}", "0"))
    remote = tmp_path / "srv" / "clistack"
    capsys.readouterr()
    code = deploy_over_ssh(local, remote, server_sshd, client_keys, dockerd)
    out = capsys.readouterr().out

    assert code == 0, out
    assert "[3/5] docker compose up -d" in out
    assert "Creating" in out  # compose's own lines, streamed
    assert "deployed fresh: 2 service(s) ready" in out
    assert (remote / ".env").read_bytes() == (local / ".env").read_bytes()
    assert stat.S_IMODE((remote / ".env").stat().st_mode) == 0o600


def test_deploy_without_an_init_directory_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ProfileStore().add(
        StackProfile(name=STACK, compose_dir="/srv/x", host="127.0.0.1", user="root")
    )
    code = run("--stack", STACK, "deploy", "--from", str(tmp_path / "nothing"), "--yes")
    assert code == 2
    assert "stack init" in capsys.readouterr().err


# An image no registry here can serve, pulled from a closed loopback port: compose fails the way
# a server without registry access fails with the product's images (a fresh machine in this
# workplace), and no traffic leaves the machine.
_UNPULLABLE = """\
services:
  litellm:
    image: 127.0.0.1:9/llmproxy-test/absent:1
"""


def test_a_failing_compose_up_is_reported_once_with_its_output_streamed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    server_sshd: SshdServer,
    client_keys: ClientKeys,
    dockerd: Dockerd,
) -> None:
    local = tmp_path / "local"
    assert run("stack", "init", str(local)) == 0
    (local / "docker-compose.yml").write_text(_UNPULLABLE)
    capsys.readouterr()
    code = deploy_over_ssh(local, tmp_path / "srv" / "pullfail", server_sshd, client_keys, dockerd)
    captured = capsys.readouterr()
    out = captured.out

    assert code == 1, out
    pulling = [line for line in out.splitlines() if "Pulling litellm" in line]
    assert len(pulling) == 1, out  # streamed once, not repeated under the error
    assert "docker compose up -d: `docker compose up -d` failed with exit status" in captured.err
    assert "deployed" not in out
