"""Deploy tests (issue #7 §2): the .env writer and `stack init` on this disk; the upload, the
streamed `up -d` and the health wait through a real sshd on loopback standing in for the
server, driving docker-compose v1 against a private test dockerd with the locally built busybox
image (no registry is reachable, and Debian 12 has no compose v2 plugin)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmproxy_desktop.remote.ssh_session import SshSession
from tests.fixtures.docker_stack import Dockerd, docker_stack, import_busybox, run_dockerd
from tests.fixtures.postgres_harness import integration_harness
from tests.fixtures.sshd import (
    ClientKeys,
    SshdServer,
    client_keys,
    openssh_root,
    running_sshd,
    trusting_session,
)

# The first-boot test also needs the Master's Postgres and a real LiteLLM: the shared test stack
# (tests/fixtures/docker_stack.py) and the integration harness's throwaway cluster.
_harness = integration_harness()
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine

# Re-exported: pytest finds fixtures by name in this module.
__all__ = [
    "client_keys",
    "docker_stack",
    "engine",
    "master_db",
    "master_db_url",
    "openssh_root",
    "pg_cluster",
]


@pytest.fixture(scope="session")
def server_sshd(openssh_root: Path, client_keys: ClientKeys) -> Iterator[SshdServer]:
    """The stack host's sshd (root with the plain client key)."""
    with running_sshd(openssh_root / "deploy-host", client_keys) as server:
        yield server


@pytest.fixture
def session(server_sshd: SshdServer, tmp_path: Path) -> Iterator[SshSession]:
    """A connected session to the stack host, its host key already trusted."""
    with trusting_session(server_sshd, tmp_path) as connected:
        yield connected


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Dockerd]:
    """A private dockerd (no bridge, no iptables) with local/busybox:1 imported."""
    root = Path(tempfile.mkdtemp(prefix="lpd-dp-", dir="/tmp"))  # short: socket paths
    try:
        with run_dockerd(root / "d") as daemon:
            import_busybox(daemon)
            yield daemon
    finally:
        shutil.rmtree(root, ignore_errors=True)
