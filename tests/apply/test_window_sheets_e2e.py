"""The window's sheets end to end (issue 5, audit follow-up) against the real test stack: real
sshd, the throwaway Postgres Master, the private dockerd with LiteLLM and the socket-proxy.

- "Test stack" in the Stack sheet reports every layer of the real stack, and a wrong database
  password fails the Postgres layer only;
- a fallback to a model group that does not exist shows as an error in Review Changes (Apply
  disabled there), and the Apply bar's Apply is refused at render and validate;
- History → Restore stages the difference back to an earlier revision;
- a hand edit of config.yaml shows the drift badge, and Re-render from the drift sheet puts the
  file back in sync.

Every test leaves the shared stack as it found it (`stack_restored`, a fresh Master database).
The GUI thread only submits and listens; waits are on signals and conditions, never sleeps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import Flag, Item, ItemKind, live_items
from llmproxy_desktop.core.render import render
from llmproxy_desktop.ops.apply import Outcome, Step
from llmproxy_desktop.ops.drift_report import DriftState
from llmproxy_desktop.ops.stack_check import CheckLayer
from llmproxy_desktop.remote.docker_control import DockerControl
from llmproxy_desktop.remote.keyring_secrets import KeyringSecrets
from llmproxy_desktop.remote.profiles import SecretKind, StackProfile
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.store import Master
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.sheets.drift_sheet import DriftSheet
from llmproxy_desktop.ui.sheets.review_sheet import ReviewChangesSheet
from llmproxy_desktop.ui.sheets.stack_sheet import StackSheet
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from tests.fixtures.docker_stack import UPSTREAM_GROUPS, TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer

from .conftest import ALICE, stack_profile
from .interrupted_apply import mock_model
from .window_harness import (
    WINDOW_STACK,
    model_groups,
    saved_secrets,
    trusted_host_keys,
    workspace,
)

__all__ = ["workspace"]  # the harness's fixture, used by name below

pytestmark = [pytest.mark.integration, pytest.mark.gui]

STACK = WINDOW_STACK
MISSING_GROUP = "no-such-group"
# Jobs that restart LiteLLM on a shared, slow machine: generous, never reached by working code.
APPLY_TIMEOUT_MS = 180_000
JOB_TIMEOUT_MS = 60_000


# --- set-up --------------------------------------------------------------------------------------


def config_bytes(stack: TestStack) -> bytes:
    return (stack.config_dir / "config.yaml").read_bytes()


def litellm_started_at(stack: TestStack) -> object:
    with DockerControl(stack.socket_proxy_url, stack.container_name) as control:
        return control.litellm_state().started_at


def stage_and_show(qtbot: QtBot, workspace: StackWorkspace, master: Master, item: Item) -> None:
    """Stage `item` in the Master (as another desktop of the admin would) and refresh the
    window until the Apply bar counts it (nothing else is staged)."""
    master.stage(item, 0, ALICE)
    workspace.refresh()
    qtbot.waitUntil(lambda: workspace.apply_bar.staged_count() == 1, timeout=JOB_TIMEOUT_MS)


def apply_from_the_bar(qtbot: QtBot, workspace: StackWorkspace) -> int:
    """Click the Apply bar's Apply, wait for the progress sheet to end; the new revision."""
    workspace.apply_bar.apply_button.click()
    progress = workspace.progress_sheet
    assert progress is not None
    qtbot.waitUntil(lambda: not progress.is_running(), timeout=APPLY_TIMEOUT_MS)
    result = workspace.last_apply
    assert result is not None and result.ok, result.advice if result else progress.headline.text()
    assert result.revision_id is not None
    progress.accept()
    # The refresh after the Apply: nothing staged, the file in sync, so the bar goes.
    qtbot.waitUntil(workspace.apply_bar.isHidden, timeout=JOB_TIMEOUT_MS)
    assert workspace.apply_bar.staged_count() == 0
    return result.revision_id


