"""SSH session benchmarks (issue #3 §7) against a real sshd on loopback:

- connect with 3 forwards ready (each probed: a channel to its service opened) ≤ 0.5 s;
- tunnel throughput ≥ 100 MB/s: 50 MB through one forward, download and upload;
- reconnect after a drop (server-side processes killed) until the forward works again ≤ 3 s.

Run: .venv/bin/pytest bench/bench_remote.py --benchmark-only

The machine is a noisy shared VM, so the throughput benchmark also measures plain loopback TCP
with the same source and sink in the same run (extra_info), as a reference point.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.ssh_session import SessionStatus, SshSession
from tests.fixtures.sshd import SshdServer
from tests.fixtures.tcp_services import CHUNK, LoopbackService, echo, exchange, sink, source

pytestmark = pytest.mark.integration

CONNECT_TARGET_S = 0.5
THROUGHPUT_TARGET_MB_S = 100.0
RECONNECT_TARGET_S = 3.0
PAYLOAD = 50 * 1000 * 1000  # 50 MB
MB = 1e6


def _store(tmp_path: Path, *servers: SshdServer) -> HostKeyStore:
    user = tmp_path / "user_known_hosts"
    user.write_text("".join(s.known_hosts_line() for s in servers))
    return HostKeyStore(tmp_path / "app_known_hosts", user)


def _median(benchmark: Any) -> float | None:
    # None under --benchmark-disable: then only the code paths are exercised.
    return None if benchmark.stats is None else float(benchmark.stats.stats.median)


@pytest.fixture
def services() -> Iterator[list[LoopbackService]]:
    """Three loopback services standing in for Postgres, the socket-proxy and LiteLLM."""
    running = [LoopbackService(echo) for _ in range(3)]
    yield running
    for service in running:
        service.close()


def test_connect_with_three_forwards_ready(
    benchmark: Any, sshd_target: SshdServer, services: list[LoopbackService], tmp_path: Path
) -> None:
    store = _store(tmp_path, sshd_target)
    sessions: list[SshSession] = []

    def connect_and_forward() -> list[int]:
        session = SshSession(sshd_target.key_target(), store)
        sessions.append(session)
        session.connect()
        forwards = [session.forward("127.0.0.1", s.port, probe=True) for s in services]
        return [f.local_port for f in forwards]

    try:
        ports = benchmark.pedantic(connect_and_forward, rounds=10, iterations=1, warmup_rounds=1)
        assert exchange(ports[0], b"ready") == b"ready"
    finally:
        for session in sessions:
            session.close()
    median = _median(benchmark)
    if median is not None:
        assert median <= CONNECT_TARGET_S


def _download(port: int) -> int:
    received = 0
    with socket.create_connection(("127.0.0.1", port)) as conn:
        while data := conn.recv(CHUNK):
            received += len(data)
    return received


def _upload(port: int) -> int:
    block = b"u" * CHUNK
    with socket.create_connection(("127.0.0.1", port)) as conn:
        sent = 0
        while sent < PAYLOAD:
            piece = block[: min(CHUNK, PAYLOAD - sent)]
            conn.sendall(piece)
            sent += len(piece)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while data := conn.recv(64):
            answer += data
    return int(answer)


def _best_rate(transfer: Any, port: int, rounds: int = 3) -> float:
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        assert transfer(port) == PAYLOAD
        best = max(best, PAYLOAD / (time.perf_counter() - start) / MB)
    return best


@pytest.mark.parametrize("direction", ["download", "upload"])
def test_tunnel_throughput_50_mb(
    benchmark: Any, direction: str, sshd_target: SshdServer, tmp_path: Path
) -> None:
    handler = source(PAYLOAD) if direction == "download" else sink
    transfer = _download if direction == "download" else _upload
    service = LoopbackService(handler)
    session = SshSession(sshd_target.key_target(), _store(tmp_path, sshd_target))
    try:
        session.connect()
        forward = session.forward("127.0.0.1", service.port)
        transferred = benchmark.pedantic(
            transfer, args=(forward.local_port,), rounds=3, iterations=1, warmup_rounds=1
        )
        assert transferred == PAYLOAD
        raw_mb_s = _best_rate(transfer, service.port)  # same run, no SSH: the reference
    finally:
        session.close()
        service.close()
    median = _median(benchmark)
    if median is not None:
        tunnel_mb_s = PAYLOAD / median / MB
        benchmark.extra_info.update(
            {
                "tunnel_MB_per_s": round(tunnel_mb_s, 1),
                "raw_loopback_MB_per_s": round(raw_mb_s, 1),
                "cipher": "see ssh_session._FAST_CIPHERS",
            }
        )
        print(f"\n{direction}: tunnel {tunnel_mb_s:.0f} MB/s, raw loopback {raw_mb_s:.0f} MB/s")
        assert tunnel_mb_s >= THROUGHPUT_TARGET_MB_S


def test_reconnect_after_a_drop(
    benchmark: Any, restartable_sshd: SshdServer, tmp_path: Path
) -> None:
    service = LoopbackService(echo)
    session = SshSession(restartable_sshd.key_target(), _store(tmp_path, restartable_sshd))
    reconnecting = threading.Event()
    session.add_status_listener(
        lambda status, _: reconnecting.set() if status is SessionStatus.RECONNECTING else None
    )
    try:
        session.connect()
        forward = session.forward("127.0.0.1", service.port)

        def drop_and_recover() -> bytes:
            reconnecting.clear()
            assert restartable_sshd.kill_connections() > 0
            assert reconnecting.wait(RECONNECT_TARGET_S * 3)
            assert session.wait_for_status(SessionStatus.CONNECTED, RECONNECT_TARGET_S * 3)
            return exchange(forward.local_port, b"back")

        answer = benchmark.pedantic(drop_and_recover, rounds=5, iterations=1)
        assert answer == b"back"
    finally:
        session.close()
        service.close()
    median = _median(benchmark)
    if median is not None:
        assert median <= RECONNECT_TARGET_S
