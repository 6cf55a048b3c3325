"""Where the app's log goes: a file in the per-user log directory, never the terminal.

With no handler configured, Python prints every library's warnings and errors to stderr: the
user saw paramiko's "Secsh channel 0 open FAILED" between `stacks test`'s own report lines, and
a failing background job's traceback in the terminal the window was started from. The console
script (`cli.main`) therefore sends all logging, INFO and up, to `llmproxy-desktop.log` in the
platform's per-user log directory (`~/.local/state/llmproxy-desktop/log` on Linux, or
`LLMPROXY_LOG_DIR`), mode 0600, rotated at 1 MB with three old files kept. The app logs no
secret (docs/security.md); the file is still private, as a matter of course.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Final

import platformdirs

__all__ = ["LOG_DIR_ENV", "configure_logging", "default_log_path"]

LOG_DIR_ENV: Final = "LLMPROXY_LOG_DIR"
LOG_FILE_NAME: Final = "llmproxy-desktop.log"
_MAX_BYTES: Final = 1_000_000
_BACKUPS: Final = 3
# httpx and httpcore log every request at INFO: the refresh's health and model checks alone would
# fill the file within hours.
_PER_REQUEST_LOGGERS: Final = ("httpx", "httpcore")
_FORMAT: Final = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def default_log_path() -> Path:
    """The log file: in `LLMPROXY_LOG_DIR` if set, else the per-user log directory."""
    configured = os.environ.get(LOG_DIR_ENV)
    folder = Path(configured) if configured else platformdirs.user_log_path("llmproxy-desktop")
    return folder / LOG_FILE_NAME


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (the first and every rotated one) are created 0600."""

    def _open(self):  # type: ignore[no-untyped-def]  # the base class leaves it untyped
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(descriptor, self.mode, encoding=self.encoding, errors=self.errors)


def configure_logging(path: Path | None = None) -> Path | None:
    """Send the process's logging (INFO and up) to the log file; return its path, or None when
    it cannot be written (then logging goes nowhere: an unwritable log never stops the app).
    Idempotent."""
    root = logging.getLogger()
    for existing in root.handlers:
        if isinstance(existing, _PrivateRotatingFileHandler):
            return Path(existing.baseFilename)
    target = path or default_log_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler: logging.Handler = _PrivateRotatingFileHandler(
            target, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
        )
        written: Path | None = target
    except OSError:
        handler, written = logging.NullHandler(), None
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for chatty in _PER_REQUEST_LOGGERS:  # a line per HTTP request would rotate out the rest
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return written