def rendered_applied(master: Master) -> bytes:
    """The file the Master's applied state renders to (nothing staged)."""
    assert master.staged_count() == 0
    return render(live_items(master.effective())).encode("utf-8")


# --- "Test stack" in the Stack sheet -------------------------------------------------------------


@pytest.fixture
def stack_sheet(
    qtbot: QtBot,
    tmp_path: Path,
    stack_host_sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    docker_stack: TestStack,
) -> Iterator[StackSheet]:
    """The Edit Stack sheet of the saved test stack, its secrets saved in the keyring."""
    profile: StackProfile = stack_profile(
        STACK, stack_host_sshd, client_keys, pg_cluster, master_db, docker_stack
    )
    store = ProfileStore(tmp_path / "stacks.json")
    store.add(profile)
    runner = JobRunner()
    sheet = StackSheet(
        runner,
        profile=profile,
        store=store,
        keyring_secrets=KeyringSecrets(saved_secrets(STACK, pg_cluster, docker_stack)),
        host_keys=trusted_host_keys(tmp_path, stack_host_sshd),
    )
    qtbot.addWidget(sheet)
    sheet.open()
    yield sheet
    sheet.reject()
    assert runner.shutdown(20_000), "a test job was left running"


def outcomes(sheet: StackSheet) -> dict[CheckLayer, str]:
    return {layer: sheet.checks.outcome_text(layer) for layer in CheckLayer}


def details(sheet: StackSheet) -> dict[CheckLayer, str]:
    return {layer: sheet.checks.details[layer].text() for layer in CheckLayer}


def test_test_stack_reports_every_layer_of_the_real_stack_ok(
    qtbot: QtBot, stack_sheet: StackSheet, master_db: str, docker_stack: TestStack
) -> None:
    sheet = stack_sheet
    assert sheet.test_stack_button.isEnabled()

    with qtbot.waitSignal(sheet.test_controller.done, timeout=JOB_TIMEOUT_MS) as done:
        sheet.test_stack_button.click()

    assert done.args == ["All tested layers OK."]
    assert sheet.checks.summary.text() == "All tested layers OK."
    assert outcomes(sheet) == dict.fromkeys(CheckLayer, "OK")
    got = details(sheet)
    assert got[CheckLayer.HOST_KEY] == "matches known_hosts"
    assert got[CheckLayer.SSH_AUTH] == "key-file as root"
    assert got[CheckLayer.POSTGRES].startswith(f"llmproxy@{master_db}, PostgreSQL ")
    assert got[CheckLayer.SOCKET_PROXY].startswith(
        f"container {docker_stack.container_name}: running"
    )
    groups = len(docker_stack.model_groups)
    assert got[CheckLayer.LITELLM] == f"ready; master key accepted; {groups} model group(s)"


def test_test_stack_with_a_wrong_database_password_fails_only_the_postgres_layer(
    qtbot: QtBot, stack_sheet: StackSheet, master_db: str
) -> None:
    sheet = stack_sheet
    wrong = "not-the-db-password-5c1e"
    # Typed in the sheet, it takes the place of the password saved in the keyring.
    qtbot.keyClicks(sheet.secret_fields[SecretKind.DB_PASSWORD].edit, wrong)

    with qtbot.waitSignal(sheet.test_controller.done, timeout=JOB_TIMEOUT_MS) as done:
        sheet.test_stack_button.click()

    assert done.args == ["Failed at Postgres."]
    got = outcomes(sheet)
    assert got[CheckLayer.POSTGRES] == "FAILED"
    # The layers are independent past the forwards: the socket-proxy and LiteLLM are still
    # tested (and fine), so the admin sees that only the database login is wrong.
    assert {layer: got[layer] for layer in CheckLayer if layer is not CheckLayer.POSTGRES} == (
        dict.fromkeys(set(CheckLayer) - {CheckLayer.POSTGRES}, "OK")
    )
    detail = details(sheet)[CheckLayer.POSTGRES]
    assert detail.startswith(f"[postgres] llmproxy@{master_db}: ")
    assert "password authentication failed" in detail
    assert wrong not in detail


