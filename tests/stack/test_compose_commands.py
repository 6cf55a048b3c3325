"""The compose file's own commands, run for real: the config-seed one-shot in a busybox container
of the test dockerd, and the socket-proxy's health check (bash, no curl) against the test proxy.
The LiteLLM health check is the test container's own (tests/fixtures/docker_stack.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker.types import Mount

from tests.fixtures.docker_stack import (
    BUSYBOX_IMAGE,
    COMPOSE_FILE,
    REPO_ROOT,
    TestStack,
    _compose_value,
    run_socket_proxy,
)

pytestmark = pytest.mark.integration


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text("utf-8"))["services"][name]
    return service


@pytest.fixture
def config_dir() -> Iterator[Path]:
    """A stack's config directory before the first start: only the example, owned by a
    non-root user as on a server where the admin cloned the repository."""
    with tempfile.TemporaryDirectory(prefix="lpd-seed-", dir="/tmp") as work:
        directory = Path(work)
        shutil.copy(REPO_ROOT / "config" / "config.yaml.example", directory)
        os.chown(directory, 1000, 1000)
        yield directory


def _run_seed(stack: TestStack, config_dir: Path) -> str:
    seed = _service("config-seed")
    [mount] = seed["volumes"]
    command = [_compose_value(str(part)) for part in seed["command"]]
    with stack.direct_docker() as client:
        output: bytes = client.containers.run(
            BUSYBOX_IMAGE,
            command,
            user=seed["user"],
            network_mode=seed["network_mode"],
            mounts=[Mount(mount["target"], str(config_dir), type="bind")],
            remove=True,
        )
    return output.decode()


def test_config_seed_copies_the_example_when_no_config_exists(
    docker_stack: TestStack, config_dir: Path
) -> None:
    output = _run_seed(docker_stack, config_dir)

    seeded = config_dir / "config.yaml"
    assert "created config/config.yaml" in output
    assert seeded.read_bytes() == (config_dir / "config.yaml.example").read_bytes()
    assert oct(seeded.stat().st_mode & 0o777) == oct(0o644)
    assert (seeded.stat().st_uid, seeded.stat().st_gid) == (1000, 1000)
    assert sorted(p.name for p in config_dir.iterdir()) == ["config.yaml", "config.yaml.example"]


def test_config_seed_leaves_an_existing_config_alone(
    docker_stack: TestStack, config_dir: Path
) -> None:
    rendered = config_dir / "config.yaml"
    rendered.write_text("model_list: []  # rendered by the app\n", "utf-8")
    rendered.chmod(0o600)

    output = _run_seed(docker_stack, config_dir)

    assert "left as it is" in output
    assert rendered.read_text("utf-8") == "model_list: []  # rendered by the app\n"
    assert oct(rendered.stat().st_mode & 0o777) == oct(0o600)


def _proxy_healthcheck(port: int) -> int:
    test = [_compose_value(str(part)) for part in _service("socket-proxy")["healthcheck"]["test"]]
    assert test[:3] == ["CMD", "bash", "-c"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PROXY_LISTEN": f"127.0.0.1:{port}"}
    return subprocess.run(test[1:], env=env, timeout=10, check=False).returncode


def test_socket_proxy_healthcheck_passes_when_docker_answers(docker_stack: TestStack) -> None:
    assert _proxy_healthcheck(docker_stack.socket_proxy_port) == 0


def test_socket_proxy_healthcheck_fails_when_docker_does_not(docker_stack: TestStack) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="lpd-", dir="/tmp") as work,
        run_socket_proxy(
            Path(work) / "absent.sock", docker_stack.container_name, Path(work), expect_docker=False
        ) as proxy,
    ):
        assert _proxy_healthcheck(proxy.port) != 0
