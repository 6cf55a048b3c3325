"""Oracle tests: our config validator checked against the real LiteLLM 1.108.7.

LiteLLM lives in its own virtualenv ($LLMPROXY_LITELLM_VENV, default <repo>/.venv-litellm, made
by scripts/make-litellm-venv.sh). These tests FAIL when it is missing; they never skip.

Every question the oracle modules ask LiteLLM is asked in ONE batch run (plus a few real-CLI
runs started alongside it), once per session: one LiteLLM import instead of one per file, and
the slow files (DNS waits, the 30 s MCP timeout) overlap instead of adding up.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.render import render

from .config_generator import generate_text
from .oracle_support import (
    ACCEPT_FILES,
    ENV_DEPENDENT_FILES,
    GENERATED_SEEDS,
    REAL_CLI_SAMPLE,
    REJECT_FILES,
    OracleRun,
    corpus_files,
    litellm_venv,
    run_batch,
    run_cli_many,
    sample_path,
)


@pytest.fixture(scope="session")
def litellm_venv_dir() -> Path:
    """The LiteLLM venv; fails the requesting test with a clear message when it is missing."""
    return litellm_venv()


@pytest.fixture(scope="session")
def oracle(litellm_venv_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> OracleRun:
    root = tmp_path_factory.mktemp("oracle")
    (root / "generated").mkdir()
    (root / "rerendered").mkdir()
    generated: dict[int, tuple[str, Path]] = {}
    for seed in GENERATED_SEEDS:
        path = root / "generated" / f"seed-{seed:03d}.yaml"
        text = generate_text(seed)
        path.write_text(text, "utf-8")
        generated[seed] = (text, path)
    rerendered: dict[str, tuple[str, Path]] = {}
    for original in corpus_files():
        # Same file name in another directory: LiteLLM messages naming it stay comparable.
        path = root / "rerendered" / original.name
        text = render(import_config(original.read_text("utf-8")).items)
        path.write_text(text, "utf-8")
        rerendered[original.name[:3]] = (text, path)
    files = [
        *corpus_files(),
        *ACCEPT_FILES,
        *REJECT_FILES,
        *ENV_DEPENDENT_FILES,
        *(p for _, p in generated.values()),
        *(p for _, p in rerendered.values()),
    ]
    sample = [sample_path(kind, name) for kind, name in REAL_CLI_SAMPLE]
    with ThreadPoolExecutor(max_workers=1) as pool:
        batch_future = pool.submit(run_batch, litellm_venv_dir, files)
        cli = run_cli_many(litellm_venv_dir, sample)
        batch = batch_future.result()
    return OracleRun(batch, cli, generated, rerendered)
