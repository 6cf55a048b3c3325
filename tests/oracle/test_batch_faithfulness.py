"""The batch validator says exactly what `litellm --config F --validate_config` says.

The oracle tests trust tests/oracle/litellm_validate_batch.py (one LiteLLM import, a fork per
file) instead of paying ~8 s per real CLI run. This module earns that trust:

* a handful of files go through BOTH the real CLI and the batch: same exit code, same last line;
* all 40 corpus files go through the batch and must match the MANIFEST's labels, which were made
  with the real CLI (the six prometheus-only failures pass now: the venv has prometheus_client);
* the hand-written broken configs fail in the batch with the LiteLLM error they were written for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .oracle_support import (
    ENV_DEPENDENT_FILES,
    RC_FAILED,
    RC_OK,
    RC_TIMEOUT,
    REAL_CLI_SAMPLE,
    REJECT_FILES,
    OracleRun,
    corpus_file,
    expected_fragment,
    manifest_labels,
    sample_path,
)

pytestmark = pytest.mark.oracle

LABELS = manifest_labels()


@pytest.mark.parametrize(("kind", "name"), REAL_CLI_SAMPLE, ids=[n for _, n in REAL_CLI_SAMPLE])
def test_batch_gives_the_real_cli_exit_code_and_last_line(
    oracle: OracleRun, kind: str, name: str
) -> None:
    path = sample_path(kind, name)
    real, ours = oracle.cli[path], oracle.of(path)
    assert real.rc in (RC_OK, RC_FAILED), real.explain()
    assert (ours.rc, ours.last_line) == (real.rc, real.last_line), (
        f"batch: {ours.explain()}\n\nreal CLI: {real.explain()}"
    )


def test_real_cli_sample_covers_passes_and_failures(oracle: OracleRun) -> None:
    assert {v.rc for v in oracle.cli.values()} == {RC_OK, RC_FAILED}


@pytest.mark.parametrize("number", sorted(LABELS))
def test_batch_matches_the_manifest_label(oracle: OracleRun, number: str) -> None:
    label = LABELS[number]
    verdict = oracle.of(corpus_file(number))
    assert (verdict.rc, verdict.last_line) == (label.rc, label.last_line), verdict.explain()


def test_the_mcp_hang_is_reported_as_a_timeout(oracle: OracleRun) -> None:
    """018 lists its models, then hangs on an unreachable MCP server: rc 124, not a failure."""
    verdict = oracle.of(corpus_file("018"))
    assert verdict.rc == RC_TIMEOUT, verdict.explain()
    assert verdict.last_line == "openai/*"


def test_a_file_referencing_a_variable_read_during_import_runs_through_the_real_cli(
    oracle: OracleRun,
) -> None:
    """003 references AZURE_OPENAI_ENDPOINT, which LiteLLM reads while importing: a pre-imported
    fork would not see it, so the batch hands that file to a fresh `litellm` process."""
    assert oracle.of(corpus_file("003")).mode == "cli"
    assert oracle.of(corpus_file("009")).mode == "fork"


@pytest.mark.parametrize(
    "path", [*REJECT_FILES, *ENV_DEPENDENT_FILES], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_litellm_rejects_the_broken_config_with_the_expected_error(
    oracle: OracleRun, path: Path
) -> None:
    verdict = oracle.of(path)
    assert verdict.rc == RC_FAILED, verdict.explain()
    assert expected_fragment(path) in verdict.last_line, verdict.explain()
