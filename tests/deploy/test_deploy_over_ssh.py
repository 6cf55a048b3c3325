"""Deploy through a real sshd: upload, `up -d` streamed, health wait, first-boot hook.

The server is this machine reached over SSH; compose is docker-compose v1 (the only compose
available offline on Debian 12) driving a private dockerd through DOCKER_HOST, with a compose
file of the locally built busybox image: the product's compose file needs registry images."""

from __future__ import annotations

import contextlib
import itertools
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from llmproxy_desktop.core.compose_health import Readiness
from llmproxy_desktop.core.env_file import merge_env
from llmproxy_desktop.ops.deploy import DeployFailed, DeployFiles, DeployStep, deploy
from llmproxy_desktop.ops.first_boot import FirstBootResult
from llmproxy_desktop.ops.stack_connection import StackConnection
from llmproxy_desktop.remote.errors import RemoteCommandTimeout
from llmproxy_desktop.remote.ssh_exec_stream import exec_streaming
from llmproxy_desktop.remote.ssh_session import SshSession
from llmproxy_desktop.stack_files import (
    CONFIG_SEED,
    ENV_TEMPLATE,
    SOCKET_PROXY_POLICY,
    read_bundled,
)
from tests.fixtures.docker_stack import BUSYBOX_IMAGE, Dockerd

pytestmark = pytest.mark.integration

_COMPOSE = f"""\
services:
  web:
    image: {BUSYBOX_IMAGE}
    network_mode: none
    restart: unless-stopped
    command: ["sleep", "3600"]
    environment:
      READY_TOKEN: ${{POSTGRES_PASSWORD}}
    healthcheck:
      # Healthy only when compose passed the .env's value in.
      test: ["CMD", "sh", "-c", "[ -n \\"$$READY_TOKEN\\" ]"]
      interval: 1s
      timeout: 2s
      retries: 3
  seed:
    image: {BUSYBOX_IMAGE}
    network_mode: none
    restart: "no"
    command: ["sh", "-c", "echo seeded; exit {{seed_exit}}"]
"""


def files(seed_exit: int = 0, env: str | None = None) -> DeployFiles:
    counter = itertools.count(1)
    env_text = (
        env
        or merge_env(
            read_bundled(ENV_TEMPLATE).decode(), None, lambda n: f"{next(counter):0{2 * n}x}"
        ).text
    )
    return DeployFiles(
        {
            "docker-compose.yml": _COMPOSE.replace("{seed_exit}", str(seed_exit)).encode(),
            ".env": env_text.encode(),
            CONFIG_SEED: read_bundled(CONFIG_SEED),
            SOCKET_PROXY_POLICY: read_bundled(SOCKET_PROXY_POLICY),
        }
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, float, str]] = []

    def __call__(self, step: str, fraction: float, message: str) -> None:
        self.events.append((step, fraction, message))

    def messages(self, step: DeployStep) -> list[str]:
        return [m for s, _f, m in self.events if s == step.value]


@pytest.fixture
def compose_dir(tmp_path: Path) -> Path:
    # compose v1 names the project after the directory: one per test.
    return tmp_path / "srv" / f"stack{time.monotonic_ns()}"


def run(session: SshSession, directory: Path, dockerd: Dockerd, **kwargs: Any) -> Any:
    progress = kwargs.pop("progress", Recorder())
    return deploy(
        session,
        str(directory),
        kwargs.pop("files", files()),
        progress,
        kwargs.pop("cancel", threading.Event()),
        remote_env={"DOCKER_HOST": dockerd.url},
        health_timeout=60,
        poll_seconds=0.3,
        **kwargs,
    )


def test_deploy_uploads_starts_and_waits_until_every_service_is_ready(
    session: SshSession, dockerd: Dockerd, compose_dir: Path
) -> None:
    progress = Recorder()
    result = run(session, compose_dir, dockerd, progress=progress)

    assert result.compose_command == "docker-compose"
    assert set(result.uploaded) == {
        "docker-compose.yml",
        ".env",
        CONFIG_SEED,
        SOCKET_PROXY_POLICY,
    }
    assert stat.S_IMODE((compose_dir / ".env").stat().st_mode) == 0o600
    assert stat.S_IMODE((compose_dir / "docker-compose.yml").stat().st_mode) == 0o644
    assert {s.service: s.readiness for s in result.services} == {
        "seed": Readiness.READY,
        "web": Readiness.READY,
    }
    started = progress.messages(DeployStep.START)
    assert any("Creating" in line for line in started), started  # compose's own output, streamed
    fractions = [f for _s, f, _m in progress.events]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(0.9)


