"""Reading and atomically replacing a remote file over SFTP (the config upload of Apply).

The new content goes to a temp file in the target's own directory (a rename is only atomic
within one filesystem), gets its mode before any byte is written (the file holds secrets),
replaces the target by posix-rename (SFTPv3's plain rename refuses to overwrite), and is read
back and compared. Until the rename the old file is untouched, and a failure removes the temp
file. A temp file left by a connection lost at the worst moment is removed by the next write.
"""

from __future__ import annotations

import posixpath
import re
import secrets
import stat
from collections.abc import Callable
from contextlib import suppress

import paramiko

from .errors import SftpFailed

TEMP_SUFFIX = ".llmproxy-tmp"
_FAILURES = (OSError, EOFError, paramiko.SSHException)


def read_file(sftp: paramiko.SFTPClient, path: str) -> bytes:
    """The whole content of the remote file `path`; SftpFailed if it cannot be read."""
    try:
        with sftp.open(path, "rb") as remote:
            remote.prefetch()  # pipelined reads instead of one round trip per 32 KiB
            data: bytes = remote.read()
            return data
    except _FAILURES as error:
        raise SftpFailed(path, _describe(error)) from None


def write_atomic(
    sftp: paramiko.SFTPClient,
    path: str,
    data: bytes,
    mode: int = 0o600,
    *,
    before_swap: Callable[[str], None] | None = None,
) -> None:
    """Replace the remote file `path` with `data` so that readers see the old or the new
    content, never a mix; the new file has permission bits `mode`.

    `before_swap(temp_path)` runs after the temp file is complete and before the rename; tests
    use it to interrupt the swap. Raises SftpFailed (layer SFTP) on any failure; one before the
    rename leaves the old file as it was."""
    directory, name = posixpath.split(path)
    _remove_stale_temps(sftp, directory, name)
    temp = posixpath.join(directory, f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    renaming = False
    try:
        _write_temp(sftp, temp, data, mode)
        if before_swap is not None:
            before_swap(temp)
        renaming = True
        sftp.posix_rename(temp, path)
    except BaseException as error:
        with suppress(*_FAILURES):
            sftp.remove(temp)
        if isinstance(error, _FAILURES):
            # A connection lost during the rename may have lost only the server's reply.
            outcome = (
                "the rename was sent but not confirmed, so the file may or may not have been "
                "replaced; read it back to know"
                if renaming
                else "the file was not replaced"
            )
            raise SftpFailed(path, f"{outcome}: {_describe(error)}") from None
        raise
    _verify(sftp, path, data, mode)


def _write_temp(sftp: paramiko.SFTPClient, temp: str, data: bytes, mode: int) -> None:
    # "x": fail rather than write into a file someone else created under the same name.
    with sftp.open(temp, "wbx") as remote:
        remote.chmod(mode)  # before the first byte: the content may be secret
        remote.set_pipelined(True)
        remote.write(data)
    actual = stat.S_IMODE(sftp.stat(temp).st_mode or 0)
    if actual != mode:
        raise OSError(f"the server left the temp file with mode {actual:o}, not {mode:o}")


def _verify(sftp: paramiko.SFTPClient, path: str, data: bytes, mode: int) -> None:
    if read_file(sftp, path) != data:
        raise SftpFailed(path, "the file was replaced, but reading it back gave other bytes")
    try:
        actual = stat.S_IMODE(sftp.stat(path).st_mode or 0)
    except _FAILURES as error:
        raise SftpFailed(path, _describe(error)) from None
    if actual != mode:
        raise SftpFailed(path, f"the file was replaced, but has mode {actual:o}, not {mode:o}")


def _remove_stale_temps(sftp: paramiko.SFTPClient, directory: str, name: str) -> None:
    stale = re.compile(rf"^\.{re.escape(name)}\.[0-9a-f]{{12}}{re.escape(TEMP_SUFFIX)}$")
    try:
        entries = sftp.listdir(directory or ".")
    except _FAILURES as error:
        raise SftpFailed(posixpath.join(directory, name), _describe(error)) from None
    for entry in entries:
        if stale.match(entry):
            with suppress(*_FAILURES):
                sftp.remove(posixpath.join(directory, entry))


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
