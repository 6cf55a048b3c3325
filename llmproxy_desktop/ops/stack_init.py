"""`stack init DIR`: a new stack's compose directory on this machine (issue #7 §2).

Copies the app's bundled docker-compose.yml, config seed and socket-proxy policy into `DIR`, and
writes `DIR/.env` from .env.example with fresh secrets (mode 0600, atomically). Nothing that
exists is replaced without asking: a file that differs from the app's copy, or a real secret,
is only overwritten when `ask_overwrite(name, reason)` says yes. Running it twice changes nothing.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.env_file import NEVER_ROTATE, TokenHex, backup_advice, merge_env
from ..stack_files import (
    COMPOSE_FILE,
    CONFIG_SEED,
    ENV_FILE,
    ENV_TEMPLATE,
    SOCKET_PROXY_POLICY,
    read_bundled,
)

__all__ = ["AskOverwrite", "InitResult", "init_stack_dir", "write_private"]

AskOverwrite = Callable[[str, str], bool]
"""`ask_overwrite(name, reason)`: may `name` (a file, or a variable of .env) be replaced?"""

_COPIED = (COMPOSE_FILE, CONFIG_SEED, SOCKET_PROXY_POLICY)


@dataclass(frozen=True)
class InitResult:
    """What `init_stack_dir` did. Names only: never a secret's value."""

    directory: Path
    written: tuple[str, ...]  # relative paths created or replaced
    unchanged: tuple[str, ...]  # already as the app ships them (or kept on request)
    generated: tuple[str, ...]  # secrets freshly generated in .env
    replaced: tuple[str, ...]  # real secrets replaced on request
    kept: tuple[str, ...]  # real secrets left alone
    advice: tuple[str, ...]  # what to back up, and why


def init_stack_dir(
    directory: Path,
    ask_overwrite: AskOverwrite,
    *,
    token_hex: TokenHex = secrets.token_hex,
) -> InitResult:
    """Create or complete the compose directory `directory` (see the module docstring).

    Raises StackFilesMissing when the app lacks its bundled files, OSError when the directory
    cannot be written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    unchanged: list[str] = []
    for relative in _COPIED:
        data = read_bundled(relative)
        path = directory.joinpath(*relative.split("/"))
        if path.exists() and path.read_bytes() == data:
            unchanged.append(relative)
            continue
        if path.exists() and not ask_overwrite(relative, "differs from the app's copy"):
            unchanged.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, data, 0o644)
        written.append(relative)

    env_path = directory / ENV_FILE
    existing = env_path.read_text("utf-8") if env_path.exists() else None

    def may_replace(key: str) -> bool:
        reason = "is already set"
        if key in NEVER_ROTATE:
            reason += "; replacing it makes every provider key LiteLLM stored unreadable"
        return ask_overwrite(f"{ENV_FILE}: {key}", reason)

    template = read_bundled(ENV_TEMPLATE).decode("utf-8")
    merged = merge_env(template, existing, token_hex, may_replace)
    if existing is None or merged.changed:
        write_private(env_path, merged.text.encode("utf-8"))
        written.append(ENV_FILE)
    else:
        unchanged.append(ENV_FILE)
        if env_path.stat().st_mode & 0o077:
            os.chmod(env_path, 0o600)  # an existing .env readable by others: tighten it
    return InitResult(
        directory=directory,
        written=tuple(written),
        unchanged=tuple(unchanged),
        generated=merged.generated,
        replaced=merged.replaced,
        kept=merged.kept,
        advice=backup_advice(merged.generated + merged.replaced + merged.kept),
    )


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with a file of mode 0600 (it never exists with wider bits)."""
    _write_atomic(path, data, 0o600)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, mode)  # before any byte: the .env holds secrets
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
