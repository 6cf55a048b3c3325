"""Our config validator against the real LiteLLM 1.108.7 (the oracle).

(a) What our validator ACCEPTS (no ERROR finding), LiteLLM accepts too (`--validate_config`
    rc 0), with every deployment kept. Checked on hand-written realistic configs
    (configs/accept/), on seeded generated configs (config_generator.py) and on every corpus
    file after a round trip through the app (import_config -> render).
(b) What LiteLLM rejects on load (the crash class: configs/reject/ and corpus 016), our
    validator rejects too.

Corpus files whose LiteLLM failure is environmental are excluded from (a): for each one the
test below checks that LiteLLM fails for exactly the stated reason and nothing else.

LiteLLM's verdicts come from the session's single batch run (conftest.py `oracle`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from llmproxy_desktop.core.findings import Finding, Severity, has_errors
from llmproxy_desktop.core.importer import import_config
from llmproxy_desktop.core.render import render
from llmproxy_desktop.core.validate import validate_text

from .oracle_support import (
    ACCEPT_FILES,
    CORPUS,
    GENERATED_SEEDS,
    RC_FAILED,
    RC_OK,
    RC_TIMEOUT,
    REJECT_FILES,
    OracleRun,
    corpus_file,
    corpus_files,
    expected_fragment,
    manifest_labels,
)

pytestmark = pytest.mark.oracle


@dataclass(frozen=True)
class Environmental:
    """Why a corpus file cannot pass `--validate_config` outside its original deployment."""

    reason: str
    rc: int
    pattern: str  # regex that LiteLLM's last line must match (fullmatch)


# Corpus files excluded from property (a): LiteLLM fails on them for reasons that are about the
# machine, not the config. The MANIFEST documents each; test_environmental_exclusion_* checks
# that this is really why LiteLLM fails (in the original and in the re-rendered file).
ENVIRONMENTAL: dict[str, Environmental] = {
    "002": Environmental(
        "loads the custom callback module chatgpt_role_fix.py, not shipped with the file",
        RC_FAILED,
        r"LiteLLM: config validation failed: Could not import chatgpt_system_role_fix "
        r"from chatgpt_role_fix",
    ),
    "010": Environmental(
        "loads the custom callback module billing_callback.py, not shipped with the file",
        RC_FAILED,
        r"LiteLLM: config validation failed: Could not import billing_callback_instance "
        r"from billing_callback",
    ),
    "017": Environmental(
        "loads the custom callback module bedrock_ctx_stripper.py, not shipped with the file",
        RC_FAILED,
        r"LiteLLM: config validation failed: Could not import bedrock_ctx_stripper_instance "
        r"from bedrock_ctx_stripper",
    ),
    "021": Environmental(
        "loads the custom module rag_pipeline/pre_request_hook.py, not shipped with the file",
        RC_FAILED,
        r"LiteLLM: config validation failed: Could not import rag_handler_instance "
        r"from rag_pipeline\.pre_request_hook",
    ),
    "018": Environmental(
        "top-level mcp_servers over http to mcp-proxy:8080: LiteLLM waits for that host forever "
        "(after listing the models)",
        RC_TIMEOUT,
        r"open(ai|router)/\*",  # the last model it listed (render sorts them)
    ),
    "029": Environmental(
        "its presidio guardrail reads /app/config/presidio_recognizers.json, which exists only "
        "in the original container",
        RC_FAILED,
        r"LiteLLM: config validation failed: File not found\. "
        r"file_path=/app/config/presidio_recognizers\.json",
    ),
    "031": Environmental(
        "include: litellm-models.yaml, which was not copied with the file",
        RC_FAILED,
        r"LiteLLM: config validation failed: Included file not found: .*/litellm-models\.yaml",
    ),
}
GENUINE_CORPUS_REJECT = "016"  # routing_strategy: llmrouter-knn (a fork's strategy)


def _errors(findings: list[Finding]) -> list[str]:
    return [f.line() for f in findings if f.severity is Severity.ERROR]


def _listed_rows(text: str) -> int:
    """How many rows LiteLLM's `config OK (N models)` must count when it keeps every deployment:
    N is len(router.get_model_list()), i.e. the deployments, plus each deployment once more per
    routing group and per visible model_group_alias that reaches it (litellm/router.py)."""
    config = yaml.safe_load(text) or {}
    models = config.get("model_list") or []
    router = config.get("router_settings") or {}
    per_group = Counter(m["model_name"] for m in models)
    routing_groups = {g["group_name"]: g["models"] for g in router.get("routing_groups") or []}

    def rows(name: str) -> int:
        if name in routing_groups:
            return sum(per_group[member] for member in routing_groups[name])
        return per_group[name]

    total = len(models) + sum(rows(name) for name in routing_groups)
    for target in (router.get("model_group_alias") or {}).values():
        if isinstance(target, dict):
            if target.get("hidden") is True:
                continue
            target = target["model"]
        total += rows(target)
    return total


def _rerendered_text(number: str) -> str:
    return render(import_config(corpus_file(number).read_text("utf-8")).items)


# --- (a) accepted by us => accepted by LiteLLM --------------------------------------------------


@pytest.mark.parametrize("path", ACCEPT_FILES, ids=lambda p: p.stem)
def test_hand_written_valid_config_is_accepted_by_both(oracle: OracleRun, path: Path) -> None:
    text = path.read_text("utf-8")
    assert _errors(validate_text(text)) == [], "our validator rejects a config LiteLLM loads"
    verdict = oracle.of(path)
    assert verdict.rc == RC_OK, verdict.explain()
    assert verdict.model_count == _listed_rows(text), f"deployments dropped: {verdict.explain()}"


@pytest.mark.parametrize("seed", GENERATED_SEEDS)
def test_generated_valid_config_is_accepted_by_both(oracle: OracleRun, seed: int) -> None:
    text, path = oracle.generated[seed]
    verdict = oracle.of(path)
    assert _errors(validate_text(text)) == [], f"seed {seed}: our validator rejects:\n{text}"
    assert verdict.rc == RC_OK, f"seed {seed}:\n{text}\n{verdict.explain()}"
    assert verdict.model_count == _listed_rows(text), f"seed {seed}: {verdict.explain()}"


ACCEPTED_RERENDERS = sorted(
    n
    for n in (p.name[:3] for p in corpus_files())
    if n not in ENVIRONMENTAL and not has_errors(validate_text(_rerendered_text(n)))
)


def test_property_a_covers_most_of_the_corpus() -> None:
    """Guard against a vacuous (a): most re-rendered corpus files must pass our validator."""
    assert len(ACCEPTED_RERENDERS) >= 15, ACCEPTED_RERENDERS


@pytest.mark.parametrize("number", ACCEPTED_RERENDERS)
def test_litellm_accepts_rerendered_corpus_config_our_validator_accepts(
    oracle: OracleRun, number: str
) -> None:
    text, path = oracle.rerendered[number]
    verdict = oracle.of(path)
    assert not has_errors(validate_text(text))
    assert verdict.rc == RC_OK, verdict.explain()


LABELS = manifest_labels()


def _normalise(line: str, directory: str) -> str:
    return line.replace(directory, "<dir>")


@pytest.mark.parametrize("number", sorted(LABELS))
def test_rerendered_corpus_config_gets_the_original_litellm_verdict(
    oracle: OracleRun, number: str
) -> None:
    """Import + render must not change what LiteLLM makes of a file: same exit code, same
    number of deployments kept, same error."""
    label = LABELS[number]
    verdict = oracle.of(oracle.rerendered[number][1])
    assert verdict.rc == label.rc, verdict.explain()
    if label.rc == RC_FAILED:
        assert _normalise(verdict.last_line, str(verdict.file.parent)) == _normalise(
            label.last_line, str(CORPUS.resolve())
        ), verdict.explain()
    elif label.rc == RC_OK:
        assert verdict.last_line == label.last_line, verdict.explain()


@pytest.mark.parametrize("number", sorted(ENVIRONMENTAL))
def test_environmental_exclusion_fails_only_for_its_stated_reason(
    oracle: OracleRun, number: str
) -> None:
    exclusion = ENVIRONMENTAL[number]
    label = LABELS[number]
    assert label.rc == exclusion.rc and re.fullmatch(exclusion.pattern, label.last_line), (
        f"{number}: the MANIFEST's verdict no longer matches the exclusion ({exclusion.reason})"
    )
    verdict = oracle.of(oracle.rerendered[number][1])
    assert verdict.rc == exclusion.rc, f"{exclusion.reason}\n{verdict.explain()}"
    assert re.fullmatch(exclusion.pattern, verdict.last_line), (
        f"{exclusion.reason}\n{verdict.explain()}"
    )


# --- (b) rejected by LiteLLM => rejected by us ---------------------------------------------------


@pytest.mark.parametrize("path", REJECT_FILES, ids=lambda p: p.stem)
def test_our_validator_rejects_what_litellm_fails_to_load(oracle: OracleRun, path: Path) -> None:
    verdict = oracle.of(path)
    assert verdict.rc == RC_FAILED, verdict.explain()
    assert expected_fragment(path) in verdict.last_line, verdict.explain()
    findings = validate_text(path.read_text("utf-8"))
    assert has_errors(findings), (
        f"LiteLLM fails on load ({verdict.last_line!r}) but our validator only says:\n"
        + "\n".join(f.line() for f in findings)
    )


def test_our_validator_rejects_the_corpus_config_with_a_forks_routing_strategy(
    oracle: OracleRun,
) -> None:
    path = corpus_file(GENUINE_CORPUS_REJECT)
    verdict = oracle.of(path)
    assert verdict.rc == RC_FAILED, verdict.explain()
    assert "Invalid routing_strategy: 'llmrouter-knn'" in verdict.last_line
    findings = validate_text(path.read_text("utf-8"))
    assert "routing.strategy-invalid" in {f.rule for f in findings if f.severity is Severity.ERROR}
    rerendered = oracle.of(oracle.rerendered[GENUINE_CORPUS_REJECT][1])
    assert "Invalid routing_strategy: 'llmrouter-knn'" in rerendered.last_line
