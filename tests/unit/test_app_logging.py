"""The app's log goes to a private file, never to the terminal (app_logging.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

# A library's error as paramiko logs it when a forward is refused, then our own error with a
# traceback: with no handler, Python's last-resort handler printed both to the terminal.
_SCRIPT = """
import logging
from llmproxy_desktop.app_logging import configure_logging
print(configure_logging())
logging.getLogger("paramiko.transport").error("Secsh channel 0 open FAILED: Connection refused")
logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1:4000/health/readiness")
logging.getLogger("httpx").warning("a request warning")
try:
    raise RuntimeError("background check failed")
except RuntimeError as error:
    logging.getLogger("llmproxy_desktop.ui").error("a job failed", exc_info=error)
"""


def _run(script: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLMPROXY_LOG_DIR": str(log_dir)}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )


def test_library_errors_and_tracebacks_go_to_the_private_log_file(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    done = _run(_SCRIPT, log_dir)

    log_file = log_dir / "llmproxy-desktop.log"
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing reached the terminal
    assert done.stdout.strip() == str(log_file)
    text = log_file.read_text()
    assert "paramiko.transport: Secsh channel 0 open FAILED" in text
    assert "RuntimeError: background check failed" in text  # the traceback is kept, in the file
    assert "HTTP Request" not in text and "a request warning" in text  # no line per request
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700


def test_rotated_files_are_private_too(tmp_path: Path) -> None:
    script = (
        "import logging\n"
        "from llmproxy_desktop.app_logging import configure_logging\n"
        "configure_logging()\n"
        "for i in range(10000):\n"
        "    logging.getLogger('x').warning('%d %s', i, 'y' * 400)\n"
    )
    assert _run(script, tmp_path).returncode == 0
    files = sorted(tmp_path.glob("llmproxy-desktop.log*"))
    assert len(files) == 4  # the file and three rotated ones (1 MB each)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_an_unwritable_log_directory_does_not_stop_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log directory should be")
    done = _run(_SCRIPT, blocker / "logs")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
    assert done.stderr == ""


def test_the_console_script_logs_to_the_file_and_not_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "LLMPROXY_LOG_DIR": str(tmp_path), "HOME": str(tmp_path)}
    env.pop("XDG_CONFIG_HOME", None)
    script = (
        "import logging, sys\n"
        "from llmproxy_desktop import cli\n"
        "sys.argv = ['llmproxy-desktop', '--version']\n"
        "logging.getLogger('paramiko').error('noise')\n"  # before main: last resort would print
        "code = None\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "logging.getLogger('paramiko').error('after main')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert "after main" not in done.stderr
    assert "after main" in (tmp_path / "llmproxy-desktop.log").read_text()
