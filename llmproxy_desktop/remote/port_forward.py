"""Local port forwards over the session's one SSH transport (test-infrastructure §3: our own
direct-tcpip forwarder instead of sshtunnel).

A `Forward` listens on 127.0.0.1 on an ephemeral port. Each accepted connection gets its own
direct-tcpip channel, opened through a callable the session provides, so a forward outlives a
reconnect: the listener (and its port) stays, new connections use the new transport, and the
connections that were open on the old one are closed.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections.abc import Callable
from contextlib import suppress

import paramiko

from .closing import ClosesOnExit
from .errors import RemoteError

log = logging.getLogger(__name__)

ChannelOpener = Callable[[str, int, tuple[str, int]], paramiko.Channel]
"""Opens a direct-tcpip channel to (remote host, remote port) for a client at origin; raises a
RemoteError (ForwardFailed when the far end refuses, SessionNotConnected when there is no
transport to open it on)."""

_CHUNK = 256 * 1024  # bytes per read; large reads keep per-packet Python overhead down
_ACCEPT_BACKLOG = 64
_CLOSE_JOIN_SECONDS = 5.0


class Forward(ClosesOnExit):
    """One local listener forwarding to `remote_host:remote_port` as seen from the SSH server."""

    def __init__(self, open_channel: ChannelOpener, remote_host: str, remote_port: int) -> None:
        self.remote_host, self.remote_port = remote_host, remote_port
        self.last_error: RemoteError | None = None  # the latest failure to open a channel
        self._open_channel = open_channel
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=_ACCEPT_BACKLOG)
        self.local_port: int = self._listener.getsockname()[1]
        # A socket pair wakes the accept loop on close(): closing a socket that another thread
        # is blocked on does not reliably wake it on every OS.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"forward-{self.local_port}", daemon=True
        )
        self._acceptor.start()

    def __repr__(self) -> str:
        return f"Forward(127.0.0.1:{self.local_port} -> {self.remote_host}:{self.remote_port})"

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    @property
    def open_connections(self) -> int:
        """Connections currently being forwarded."""
        with self._lock:
            return len(self._links)

    def probe(self) -> None:
        """Open one channel to the remote end and close it again ("Test tunnel").

        Raises ForwardFailed naming remote_host:remote_port when the far end refuses."""
        channel = self._open_channel(self.remote_host, self.remote_port, ("127.0.0.1", 0))
        _close_channel(channel)

    def close(self) -> None:
        """Stop listening and cut every forwarded connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            links = list(self._links)
        with suppress(OSError):
            self._wake_writer.send(b"x")
        for link in links:
            link.abort()
        if threading.current_thread() is not self._acceptor:
            self._acceptor.join(_CLOSE_JOIN_SECONDS)

    def _accept_loop(self) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self._listener, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._closed:
                    for key, _ in selector.select():
                        if key.fileobj is self._wake_reader:
                            return
                        self._accept_one()
        finally:
            self._listener.close()
            self._wake_reader.close()
            self._wake_writer.close()

    def _accept_one(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return  # the client gave up between select and accept
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Opening the channel may wait for a reconnect: never in the accepting thread.
        threading.Thread(
            target=self._serve, args=(client,), name=f"forward-{self.local_port}-open", daemon=True
        ).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            origin: tuple[str, int] = client.getpeername()
            channel = self._open_channel(self.remote_host, self.remote_port, origin)
        except (RemoteError, OSError) as error:
            if isinstance(error, RemoteError):
                self.last_error = error
            log.warning("%r: connection not forwarded: %s", self, error)
            client.close()
            return
        link = _Link(client, channel, self._forget)
        with self._lock:
            accepted = not self._closed
            if accepted:
                self._links.add(link)
        if not accepted:
            link.abort()
        link.run()

    def _forget(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)


class _Link:
    """One forwarded connection: a local socket and its channel, pumped both ways.

    Each direction runs in its own thread and passes end-of-file on as a half-close, so
    protocols that half-close still get their answer; the last direction to finish closes both
    ends."""

    def __init__(
        self, client: socket.socket, channel: paramiko.Channel, on_done: Callable[[_Link], None]
    ) -> None:
        self._client, self._channel, self._on_done = client, channel, on_done
        self._lock = threading.Lock()
        self._directions_open = 2

    def run(self) -> None:
        """Pump until both directions are done (blocks the calling thread)."""
        threading.Thread(target=self._pump_to_remote, name="forward-up", daemon=True).start()
        self._pump_to_local()

    def abort(self) -> None:
        """Cut the connection: both pumps see end-of-file or an error and finish."""
        with suppress(OSError):
            self._client.shutdown(socket.SHUT_RDWR)
        _close_channel(self._channel)

    def _pump_to_remote(self) -> None:
        try:
            while data := self._client.recv(_CHUNK):
                self._channel.sendall(data)
            self._channel.shutdown_write()
        except (OSError, EOFError, paramiko.SSHException):
            self.abort()
        finally:
            self._direction_done()

    def _pump_to_local(self) -> None:
        try:
            while data := self._channel.recv(_CHUNK):
                self._client.sendall(data)
            self._client.shutdown(socket.SHUT_WR)
            if self._channel.closed:
                # Not just end-of-file: the far end (or the whole transport) is gone, so data
                # the client still sends has nowhere to go.
                self.abort()
        except (OSError, EOFError, paramiko.SSHException):
            self.abort()
        finally:
            self._direction_done()

    def _direction_done(self) -> None:
        with self._lock:
            self._directions_open -= 1
            last = self._directions_open == 0
        if last:
            _close_channel(self._channel)
            self._client.close()
            self._on_done(self)


def _close_channel(channel: paramiko.Channel) -> None:
    # Closing sends a message; on a transport that is going down that fails, and there is
    # nothing left to close then.
    with suppress(OSError, EOFError, paramiko.SSHException):
        channel.close()