# --- a dangling fallback blocks the Apply -------------------------------------------------------


def test_a_fallback_to_a_missing_group_is_shown_in_review_and_refused_by_the_apply(
    qtbot: QtBot, workspace: StackWorkspace, master: Master, stack_restored: TestStack
) -> None:
    primary = UPSTREAM_GROUPS[0]
    fallbacks = Item(ItemKind.ROUTER_SETTING, "fallbacks", [{primary: [MISSING_GROUP]}])
    stage_and_show(qtbot, workspace, master, fallbacks)
    staged = master.staged_versions()
    before, before_start = config_bytes(stack_restored), litellm_started_at(stack_restored)

    # Review Changes: the error is in plain view and Apply is off, saying why.
    workspace.apply_bar.review_button.click()  # computed off the GUI thread, then opened
    qtbot.waitUntil(
        lambda: isinstance(workspace.sheet, ReviewChangesSheet) and workspace.sheet.isVisible(),
        timeout=JOB_TIMEOUT_MS,
    )
    review = workspace.sheet
    assert isinstance(review, ReviewChangesSheet)
    assert not review.apply_button.isEnabled()
    assert review.blocked_label.isVisible()
    assert review.blocked_label.text().startswith("1 error blocks Apply")
    assert review.tabs.currentWidget() is review.findings_tree
    rows = [
        review.findings_tree.topLevelItem(i)
        for i in range(review.findings_tree.topLevelItemCount())
    ]
    errors = [(r.text(1), r.text(2)) for r in rows if r is not None and r.text(0) == "error"]
    assert errors == [
        (
            f"router_settings.fallbacks[0].{primary}[0]",
            f"{MISSING_GROUP!r} is not a model group of this config; a fallback or alias to it "
            "would fail only when it fires.",
        )
    ]
    with qtbot.assertNotEmitted(review.apply_requested):
        review.apply_button.click()
    review.close_button.click()

    # The Apply bar's Apply still runs the pipeline, which refuses at render and validate.
    workspace.apply_bar.apply_button.click()
    progress = workspace.progress_sheet
    assert progress is not None
    qtbot.waitUntil(lambda: not progress.is_running(), timeout=APPLY_TIMEOUT_MS)
    result = workspace.last_apply
    assert result is not None and not result.ok and not result.committed
    assert result.outcome(Step.RENDER) is Outcome.FAILED
    assert all(result.outcome(step) is Outcome.SKIPPED for step in list(Step)[2:])
    dangling = [f for f in result.findings if f.rule == "ref.dangling"]
    assert [f.path for f in dangling] == [f"router_settings.fallbacks[0].{primary}[0]"]
    assert MISSING_GROUP in dangling[0].message
    assert progress.headline.text() == f"Apply failed: {Step.RENDER.value}"
    assert "staged items kept" in progress.outcome_label.text()

    # Nothing moved: the file, the staged items, the revisions, LiteLLM.
    assert config_bytes(stack_restored) == before
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert litellm_started_at(stack_restored) == before_start
    workspace.refresh()
    qtbot.waitUntil(lambda: not workspace.runner.is_busy(), timeout=JOB_TIMEOUT_MS)
    assert workspace.apply_bar.staged_count() == 1


# --- History → Restore --------------------------------------------------------------------------


