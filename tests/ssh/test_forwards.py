"""Local forwards over the one transport: real Postgres through the tunnel, bytes intact both
ways, half-close honoured, and a refusing far end reported as a FORWARD error."""

from __future__ import annotations

import hashlib
import os
import socket
from typing import Any

import psycopg
import pytest

from llmproxy_desktop.remote.errors import ForwardFailed, Layer
from llmproxy_desktop.remote.host_keys import HostKeyStore
from tests.fixtures.sshd import SshdServer
from tests.fixtures.tcp_services import echo, exchange, serving
from tests.ssh.conftest import SessionFactory

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_postgres_answers_through_the_forward(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    trusting_store: HostKeyStore,
    pg_cluster: Any,
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    forward = session.forward("127.0.0.1", pg_cluster.port, probe=True)

    conninfo = pg_cluster.conninfo(pg_cluster.template).replace(
        f"port={pg_cluster.port}", f"port={forward.local_port}"
    )
    with psycopg.connect(conninfo, connect_timeout=10) as conn:
        row = conn.execute("SELECT current_user, inet_server_port()").fetchone()

    assert row == ("llmproxy", pg_cluster.port)
    assert forward.local_port != pg_cluster.port


def test_forwards_listen_on_loopback_ephemeral_ports(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    with serving(echo) as service:
        forwards = [session.forward("127.0.0.1", service.port) for _ in range(3)]

        assert len({f.local_port for f in forwards}) == 3
        for forward in forwards:
            assert exchange(forward.local_port, b"ping") == b"ping"
            with pytest.raises(OSError):  # not on other addresses of the machine
                socket.create_connection(("::1", forward.local_port), timeout=2).close()


def test_bytes_arrive_intact_both_ways_and_half_close_is_passed_on(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    payload = os.urandom(5 * 1024 * 1024)
    with serving(echo) as service:
        forward = session.forward("127.0.0.1", service.port)

        # The echo server only finishes after our end-of-file: the half-close must cross.
        echoed = exchange(forward.local_port, payload)

    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()


def test_many_connections_share_one_forward(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    with serving(echo) as service:
        forward = session.forward("127.0.0.1", service.port)
        conns = [socket.create_connection(("127.0.0.1", forward.local_port)) for _ in range(10)]
        try:
            for i, conn in enumerate(conns):
                conn.sendall(f"conn {i}".encode())
            answers = [conn.recv(100) for conn in conns]
        finally:
            for conn in conns:
                conn.close()

    assert answers == [f"conn {i}".encode() for i in range(10)]


def test_forward_to_a_closed_remote_port_is_a_forward_error_naming_it(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    port = _closed_port()

    with pytest.raises(ForwardFailed) as caught:
        session.forward("127.0.0.1", port, probe=True)

    assert caught.value.layer is Layer.FORWARD
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "refused" in str(caught.value)


def test_unprobed_forward_reports_the_refusal_when_a_client_connects(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    port = _closed_port()
    forward = session.forward("127.0.0.1", port)

    # The client sees its connection closed (or reset: it had unread data); the forward keeps
    # the typed reason.
    with socket.create_connection(("127.0.0.1", forward.local_port), timeout=10) as conn:
        conn.sendall(b"hello")
        try:
            answer = conn.recv(100)
        except ConnectionResetError:
            answer = b""
    assert answer == b""
    assert isinstance(forward.last_error, ForwardFailed)
    assert forward.last_error.layer is Layer.FORWARD
    assert forward.last_error.remote_port == port


def test_closing_the_session_closes_its_forwards(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    session = open_session(sshd_target.key_target(), trusting_store)
    with serving(echo) as service:
        forward = session.forward("127.0.0.1", service.port)
        session.close()

    assert forward.closed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", forward.local_port), timeout=2).close()


def test_forward_keeps_working_across_a_key_re_exchange(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> None:
    # Long sessions re-key (paramiko after 512 MiB); the preferred AES-GCM must survive it.
    session = open_session(sshd_target.key_target(), trusting_store)
    payload = os.urandom(1024 * 1024)
    with serving(echo) as service:
        forward = session.forward("127.0.0.1", service.port)
        assert exchange(forward.local_port, payload) == payload
        transport = session._connected_transport()
        assert transport.remote_cipher == "aes128-gcm@openssh.com"

        transport.renegotiate_keys()

        assert exchange(forward.local_port, payload) == payload
