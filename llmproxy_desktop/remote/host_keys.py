"""Fail-closed SSH host-key checking (issue #3 §2; desktop-conventions §1.2 item 3).

Two OpenSSH-format files are consulted: the user's own `~/.ssh/known_hosts` (read only: the app
never edits a file the admin's `ssh` relies on) and the app's own known_hosts (read-write, in the
user's config directory). For the name a hop is reached by (`host`, or `[host]:port` off port 22):

- a recorded key of the presented type with the same bytes, in either file → go on;
- a recorded key of that type with other bytes → `HostKeyChanged`, no bypass, nobody is asked;
- nothing of that type recorded → `HostKeyUnknown`, unless a `confirm` callback, shown the key
  type and SHA-256 fingerprint, says yes; then the key is appended to the app's file.

Both files are re-read on every check, so an admin who removes a stale key after a server
reinstall is heard at the next connect without restarting the app.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import paramiko
import platformdirs

from .errors import HostKeyChanged, HostKeyError, HostKeyUnknown

APP_DIR_NAME = "llmproxy-desktop"

Confirm = Callable[[HostKeyUnknown], bool]
"""Asked about an unknown key (GUI sheet, CLI prompt); True trusts and records it."""

_SHA256_B64_LENGTH = 43  # base64 of 32 bytes without padding
_HASHED_NAME = re.compile(r"^\|1\|(?P<salt>[^|]+)\|(?P<hash>[^|]+)$")


class HostKeyVerdict(StrEnum):
    """How a presented key was let through (a refused key raises instead)."""

    KNOWN = "known"  # already recorded in one of the files
    ACCEPTED = "accepted"  # unknown, confirmed now, and recorded in the app's file


def default_app_known_hosts() -> Path:
    """The app's own known_hosts file, in the user's config directory."""
    return platformdirs.user_config_path(APP_DIR_NAME, appauthor=False) / "known_hosts"


def default_user_known_hosts() -> Path:
    """The admin's OpenSSH known_hosts, consulted read-only."""
    return Path.home() / ".ssh" / "known_hosts"


def fingerprint_of_blob(blob: bytes) -> str:
    """OpenSSH's SHA-256 fingerprint of a public-key blob: `SHA256:<base64, no padding>`."""
    digest = hashlib.sha256(blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def fingerprint(key: paramiko.PKey) -> str:
    """The SHA-256 fingerprint `ssh-keygen -lf` shows for `key`."""
    return fingerprint_of_blob(key.asbytes())


def normalize_fingerprint(text: str) -> str:
    """`SHA256:<43 chars>` from what an admin pastes (prefix optional, padding tolerated).

    Raises ValueError for anything that is not a SHA-256 fingerprint (e.g. an MD5 one)."""
    body = text.strip()
    if body.upper().startswith("SHA256:"):
        body = body[len("SHA256:") :]
    body = body.rstrip("=")
    try:
        decoded = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error:
        decoded = b""
    if len(body) != _SHA256_B64_LENGTH or len(decoded) != hashlib.sha256().digest_size:
        raise ValueError(
            f"{text!r} is not a SHA-256 host key fingerprint (expected SHA256: followed by "
            "43 base64 characters, as `ssh-keygen -lf` prints it)"
        )
    return "SHA256:" + body


def accept_fingerprint(expected: str) -> Confirm:
    """A `confirm` callback that trusts exactly the key with this fingerprint (the CLI's
    `--accept-host-key SHA256:…`); any other unknown key is refused."""
    wanted = normalize_fingerprint(expected)

    def confirm(unknown: HostKeyUnknown) -> bool:
        return unknown.fingerprint == wanted

    return confirm


@dataclass(frozen=True)
class _KnownKey:
    """One usable line of a known_hosts file."""

    patterns: tuple[str, ...]
    key_type: str
    blob: bytes
    revoked: bool  # an `@revoked` line: this key is never accepted, for any matching name

    def matches_name(self, name: str) -> bool:
        return _name_matches(self.patterns, name)


class HostKeyStore:
    """Known host keys from the user's and the app's known_hosts; records accepted keys."""

    def __init__(
        self,
        app_known_hosts: Path | None = None,
        user_known_hosts: Path | None = None,
    ) -> None:
        self.app_known_hosts = app_known_hosts or default_app_known_hosts()
        self.user_known_hosts = user_known_hosts or default_user_known_hosts()
        self._write_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HostKeyStore(app={self.app_known_hosts}, user={self.user_known_hosts})"

    def known_key_types(self, host_name: str) -> list[str]:
        """Key types recorded for `host_name`, so the handshake can ask for one of those first
        (as OpenSSH does) instead of drawing an unknown key of another type."""
        types: list[str] = []
        for known in self._keys_for(host_name):
            if not known.revoked and known.key_type not in types:
                types.append(known.key_type)
        return types

    def check(
        self, host_name: str, key: paramiko.PKey, confirm: Confirm | None = None
    ) -> HostKeyVerdict:
        """Let `key`, presented by the host reached as `host_name`, through or raise.

        Raises HostKeyChanged (a recorded key of that type differs), HostKeyUnknown (nothing
        recorded and `confirm` absent or saying no) or HostKeyError (the key is @revoked, or a
        file cannot be read or written)."""
        key_type, blob = key.get_name(), key.asbytes()
        presented = fingerprint_of_blob(blob)
        same_type = [k for k in self._keys_for(host_name) if k.key_type == key_type]
        if any(k.revoked and k.blob == blob for k in same_type):
            raise HostKeyError(
                f"The host key of {host_name} ({key_type} {presented}) is marked @revoked in "
                "known_hosts: refused."
            )
        recorded = [k for k in same_type if not k.revoked]
        if any(k.blob == blob for k in recorded):
            return HostKeyVerdict.KNOWN
        if recorded:
            expected = ", ".join(fingerprint_of_blob(k.blob) for k in recorded)
            raise HostKeyChanged(host_name, key_type, expected, presented)
        other_types = sorted(
            {k.key_type for k in self._keys_for(host_name) if not k.revoked} - {key_type}
        )
        unknown = HostKeyUnknown(host_name, key_type, presented, tuple(other_types))
        if confirm is None or not confirm(unknown):
            raise unknown
        self.record(host_name, key)
        return HostKeyVerdict.ACCEPTED

    def record(self, host_name: str, key: paramiko.PKey) -> None:
        """Append `host_name key-type base64` to the app's known_hosts (created 0600)."""
        line = f"{host_name.lower()} {key.get_name()} {key.get_base64()}\n"
        path = self.app_known_hosts
        with self._write_lock:
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                needs_newline = path.exists() and _lacks_final_newline(path)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="ascii") as file:
                    file.write(("\n" if needs_newline else "") + line)
                    file.flush()
                    os.fsync(file.fileno())
            except OSError as error:
                raise HostKeyError(
                    f"The host key of {host_name} was accepted but cannot be recorded in "
                    f"{path}: {error.strerror or error}"
                ) from None

    def _keys_for(self, host_name: str) -> Iterator[_KnownKey]:
        for path in (self.user_known_hosts, self.app_known_hosts):
            for known in _read_known_hosts(path):
                if known.matches_name(host_name):
                    yield known


