"""The admin's stack profiles on disk: one JSON file in the user config directory.

Format (JSON, because the standard library reads and writes it; TOML would need a writer
dependency):

    {"version": 1, "stacks": [{"name": "prod", "transport": "ssh", "host": ..., ...}, ...]}

- `version` lets a later release migrate older files (see `_MIGRATIONS`); a file from a NEWER
  release is refused rather than half-understood and then overwritten.
- Every field is written, None as null; on reading, missing fields take their defaults and
  unknown fields are an error (a typo in a hand edit must not pass silently).
- No secret is ever in this file; they live in the OS keyring (`keyring_secrets`).
- Writes are atomic (temp file in the same directory, fsync, rename), mode 0600 in a 0700
  directory, serialised between processes (the GUI and the CLI) with an advisory lock where the
  OS offers one (POSIX `flock`).
- A file that cannot be parsed is reported with its path and never overwritten: every change
  re-reads the file first, so a corrupt file blocks changes until the admin repairs or moves it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import platformdirs

from .errors import Layer, RemoteError
from .profiles import JumpHost, ProfileError, StackProfile, Transport
from .ssh_target import AuthMethod

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent writers are not expected there
    fcntl = None  # type: ignore[assignment]

APP_NAME = "llmproxy-desktop"
FILE_NAME = "stacks.json"
FORMAT_VERSION = 1
# Upgraders from an older format version to the next: {1: upgrade_1_to_2, ...}. Each takes and
# returns the whole document; loading runs them in order and saving writes FORMAT_VERSION.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
_JUMP_FIELDS = ("host", "port", "user", "auth", "key_file")


class ProfileStoreError(RemoteError):
    """The profiles file cannot be read or written; the message names the file."""

    layer = Layer.PROFILE


class ProfileNotFound(ProfileStoreError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no stack named {name!r}")


class ProfileExists(ProfileStoreError):
    def __init__(self, name: str, existing: str) -> None:
        self.name = name
        same = "" if existing == name else f" ({existing!r}; names ignore case)"
        super().__init__(f"a stack named {name!r} already exists{same}")


def default_profiles_path() -> Path:
    """`stacks.json` in the platform's per-user config directory (XDG_CONFIG_HOME on Linux)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / FILE_NAME


