"""One persistent SSH session per stack (issue #3 §2): host keys checked per hop, forwards, SFTP
and exec channels on the one transport, and a watchdog that reconnects with backoff.

    with SshSession(target, HostKeyStore(), confirm=ask_user) as session:
        db = session.forward("127.0.0.1", 5432)        # psycopg → 127.0.0.1:db.local_port
        config = session.sftp_read("/srv/litellm/config.yaml")

Status changes (disconnected → connecting → connected ⇄ reconnecting, or failed with a reason)
go to listeners from whatever thread notices them, the way the UI's connection badge and the CLI
want them. Nothing here sleeps to synchronise: threads wait on transport threads, events and a
condition, with timeouts.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import NamedTuple

import paramiko

from . import sftp_atomic
from .errors import (
    ForwardFailed,
    HostKeyError,
    RemoteCommandTimeout,
    RemoteError,
    SessionNotConnected,
    SftpFailed,
    SshAuthFailed,
    SshConnectFailed,
)
from .host_keys import Confirm, HostKeyStore
from .port_forward import Forward
from .ssh_auth import authenticate
from .ssh_target import SshTarget

log = logging.getLogger(__name__)

# AES-GCM first: one AEAD pass in OpenSSL instead of AES-CTR plus a separate HMAC. Measured on
# loopback through a forward: ~200 MB/s with paramiko's default aes128-ctr, ~280-400 MB/s with
# aes128-gcm. Window and packet sizes a little above paramiko's defaults (2 MiB / 32 KiB) mean
# fewer window updates and packets, each costing Python-level work; larger ones measured no
# better within the noise, and the window is memory per channel.
_FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
_WINDOW_BYTES = 4 * 1024 * 1024
_MAX_PACKET_BYTES = 64 * 1024
_RSA_ALGORITHMS = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")
_EXEC_CHUNK = 64 * 1024


class SessionStatus(StrEnum):
    """What the UI's connection badge and `stacks test` show."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


StatusListener = Callable[[SessionStatus, str | None], None]
"""Called with (status, reason) on every change, from whatever thread made it; must not block."""


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff for re-establishing a dropped session. The first attempt is
    immediate (most drops are one-off); then `first_delay` doubling up to `max_delay`."""

    first_delay: float = 0.2
    max_delay: float = 5.0
    max_attempts: int = 10

    def delays(self) -> Iterator[float]:
        """The pause before each attempt, `max_attempts` of them."""
        delay = self.first_delay
        for attempt in range(self.max_attempts):
            if attempt == 0:
                yield 0.0
                continue
            yield delay
            delay = min(delay * 2, self.max_delay)


class ExecResult(NamedTuple):
    """What a remote command returned."""

    exit_status: int
    stdout: bytes
    stderr: bytes


class _Chain:
    """The live transports of one connection, first hop first; the last one is the target's."""

    def __init__(self, transports: list[paramiko.Transport]) -> None:
        self.transports = transports

    @property
    def target(self) -> paramiko.Transport:
        return self.transports[-1]

    def close(self) -> None:
        for transport in reversed(self.transports):
            _close_quietly(transport)

    def failure(self) -> str:
        """Why this chain died, as far as paramiko knows."""
        for transport in reversed(self.transports):
            error = transport.get_exception()
            if isinstance(error, EOFError):
                return "connection lost (closed by the server or the network)"
            if error is not None:
                return f"connection lost ({_describe(error)})"
        return "connection lost"


