"""Drift (issue 4 §2 and §1 step 5) against the real Master, sshd, socket-proxy and LiteLLM.

The remote config.yaml is read through the production SftpConfigFile; hand edits are made
directly in the stack's config directory, as an admin on the server would.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from llmproxy_desktop.core.items import Item, ItemKind, Secret, live_items
from llmproxy_desktop.core.render import render
from llmproxy_desktop.ops.apply import ApplyResult, Step, apply
from llmproxy_desktop.ops.apply_target import ApplyTarget, LocalConfigFile
from llmproxy_desktop.ops.drift import (
    DriftAction,
    DriftState,
    NotFoldPending,
    check_drift,
    finish_pending_apply,
    redact_config_text,
    rerender,
)
from llmproxy_desktop.store import Master
from tests.fixtures.docker_stack import TestStack

from .conftest import ALICE
from .interrupted_apply import FAST_KDF, commit_without_fold, mock_model, record_revision

pytestmark = pytest.mark.integration

# Vault literals: none may ever appear in a diff. ORG sits under a key that does not look secret,
# so only the vault-literal masking can hide it.
API_KEY = "sk-drift-applied-3f9a7c1e5d"
ORG_SECRET = "org-drift-vaulted-8b2d6e4f"
HAND_TYPED_KEY = "sk-drift-handtyped-71c0aa93"


def config_path(stack: TestStack) -> Path:
    return stack.config_dir / "config.yaml"


def ignore_progress(step: Step, fraction: float, message: str) -> None:
    """Progress is asserted by the Apply's own tests."""


def alice_applies(master: Master, target: ApplyTarget) -> ApplyResult:
    return apply(
        master,
        target,
        progress=ignore_progress,
        cancel=threading.Event(),
        actor=ALICE,
        verify_timeout=60.0,
    )


def rendered_applied(master: Master) -> bytes:
    assert master.staged_count() == 0
    return render(live_items(master.effective())).encode("utf-8")


