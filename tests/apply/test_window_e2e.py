"""The desktop app end to end (issue 5 §4): the real main window and workspace, connected over
SSH to the real test stack (Master in Postgres, socket-proxy, LiteLLM). Add a model in the sheet
→ its staged flag shows → Apply from the Apply bar through the job runner → the flag clears →
the model answers "Test" through the proxy. The GUI thread only submits and listens."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import Flag
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.store import Master
from llmproxy_desktop.ui.models_table import Column
from llmproxy_desktop.ui.stack_workspace import StackWorkspace
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import ClientKeys, SshdServer

from .window_harness import WINDOW_STACK, open_workspace, workspace

__all__ = ["workspace"]  # the harness's fixture, used by name below

pytestmark = [pytest.mark.integration, pytest.mark.gui]

STACK = WINDOW_STACK
GROUP = "window-added"
APPLY_TIMEOUT_MS = 120_000


def model_rows(workspace: StackWorkspace) -> dict[str, Flag | None]:
    """{model group: flag} as the Models page's table shows them."""
    return {row.cells[Column.GROUP]: row.flag for row in workspace.models_page.table_model.rows}


def test_add_a_model_apply_it_from_the_bar_and_test_it(
    qtbot: QtBot, workspace: StackWorkspace, stack_restored: TestStack, master: Master
) -> None:
    window = workspace.window
    qtbot.waitUntil(lambda: bool(model_rows(workspace)), timeout=30_000)
    assert window.connection_indicator.state is SessionStatus.CONNECTED
    assert set(model_rows(workspace)) == set(stack_restored.model_groups)
    # Nothing staged; the bar still shows, for the drift: the imported file was never applied.
    assert workspace.apply_bar.staged_count() == 0 and workspace.apply_bar.isVisible()

    # Add a model through the sheet: an OpenAI-compatible model on the fake upstream.
    page = workspace.models_page
    window.show_page("models")
    page.add_model()
    sheet = page.sheet
    assert sheet is not None
    sheet.provider.setCurrentText("openai")
    sheet.model.setCurrentText("fake-gpt")
    sheet.group.setText(GROUP)
    sheet.key_source.setCurrentIndex(sheet.key_source.findData("env"))
    sheet.env_var.setText("FAKE_UPSTREAM_API_KEY")
    sheet.api_base.setText(stack_restored.upstream_url)
    assert sheet.save_button.isEnabled(), sheet.field_errors()
    sheet.save_button.click()

    # The staged flag comes back from the store, in the accent colour, and the bar appears.
    qtbot.waitUntil(lambda: model_rows(workspace).get(GROUP) is Flag.NEW, timeout=30_000)
    assert page.sheet is None  # saved, closed and gone
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == GROUP)
    assert page.proxy.index(row, Column.STATUS).data() == "new"
    assert workspace.apply_bar.isVisible() and workspace.apply_bar.staged_count() == 1

    # Apply from the bar: the progress sheet runs through the seven steps.
    workspace.apply_bar.apply_button.click()
    progress = workspace.progress_sheet
    assert progress is not None and progress.is_running()
    qtbot.waitUntil(lambda: not progress.is_running(), timeout=APPLY_TIMEOUT_MS)
    assert workspace.last_apply is not None and workspace.last_apply.ok, (
        workspace.last_apply.advice if workspace.last_apply else progress.headline.text()
    )
    assert progress.headline.text().startswith("Applied")

    # The flag clears (a refresh after the Apply), the bar hides (nothing staged, the file in
    # sync now), the Master agrees.
    qtbot.waitUntil(lambda: model_rows(workspace).get(GROUP, Flag.NEW) is None, timeout=30_000)
    qtbot.waitUntil(workspace.apply_bar.isHidden, timeout=10_000)
    assert master.staged_count() == 0

    # "Test" on the new row: one chat completion through the proxy to the fake upstream.
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == GROUP)
    page.select_rows([row])
    assert page.test_button.isEnabled()
    before = len(stack_restored.upstream.requests)
    page.test_button.click()
    qtbot.waitUntil(lambda: "answered in" in page.test_label.text(), timeout=60_000)
    assert "fake upstream heard" in page.test_label.text()
    assert len(stack_restored.upstream.requests) == before + 1


def test_an_empty_master_is_offered_the_first_boot_import(
    qtbot: QtBot,
    tmp_path: Path,
    stack_host_sshd: SshdServer,
    client_keys: ClientKeys,
    pg_cluster: Any,
    master_db: str,
    stack_restored: TestStack,
    engine: Any,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    workspaces = open_workspace(
        qtbot, tmp_path, STACK, stack_host_sshd, client_keys, pg_cluster, master_db, stack_restored
    )
    workspace = next(workspaces)
    try:
        qtbot.waitUntil(lambda: isinstance(workspace.sheet, QMessageBox), timeout=30_000)
        box = workspace.sheet
        assert isinstance(box, QMessageBox) and box.text().startswith("Import the configuration")
        assert model_rows(workspace) == {}  # nothing to show before the import
        import_button = next(b for b in box.buttons() if b.text() == "Import")
        import_button.click()
        qtbot.waitUntil(
            lambda: set(model_rows(workspace)) == set(stack_restored.model_groups),
            timeout=30_000,
        )
        assert Master.open(engine).initialised() is not None
    finally:
        with contextlib.suppress(StopIteration):
            next(workspaces)