class SshSession:
    """One SSH connection to a stack (through its jump hosts), kept alive and re-established."""

    def __init__(
        self,
        target: SshTarget,
        host_keys: HostKeyStore,
        confirm: Confirm | None = None,
        *,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.target = target
        self._host_keys = host_keys
        self._confirm = confirm
        self._reconnect_policy = reconnect or ReconnectPolicy()
        self._state = threading.Condition()
        self._status = SessionStatus.DISCONNECTED
        self._reason: str | None = None
        self._chain: _Chain | None = None
        self._closing = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._listeners: list[StatusListener] = []
        self._forwards: list[Forward] = []
        # Serialises listener calls so every listener sees the changes in the order they
        # happened; re-entrant so a listener may itself call close().
        self._notify_lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SshSession({self.target.user}@{_address(self.target)}, {self._status.value})"

    def __enter__(self) -> SshSession:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- status ---------------------------------------------------------------------------

    @property
    def status(self) -> SessionStatus:
        """The current connection state."""
        with self._state:
            return self._status

    @property
    def status_reason(self) -> str | None:
        """Why the session is failed or reconnecting (None otherwise)."""
        with self._state:
            return self._reason

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Register `listener`; returns a function that unregisters it."""
        with self._state:
            self._listeners.append(listener)

        def remove() -> None:
            with self._state, suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def wait_for_status(self, wanted: SessionStatus, timeout: float) -> bool:
        """Block until the status is `wanted` (True) or `timeout` seconds pass (False)."""
        with self._state:
            return self._state.wait_for(lambda: self._status is wanted, timeout)

    # --- lifecycle ------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection (every hop's host key checked, `confirm` asked about unknown
        ones) and start watching it. Raises the RemoteError that stopped it; status FAILED."""
        with self._notify_lock:  # check and claim in one step: two callers cannot both pass
            with self._state:
                if self._status in (SessionStatus.CONNECTED, SessionStatus.RECONNECTING):
                    return
                if self._status is SessionStatus.CONNECTING:
                    raise SessionNotConnected("connect() is already running for this session")
                self._closing.clear()
            self._set_status(SessionStatus.CONNECTING)
        try:
            chain = self._open_chain(self._confirm)
        except RemoteError as error:
            self._set_status(SessionStatus.FAILED, str(error))
            raise
        except BaseException as error:
            # Anything else (a confirm callback that raised, an interrupt) must not leave the
            # session stuck in CONNECTING: listeners see FAILED and connect() can be retried.
            self._set_status(SessionStatus.FAILED, f"connect stopped: {type(error).__name__}")
            raise
        if self._install(chain):
            self._watchdog = threading.Thread(
                target=self._watch,
                args=(chain,),
                name=f"ssh-watchdog-{self.target.host}",
                daemon=True,
            )
            self._watchdog.start()

    def close(self) -> None:
        """Close forwards and the connection; status DISCONNECTED. Safe to call twice."""
        self._closing.set()
        with self._state:
            chain, self._chain = self._chain, None
            forwards, self._forwards = self._forwards, []
        for forward in forwards:
            forward.close()
        if chain is not None:
            chain.close()
        watchdog = self._watchdog
        if watchdog is not None and watchdog is not threading.current_thread():
            # It is either joined on the transport just closed or pausing on _closing: both
            # return at once; a reconnect attempt in flight ends within its connect timeout.
            watchdog.join(self._chain_timeout() + 1.0)
        self._set_status(SessionStatus.DISCONNECTED)

    # --- forwards, SFTP, exec ---------------------------------------------------------------

    def forward(self, remote_host: str, remote_port: int, *, probe: bool = False) -> Forward:
        """Listen on 127.0.0.1:<ephemeral> and forward each connection to
        remote_host:remote_port as seen from the SSH server. With `probe`, one channel is
        opened first, so a refusing far end raises ForwardFailed here.

        A forward may be set up before connect(); its connections wait for the session."""
        if self._closing.is_set():
            raise SessionNotConnected("The SSH session is closed: connect() it again first")
        forward = Forward(self._open_forward_channel, remote_host, remote_port)
        try:
            if probe:
                forward.probe()
        except RemoteError:
            forward.close()
            raise
        with self._state:
            self._forwards.append(forward)
        return forward

    @contextmanager
    def open_sftp(self) -> Iterator[paramiko.SFTPClient]:
        """An SFTP client on the session's transport, closed on exit."""
        transport = self._connected_transport()
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise SftpFailed("(sftp subsystem)", _describe(error)) from None
        if sftp is None:
            raise SftpFailed("(sftp subsystem)", "the server did not start SFTP")
        try:
            yield sftp
        finally:
            _close_quietly(sftp)

    def sftp_read(self, path: str) -> bytes:
        """The content of the remote file `path` (SftpFailed if unreadable)."""
        with self.open_sftp() as sftp:
            return sftp_atomic.read_file(sftp, path)

    def sftp_write_atomic(self, path: str, data: bytes, mode: int = 0o600) -> None:
        """Replace the remote file `path` atomically, mode set before the swap, read back and
        compared (see sftp_atomic.write_atomic). Raises SftpFailed; the old file stays intact
        on any failure before the swap."""
        with self.open_sftp() as sftp:
            sftp_atomic.write_atomic(sftp, path, data, mode)

    def exec(self, command: str, timeout: float = 60.0) -> ExecResult:
        """Run `command` on the target over an exec channel; its exit status and output.

        The exit status is -1 when the command was killed by a signal. Raises
        RemoteCommandTimeout when it runs longer than `timeout` seconds; its channel is closed
        then, but sshd does not signal a command without a terminal, so one that neither reads
        nor writes may keep running on the server."""
        transport = self._connected_transport()
        try:
            channel = transport.open_session(timeout=self.target.connect_timeout_seconds)
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise SessionNotConnected(f"Cannot open an exec channel: {_describe(error)}") from None
        try:
            channel.exec_command(command)
            channel.shutdown_write()  # no stdin: commands that read it see end-of-file
            result = _collect_output(channel, command, timeout)
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise SessionNotConnected(f"The exec channel broke: {_describe(error)}") from None
        finally:
            _close_quietly(channel)
        if result.exit_status == -1 and not transport.is_active():
            raise SessionNotConnected("The SSH connection was lost while the command ran")
        return result

    # --- connecting -------------------------------------------------------------------------

    def _open_chain(self, confirm: Confirm | None) -> _Chain:
        hops: list[SshTarget] = []
        hop: SshTarget | None = self.target
        while hop is not None:
            hops.insert(0, hop)
            hop = hop.jump
        transports: list[paramiko.Transport] = []
        try:
            for hop in hops:
                via = transports[-1] if transports else None
                transports.append(self._open_hop(hop, via, confirm))
        except BaseException:
            _Chain(transports).close()
            raise
        return _Chain(transports)

    def _open_hop(
        self, hop: SshTarget, via: paramiko.Transport | None, confirm: Confirm | None
    ) -> paramiko.Transport:
        sock = _dial(hop) if via is None else _dial_through(via, hop)
        transport = paramiko.Transport(
            sock, default_window_size=_WINDOW_BYTES, default_max_packet_size=_MAX_PACKET_BYTES
        )
        try:
            host_key = self._negotiate(transport, hop)
            # Before any credential is sent: the host key is what proves who we talk to.
            self._host_keys.check(hop.known_hosts_name, host_key, confirm)
            authenticate(transport, hop.user, hop.auth, _address(hop))
        except BaseException:
            transport.close()
            raise
        if hop.keepalive_seconds > 0:
            transport.set_keepalive(hop.keepalive_seconds)
        return transport

    def _negotiate(self, transport: paramiko.Transport, hop: SshTarget) -> paramiko.PKey:
        """Key exchange; returns the server's host key (not yet checked)."""
        options = transport.get_security_options()
        options.ciphers = _prefer(options.ciphers, _FAST_CIPHERS)
        known = self._host_keys.known_key_types(hop.known_hosts_name)
        wanted = [a for t in known for a in (_RSA_ALGORITHMS if t == "ssh-rsa" else (t,))]
        options.key_types = _prefer(options.key_types, tuple(wanted))
        transport.banner_timeout = hop.connect_timeout_seconds
        try:
            transport.start_client(timeout=hop.connect_timeout_seconds)
            if not transport.initial_kex_done:
                # start_client returns quietly when its timeout passes mid-handshake.
                raise paramiko.SSHException(f"no answer within {hop.connect_timeout_seconds:g} s")
            key: paramiko.PKey = transport.get_remote_server_key()
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise SshConnectFailed(
                _address(hop), f"no SSH handshake ({_describe(error)})"
            ) from None
        return key

    # --- watching and reconnecting ---------------------------------------------------------

    def _install(self, chain: _Chain) -> bool:
        """Make `chain` the live connection, unless close() came first."""
        with self._state:
            installed = not self._closing.is_set()
            if installed:
                self._chain = chain
        if not installed:
            chain.close()
            return False
        self._set_status(SessionStatus.CONNECTED)
        return True

    def _watch(self, chain: _Chain) -> None:
        """Watchdog thread: wait for the transport to die, then reconnect."""
        current: _Chain | None = chain
        while current is not None:
            # A paramiko Transport is a thread that ends when its connection does, so
            # joining it is the death notice (keepalives make a silent peer fail too).
            current.target.join()
            if self._closing.is_set():
                return
            reason = current.failure()
            log.warning("%r: %s; reconnecting", self, reason)
            with self._state:
                self._chain = None
            current.close()
            self._set_status(SessionStatus.RECONNECTING, reason)
            current = self._reconnect(reason)

    def _reconnect(self, reason: str) -> _Chain | None:
        attempts = 0
        for delay in self._reconnect_policy.delays():
            if self._closing.wait(delay):
                return None  # close() during the pause
            attempts += 1
            try:
                # No confirm callback: a key that is not already trusted must not be
                # accepted by an unattended reconnect.
                chain = self._open_chain(confirm=None)
            except (HostKeyError, SshAuthFailed) as error:
                self._set_status(SessionStatus.FAILED, str(error))
                return None  # retrying cannot fix a changed key or refused credentials
            except RemoteError as error:
                reason = str(error)
                self._set_status(SessionStatus.RECONNECTING, f"attempt {attempts} failed: {reason}")
                continue
            return chain if self._install(chain) else None
        self._set_status(
            SessionStatus.FAILED, f"gave up reconnecting after {attempts} attempts: {reason}"
        )
        return None

    def _set_status(self, status: SessionStatus, reason: str | None = None) -> None:
        with self._notify_lock:
            with self._state:
                if self._closing.is_set() and status is not SessionStatus.DISCONNECTED:
                    return  # close() wins over late news from the watchdog
                self._status, self._reason = status, reason
                self._state.notify_all()
                listeners = list(self._listeners)
            log.info("%r: %s%s", self, status.value, f" ({reason})" if reason else "")
            for listener in listeners:
                try:
                    listener(status, reason)
                except Exception:
                    log.exception("status listener %r failed", listener)

    # --- channels ---------------------------------------------------------------------------

    def _chain_timeout(self) -> float:
        hops, hop = 0.0, self.target
        while True:
            hops += hop.connect_timeout_seconds
            if hop.jump is None:
                return hops
            hop = hop.jump

    def _connected_transport(self) -> paramiko.Transport:
        """The live target transport, waiting out a reconnect for up to the connect timeout."""
        with self._state:
            self._state.wait_for(self._settled, self._chain_timeout())
            chain, status, reason = self._chain, self._status, self._reason
        if chain is None or status is not SessionStatus.CONNECTED or not chain.target.is_active():
            detail = f": {reason}" if reason else ""
            raise SessionNotConnected(
                f"The SSH session to {_address(self.target)} is {status.value}{detail}"
            )
        return chain.target

    def _settled(self) -> bool:
        """No connect or reconnect under way, and a connected chain is really alive (a dead
        transport stays CONNECTED until the watchdog notices; it notifies then)."""
        if self._status in (SessionStatus.CONNECTING, SessionStatus.RECONNECTING):
            return False
        chain = self._chain
        return self._status is not SessionStatus.CONNECTED or (
            chain is not None and chain.target.is_active()
        )

    def _open_forward_channel(
        self, remote_host: str, remote_port: int, origin: tuple[str, int]
    ) -> paramiko.Channel:
        transport = self._connected_transport()
        try:
            channel: paramiko.Channel = transport.open_channel(
                "direct-tcpip",
                (remote_host, remote_port),
                origin,
                timeout=self.target.connect_timeout_seconds,
            )
        except paramiko.ChannelException as error:
            raise ForwardFailed(remote_host, remote_port, _channel_refusal(error)) from None
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise ForwardFailed(
                remote_host, remote_port, f"the SSH connection broke ({_describe(error)})"
            ) from None
        return channel


def _address(hop: SshTarget) -> str:
    host = f"[{hop.host}]" if ":" in hop.host else hop.host
    return f"{host}:{hop.port}"


def _prefer(available: tuple[str, ...], first: tuple[str, ...]) -> tuple[str, ...]:
    """`available` reordered so the entries of `first` (that it has) lead, in their order."""
    leading = tuple(name for name in first if name in available)
    return leading + tuple(name for name in available if name not in leading)


def _dial(hop: SshTarget) -> socket.socket:
    address = _address(hop)
    try:
        sock = socket.create_connection((hop.host, hop.port), timeout=hop.connect_timeout_seconds)
    except socket.gaierror as error:
        raise SshConnectFailed(address, f"host name not found ({error.strerror})") from None
    except UnicodeError:  # IDNA refuses names like "a..b" or a label over 63 characters
        raise SshConnectFailed(address, "not a valid host name") from None
    except TimeoutError:
        raise SshConnectFailed(
            address, f"no answer within {hop.connect_timeout_seconds:g} s"
        ) from None
    except ConnectionRefusedError:
        raise SshConnectFailed(
            address, "connection refused (is sshd running and listening on that port?)"
        ) from None
    except OSError as error:
        raise SshConnectFailed(address, error.strerror or str(error)) from None
    _tune(sock, hop.keepalive_seconds)
    return sock


def _tune(sock: socket.socket, keepalive_seconds: int) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # SSH packets are whole messages
    if keepalive_seconds > 0 and hasattr(socket, "TCP_USER_TIMEOUT"):
        # Without this a write to a vanished peer is retried for ~15 minutes before the
        # transport notices; with it, unacknowledged keepalives end it within a few intervals.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, keepalive_seconds * 3 * 1000)


def _dial_through(via: paramiko.Transport, hop: SshTarget) -> paramiko.Channel:
    address = _address(hop)
    try:
        channel: paramiko.Channel = via.open_channel(
            "direct-tcpip",
            (hop.host, hop.port),
            ("127.0.0.1", 0),
            timeout=hop.connect_timeout_seconds,
        )
    except paramiko.ChannelException as error:
        raise SshConnectFailed(
            address, f"the jump host could not connect to it ({_channel_refusal(error)})"
        ) from None
    except (paramiko.SSHException, EOFError, OSError) as error:
        raise SshConnectFailed(address, f"through the jump host: {_describe(error)}") from None
    return channel


def _channel_refusal(error: paramiko.ChannelException) -> str:
    reasons = {
        1: "administratively prohibited (AllowTcpForwarding / PermitOpen on the server)",
        2: "connection refused or failed",
        3: "unknown channel type",
        4: "resource shortage",
    }
    return reasons.get(error.code, error.text or "channel open failed")


def _collect_output(channel: paramiko.Channel, command: str, timeout: float) -> ExecResult:
    """Read stdout and stderr together until end-of-file, so neither can fill up and stall the
    command while we wait on the other; then wait for the exit status."""
    deadline = time.monotonic() + timeout
    stdout, stderr = bytearray(), bytearray()
    while True:
        _drain(channel, stdout, stderr)
        if channel.eof_received or channel.closed:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RemoteCommandTimeout(command, timeout)
        # The channel's fileno is a pipe that becomes readable on new output, EOF or close.
        select.select([channel], [], [], remaining)
    _drain(channel, stdout, stderr)
    if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
        raise RemoteCommandTimeout(command, timeout)
    return ExecResult(channel.recv_exit_status(), bytes(stdout), bytes(stderr))


def _drain(channel: paramiko.Channel, stdout: bytearray, stderr: bytearray) -> None:
    while channel.recv_ready():
        stdout += channel.recv(_EXEC_CHUNK)
    while channel.recv_stderr_ready():
        stderr += channel.recv_stderr(_EXEC_CHUNK)


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _close_quietly(closable: paramiko.Channel | paramiko.SFTPClient | paramiko.Transport) -> None:
    # Closing sends a message; over a connection that is already gone that fails, and there
    # is nothing left to close.
    with suppress(OSError, EOFError, paramiko.SSHException):
        closable.close()
