"""Errors name the layer that failed; exec channels return status and both output streams."""

from __future__ import annotations

import logging
import socket
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest

from llmproxy_desktop.remote.errors import (
    Layer,
    RemoteCommandTimeout,
    SessionNotConnected,
    SshAuthFailed,
    SshConnectFailed,
)
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.ssh_session import SessionStatus, SshSession
from llmproxy_desktop.remote.ssh_target import AuthMethod, SshAuth, SshTarget
from tests.fixtures.sshd import ClientKeys, PasswordUser, SshdServer
from tests.fixtures.tcp_services import serving
from tests.ssh.conftest import SessionFactory

pytestmark = pytest.mark.integration


def test_refused_port_is_an_ssh_connect_error_naming_host_and_port(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = open_session(
        replace(sshd_target.key_target(), port=port), trusting_store, connect=False
    )

    with pytest.raises(SshConnectFailed) as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_CONNECT
    assert caught.value.address == f"127.0.0.1:{port}"
    assert "refused" in str(caught.value)
    assert session.status is SessionStatus.FAILED


def test_a_server_that_is_not_ssh_is_an_ssh_connect_error(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    def http_server(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    with serving(http_server) as service:
        session = open_session(
            replace(sshd_target.key_target(), port=service.port), trusting_store, connect=False
        )
        with pytest.raises(SshConnectFailed, match="no SSH handshake") as caught:
            session.connect()

    assert caught.value.layer is Layer.SSH_CONNECT


def test_a_silent_server_times_out_as_an_ssh_connect_error(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never speaks
        target = replace(
            sshd_target.key_target(), port=silent.getsockname()[1], connect_timeout_seconds=0.5
        )
        session = open_session(target, trusting_store, connect=False)
        with pytest.raises(SshConnectFailed) as caught:
            session.connect()

    assert caught.value.layer is Layer.SSH_CONNECT


def test_exec_returns_exit_status_and_separate_output_streams(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)

    result = session.exec("echo out; echo err >&2; exit 3", timeout=10)

    assert result == (3, b"out\n", b"err\n")


def test_exec_reads_large_output_on_both_streams_without_stalling(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    size = 4 * 1024 * 1024  # far beyond the channel window: both streams must be drained

    result = session.exec(f"head -c {size} /dev/zero >&2; head -c {size} /dev/zero", timeout=30)

    assert result.exit_status == 0
    assert (len(result.stdout), len(result.stderr)) == (size, size)


def test_exec_timeout_is_typed_and_leaves_the_session_usable(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)

    # A command that never ends by itself but dies (SIGPIPE) once its channel is closed, so no
    # orphan outlives the test: sshd does not signal a command when its channel closes.
    with pytest.raises(RemoteCommandTimeout) as caught:
        session.exec("while echo tick; do sleep 0.05; done", timeout=0.3)

    assert caught.value.program == "while"
    assert session.exec("echo still here", timeout=10).stdout == b"still here\n"


def test_operations_on_a_session_that_is_not_connected_say_so(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store, connect=False)

    with pytest.raises(SessionNotConnected, match="disconnected"):
        session.exec("true", timeout=5)
    with pytest.raises(SessionNotConnected):
        session.sftp_read("/etc/hostname")


def test_no_secret_reaches_any_log_record(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    password_user: PasswordUser,
    trusting_store: HostKeyStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # paramiko's own debug logging included
    wrong_password = password_user.password + "-wrong"
    attempts = [
        sshd_target.target(
            SshAuth(AuthMethod.PASSWORD, secret=wrong_password), user=password_user.name
        ),
        sshd_target.target(
            SshAuth(AuthMethod.PASSWORD, secret=password_user.password), user=password_user.name
        ),
        sshd_target.target(
            SshAuth(
                AuthMethod.KEY_FILE, key_file=client_keys.protected, secret=client_keys.passphrase
            )
        ),
    ]
    for target in attempts:
        session = open_session(target, trusting_store, connect=False)
        with suppress(SshAuthFailed):  # the wrong password is meant to fail
            session.connect()
        session.close()

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (wrong_password, password_user.password, client_keys.passphrase):
        assert secret not in logged
    private_key_body = client_keys.plain.read_text().splitlines()[1]
    assert private_key_body not in logged
    assert "connected" in caplog.text  # the session did log its status changes


def test_an_invalid_host_name_is_an_ssh_connect_error_not_a_crash(tmp_path: Path) -> None:
    target = SshTarget("a..b", 22, "admin", SshAuth(AuthMethod.AGENT))
    session = SshSession(target, HostKeyStore(tmp_path / "app", tmp_path / "none"))
    with pytest.raises(SshConnectFailed) as caught:
        session.connect()
    assert caught.value.layer is Layer.SSH_CONNECT and "host name" in str(caught.value)
    assert session.status is SessionStatus.FAILED
