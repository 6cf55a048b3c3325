"""Shared machinery of the oracle tests: where the LiteLLM venv and the corpus are, how to run
LiteLLM on config files (the batch validator or the real CLI), and what the corpus MANIFEST says.

Everything here runs in the PROJECT venv; LiteLLM itself only ever runs as a subprocess with the
LiteLLM venv's interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.corpus import corpus_dir, corpus_file, corpus_files

__all__ = ["corpus_file", "corpus_files"]  # re-exported: the oracle tests import them from here

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BATCH_SCRIPT = HERE / "litellm_validate_batch.py"
CONFIGS = HERE / "configs"
CORPUS = corpus_dir()
MANIFEST = CORPUS / "MANIFEST.md"
LITELLM_VERSION = "1.108.7"

RC_OK, RC_FAILED, RC_TIMEOUT = 0, 1, 124
# Per-config limit for the batch. The slowest config that finishes (DNS look-ups of dummy redis
# hosts) takes ~16 s on the reference machine; 018 never finishes (MCP server unreachable).
BATCH_TIMEOUT_S = 30.0
BATCH_JOBS = 8  # most of a child's time is spent waiting for DNS, not on the CPU
# Scheduling hint only: corpus files that take longest in LiteLLM (018 never finishes, the others
# wait for DNS answers about dummy redis/langfuse hosts). Starting them first shortens a batch.
SLOW_CORPUS = ("018", "011", "012", "001", "003", "015", "006", "016")
CLI_TIMEOUT_S = 60.0  # what the MANIFEST labels used

# Hand-written inputs (each broken one starts with `# litellm: <piece of LiteLLM's error>`).
ACCEPT_FILES = sorted((CONFIGS / "accept").glob("*.yaml"))  # valid: both must accept
REJECT_FILES = sorted((CONFIGS / "reject").glob("*.yaml"))  # LiteLLM fails to load, whatever env
ENV_DEPENDENT_FILES = sorted((CONFIGS / "env-dependent").glob("*.yaml"))  # fails here, see files
GENERATED_SEEDS = tuple(range(20))
# Real-CLI sample (kept small: ~8 s each). Covers a pass, a pass that needs prometheus_client,
# a failure on a missing custom module, an invalid routing strategy, broken YAML (whose last line
# is the parser's position line) and a KeyError-style message.
REAL_CLI_SAMPLE = (
    ("corpus", "009"),
    ("corpus", "025"),
    ("corpus", "017"),
    ("reject", "routing-lowest-cost"),
    ("reject", "malformed-yaml"),
    ("reject", "model-name-missing"),
)

_ENV_REF = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_OK_LINE = re.compile(r"LiteLLM: config OK \((\d+) models\)")


@dataclass(frozen=True)
class Verdict:
    """What LiteLLM said about one config file."""

    file: Path
    rc: int
    last_line: str
    tail: str = ""
    mode: str = ""
    seconds: float = 0.0

    @property
    def model_count(self) -> int | None:
        m = _OK_LINE.fullmatch(self.last_line)
        return int(m.group(1)) if m else None

    def explain(self) -> str:
        head = f"{self.file.name}: rc={self.rc} last line={self.last_line!r}"
        return f"{head}\n--- output tail ---\n{self.tail[-1500:]}"


@dataclass(frozen=True)
class OracleRun:
    """What LiteLLM said: `batch` for every file the session asked about, `cli` for the
    real-CLI sample; plus the generated and re-rendered files it was asked about."""

    batch: dict[Path, Verdict]
    cli: dict[Path, Verdict]
    generated: dict[int, tuple[str, Path]]  # seed -> (text, file)
    rerendered: dict[str, tuple[str, Path]]  # corpus number -> (import+render text, file)

    def of(self, path: Path) -> Verdict:
        return self.batch[path.resolve()]


def litellm_venv() -> Path:
    """The LiteLLM virtualenv: $LLMPROXY_LITELLM_VENV or <repo>/.venv-litellm. Fails (never
    skips) when it is missing: the oracle is part of the suite."""
    venv = Path(os.environ.get("LLMPROXY_LITELLM_VENV") or REPO / ".venv-litellm")
    python = venv / "bin" / "python"
    if not (python.is_file() and (venv / "bin" / "litellm").is_file()):
        pytest.fail(
            f"LiteLLM oracle venv not found at {venv} (set LLMPROXY_LITELLM_VENV or run "
            "scripts/make-litellm-venv.sh, ~40 s). The oracle tests never skip.",
            pytrace=False,
        )
    return venv


def slow_first(paths: Iterable[Path]) -> list[Path]:
    """The paths with the known-slow corpus numbers (also as re-rendered copies) first."""

    def rank(path: Path) -> int:
        prefix = path.name[:3]
        return SLOW_CORPUS.index(prefix) if prefix in SLOW_CORPUS else len(SLOW_CORPUS)

    return sorted(paths, key=rank)


def sample_path(kind: str, name: str) -> Path:
    """A REAL_CLI_SAMPLE entry as a path."""
    if kind == "corpus":
        return corpus_file(name)
    return (CONFIGS / kind / f"{name}.yaml").resolve()


def last_line(output: str) -> str:
    """The MANIFEST's definition: last non-empty line, ANSI colours stripped."""
    lines = [ln.strip() for ln in _ANSI.sub("", output).splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_batch(
    venv: Path,
    files: Iterable[Path],
    *,
    timeout: float = BATCH_TIMEOUT_S,
    jobs: int = BATCH_JOBS,
) -> dict[Path, Verdict]:
    """Validate many files with one LiteLLM import (tests/oracle/litellm_validate_batch.py)."""
    paths = slow_first(Path(f).resolve() for f in files)
    proc = subprocess.run(
        [
            str(venv / "bin" / "python"),
            str(BATCH_SCRIPT),
            "--timeout",
            str(timeout),
            "--jobs",
            str(jobs),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=timeout * len(paths) + 300,
        check=False,
    )
    assert proc.returncode == 0, f"batch validator failed (rc={proc.returncode}):\n{proc.stderr}"
    report = json.loads(proc.stdout)
    assert report["litellm_version"] == LITELLM_VERSION, report["litellm_version"]
    verdicts = {
        Path(r["file"]): Verdict(
            Path(r["file"]), r["rc"], r["last_line"], r["tail"], r["mode"], r["seconds"]
        )
        for r in report["results"]
    }
    assert set(verdicts) == set(paths)
    return verdicts


def reference_env(text: str, home: Path) -> dict[str, str]:
    """The environment of the MANIFEST's reference runs, for one file's text."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if "LANG" in os.environ:
        env["LANG"] = os.environ["LANG"]
    env |= {"PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HOME": str(home)}
    for name in _ENV_REF.findall(text):
        env[name] = "1234" if name.endswith("PORT") else "dummy"
    return env


def run_cli(venv: Path, config: Path, *, timeout: float = CLI_TIMEOUT_S) -> Verdict:
    """The real thing: `litellm --config F --validate_config`, as the MANIFEST labels were made."""
    config = config.resolve()
    with tempfile.TemporaryDirectory(prefix="litellm-cli-") as home:
        env = reference_env(config.read_text("utf-8", "replace"), Path(home))
        try:
            proc = subprocess.run(
                [str(venv / "bin" / "litellm"), "--config", str(config), "--validate_config"],
                cwd=home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
            out, rc = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out, rc = exc.stdout or b"", RC_TIMEOUT
    text = out.decode("utf-8", "replace")
    return Verdict(config, rc, last_line(text), text[-4000:], "real-cli")


def run_cli_many(venv: Path, configs: Iterable[Path], workers: int = 2) -> dict[Path, Verdict]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        verdicts = list(pool.map(lambda c: run_cli(venv, c), configs))
    return {v.file: v for v in verdicts}


def run_python(venv: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the LiteLLM venv's python (e.g. the snapshot script) with a clean environment."""
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        return subprocess.run(
            [str(venv / "bin" / "python"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )


# --- MANIFEST labels ---------------------------------------------------------------------------

_ROW = re.compile(r"^\| (\d{3}) \| `([^`]+)` \|.*\| rc=(\d+)[^|]*?`([^`]*)` \|\s*$")

# Verified with the real CLI (1.108.7 + prometheus_client): the six files the MANIFEST lists as
# failing only for lack of prometheus_client pass once it is installed.
PROMETHEUS_ONLY = {
    "003": "LiteLLM: config OK (43 models)",
    "006": "LiteLLM: config OK (31 models)",
    "008": "LiteLLM: config OK (24 models)",
    "011": "LiteLLM: config OK (16 models)",
    "012": "LiteLLM: config OK (2 models)",
    "025": "LiteLLM: config OK (2 models)",
}


@dataclass(frozen=True)
class Label:
    number: str
    file: str
    rc: int
    last_line: str


def manifest_labels() -> dict[str, Label]:
    """number -> what LiteLLM 1.108.7 said, per the MANIFEST table, with `<corpus dir>` filled in
    and the six prometheus-only failures replaced by what the CLI says with prometheus_client."""
    labels: dict[str, Label] = {}
    for line in MANIFEST.read_text("utf-8").splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        number, name, rc, message = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        message = message.replace("<corpus dir>", str(CORPUS.resolve()))
        if number in PROMETHEUS_ONLY:
            assert "No module named 'prometheus_client'" in message, (number, message)
            rc, message = RC_OK, PROMETHEUS_ONLY[number]
        labels[number] = Label(number, name, rc, message)
    assert len(labels) == 40, f"parsed {len(labels)} MANIFEST rows"
    return labels


def expected_fragment(path: Path) -> str:
    """The `# litellm: <fragment>` header of a hand-written config: a piece of LiteLLM's last
    line for it."""
    first = path.read_text("utf-8").splitlines()[0]
    prefix = "# litellm: "
    assert first.startswith(prefix), f"{path.name} lacks a '{prefix}...' first line"
    return first[len(prefix) :].strip()