def test_restoring_an_earlier_revision_from_history_stages_the_difference(
    qtbot: QtBot, workspace: StackWorkspace, master: Master
) -> None:
    stage_and_show(qtbot, workspace, master, mock_model("restore-first"))
    first = apply_from_the_bar(qtbot, workspace)
    stage_and_show(qtbot, workspace, master, mock_model("restore-second"))
    second = apply_from_the_bar(qtbot, workspace)
    assert second > first
    qtbot.waitUntil(lambda: "restore-second" in model_groups(workspace), timeout=JOB_TIMEOUT_MS)
    assert workspace.apply_bar.staged_count() == 0

    workspace.apply_bar.history_button.click()
    qtbot.waitUntil(lambda: workspace.history_sheet is not None, timeout=JOB_TIMEOUT_MS)
    history = workspace.history_sheet
    assert history is not None and history.isVisible()
    listed = [history.table_model.revision(r).id for r in range(history.table_model.rowCount())]
    assert first in listed and second in listed
    history.select_revision(first)
    assert history.restore_button.isEnabled()
    history.restore_button.click()
    box, confirm = history.confirm_box, history.confirm_button
    assert isinstance(box, QMessageBox) and confirm is not None
    qtbot.waitUntil(box.isVisible)
    confirm.click()

    expected = (
        f"Staged 1 change(s) that restore revision {first}. Review and Apply them to make it live."
    )
    qtbot.waitUntil(lambda: history.message_label.text() == expected, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: workspace.apply_bar.staged_count() == 1, timeout=JOB_TIMEOUT_MS)
    assert workspace.apply_bar.isVisible()
    # The one staged change deletes the model the second revision added; nothing is applied.
    assert master.staged_count() == 1
    staged = {
        (e.item.data["model_name"], e.flag)
        for e in master.effective()
        if e.flag is not None and isinstance(e.item.data, dict)
    }
    assert staged == {("restore-second", Flag.DELETED)}
    assert max(r.id for r in master.revisions()) == second


# --- drift → Re-render --------------------------------------------------------------------------


def test_a_hand_edit_shows_the_drift_badge_and_rerender_brings_the_file_back(
    qtbot: QtBot, workspace: StackWorkspace, master: Master, stack_restored: TestStack
) -> None:
    stage_and_show(qtbot, workspace, master, mock_model("drift-window"))
    apply_from_the_bar(qtbot, workspace)
    badge = workspace.apply_bar.drift_badge
    qtbot.waitUntil(workspace.apply_bar.isHidden, timeout=JOB_TIMEOUT_MS)  # in sync, nothing staged
    in_sync = config_bytes(stack_restored)
    assert in_sync == rendered_applied(master)

    path = stack_restored.config_dir / "config.yaml"
    path.write_text(path.read_text("utf-8") + 'environment_variables:\n  HAND_EDITED: "yes"\n')
    workspace.refresh()
    qtbot.waitUntil(badge.isVisible, timeout=JOB_TIMEOUT_MS)
    assert badge.text() == "config.yaml edited by hand"

    badge.click()
    drift = workspace.sheet
    assert isinstance(drift, DriftSheet) and drift.isVisible()
    assert drift.report.state is DriftState.EDITED_BY_HAND
    assert drift.rerender_button is not None
    drift.rerender_button.click()
    box, confirm = drift.confirm_box, drift.confirm_button
    assert box is not None and confirm is not None
    qtbot.waitUntil(box.isVisible)
    confirm.click()

    progress = workspace.progress_sheet
    assert progress is not None
    qtbot.waitUntil(lambda: not progress.is_running(), timeout=APPLY_TIMEOUT_MS)
    result = workspace.last_apply
    assert result is not None and result.ok, result.advice if result else ""
    assert result.outcome(Step.COMMIT) is Outcome.OK
    assert config_bytes(stack_restored) == in_sync
    assert b"HAND_EDITED" not in config_bytes(stack_restored)
    qtbot.waitUntil(badge.isHidden, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(workspace.apply_bar.isHidden, timeout=JOB_TIMEOUT_MS)
    assert (
        hashlib.sha256(config_bytes(stack_restored)).hexdigest()
        == max(master.revisions(), key=lambda r: r.id).rendered_sha256
    )
