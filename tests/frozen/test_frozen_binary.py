"""Smoke test of the frozen (PyInstaller) app, as qutebrowser does before a release.

The bundle is built once per session with scripts/build-binary.sh (its own .venv-build), unless
dist/ already holds one newer than every source it is built from; LLMPROXY_FROZEN_APP=PATH
tests a binary built elsewhere instead. Each test runs the binary as a user would: offscreen, in
a clean environment with a throwaway HOME, and checks what it prints and its exit code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.fixtures.corpus import corpus_file
from tests.fixtures.keyring_dbus import SecretServiceSession, secret_service

__all__ = ["secret_service"]  # the fixture, used by name below

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = REPO_ROOT / "dist" / "llmproxy-desktop"
BINARY = BUNDLE / ("llmproxy-desktop.exe" if sys.platform == "win32" else "llmproxy-desktop")
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build-binary.sh"
# Labelled in the corpus MANIFEST: LiteLLM 1.108.7 accepts 007 (rc=0) and rejects 016 for its
# routing strategy, a genuine config error (rc=1).
VALID_CONFIG_NUMBER, INVALID_CONFIG_NUMBER = "007", "016"
MAX_BUNDLE_MB = 200
BUILD_TIMEOUT_SECONDS = 900
RUN_TIMEOUT_SECONDS = 120
# What the bundle is built from: a bundle older than any of these is rebuilt.
BUILD_INPUTS = ("llmproxy_desktop", "resources", "build.spec", "pyproject.toml", BUILD_SCRIPT)


def _files(paths: Iterable[str | Path]) -> Iterable[Path]:
    for entry in paths:
        path = REPO_ROOT / entry
        if path.is_dir():
            yield from (p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            yield path


def _is_fresh(binary: Path) -> bool:
    if not binary.is_file():
        return False
    built = binary.stat().st_mtime
    return all(source.stat().st_mtime < built for source in _files(BUILD_INPUTS))


@pytest.fixture(scope="session")
def frozen_app() -> Path:
    """The frozen binary: LLMPROXY_FROZEN_APP, a fresh one in dist/, or a new build."""
    given = os.environ.get("LLMPROXY_FROZEN_APP")
    if given:
        return Path(given)
    if not _is_fresh(BINARY):
        started = time.monotonic()
        done = subprocess.run(
            ["bash", str(BUILD_SCRIPT)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
        summary = [line for line in done.stdout.splitlines() if line.startswith("bundle: ")]
        # Shown with -rA / -s; the size and build time end up in docs.
        print(f"frozen build: {time.monotonic() - started:.0f} s; {' '.join(summary)}")
        assert done.returncode == 0, f"build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert BINARY.is_file(), f"{BINARY} was not built"
    return BINARY


def _environment(home: Path) -> dict[str, str]:
    """A user's environment without a display: offscreen Qt, a HOME of the test's own."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "QT_QPA_PLATFORM": "offscreen",
    }


def _run(app: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(app), *args],
        capture_output=True,
        text=True,
        env=_environment(home),
        cwd=home,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )


def _project_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as stream:
        version: str = tomllib.load(stream)["project"]["version"]
    return version


def _self_check_is_registered() -> bool:
    import argparse

    from llmproxy_desktop.cli import build_parser

    return any(
        isinstance(action, argparse._SubParsersAction) and "self-check" in action.choices
        for action in build_parser()._actions
    )


def test_frozen_bundle_stays_within_the_size_limit(frozen_app: Path) -> None:
    bundle = frozen_app.parent
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    assert size / 1e6 <= MAX_BUNDLE_MB, f"{bundle}: {size / 1e6:.0f} MB"


def test_frozen_app_prints_the_package_version(frozen_app: Path, tmp_path: Path) -> None:
    done = _run(frozen_app, "--version", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"llmproxy-desktop {_project_version()}"


@pytest.mark.skipif(
    not _self_check_is_registered(),
    reason="self-check is not registered in cli.build_parser (self_check_cli.add_commands)",
)
def test_frozen_self_check_passes_every_check(frozen_app: Path, tmp_path: Path) -> None:
    done = _run(frozen_app, "self-check", home=tmp_path)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    checks, summary = lines[:-1], lines[-1]
    assert re.fullmatch(r"self-check: (\d+) of \1 checks passed", summary), summary
    assert all(line.startswith("ok   ") for line in checks), done.stdout
    by_name = dict(line[5:].split(": ", 1) for line in checks)
    assert by_name["version"].startswith(f"llmproxy-desktop {_project_version()}, ")
    assert by_name["version"].endswith(", frozen")
    # No Secret Service here: the backend is named, and all three OS backends are in the bundle.
    assert by_name["keyring backend"].startswith("keyring.backends.")
    assert "bundled: macOS, Windows, SecretService" in by_name["keyring backend"]
    assert "_internal" in by_name["alembic migrations"]  # read from the bundle, not the tree
    assert re.match(r"\d+ models of \d+ providers", by_name["catalog"])
    assert by_name["main window"].startswith("opened and closed on offscreen")


def test_frozen_window_opens_and_closes_itself(frozen_app: Path, tmp_path: Path) -> None:
    done = _run(frozen_app, "--quit-after-ms", "300", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_frozen_cli_accepts_a_config_litellm_accepts(frozen_app: Path, tmp_path: Path) -> None:
    valid_config = corpus_file(VALID_CONFIG_NUMBER)
    done = _run(frozen_app, "validate", str(valid_config), home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip().endswith(f"{valid_config}: 0 error(s), 0 warning(s)")


def test_frozen_cli_rejects_a_config_litellm_rejects(frozen_app: Path, tmp_path: Path) -> None:
    done = _run(frozen_app, "validate", str(corpus_file(INVALID_CONFIG_NUMBER)), home=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert any(
        line.startswith("routing.strategy-invalid\terror\trouter_settings.routing_strategy\t")
        for line in done.stdout.splitlines()
    ), done.stdout


@pytest.mark.integration
def test_frozen_app_finds_the_secret_service(
    frozen_app: Path, secret_service: SecretServiceSession
) -> None:
    # keyring finds its backends through entry points: a bundle without keyring's metadata
    # would fall back to fail.Keyring even with a Secret Service running.
    done = secret_service.run_module("tests.frozen.run_program", str(frozen_app), "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    keyring_line = done.stdout.splitlines()[0]
    assert keyring_line.startswith("keyring: ok: "), keyring_line
    assert "keyring.backends.SecretService.Keyring" in keyring_line
