"""Where and how to open one SSH session: plain values, no I/O. Built from a stack profile (and
its secrets from the keyring) by `profiles`, consumed by `ssh_session`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class AuthMethod(StrEnum):
    AGENT = "agent"  # keys offered by the running ssh-agent (SSH_AUTH_SOCK)
    KEY_FILE = "key-file"  # a private key file, optionally passphrase-protected
    PASSWORD = "password"  # noqa: S105 - the name of a method, not a password


@dataclass(frozen=True)
class SshAuth:
    """How to authenticate. Secrets are held only for the connect call and never shown."""

    method: AuthMethod
    key_file: Path | None = None
    secret: str | None = field(default=None, repr=False)  # key passphrase or password

    def __repr__(self) -> str:
        shown = "***" if self.secret else None
        return f"SshAuth(method={self.method.value}, key_file={self.key_file}, secret={shown})"


@dataclass(frozen=True)
class SshTarget:
    """One SSH hop. `alias` is the name host keys are checked and recorded under (the host as
    typed, `[host]:port` for a non-22 port, as OpenSSH does); `jump` is the hop before it."""

    host: str
    port: int
    user: str
    auth: SshAuth
    jump: SshTarget | None = None
    keepalive_seconds: int = 15
    connect_timeout_seconds: float = 10.0

    @property
    def known_hosts_name(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"
