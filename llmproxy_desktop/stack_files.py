"""The server files the app ships: docker-compose.yml, .env.example, the config seed and the
socket-proxy policy, found in a source checkout or in a frozen (PyInstaller) build.

Like `ui/resources.py`, but without Qt, so `ops` and the CLI can use it. A frozen build must
bundle each of `STACK_FILES` at the same relative path under `sys._MEIPASS` (PyInstaller datas:
`("docker-compose.yml", ".")`, `(".env.example", ".")`, `("config/config.yaml.example",
"config")`, `("socket-proxy/haproxy.cfg", "socket-proxy")`).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = [
    "COMPOSE_FILE",
    "CONFIG_SEED",
    "ENV_FILE",
    "ENV_TEMPLATE",
    "SOCKET_PROXY_POLICY",
    "STACK_FILES",
    "StackFilesMissing",
    "bundled_stack_dir",
    "read_bundled",
]

COMPOSE_FILE = "docker-compose.yml"
ENV_TEMPLATE = ".env.example"
ENV_FILE = ".env"
CONFIG_SEED = "config/config.yaml.example"
SOCKET_PROXY_POLICY = "socket-proxy/haproxy.cfg"

STACK_FILES: tuple[str, ...] = (COMPOSE_FILE, ENV_TEMPLATE, CONFIG_SEED, SOCKET_PROXY_POLICY)
"""Relative paths (POSIX) of the bundled files, as laid out in a compose directory."""


class StackFilesMissing(Exception):
    """The app was built or installed without its bundled stack files."""


def bundled_stack_dir() -> Path:
    """The directory holding `STACK_FILES`: the repository root of a source checkout, or the
    unpack directory of a frozen build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root)
    return Path(__file__).resolve().parents[1]


def read_bundled(relative: str) -> bytes:
    """The content of one bundled file; StackFilesMissing names it when it is not there."""
    path = bundled_stack_dir().joinpath(*relative.split("/"))
    try:
        return path.read_bytes()
    except OSError as error:
        raise StackFilesMissing(
            f"the app's copy of {relative} is missing ({path}: {error.strerror or error}); "
            "reinstall the app"
        ) from None
