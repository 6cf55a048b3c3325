"""ProxyJump: the target is reached through a direct-tcpip channel of the jump host, and each
hop's host key is checked under its own name."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest

from llmproxy_desktop.remote.errors import HostKeyUnknown, Layer, SshConnectFailed
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.ssh_session import SessionStatus
from tests.fixtures.sshd import SshdServer
from tests.ssh.conftest import SessionFactory

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port  # nothing listens once the socket is closed


def test_target_is_reached_through_the_jump_with_both_hops_confirmed(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    shown: list[HostKeyUnknown] = []

    def confirm(unknown: HostKeyUnknown) -> bool:
        shown.append(unknown)
        return True

    target = sshd_target.key_target(jump=sshd_jump.key_target())
    session = open_session(target, empty_store, confirm)

    assert session.status is SessionStatus.CONNECTED
    assert [(u.host, u.fingerprint) for u in shown] == [
        (sshd_jump.known_hosts_name, sshd_jump.fingerprint()),
        (sshd_target.known_hosts_name, sshd_target.fingerprint()),
    ]
    assert empty_store.app_known_hosts.read_text() == (
        sshd_jump.known_hosts_line() + sshd_target.known_hosts_line()
    )
    # The jump's sshd opened the TCP connection to the target: the path really went through it.
    assert sshd_jump.wait_for_log(
        rf"server_request_direct_tcpip: .*target 127\.0\.0\.1 port {sshd_target.port}\b"
    )
    assert session.exec("echo via-jump", timeout=10).stdout == b"via-jump\n"


def test_refused_jump_key_stops_before_the_target_is_asked_about(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    asked: list[str] = []

    def refuse(unknown: HostKeyUnknown) -> bool:
        asked.append(unknown.host)
        return False

    target = sshd_target.key_target(jump=sshd_jump.key_target())
    session = open_session(target, empty_store, refuse, connect=False)

    with pytest.raises(HostKeyUnknown) as caught:
        session.connect()

    assert caught.value.host == sshd_jump.known_hosts_name
    assert asked == [sshd_jump.known_hosts_name]


def test_target_key_is_checked_even_when_the_jump_is_trusted(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    tmp_path: Path,
) -> None:
    store = HostKeyStore(tmp_path / "app_known_hosts", tmp_path / "user_known_hosts")
    store.user_known_hosts.write_text(sshd_jump.known_hosts_line())  # only the jump is known
    target = sshd_target.key_target(jump=sshd_jump.key_target())
    session = open_session(target, store, None, connect=False)

    with pytest.raises(HostKeyUnknown) as caught:
        session.connect()

    assert caught.value.host == sshd_target.known_hosts_name


def test_target_unreachable_from_the_jump_is_a_connect_error_naming_it(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    trusting_store: HostKeyStore,
) -> None:
    port = _closed_port()
    unreachable = replace(sshd_target.key_target(jump=sshd_jump.key_target()), port=port)
    session = open_session(unreachable, trusting_store, connect=False)

    with pytest.raises(SshConnectFailed) as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_CONNECT
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "jump host" in str(caught.value)
