"""A dropped connection is noticed and re-established with backoff, forwards included; the
status says what is going on, and gives up (failed, with the reason) when it must."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from llmproxy_desktop.remote.errors import SessionNotConnected
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.ssh_session import ReconnectPolicy, SessionStatus, SshSession
from tests.fixtures.sshd import SshdServer
from tests.fixtures.tcp_services import echo, exchange, serving
from tests.ssh.conftest import SessionFactory

pytestmark = pytest.mark.integration

WAIT = 10.0  # generous upper bounds; the waits end as soon as the status changes


class StatusLog:
    """Collects status changes from whatever thread reports them."""

    def __init__(self, session: SshSession) -> None:
        self.changes: list[tuple[SessionStatus, str | None]] = []
        self._seen = threading.Condition()
        session.add_status_listener(self._record)

    def _record(self, status: SessionStatus, reason: str | None) -> None:
        with self._seen:
            self.changes.append((status, reason))
            self._seen.notify_all()

    def wait_for(self, status: SessionStatus, timeout: float = WAIT) -> bool:
        return self.wait_until(lambda: status in self.statuses, timeout)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
        with self._seen:
            return self._seen.wait_for(predicate, timeout)

    @property
    def statuses(self) -> list[SessionStatus]:
        return [status for status, _ in self.changes]


def test_killed_connection_comes_back_and_the_forward_works_on_the_same_port(
    open_session: SessionFactory, restartable_sshd: SshdServer
) -> None:
    store = HostKeyStore(
        app_known_hosts=restartable_sshd.directory / "app_known_hosts",
        user_known_hosts=restartable_sshd.directory / "none",
    )
    session = open_session(restartable_sshd.key_target(), store, lambda _: True)
    log = StatusLog(session)
    with serving(echo) as service:
        forward = session.forward("127.0.0.1", service.port)
        assert exchange(forward.local_port, b"before") == b"before"
        port_before = forward.local_port

        assert restartable_sshd.kill_connections() > 0

        assert log.wait_for(SessionStatus.RECONNECTING)
        assert session.wait_for_status(SessionStatus.CONNECTED, WAIT)
        assert forward.local_port == port_before
        assert exchange(forward.local_port, b"after") == b"after"

    reconnecting_reason = dict(log.changes)[SessionStatus.RECONNECTING]
    assert reconnecting_reason and "connection lost" in reconnecting_reason
    assert log.statuses[-1] is SessionStatus.CONNECTED
    assert session.exec("true", timeout=10).exit_status == 0


def test_status_runs_disconnected_connecting_connected_disconnected(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store, connect=False)
    log = StatusLog(session)
    assert session.status is SessionStatus.DISCONNECTED

    session.connect()
    session.close()

    assert log.statuses == [
        SessionStatus.CONNECTING,
        SessionStatus.CONNECTED,
        SessionStatus.DISCONNECTED,
    ]


def test_gives_up_after_the_bounded_attempts_and_says_why(
    open_session: SessionFactory, restartable_sshd: SshdServer
) -> None:
    store = HostKeyStore(
        restartable_sshd.directory / "app_known_hosts", restartable_sshd.directory / "none"
    )
    policy = ReconnectPolicy(first_delay=0.01, max_delay=0.02, max_attempts=3)
    session = open_session(restartable_sshd.key_target(), store, lambda _: True, reconnect=policy)
    log = StatusLog(session)

    restartable_sshd.stop()  # the daemon and its connections: nothing to come back to

    assert session.wait_for_status(SessionStatus.FAILED, WAIT)
    reason = session.status_reason or ""
    assert "gave up reconnecting after 3 attempts" in reason
    assert "connection refused" in reason
    attempts = [r for s, r in log.changes if s is SessionStatus.RECONNECTING and r]
    assert [r.split(":")[0] for r in attempts[1:]] == [f"attempt {n} failed" for n in (1, 2, 3)]
    with pytest.raises(SessionNotConnected, match="failed"):
        session.exec("true", timeout=5)


def test_a_changed_host_key_on_reconnect_fails_at_once(
    open_session: SessionFactory, restartable_sshd: SshdServer
) -> None:
    store = HostKeyStore(
        restartable_sshd.directory / "app_known_hosts", restartable_sshd.directory / "none"
    )
    session = open_session(restartable_sshd.key_target(), store, lambda _: True)

    restartable_sshd.restart(new_host_key=True)  # also drops the connection

    assert session.wait_for_status(SessionStatus.FAILED, WAIT)
    assert "CHANGED" in (session.status_reason or "")


def test_close_during_backoff_ends_reconnecting_promptly(
    open_session: SessionFactory, restartable_sshd: SshdServer
) -> None:
    store = HostKeyStore(
        restartable_sshd.directory / "app_known_hosts", restartable_sshd.directory / "none"
    )
    slow = ReconnectPolicy(first_delay=30.0, max_delay=30.0, max_attempts=5)
    session = open_session(restartable_sshd.key_target(), store, lambda _: True, reconnect=slow)
    log = StatusLog(session)
    restartable_sshd.stop()
    # The immediate first attempt fails (refused); then the 30 s pause begins.
    assert log.wait_until(
        lambda: any(r and r.startswith("attempt 1 failed") for _, r in log.changes)
    )

    session.close()

    assert session.status is SessionStatus.DISCONNECTED
    assert session._watchdog is not None and not session._watchdog.is_alive()


def test_backoff_starts_at_once_then_doubles_up_to_the_cap() -> None:
    policy = ReconnectPolicy(first_delay=0.2, max_delay=1.0, max_attempts=6)

    assert list(policy.delays()) == [0.0, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_a_forward_set_up_before_connect_serves_once_connected(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store, connect=False)
    with serving(echo) as service:
        forward = session.forward("127.0.0.1", service.port)
        session.connect()

        assert exchange(forward.local_port, b"early") == b"early"