class ProfileStore:
    """Load and change the profiles file. Every change is read-modify-write under the lock, so
    two processes never lose each other's edits."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_profiles_path()

    def load(self) -> tuple[StackProfile, ...]:
        """All profiles, sorted by name (ignoring case). A missing file means no stacks yet."""
        return tuple(sorted(self._read(), key=lambda p: p.name.casefold()))

    def get(self, name: str) -> StackProfile:
        """The profile called exactly `name`; raises ProfileNotFound."""
        for profile in self._read():
            if profile.name == name:
                return profile
        raise ProfileNotFound(name)

    def add(self, profile: StackProfile) -> None:
        """Store a new profile; raises ProfileExists when the name is taken (ignoring case)."""
        with self._locked():
            profiles = self._read()
            for existing in profiles:
                if existing.name.casefold() == profile.name.casefold():
                    raise ProfileExists(profile.name, existing.name)
            self._write([*profiles, profile])

    def replace(self, profile: StackProfile) -> StackProfile:
        """Replace the stored profile of the same name; returns the old one."""
        with self._locked():
            profiles = self._read()
            for index, existing in enumerate(profiles):
                if existing.name == profile.name:
                    profiles[index] = profile
                    self._write(profiles)
                    return existing
        raise ProfileNotFound(profile.name)

    def remove(self, name: str) -> StackProfile:
        """Delete the profile called `name`; returns it. Its keyring secrets are the caller's
        to forget (`KeyringSecrets.forget_stack`)."""
        with self._locked():
            profiles = self._read()
            for index, existing in enumerate(profiles):
                if existing.name == name:
                    del profiles[index]
                    self._write(profiles)
                    return existing
        raise ProfileNotFound(name)

    # --- file handling ----------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_directory()
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ProfileStoreError(f"{lock_path}: cannot open ({exc.strerror or exc})") from None
        try:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _ensure_directory(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ProfileStoreError(
                f"{self.path.parent}: cannot create ({exc.strerror or exc})"
            ) from None

    def _read(self) -> list[StackProfile]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except IsADirectoryError:
            raise ProfileStoreError(f"{self.path}: is a directory, not a stacks file") from None
        except OSError as exc:
            raise ProfileStoreError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        return decode_profiles(raw, self.path)

    def _write(self, profiles: list[StackProfile]) -> None:
        data = encode_profiles(profiles)
        self._ensure_directory()
        descriptor, temp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        temp = Path(temp_name)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temp, 0o600)  # mkstemp makes it 0600 already; say so where it matters
            os.replace(temp, self.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ProfileStoreError(f"{self.path}: cannot write ({exc.strerror or exc})") from None
        _fsync_directory(self.path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --- the format -------------------------------------------------------------------------------


def encode_profiles(profiles: list[StackProfile]) -> bytes:
    """The file's bytes for `profiles` in the current format: stable key order, one stack
    field per line, so hand edits and diffs stay readable."""
    document = {
        "version": FORMAT_VERSION,
        "stacks": [profile_to_dict(p) for p in sorted(profiles, key=lambda p: p.name.casefold())],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def decode_profiles(raw: bytes, path: Path) -> list[StackProfile]:
    """Parse a profiles file; ProfileStoreError names the file and what is wrong with it."""

    def broken(reason: str) -> ProfileStoreError:
        return ProfileStoreError(
            f"{path}: {reason}. The file was left as it is; repair it or move it aside."
        )

    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise broken("is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise broken(f"is not valid JSON ({where}: {exc.msg})") from None
    except RecursionError:
        raise broken("is nested too deeply to be a stacks file") from None
    except ValueError:  # e.g. a number longer than Python's int-digits limit
        raise broken("holds a value that cannot be read (a number far too long?)") from None
    if not isinstance(document, dict):
        raise broken("is not a stacks file (expected a JSON object)")
    version = document.get("version")
    if type(version) is not int or version < 1:
        raise broken("has no valid format 'version'")
    if version > FORMAT_VERSION:
        raise broken(
            f"was written by a newer release (format {version}; this release reads up to "
            f"{FORMAT_VERSION})"
        )
    for step in range(version, FORMAT_VERSION):
        document = _MIGRATIONS[step](document)
    stacks = document.get("stacks")
    if not isinstance(stacks, list) or set(document) - {"version", "stacks"}:
        raise broken("must hold exactly 'version' and a 'stacks' list")
    profiles: list[StackProfile] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(stacks):
        where = f"stack #{index + 1}"
        try:
            profile = profile_from_dict(entry)
        except ProfileError as exc:
            raise broken(f"{where}: {exc.args[0]}") from None
        key = profile.name.casefold()
        if key in seen:
            raise broken(f"{where}: the name {profile.name!r} is used twice")
        seen[key] = profile.name
        profiles.append(profile)
    return profiles


def profile_to_dict(profile: StackProfile) -> dict[str, Any]:
    """One stack as JSON-ready values (enums as their text, paths as strings)."""
    out: dict[str, Any] = {}
    for spec in fields(profile):
        value = getattr(profile, spec.name)
        if isinstance(value, JumpHost):
            value = {name: _plain(getattr(value, name)) for name in _JUMP_FIELDS}
        out[spec.name] = _plain(value)
    return out


def profile_from_dict(entry: object) -> StackProfile:
    """Build a profile from a stored entry, checking every value's JSON type before the
    profile's own validation; raises ProfileError."""
    if not isinstance(entry, dict):
        raise ProfileError("is not a JSON object")
    known = {spec.name for spec in fields(StackProfile)}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ProfileError(f"unknown field(s) {', '.join(map(repr, unknown))}")
    values: dict[str, Any] = {}
    for name, value in entry.items():
        if name == "jump":
            values[name] = None if value is None else _jump_from_dict(value)
        else:
            values[name] = _typed(name, value)
    for required in ("name", "compose_dir"):
        if required not in values:
            raise ProfileError(f"the field {required!r} is missing")
    return StackProfile(**values)


def _jump_from_dict(entry: object) -> JumpHost:
    if not isinstance(entry, dict):
        raise ProfileError("'jump' must be an object or null")
    unknown = sorted(set(entry) - set(_JUMP_FIELDS))
    if unknown:
        raise ProfileError(f"unknown jump field(s) {', '.join(map(repr, unknown))}")
    if "host" not in entry:
        raise ProfileError("the jump host has no 'host'")
    return JumpHost(**{name: _typed(f"jump.{name}", value) for name, value in entry.items()})


_INT_FIELDS = {
    "port",
    "keepalive_seconds",
    "postgres_port",
    "socket_proxy_port",
    "litellm_port",
    "jump.port",
}
_PATH_FIELDS = {"key_file", "jump.key_file"}


def _typed(name: str, value: object) -> Any:  # Any: the dataclass checks the rest
    """The Python value for one stored field, or ProfileError when its JSON type is wrong."""
    if value is None:
        return None
    if name in _INT_FIELDS:
        if type(value) is not int:  # bool is an int subclass; true is no port
            raise ProfileError(f"{name!r} must be a whole number, not {value!r}")
        return value
    if not isinstance(value, str):
        raise ProfileError(f"{name!r} must be text, not {value!r}")
    try:
        if name == "transport":
            return Transport(value)
        if name in ("auth", "jump.auth"):
            return AuthMethod(value)
    except ValueError:
        raise ProfileError(f"{name!r} has an unknown value {value!r}") from None
    if name in _PATH_FIELDS:
        return Path(value)
    return value


def _plain(value: object) -> object:
    if isinstance(value, Transport | AuthMethod):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value
