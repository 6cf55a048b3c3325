"""SSH session tests against real sshd instances (tests.fixtures.sshd) and, for tunnelled
queries, the integration harness's throwaway PostgreSQL (loaded by path, as bench/ does)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llmproxy_desktop.remote.host_keys import Confirm, HostKeyStore
from llmproxy_desktop.remote.ssh_session import ReconnectPolicy, SshSession
from llmproxy_desktop.remote.ssh_target import SshTarget
from tests.fixtures import sshd as _sshd
from tests.fixtures.postgres_harness import integration_harness
from tests.fixtures.sshd import SshdServer

_integration_harness = integration_harness


# Re-exported so pytest registers them as fixtures of tests/ssh/.
client_keys = _sshd.client_keys
openssh_root = _sshd.openssh_root
password_user = _sshd.password_user
restartable_sshd = _sshd.restartable_sshd
ssh_agent = _sshd.ssh_agent
sshd_jump = _sshd.sshd_jump
sshd_target = _sshd.sshd_target
pg_cluster = _integration_harness().pg_cluster

# Quick retries keep the reconnect tests short; the backoff shape is the production one.
FAST_RECONNECT = ReconnectPolicy(first_delay=0.05, max_delay=0.5, max_attempts=20)

SessionFactory = Callable[..., SshSession]


def write_known_hosts(path: Path, *servers: SshdServer) -> Path:
    """An OpenSSH known_hosts file trusting the current host keys of `servers`."""
    path.write_text("".join(server.known_hosts_line() for server in servers))
    return path


@pytest.fixture
def empty_store(tmp_path: Path) -> HostKeyStore:
    """A store that knows no host key yet (neither file exists)."""
    return HostKeyStore(
        app_known_hosts=tmp_path / "app" / "known_hosts",
        user_known_hosts=tmp_path / "user_known_hosts",
    )


@pytest.fixture
def trusting_store(tmp_path: Path, sshd_target: SshdServer, sshd_jump: SshdServer) -> HostKeyStore:
    """A store whose user known_hosts (read-only to the app) trusts the target and the jump."""
    return HostKeyStore(
        app_known_hosts=tmp_path / "app" / "known_hosts",
        user_known_hosts=write_known_hosts(tmp_path / "user_known_hosts", sshd_target, sshd_jump),
    )


@pytest.fixture
def open_session() -> Iterator[SessionFactory]:
    """Create and connect sessions; every one is closed after the test."""
    sessions: list[SshSession] = []

    def factory(
        target: SshTarget,
        store: HostKeyStore,
        confirm: Confirm | None = None,
        *,
        reconnect: ReconnectPolicy = FAST_RECONNECT,
        connect: bool = True,
    ) -> SshSession:
        session = SshSession(target, store, confirm, reconnect=reconnect)
        sessions.append(session)
        if connect:
            session.connect()
        return session

    yield factory
    for session in sessions:
        session.close()
