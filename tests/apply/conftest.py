"""Apply tests: the pipeline against the real components, combined as in production.

- the Master in the throwaway Postgres of tests/integration/conftest.py (loaded by path, as
  bench/conftest.py does: tests/integration is not a package);
- the test stack of tests/fixtures/docker_stack.py (dockerd, the socket-proxy policy, LiteLLM as
  a container reading the config DIRECTORY bind-mounted at /etc/litellm);
- a real sshd on loopback standing in for the stack's host: config.yaml is replaced over SFTP
  and the socket-proxy and LiteLLM are reached through SSH forwards, as on a server.

The stack is shared by the whole session, so every test leaves it as it found it: the original
config.yaml is put back, and if LiteLLM was restarted during the test it is restarted again on
the original file and awaited (`stack_restored`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.ops.apply_target import ApplyTarget, SftpConfigFile
from llmproxy_desktop.remote.docker_control import DockerControl
from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from llmproxy_desktop.remote.profiles import StackProfile
from llmproxy_desktop.remote.ssh_session import SshSession
from llmproxy_desktop.remote.ssh_target import AuthMethod
from llmproxy_desktop.store import Actor, Master, create_master_engine
from tests.fixtures.docker_stack import TestStack, docker_stack
from tests.fixtures.postgres_harness import integration_harness
from tests.fixtures.sshd import (
    ClientKeys,
    SshdServer,
    client_keys,
    openssh_root,
    running_sshd,
    trusting_session,
)

_harness = integration_harness()

# Re-exported: pytest finds fixtures by name in this module.
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine
__all__ = [
    "client_keys",
    "docker_stack",
    "engine",
    "master_db",
    "master_db_url",
    "openssh_root",
    "pg_cluster",
]

ALICE = Actor(user="alice", host="alice-laptop")
BOB = Actor(user="bob", host="bob-desktop")


@pytest.fixture(scope="session")
def stack_host_sshd(openssh_root: Path, client_keys: ClientKeys) -> Iterator[SshdServer]:
    """The stack host's SSH server (root with the plain client key)."""
    with running_sshd(openssh_root / "apply-stack-host", client_keys) as server:
        yield server


@pytest.fixture
def ssh_session(stack_host_sshd: SshdServer, tmp_path: Path) -> Iterator[SshSession]:
    """One connected SSH session to the stack's host, as the app holds per stack."""
    with trusting_session(stack_host_sshd, tmp_path) as connected:
        yield connected


@pytest.fixture
def stack_restored(docker_stack: TestStack) -> Iterator[TestStack]:
    """The stack, put back afterwards: original config.yaml, and LiteLLM serving it."""
    config = docker_stack.config_dir / "config.yaml"
    original = config.read_bytes()
    original_mode = config.stat().st_mode & 0o777
    with DockerControl(docker_stack.socket_proxy_url, docker_stack.container_name) as control:
        started_at = control.litellm_state().started_at
        yield docker_stack
        config.write_bytes(original)
        config.chmod(original_mode)
        if control.litellm_state().started_at != started_at:
            control.restart_litellm()
            with LiteLLMClient(docker_stack.litellm_url, docker_stack.master_key) as client:
                client.wait_until_ready(timeout=60)
                assert sorted(client.models()) == sorted(docker_stack.model_groups)


@pytest.fixture
def master(engine: Engine, stack_restored: TestStack) -> Master:
    """Alice's Master, seeded by importing the stack's current config.yaml (first boot)."""
    opened = Master.open(engine)
    imported = import_config((stack_restored.config_dir / "config.yaml").read_text("utf-8"))
    assert not imported.has_errors, imported.findings
    opened.seed_from_import(imported.items, ALICE, set(stack_restored.model_groups))
    return opened


@pytest.fixture
def other_engine(master_db_url: str) -> Iterator[Engine]:
    """A second engine on the Master's database: another admin's desktop."""
    eng = create_master_engine(master_db_url)
    try:
        yield eng
    finally:
        eng.dispose()


def _target(
    session: SshSession, stack: TestStack, engine: Engine, container: str
) -> Iterator[ApplyTarget]:
    proxy = session.forward("127.0.0.1", stack.socket_proxy_port, probe=True)
    api = session.forward("127.0.0.1", stack.litellm_port, probe=True)
    with (
        DockerControl.through_forward(proxy.local_port, container) as docker,
        LiteLLMClient.through_forward(api.local_port, stack.master_key) as litellm,
    ):
        yield ApplyTarget(
            config=SftpConfigFile(session, str(stack.config_dir / "config.yaml")),
            docker=docker,
            litellm=litellm,
            master_engine=engine,
        )


@pytest.fixture
def target(
    ssh_session: SshSession, stack_restored: TestStack, engine: Engine
) -> Iterator[ApplyTarget]:
    """The production shape: SFTP for config.yaml, socket-proxy and LiteLLM through forwards."""
    yield from _target(ssh_session, stack_restored, engine, stack_restored.container_name)


@pytest.fixture
def misnamed_target(
    ssh_session: SshSession, stack_restored: TestStack, engine: Engine
) -> Iterator[ApplyTarget]:
    """As `target`, but its DockerControl names a container the socket-proxy refuses."""
    yield from _target(ssh_session, stack_restored, engine, "not-the-litellm-container")


def stack_profile(
    name: str, sshd: SshdServer, keys: ClientKeys, pg_cluster: Any, master_db: str, stack: TestStack
) -> StackProfile:
    """The test stack as a stack profile: SSH to its host, the Master in `master_db`, the
    socket-proxy and LiteLLM of `stack` (as the CLI and window tests connect to it)."""
    return StackProfile(
        name=name,
        compose_dir="/srv/llm",
        host="127.0.0.1",
        port=sshd.port,
        user="root",
        auth=AuthMethod.KEY_FILE,
        key_file=keys.plain,
        config_path=str(stack.config_dir / "config.yaml"),
        postgres_port=pg_cluster.port,
        socket_proxy_port=stack.socket_proxy_port,
        litellm_port=stack.litellm_port,
        litellm_container=stack.container_name,
        db_name=master_db,
        db_user="llmproxy",
    )
