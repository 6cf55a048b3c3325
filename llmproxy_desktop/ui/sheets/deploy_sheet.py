"""Deploy to server (issue #7 §2): pick or create the stack's files here, then deploy them.

1. **Stack files on this computer**: a directory with docker-compose.yml and a `.env`. "Create
   Files" runs `stack init` on it (the app's bundled files, fresh secrets, .env mode 0600), asks
   before replacing anything real, and shows what to back up.
2. **Deploy**: the job (made by `deploy_job(directory)`, run by the injected runner, shaped like
   `StackController.run` without the connection) uploads, runs `docker compose up -d` and waits
   for health; its progress messages (compose's own output among them) stream into the log.

Cancel is offered until `up` starts; while the services start it becomes "Stop Waiting" (they
keep starting on the server). On success "Show Dashboard" emits `show_dashboard`; `deployed`
carries the DeployResult. Failures arrive as one sentence from the runner, never a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...ops.deploy import DeployFailed, DeployResult, DeployStep
from ...ops.stack_init import AskOverwrite, InitResult, init_stack_dir
from ...stack_files import COMPOSE_FILE, ENV_FILE, StackFilesMissing
from ..job_runner import JobProgress
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, secondary_label

__all__ = ["DeployJob", "DeployRunner", "DeploySheet"]

_PROGRESS_STEPS: Final = 1000
_LOG_LINES: Final = 5000

DeployJob = Callable[[Path], Callable[[JobProgress, threading.Event], object]]
"""`deploy_job(directory)` → the job: `(progress, cancel) -> DeployResult`."""

InitDir = Callable[[Path, AskOverwrite], InitResult]


class DeployRunner(Protocol):
    """Runs one job off the GUI thread and answers on it (`StackController.run`-shaped)."""

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
        """Start `operation`; return its job id."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Set the job's cancel token."""
        ...


