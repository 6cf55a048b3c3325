"""The Deploy sheet with a fake runner: files created here, progress streamed into the log,
Cancel only before `up` (then Stop Waiting), the result with Show Dashboard, failures as one
sentence."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.compose_health import ServiceState
from llmproxy_desktop.ops.deploy import DeployFiles, DeployResult, DeployStep
from llmproxy_desktop.ops.first_boot import FirstBootResult
from llmproxy_desktop.ui.job_runner import JobProgress
from llmproxy_desktop.ui.sheets.deploy_sheet import DeploySheet

pytestmark = pytest.mark.gui


@dataclass
class FakeRunner:
    """Records the job and its callbacks; the test plays the worker's part."""

    operation: Callable[[JobProgress, threading.Event], object] | None = None
    on_result: Callable[[object], None] | None = None
    on_error: Callable[[str], None] | None = None
    on_progress: Callable[[str, float, str], None] | None = None
    cancelled: list[str] = field(default_factory=list)

    def run(
        self,
        name: str,
        operation: Callable[[JobProgress, threading.Event], object],
        on_result: Callable[[object], None],
        on_error: Callable[[str], None],
        *,
        on_progress: Callable[[str, float, str], None] | None = None,
        cancellable: bool = True,
    ) -> str:
        assert name == "Deploy" and cancellable
        self.operation, self.on_result, self.on_error = operation, on_result, on_error
        self.on_progress = on_progress
        return "job-1"

    def cancel(self, job_id: str) -> bool:
        self.cancelled.append(job_id)
        return True

    def progress(self, step: DeployStep, fraction: float, message: str) -> None:
        assert self.on_progress is not None
        self.on_progress(step.value, fraction, message)


RESULT = DeployResult(
    compose_dir="/srv/llm",
    compose_command="docker compose",
    uploaded=(".env",),
    services=(ServiceState("litellm", "litellm-proxy", "running", "healthy", 0, "always"),),
    first_boot=FirstBootResult(4, "host:/srv/llm/config/config.yaml", (), False),
)


def make_sheet(
    qtbot: QtBot, runner: FakeRunner, directory: Path | None, jobs: list[Path] | None = None
) -> DeploySheet:
    def deploy_job(chosen: Path) -> Callable[[JobProgress, threading.Event], object]:
        if jobs is not None:
            jobs.append(chosen)
        return lambda _progress, _cancel: RESULT

    sheet = DeploySheet(
        "gw",
        "/srv/llm",
        runner,
        deploy_job,
        directory=directory,
        ask_overwrite=lambda _name, _reason: False,
    )
    qtbot.addWidget(sheet)
    return sheet


def test_create_files_writes_the_directory_and_shows_the_backup_advice(
    qtbot: QtBot, tmp_path: Path
) -> None:
    sheet = make_sheet(qtbot, FakeRunner(), tmp_path / "stack")
    assert not sheet.deploy_button.isEnabled()
    assert "No .env here yet" in sheet.files_status.text()

    sheet.init_button.click()

    env = tmp_path / "stack" / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "LITELLM_SALT_KEY" in sheet.advice_label.text()
    assert sheet.deploy_button.isEnabled()
    assert "Ready" in sheet.files_status.text()


def test_deploy_streams_progress_and_offers_cancel_only_before_up(
    qtbot: QtBot, tmp_path: Path
) -> None:
    runner = FakeRunner()
    jobs: list[Path] = []
    sheet = make_sheet(qtbot, runner, tmp_path, jobs)
    sheet.init_button.click()
    sheet.deploy_button.click()

    assert jobs == [tmp_path]
    assert sheet.running and not sheet.deploy_button.isEnabled()
    runner.progress(DeployStep.UPLOAD, 0.1, ".env: uploaded")
    assert sheet.cancel_button.isEnabled() and sheet.cancel_button.text() == "Cancel"
    runner.progress(DeployStep.START, 0.3, "Container litellm-proxy  Started")
    assert not sheet.cancel_button.isEnabled()
    runner.progress(DeployStep.HEALTH, 0.6, "litellm: running, health starting")
    assert sheet.cancel_button.isEnabled() and sheet.cancel_button.text() == "Stop Waiting"
    assert "Container litellm-proxy  Started" in sheet.log.toPlainText()
    assert sheet.progress.value() == 600

    sheet.reject()  # Esc while running: the sheet stays
    assert sheet.running

    with qtbot.waitSignal(sheet.deployed) as deployed:
        assert runner.on_result is not None
        runner.on_result(RESULT)
    assert deployed.args == [RESULT]
    assert "Imported 4 item(s)" in sheet.result_label.text()
    assert sheet.dashboard_button.isVisibleTo(sheet)
    with qtbot.waitSignal(sheet.show_dashboard):
        sheet.dashboard_button.click()


def test_cancel_before_up_asks_the_runner_to_stop(qtbot: QtBot, tmp_path: Path) -> None:
    runner = FakeRunner()
    sheet = make_sheet(qtbot, runner, tmp_path)
    sheet.init_button.click()
    sheet.deploy_button.click()
    runner.progress(DeployStep.CHECK, 0.0, "checking docker compose")

    sheet.cancel_button.click()

    assert runner.cancelled == ["job-1"]
    assert runner.on_result is not None
    runner.on_result(DeployResult(compose_dir="/srv/llm", cancelled=True))
    assert "Nothing was started" in sheet.result_label.text()
    assert sheet.cancel_button.text() == "Close"
    assert sheet.deploy_button.isEnabled()


def test_a_failure_shows_its_sentence_and_deploy_can_be_retried(
    qtbot: QtBot, tmp_path: Path
) -> None:
    runner = FakeRunner()
    sheet = make_sheet(qtbot, runner, tmp_path)
    sheet.init_button.click()
    sheet.deploy_button.click()

    assert runner.on_error is not None
    runner.on_error("Deploy failed: seed: exited (code 3)")

    assert sheet.step_label.text() == "Deploy failed"
    assert "code 3" in sheet.result_label.text()
    assert sheet.deploy_button.isEnabled() and not sheet.running


def test_a_job_that_cannot_be_made_fails_without_starting(qtbot: QtBot, tmp_path: Path) -> None:
    runner = FakeRunner()

    def deploy_job(chosen: Path) -> Callable[[JobProgress, threading.Event], object]:
        files = DeployFiles.from_dir(chosen / "missing")
        return lambda _p, _c: files

    sheet = DeploySheet("gw", "/srv/llm", runner, deploy_job, directory=tmp_path)
    qtbot.addWidget(sheet)
    sheet.init_button.click()
    sheet.deploy_button.click()

    assert runner.operation is None and not sheet.running
    assert "stack init" in sheet.result_label.text()
