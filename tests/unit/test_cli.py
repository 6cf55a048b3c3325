"""The headless CLI: exit codes, one-line errors, no secrets, no tracebacks, no Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmproxy_desktop.cli import main

GOOD = (
    "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n"
    "      api_key: os.environ/OPENAI_API_KEY\n"
)
BAD = "router_settings:\n  routing_strategy: lowest-cost\n"
WITH_SECRETS = (
    "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, "
    "api_key: sk-model-literal}\n"
    "credential_list:\n  - credential_name: c\n    credential_values: "
    "{api_key: sk-cred-literal}\n    credential_info: {}\n"
    "general_settings:\n  database_url: postgresql://u:db-password@h/db\n"
)


def _run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | str, *args: str
) -> tuple[int, str, str]:
    path = tmp_path / "config.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code = main([*args, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_exits_0_for_a_clean_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(tmp_path, capsys, GOOD, "validate")
    assert (code, out) == (0, "")


def test_validate_prints_one_line_per_finding_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(tmp_path, capsys, BAD, "validate")
    assert code == 1
    (line,) = out.splitlines()
    rule, severity, path, message = line.split("\t")
    assert (rule, severity, path) == (
        "routing.strategy-invalid",
        "error",
        "router_settings.routing_strategy",
    )
    assert "lowest-cost" in message


def test_validate_exits_2_when_the_file_cannot_be_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "directory" in err and "Traceback" not in err


def test_a_20_mb_file_gets_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(tmp_path, capsys, "a: 1\n" * 4_200_000, "validate")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "too large" in err


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "config.binary"),
        ("caf\u00e9: 1\n".encode("latin-1"), "config.encoding"),
        ("model_list: [\n", "config.yaml-syntax"),
        ("- just\n- a list\n", "config.not-mapping"),
        ("model_list: 42\n", "config.type"),
        ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 120)), "config.too-deep"),
    ],
)
def test_bad_input_gives_findings_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | str, rule: str
) -> None:
    code, out, err = _run(tmp_path, capsys, content, "validate")
    assert code == 1
    assert out.split("\t")[0] == rule
    assert "Traceback" not in out + err


def test_import_dry_run_prints_the_master_config_with_every_secret_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(tmp_path, capsys, WITH_SECRETS, "import", "--dry-run")
    for secret in ("sk-model-literal", "sk-cred-literal", "db-password"):
        assert secret not in out + err
    assert out.count('"***"') == 3  # database_url is a secret field: masked whole
    assert code == 1  # literal secrets outside credential_list are errors
    assert "secret.literal" in err


def test_import_without_dry_run_explains_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(tmp_path, capsys, GOOD, "import")
    assert code == 2 and "--dry-run" in err


def test_unknown_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 2
    assert main(["frobnicate"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_the_cli_imports_no_qt(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    probe = (
        "import sys\nfrom llmproxy_desktop.cli import main\n"
        f"code = main(['validate', {str(path)!r}])\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_console_script_reports_its_version() -> None:
    exe = Path(sys.executable).with_name("llmproxy-desktop")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("llmproxy-desktop ")


def test_the_gui_smoke_option_is_not_mistaken_for_a_command(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("llmproxy-desktop")
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [str(exe), "--quit-after-ms", "50"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