def test_redeploy_rewrites_nothing_unchanged_and_stays_up(
    session: SshSession, dockerd: Dockerd, compose_dir: Path
) -> None:
    deployed = files()
    run(session, compose_dir, dockerd, files=deployed)
    with dockerd.client() as client:
        before = {c.name: c.id for c in client.containers.list(all=True)}

    again = run(session, compose_dir, dockerd, files=deployed)

    assert again.uploaded == ()
    assert set(again.unchanged) == set(deployed.files)
    with dockerd.client() as client:
        after = {c.name: c.id for c in client.containers.list(all=True)}
    assert after == before  # `up -d` recreated nothing


def test_deploy_refuses_to_replace_a_server_env_with_other_secrets(
    session: SshSession, dockerd: Dockerd, compose_dir: Path
) -> None:
    compose_dir.mkdir(parents=True)
    server_env = "LITELLM_SALT_KEY=sk-the-servers-own\n"
    (compose_dir / ".env").write_text(server_env)

    with pytest.raises(DeployFailed) as failed:
        run(session, compose_dir, dockerd)

    assert failed.value.step is DeployStep.UPLOAD
    assert "LITELLM_SALT_KEY" in str(failed.value)
    assert "sk-the-servers-own" not in str(failed.value)
    assert (compose_dir / ".env").read_text() == server_env
    assert not (compose_dir / "docker-compose.yml").exists()


def test_cancel_before_up_starts_nothing(
    session: SshSession, dockerd: Dockerd, compose_dir: Path
) -> None:
    cancel = threading.Event()
    cancel.set()

    result = run(session, compose_dir, dockerd, cancel=cancel)

    assert result.cancelled
    assert result.uploaded == ()
    assert not compose_dir.exists()


def test_a_failing_one_shot_fails_the_wait_with_its_exit_code(
    session: SshSession, dockerd: Dockerd, compose_dir: Path
) -> None:
    with pytest.raises(DeployFailed) as failed:
        run(session, compose_dir, dockerd, files=files(seed_exit=3))

    assert failed.value.step is DeployStep.HEALTH
    assert "seed: exited (code 3)" in str(failed.value)


@contextlib.contextmanager
def fake_connection(initialised: object) -> Iterator[StackConnection]:
    master = SimpleNamespace(initialised=lambda: initialised)
    config_file = SimpleNamespace(location="host:/srv/config/config.yaml")
    yield cast(StackConnection, SimpleNamespace(master=master, config_file=config_file))


def test_the_first_boot_import_runs_only_on_an_empty_master(
    session: SshSession, dockerd: Dockerd, compose_dir: Path
) -> None:
    imported: list[StackConnection] = []

    def first_boot(connection: StackConnection) -> FirstBootResult:
        imported.append(connection)
        return FirstBootResult(3, connection.config_file.location, (), False)

    fresh = run(
        session,
        compose_dir,
        dockerd,
        connect=lambda: fake_connection(None),
        first_boot=first_boot,
    )
    assert fresh.first_boot is not None and fresh.first_boot.imported == 3

    again = run(
        session,
        compose_dir,
        dockerd,
        connect=lambda: fake_connection(object()),
        first_boot=first_boot,
    )
    assert again.first_boot is None
    assert again.first_boot_skipped == "the Master already holds configuration"
    assert len(imported) == 1


def test_exec_streaming_hands_over_lines_while_the_command_runs(session: SshSession) -> None:
    arrivals: list[tuple[float, str]] = []
    start = time.monotonic()
    status = exec_streaming(
        session,
        "for i in 1 2 3; do echo line $i; sleep 0.3; done; printf 'err\\nno newline' >&2; exit 4",
        lambda line: arrivals.append((time.monotonic() - start, line)),
        timeout=20,
    )
    assert status == 4
    assert [line for _t, line in arrivals] == ["line 1", "line 2", "line 3", "err", "no newline"]
    # The first line arrived long before the command ended: streamed, not collected.
    assert arrivals[0][0] < arrivals[2][0] - 0.4


def test_exec_streaming_stops_on_request(session: SshSession) -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(RemoteCommandTimeout):
        exec_streaming(session, "sleep 30", lambda _line: None, timeout=20, stop=stop)