def test_hand_edit_after_an_apply_is_drift_and_rerender_brings_the_file_back_in_sync(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    master.stage(mock_model("drift-served"), 0, ALICE)
    applied = alice_applies(master, target)
    assert applied.ok, applied

    in_sync = check_drift(master, target.config)

    assert in_sync.state is DriftState.IN_SYNC and in_sync.offers == ()
    assert in_sync.last_revision is not None and in_sync.last_revision.id == applied.revision_id
    assert in_sync.matched_revision == in_sync.last_revision
    assert (
        in_sync.file_sha256 == hashlib.sha256(config_path(stack_restored).read_bytes()).hexdigest()
    )
    assert "in sync with revision" in in_sync.sentence()

    path = config_path(stack_restored)
    path.write_text(path.read_text("utf-8") + 'environment_variables:\n  HAND_EDITED: "yes"\n')

    drifted = check_drift(master, target.config)

    assert drifted.state is DriftState.EDITED_BY_HAND
    assert drifted.offers == (DriftAction.RERENDER,)
    assert "+environment_variables:" in drifted.diff.splitlines()
    assert any(line.startswith("+  HAND_EDITED:") for line in drifted.diff.splitlines())
    assert drifted.diff.startswith("--- applied/config.yaml\n+++ server/config.yaml\n")

    result = rerender(
        master, target, progress=ignore_progress, cancel=threading.Event(), actor=ALICE
    )

    assert result.ok and result.committed, result
    assert path.read_bytes() == rendered_applied(master)
    after = check_drift(master, target.config)
    assert after.state is DriftState.IN_SYNC
    assert after.last_revision is not None and after.last_revision.id == result.revision_id
    assert after.last_revision.summary == "0 new, 0 changed, 0 deleted"


def test_drift_diff_never_shows_a_secret_on_either_side(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    master.init_vault("passphrase", ALICE, **FAST_KDF)
    credential = Item(
        ItemKind.CREDENTIAL,
        "drift-credential",
        {
            "credential_values": {"api_key": Secret(API_KEY), "organization": Secret(ORG_SECRET)},
            "credential_info": {"custom_llm_provider": "openai"},
        },
    )
    master.stage(credential, 0, ALICE)
    record_revision(master, target.config, ALICE, engine)
    path = config_path(stack_restored)
    on_disk = path.read_text("utf-8")
    assert API_KEY in on_disk and ORG_SECRET in on_disk  # the real file holds the literals
    assert check_drift(master, target.config).state is DriftState.IN_SYNC
    # In sync is decided from hashes: a locked vault does not stop the check on connect.
    master.lock_vault()
    assert check_drift(master, target.config).state is DriftState.IN_SYNC
    master.unlock_vault("passphrase")

    # A hand edit that types a new key over the vaulted one and adds a section.
    path.write_text(
        on_disk.replace(API_KEY, HAND_TYPED_KEY) + "environment_variables:\n  HAND_EDITED: one\n"
    )
    edited = check_drift(master, target.config)

    assert edited.state is DriftState.EDITED_BY_HAND
    assert "+  HAND_EDITED: one" in edited.diff.splitlines()
    # The typed-over key shows as changed, its value as neither literal.
    assert '-      api_key: "***"' in edited.diff.splitlines()
    assert '+      api_key: "*** (not the Master\'s value)"' in edited.diff.splitlines()
    for literal in (API_KEY, ORG_SECRET, HAND_TYPED_KEY):
        assert literal not in edited.diff

    # A hand edit that breaks the YAML: the line-level mask still hides every secret.
    path.write_text(on_disk.replace(API_KEY, HAND_TYPED_KEY) + "model_list: [unclosed\n")
    broken = check_drift(master, target.config)

    assert broken.state is DriftState.EDITED_BY_HAND
    assert "+model_list: [unclosed" in broken.diff.splitlines()
    assert "***" in broken.diff
    for literal in (API_KEY, ORG_SECRET, HAND_TYPED_KEY):
        assert literal not in broken.diff


def test_redacting_unparsable_text_masks_secret_keys_url_passwords_and_auth_headers() -> None:
    text = (
        b"general_settings:\n"
        b"  master_key: sk-literal-master\n"
        b"  database_url: postgres://llm:pw-in-db-url@db/litellm\n"
        b"  - api_base: https://proxy:pw-in-url@upstream.example/v1\n"
        b"  headers: {Authorization: Bearer tok-123456}\n"
        b"  - extra_header: 'Bearer tok-abcdef'\n"
        b"  note: vault-literal-here [\n"
    )

    shown = redact_config_text(text, {"vault-literal"})

    for literal in (
        "sk-literal-master",
        "pw-in-db-url",
        "pw-in-url",
        "tok-123456",
        "tok-abcdef",
        "vault-literal",
    ):
        assert literal not in shown
    assert "https://proxy:***@upstream.example/v1" in shown
    assert "  database_url: ***\n" in shown


def test_a_fold_lost_after_the_rename_is_detected_and_finished(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    master.stage(mock_model("drift-pending"), 0, ALICE)
    master.stage(Item(ItemKind.ROUTER_SETTING, "num_retries", 2), 0, ALICE)
    written = commit_without_fold(master, target.config)

    pending = check_drift(master, target.config)

    assert pending.state is DriftState.FOLD_PENDING
    assert pending.offers == (DriftAction.FINISH, DriftAction.RERENDER)
    assert pending.staged_count == 2 and pending.last_revision is None
    assert pending.file_sha256 == hashlib.sha256(written).hexdigest()

    revision_id = finish_pending_apply(master, target.config, ALICE, lock_engine=engine)

    assert master.staged_count() == 0
    (revision,) = master.revisions()
    assert revision.id == revision_id
    assert revision.summary == "2 new, 0 changed, 0 deleted"
    assert revision.rendered_sha256 == hashlib.sha256(written).hexdigest()
    assert config_path(stack_restored).read_bytes() == written == rendered_applied(master)
    assert check_drift(master, target.config).state is DriftState.IN_SYNC

    # Finishing twice records nothing more.
    with pytest.raises(NotFoldPending) as refused:
        finish_pending_apply(master, target.config, ALICE, lock_engine=engine)
    assert refused.value.report.state is DriftState.IN_SYNC
    assert len(master.revisions()) == 1


def test_a_file_of_an_older_revision_names_that_revision(
    master: Master, target: ApplyTarget, stack_restored: TestStack, engine: Engine
) -> None:
    master.stage(mock_model("drift-first"), 0, ALICE)
    first = record_revision(master, target.config, ALICE, engine)
    first_bytes = config_path(stack_restored).read_bytes()
    master.stage(mock_model("drift-second"), 0, ALICE)
    second = record_revision(master, target.config, ALICE, engine)

    config_path(stack_restored).write_bytes(first_bytes)  # a backup put back by hand
    report = check_drift(master, target.config)

    assert report.state is DriftState.OLDER_REVISION
    assert report.offers == (DriftAction.RERENDER,)
    assert report.matched_revision is not None and report.matched_revision.id == first
    assert report.last_revision is not None and report.last_revision.id == second
    removed = [line for line in report.diff.splitlines() if line.startswith("-")]
    assert any("drift-second" in line for line in removed)
    assert f"revision {first}" in report.sentence()


def test_a_missing_or_never_applied_file_is_unknown_and_cannot_be_finished(
    master: Master, tmp_path: Path, engine: Engine
) -> None:
    local = LocalConfigFile(tmp_path / "config.yaml")

    missing = check_drift(master, local)

    assert missing.state is DriftState.UNKNOWN_FILE and missing.file_sha256 is None
    assert missing.offers == (DriftAction.RERENDER,)

    local.path.write_text("model_list: []\nsomething_else: 1\n")
    foreign = check_drift(master, local)

    assert foreign.state is DriftState.UNKNOWN_FILE and foreign.file_sha256 is not None
    assert "+something_else: 1" in foreign.diff.splitlines()
    with pytest.raises(NotFoldPending) as refused:
        finish_pending_apply(master, local, ALICE, lock_engine=engine)
    assert refused.value.report.state is DriftState.UNKNOWN_FILE
    assert master.revisions() == []