class DeploySheet(QDialog):
    """The deploy wizard of one stack (see the module docstring)."""

    deployed = Signal(object)  # DeployResult
    show_dashboard = Signal()

    def __init__(
        self,
        stack_name: str,
        compose_dir: str,
        runner: DeployRunner,
        deploy_job: DeployJob,
        *,
        directory: Path | None = None,
        init: InitDir = init_stack_dir,
        ask_overwrite: AskOverwrite | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Deploy {stack_name}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._runner = runner
        self._deploy_job = deploy_job
        self._init = init
        self._ask_overwrite = ask_overwrite or self._ask_overwrite_box
        self._job_id: str | None = None
        self._step: str | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        heading = QLabel(f"Deploy a LiteLLM stack to {stack_name}")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        layout.addWidget(
            secondary_label(
                f"The files are uploaded to {compose_dir} on the server, then started with "
                "docker compose. Deploying again updates them and is safe."
            )
        )

        files = QGroupBox("Stack files on this computer")
        files_layout = QVBoxLayout(files)
        row = QHBoxLayout()
        self.directory_edit = QLineEdit(str(directory) if directory else "")
        self.directory_edit.setPlaceholderText("a directory for docker-compose.yml and .env")
        self.directory_edit.textChanged.connect(self._update_files_state)
        self.browse_button = QPushButton("Choose…")
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(self.directory_edit, 1)
        row.addWidget(self.browse_button)
        files_layout.addLayout(row)
        self.files_status = secondary_label("")
        files_layout.addWidget(self.files_status)
        self.init_button = QPushButton("Create Files")
        self.init_button.setToolTip(
            "Write the app's docker-compose.yml and a .env with fresh secrets (mode 0600)"
        )
        self.init_button.clicked.connect(self._create_files)
        files_layout.addWidget(self.init_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.advice_label = QLabel("")
        self.advice_label.setWordWrap(True)
        self.advice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.advice_label.hide()
        files_layout.addWidget(self.advice_label)
        layout.addWidget(files)

        run_box = QGroupBox("Deploy")
        run_layout = QVBoxLayout(run_box)
        self.step_label = QLabel("Not started")
        run_layout.addWidget(self.step_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, _PROGRESS_STEPS)
        self.progress.setValue(0)
        run_layout.addWidget(self.progress)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(_LOG_LINES)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setMinimumHeight(180)
        run_layout.addWidget(self.log)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        run_layout.addWidget(self.result_label)
        layout.addWidget(run_box, 1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.dashboard_button = QPushButton("Show Dashboard")
        self.dashboard_button.clicked.connect(self._show_dashboard)
        self.dashboard_button.hide()
        self.deploy_button = QPushButton("Deploy")
        self.deploy_button.setDefault(True)
        self.deploy_button.clicked.connect(self._deploy)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.dashboard_button)
        buttons.addWidget(self.deploy_button)
        layout.addLayout(buttons)
        self.resize(640, 560)
        self._update_files_state()

    # -- state -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while a deploy job is under way."""
        return self._job_id is not None

    def _directory(self) -> Path | None:
        text = self.directory_edit.text().strip()
        return Path(text).expanduser() if text else None

    @Slot()
    def _update_files_state(self) -> None:
        directory = self._directory()
        ready = (
            directory is not None
            and (directory / ENV_FILE).is_file()
            and (directory / COMPOSE_FILE).is_file()
        )
        if directory is None:
            self.files_status.setText("Choose a directory, or create the files in a new one.")
        elif ready:
            self.files_status.setText(f"Ready: {COMPOSE_FILE} and {ENV_FILE} found.")
        else:
            self.files_status.setText(
                f"No {ENV_FILE} here yet: Create Files writes one with fresh secrets."
            )
        self.init_button.setEnabled(directory is not None and not self.running)
        self.deploy_button.setEnabled(ready and not self.running)

    # -- files -------------------------------------------------------------------------------

    @Slot()
    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Stack files", self.directory_edit.text())
        if chosen:
            self.directory_edit.setText(chosen)

    @Slot()
    def _create_files(self) -> None:
        directory = self._directory()
        if directory is None:
            return
        try:
            result = self._init(directory, self._ask_overwrite)
        except (StackFilesMissing, OSError) as error:
            self.files_status.setText(f"Could not create the files: {error}")
            return
        written = ", ".join(result.written) or "nothing (all files were already there)"
        self.files_status.setText(f"Wrote {written}.")
        self.advice_label.setText("Back up now:\n• " + "\n• ".join(result.advice))
        self.advice_label.show()
        self._update_files_state()

    def _ask_overwrite_box(self, name: str, reason: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Replace?",
            f"{name} {reason}. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- deploy ------------------------------------------------------------------------------

    @Slot()
    def _deploy(self) -> None:
        directory = self._directory()
        if directory is None or self.running:
            return
        self.log.clear()
        self.result_label.setText("")
        self.dashboard_button.hide()
        self.progress.setValue(0)
        self._step = None
        try:
            job = self._deploy_job(directory)
        except (DeployFailed, OSError) as error:  # e.g. the directory lost its files
            self._failed(str(error))
            return
        self._job_id = self._runner.run(
            "Deploy",
            job,
            self._finished,
            self._failed,
            on_progress=self._on_progress,
            cancellable=True,
        )
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(True)
        self._update_files_state()
        self.directory_edit.setEnabled(False)
        self.browse_button.setEnabled(False)

    def _on_progress(self, step: str, fraction: float, message: str) -> None:
        if step != self._step:
            self._step = step
            self.step_label.setText(step)
            self.log.appendPlainText(f"== {step}")
            if step == DeployStep.START.value:
                self.cancel_button.setEnabled(False)  # past the point where stopping is safe
            elif step == DeployStep.HEALTH.value:
                self.cancel_button.setText("Stop Waiting")
                self.cancel_button.setEnabled(True)
            elif step == DeployStep.IMPORT.value:
                self.cancel_button.setEnabled(False)
        self.log.appendPlainText(message)
        self.progress.setValue(round(fraction * _PROGRESS_STEPS))

    def _finished(self, result: object) -> None:
        self._end()
        if not isinstance(result, DeployResult):
            return
        if result.cancelled:
            self.step_label.setText("Cancelled")
            self.result_label.setText(
                "Stopped waiting: the services keep starting on the server."
                if result.services
                else "Nothing was started on the server."
            )
            return
        self.progress.setValue(_PROGRESS_STEPS)
        self.step_label.setText("Deployed")
        text = f"{len(result.services)} service(s) ready."
        if result.first_boot is not None:
            text += f" Imported {result.first_boot.imported} item(s) into the Master."
        elif result.first_boot_skipped:
            text += f" No import: {result.first_boot_skipped}."
        self.result_label.setText(text)
        self.dashboard_button.show()
        self.dashboard_button.setDefault(True)
        self.deployed.emit(result)

    def _failed(self, sentence: str) -> None:
        self._end()
        self.step_label.setText("Deploy failed")
        self.result_label.setText(sentence)

    def _end(self) -> None:
        self._job_id = None
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)
        self.directory_edit.setEnabled(True)
        self.browse_button.setEnabled(True)
        self._update_files_state()

    @Slot()
    def _cancel_or_close(self) -> None:
        if self._job_id is not None:
            self._runner.cancel(self._job_id)
            self.cancel_button.setEnabled(False)
            self.log.appendPlainText("cancelling…")
            return
        self.reject()

    @Slot()
    def _show_dashboard(self) -> None:
        self.show_dashboard.emit()
        self.accept()

    def reject(self) -> None:
        """Esc or the close button: refused while a deploy runs (it cannot be left half-way
        from here; Cancel / Stop Waiting is the way out)."""
        if self.running:
            return
        super().reject()
