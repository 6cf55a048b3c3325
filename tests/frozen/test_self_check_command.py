"""The hidden `self-check` command, from the source tree (the frozen run is in
test_frozen_binary.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmproxy_desktop import self_check_cli
from llmproxy_desktop.self_check_cli import CheckFailed, run_checks

REPO_ROOT = Path(__file__).resolve().parents[2]
# Registers the command on the real CLI parser, as cli.build_parser does once it is wired in.
_RUN_SELF_CHECK = """
import argparse, sys
from llmproxy_desktop import cli, self_check_cli

build_parser = cli.build_parser

def with_self_check():
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and "self-check" not in action.choices:
            self_check_cli.add_commands(action)
    return parser

cli.build_parser = with_self_check
sys.exit(cli.main(["self-check"]))
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmproxy-desktop")
    self_check_cli.add_commands(parser.add_subparsers(dest="command"))
    return parser


def test_self_check_is_a_command_that_help_does_not_list() -> None:
    parser = _parser()
    assert parser.parse_args(["self-check"]).run is self_check_cli.cmd_self_check
    # argparse still names it among the choices in the usage line, but lists no entry for it.
    assert not any(
        line.strip().startswith("self-check") for line in parser.format_help().splitlines()
    )


def test_self_check_prints_one_line_per_check_and_fails_when_any_check_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fine() -> str:
        return "all there"

    def missing() -> str:
        raise CheckFailed("resources/catalog/model_catalog.json: no models")

    def broken() -> str:
        raise ModuleNotFoundError("No module named 'psycopg_binary'")

    code = run_checks([("first", fine), ("catalog", missing), ("driver", broken)])
    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "ok   first: all there",
        "FAIL catalog: CheckFailed: resources/catalog/model_catalog.json: no models",
        "FAIL driver: ModuleNotFoundError: No module named 'psycopg_binary'",
        "self-check: 1 of 3 checks passed, 2 FAILED",
    ]


def test_self_check_exits_0_when_every_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_checks([("a", lambda: "x"), ("b", lambda: "y")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "self-check: 2 of 2 checks passed"


def test_self_check_passes_from_the_source_tree_without_a_display(tmp_path: Path) -> None:
    # No QT_QPA_PLATFORM: the command must choose offscreen itself, or the window check aborts.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        "XDG_DATA_HOME": str(tmp_path / ".local" / "share"),
    }
    done = subprocess.run(
        [sys.executable, "-c", _RUN_SELF_CHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    names = [line[5:].split(":", 1)[0] for line in lines[:-1]]
    assert names == [name for name, _check in self_check_cli.all_checks()]
    assert all(line.startswith("ok   ") for line in lines[:-1]), done.stdout
    assert "not frozen" in lines[0]
    assert "opened and closed on offscreen" in lines[-2]
    # The window used throwaway settings and stacks files, never the user's.
    assert not (tmp_path / ".config" / "llmproxy-desktop").exists()
