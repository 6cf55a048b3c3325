"""What an Apply talks to: the stack's config.yaml, its Docker control, its LiteLLM.

The config file is a small protocol so one pipeline serves both transports: over SSH the file is
replaced through SFTP (`SftpConfigFile`), for a `local` stack directly on this machine
(`LocalConfigFile`). Both follow the same recipe (issue 4 §1 steps 3-4): a temp file beside the
target with mode 0600 before the first byte, read back and compared, then `before_swap()` (where
the pipeline honours a cancel for the last time), then a POSIX rename over config.yaml.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import paramiko
from sqlalchemy import Engine

from ..remote import sftp_atomic
from ..remote.docker_control import DockerControl
from ..remote.errors import Layer, RemoteError, SftpFailed
from ..remote.litellm_client import LiteLLMClient
from ..remote.ssh_session import SshSession

CONFIG_MODE = 0o600  # the file holds the rendered secrets


class ConfigWriteFailed(RemoteError):
    """The config file could not be read or replaced; `path` says which file."""

    layer = Layer.SFTP

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ReadBackMismatch(ConfigWriteFailed):
    """The temp file read back gave other bytes than were written: nothing was replaced."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "the temp file read back gave other bytes; nothing was replaced")


class ConfigFile(Protocol):
    """The stack's config.yaml as the Apply sees it."""

    @property
    def location(self) -> str:
        """Where the file is, for messages (e.g. `root@host:/srv/litellm/config.yaml`)."""
        ...

    def read(self) -> bytes | None:
        """The file's bytes, or None when there is no such file. Raises ConfigWriteFailed or a
        RemoteError when it cannot be read."""
        ...

    def replace(self, data: bytes, before_swap: Callable[[], None]) -> None:
        """Write `data` to a temp file beside the file (mode 0600), read it back and compare,
        call `before_swap()`, then rename it over the file. Whatever `before_swap` raises is
        re-raised after the temp file is removed; the old file is then untouched."""
        ...


@dataclass(frozen=True)
class SftpConfigFile:
    """config.yaml on the stack's server, through the stack's SSH session."""

    session: SshSession
    path: str

    @property
    def location(self) -> str:
        """The remote path (the session names the host in its own messages)."""
        return self.path

    def read(self) -> bytes | None:
        """The remote file's bytes, or None when it does not exist."""
        with self.session.open_sftp() as sftp:
            try:
                sftp.stat(self.path)
            except FileNotFoundError:
                return None
            except (OSError, EOFError, paramiko.SSHException) as error:
                raise SftpFailed(self.path, str(error) or type(error).__name__) from None
            return sftp_atomic.read_file(sftp, self.path)

    def replace(self, data: bytes, before_swap: Callable[[], None]) -> None:
        """Replace the remote file via `sftp_atomic.write_atomic` (which also verifies the file
        after the rename), reading the temp file back inside its `before_swap` hook."""
        with self.session.open_sftp() as sftp:

            def check_then_hand_over(temp: str) -> None:
                if sftp_atomic.read_file(sftp, temp) != data:
                    raise ReadBackMismatch(self.path)
                before_swap()

            sftp_atomic.write_atomic(
                sftp, self.path, data, CONFIG_MODE, before_swap=check_then_hand_over
            )


@dataclass(frozen=True)
class LocalConfigFile:
    """config.yaml on this machine (a stack with the `local` transport)."""

    path: Path

    @property
    def location(self) -> str:
        """The local path."""
        return str(self.path)

    def read(self) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ConfigWriteFailed(str(self.path), error.strerror or str(error)) from None

    def replace(self, data: bytes, before_swap: Callable[[], None]) -> None:
        """Replace the file by rename within its directory (atomic on one filesystem)."""
        temp = self.path.with_name(
            f".{self.path.name}.{secrets.token_hex(6)}{sftp_atomic.TEMP_SUFFIX}"
        )
        try:
            # O_EXCL: never write into a file someone else created under the same name; the
            # mode is given at creation, so the secrets are never readable by others.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, CONFIG_MODE)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(temp, CONFIG_MODE)  # the umask may have narrowed it; be exact
            if temp.read_bytes() != data:
                raise ReadBackMismatch(str(self.path))
            before_swap()
            os.replace(temp, self.path)
        except BaseException as error:
            with suppress(OSError):
                temp.unlink()
            if isinstance(error, OSError):
                raise ConfigWriteFailed(
                    str(self.path), f"the file was not replaced: {error.strerror or error}"
                ) from None
            raise


@dataclass(frozen=True)
class ApplyTarget:
    """Everything the Apply steps reach besides the Master itself.

    `master_engine` is the engine the Master runs on: the Apply lock is a session-level advisory
    lock in that database, and the Master does not hand out its engine (see apply_lock.py).
    """

    config: ConfigFile
    docker: DockerControl
    litellm: LiteLLMClient
    master_engine: Engine
