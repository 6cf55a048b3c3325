"""A remote command whose output arrives line by line while it runs (`docker compose up -d`).

`SshSession.exec` collects the whole output; a deploy wants to show compose's progress as it
happens. stdout and stderr are read together (compose reports progress on stderr) and handed
to `on_line` one complete line at a time, in arrival order.
"""

from __future__ import annotations

import codecs
import select
import threading
import time
from collections.abc import Callable
from contextlib import suppress

import paramiko

from .errors import RemoteCommandTimeout, SessionNotConnected
from .ssh_session import SshSession

__all__ = ["exec_streaming"]

_CHUNK = 64 * 1024
_POLL_SECONDS = 0.2  # how often a wait checks `stop`


def exec_streaming(
    session: SshSession,
    command: str,
    on_line: Callable[[str], None],
    *,
    timeout: float,
    stop: threading.Event | None = None,
) -> int:
    """Run `command` on the session's host; call `on_line` with each output line (stdout and
    stderr merged, without the newline). Returns the exit status (-1: killed by a signal).

    Raises RemoteCommandTimeout after `timeout` seconds, and SessionNotConnected when the
    connection breaks. Setting `stop` closes the channel and raises RemoteCommandTimeout too: as
    with `exec`, sshd does not signal a command without a terminal, so it may keep running."""
    # The session keeps its transport private; this is the one other reader of it.
    transport = session._connected_transport()
    try:
        channel = transport.open_session(timeout=session.target.connect_timeout_seconds)
    except (paramiko.SSHException, EOFError, OSError) as error:
        raise SessionNotConnected(f"Cannot open an exec channel: {error}") from None
    lines = (_LineSplitter(on_line), _LineSplitter(on_line))  # stdout, stderr
    deadline = time.monotonic() + timeout
    try:
        channel.exec_command(command)
        channel.shutdown_write()
        while True:
            _drain(channel, lines)
            if channel.eof_received or channel.closed:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                raise RemoteCommandTimeout(command, timeout)
            select.select([channel], [], [], min(remaining, _POLL_SECONDS))
        _drain(channel, lines)
        for splitter in lines:
            splitter.flush()
        while not channel.status_event.wait(_POLL_SECONDS):
            if time.monotonic() >= deadline:
                raise RemoteCommandTimeout(command, timeout)
        status: int = channel.recv_exit_status()
    except (paramiko.SSHException, EOFError, OSError) as error:
        raise SessionNotConnected(f"The exec channel broke: {error}") from None
    finally:
        with suppress(OSError, EOFError, paramiko.SSHException):
            channel.close()
    if status == -1 and not transport.is_active():
        raise SessionNotConnected("The SSH connection was lost while the command ran")
    return status


class _LineSplitter:
    """Bytes in, complete decoded lines out (a carriage return also ends a line: progress bars)."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    def feed(self, data: bytes) -> None:
        self._pending += self._decoder.decode(data)
        *complete, self._pending = (
            self._pending.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        )
        for line in complete:
            self._on_line(line)

    def flush(self) -> None:
        self._pending += self._decoder.decode(b"", final=True)
        if self._pending:
            self._on_line(self._pending)
            self._pending = ""


def _drain(channel: paramiko.Channel, lines: tuple[_LineSplitter, _LineSplitter]) -> None:
    while channel.recv_ready() or channel.recv_stderr_ready():
        if channel.recv_ready():
            lines[0].feed(channel.recv(_CHUNK))
        if channel.recv_stderr_ready():
            lines[1].feed(channel.recv_stderr(_CHUNK))