class HostKeyPolicy(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """The same check for code that uses paramiko's SSHClient: with no keys loaded into the
    client, paramiko hands every key to this policy, which applies `HostKeyStore.check`."""

    def __init__(self, store: HostKeyStore, confirm: Confirm | None = None) -> None:
        self._store, self._confirm = store, confirm

    def missing_host_key(self, client: Any, hostname: str, key: paramiko.PKey) -> None:
        """Return to go on; raise HostKeyUnknown / HostKeyChanged to refuse."""
        self._store.check(hostname, key, self._confirm)


def host_key_changed(error: paramiko.BadHostKeyException) -> HostKeyChanged:
    """paramiko's BadHostKeyException (SSHClient with preloaded keys) as our HostKeyChanged."""
    presented, expected = error.key, error.expected_key
    return HostKeyChanged(
        str(error.hostname), presented.get_name(), fingerprint(expected), fingerprint(presented)
    )


def _lacks_final_newline(path: Path) -> bool:
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() == 0:
            return False
        file.seek(-1, os.SEEK_END)
        return file.read(1) != b"\n"


def _read_known_hosts(path: Path) -> list[_KnownKey]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as error:
        # Fail closed: an unreadable file might hold the very key that says "changed".
        raise HostKeyError(
            f"Cannot read known hosts file {path}: {error.strerror or error}"
        ) from None
    keys = (_parse_line(line) for line in text.splitlines())
    return [key for key in keys if key is not None]


def _parse_line(line: str) -> _KnownKey | None:
    """One known_hosts line, or None for comments, blanks and lines we cannot use (as OpenSSH
    skips them). `@cert-authority` lines are skipped: host certificates are not supported."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    marker = fields.pop(0) if fields[0].startswith("@") else None
    if marker not in (None, "@revoked") or len(fields) < 3:
        return None
    patterns, key_type, encoded = fields[0], fields[1], fields[2]
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return None
    return _KnownKey(tuple(patterns.split(",")), key_type, blob, revoked=marker == "@revoked")


def _name_matches(patterns: tuple[str, ...], name: str) -> bool:
    """OpenSSH host-pattern semantics: any positive match, and no negated (`!`) match."""
    name = name.lower()
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if _pattern_matches(body, name):
            if negated:
                return False
            matched = True
    return matched


def _pattern_matches(pattern: str, name: str) -> bool:
    hashed = _HASHED_NAME.match(pattern)
    if hashed:
        try:
            salt = base64.b64decode(hashed["salt"])
            expected = base64.b64decode(hashed["hash"])
        except binascii.Error:
            return False
        actual = hmac.new(salt, name.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(actual, expected)
    return _wildcard_regex(pattern.lower()).fullmatch(name) is not None


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    # Only `*` and `?` are wildcards in known_hosts; `[` is literal (as in `[host]:port`),
    # which is why fnmatch, with its character classes, cannot be used.
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts))
