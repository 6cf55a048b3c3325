"""Who does something to the Master: the OS user and the machine, recorded with every change."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Actor:
    """The person behind a change, as far as a desktop app can tell: OS user and host name."""

    user: str
    host: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host}"


def current_actor() -> Actor:
    """The Actor for this process: the logged-in OS user on this host.

    Falls back to "unknown" rather than failing: a missing USER variable or passwd entry (some
    containers) must not stop an admin from working, and the audit still records the host.
    """
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = UNKNOWN
    host = socket.gethostname() or UNKNOWN
    return Actor(user=user or UNKNOWN, host=host)
