"""The "Test SSH" / "Test stack" panel of the stack sheet: one row per layer, filled in live.

The check runs `ops.stack_check.check_stack` as a job on the stack's queue of the JobRunner,
never on the GUI thread. Layer results come back through `_LayerRelay`, a QObject living on the
GUI thread whose signal the worker emits (a queued connection, so slots run on the GUI thread
and the worker never touches a widget). Unknown host keys are asked about with a
`HostKeyPrompt`; a changed key opens the fail-closed `HostKeyChangedSheet`.

"Test SSH" stops after the SSH auth layer. check_stack has no option for that, so the job's
`on_result` raises `_SshLayersDone` once the SSH auth verdict is in: check_stack's own
`finally` closes the session, and the forwards and services are never touched. (A proposed
`ssh_only=True` parameter for check_stack would make this explicit.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from ...ops.stack_check import CheckLayer, LayerResult, Outcome, check_stack
from ...remote.errors import HostKeyChanged, HostKeyUnknown
from ...remote.host_keys import HostKeyStore
from ...remote.profiles import SecretKind, StackProfile
from ..job_runner import Job, JobCancelled, JobProgress, JobRunner
from ..theme import TextStyle, text_font
from .host_key_sheet import HostKeyPrompt, show_host_key_changed

SSH_LAYERS = (CheckLayer.SSH_CONNECT, CheckLayer.HOST_KEY, CheckLayer.SSH_AUTH)
_PENDING = "…"
_NOT_TESTED = "not tested"


class _SshLayersDone(Exception):
    """Raised from on_result to end a "Test SSH" run once the SSH layers are known."""


class _LayerRelay(QObject):
    """Carries LayerResults from the worker to the GUI thread."""

    result = Signal(object)


class LayerChecksView(QWidget):
    """Seven rows: layer name, outcome (as text, never colour alone), and that layer's detail."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(2, 1)
        self.outcomes: dict[CheckLayer, QLabel] = {}
        self.details: dict[CheckLayer, QLabel] = {}
        for row, layer in enumerate(CheckLayer):
            grid.addWidget(QLabel(layer.value), row, 0, Qt.AlignmentFlag.AlignTop)
            outcome = QLabel("")
            outcome.setFont(text_font(TextStyle.HEADLINE))
            detail = QLabel("")
            detail.setWordWrap(True)
            detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(outcome, row, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(detail, row, 2)
            self.outcomes[layer], self.details[layer] = outcome, detail
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.summary, len(CheckLayer), 0, 1, 3)

    def reset(self, layers: tuple[CheckLayer, ...]) -> None:
        """A new run over `layers`: those are pending, the others not tested."""
        for layer in CheckLayer:
            self.outcomes[layer].setText(_PENDING if layer in layers else _NOT_TESTED)
            self.details[layer].setText("")
        self.summary.setText("Testing…")

    def show_result(self, result: LayerResult) -> None:
        """Fill in one layer's row."""
        self.outcomes[result.layer].setText(result.outcome.value)
        self.details[result.layer].setText(result.detail)

    def outcome_text(self, layer: CheckLayer) -> str:
        """What the row shows as the layer's outcome ('OK', 'FAILED', 'skipped', …)."""
        return self.outcomes[layer].text()


class StackTestController(QObject):
    """Runs one stack test at a time through the JobRunner and reports into a LayerChecksView.

    `done(summary)` fires once per run on the GUI thread, whatever its end.
    """

    running_changed = Signal(bool)
    done = Signal(str)

    def __init__(
        self,
        runner: JobRunner,
        view: LayerChecksView,
        host_keys: Callable[[], HostKeyStore],
        window: QWidget,
        *,
        host_key_timeout_seconds: float | None = None,
    ) -> None:
        super().__init__(window)
        self._runner = runner
        self._view = view
        self._host_keys = host_keys
        self._window = window
        self._timeout = host_key_timeout_seconds
        self._relay = _LayerRelay()
        self._relay.result.connect(self._on_layer_result)
        self._job_id: str | None = None
        self._prompt: HostKeyPrompt | None = None
        self._store: HostKeyStore | None = None
        self.results: list[LayerResult] = []
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)

    @property
    def prompt(self) -> HostKeyPrompt | None:
        """The host-key prompt of the current run (its `sheet_opened` signal tells when the
        admin is being asked)."""
        return self._prompt

    def is_running(self) -> bool:
        """True while a test job is queued or running."""
        return self._job_id is not None

    def start(
        self, profile: StackProfile, secrets: Mapping[SecretKind, str], *, ssh_only: bool
    ) -> None:
        """Start testing `profile` (all layers, or only the SSH ones)."""
        if self._job_id is not None:
            return
        self._store = self._host_keys()
        kwargs = {} if self._timeout is None else {"timeout_seconds": self._timeout}
        self._prompt = HostKeyPrompt(self._window, **kwargs)
        self.results = []
        self._view.reset(SSH_LAYERS if ssh_only else tuple(CheckLayer))
        run = _check_job(profile, dict(secrets), self._store, self._prompt, self._relay, ssh_only)
        name = "Test SSH" if ssh_only else "Test stack"
        self._job_id = self._runner.submit(Job(name=name, stack=profile.name, run=run))
        self.running_changed.emit(True)

    def stop(self) -> None:
        """Stop the current run: answer no to any host-key question and cancel the job (it
        ends at its next layer; every network step in it has its own timeout)."""
        if self._prompt is not None:
            self._prompt.abandon()
        if self._job_id is not None:
            self._runner.cancel(self._job_id)

    @Slot(object)
    def _on_layer_result(self, result: LayerResult) -> None:
        if self._job_id is None:
            return  # a late result of a run already ended
        self.results.append(result)
        self._view.show_result(result)
        if isinstance(result.error, HostKeyChanged) and self._store is not None:
            show_host_key_changed(result.error, self._store, self._window)

    @Slot(str, object)
    def _on_finished(self, job_id: str, _result: object) -> None:
        if job_id == self._job_id:
            failed = [r.layer.value for r in self.results if r.outcome is Outcome.FAILED]
            self._end(f"Failed at {', '.join(failed)}." if failed else "All tested layers OK.")

    @Slot(str, str, object)
    def _on_failed(self, job_id: str, message: str, _error: object) -> None:
        if job_id == self._job_id:
            self._end(message)  # e.g. the profile's ssh config alias cannot be resolved

    @Slot(str)
    def _on_cancelled(self, job_id: str) -> None:
        if job_id == self._job_id:
            self._end("Test stopped.")

    def _end(self, summary: str) -> None:
        self._job_id = None
        self._prompt = None
        self._view.summary.setText(summary)
        self.running_changed.emit(False)
        self.done.emit(summary)


def _check_job(
    profile: StackProfile,
    secrets: dict[SecretKind, str],
    host_keys: HostKeyStore,
    prompt: HostKeyPrompt,
    relay: _LayerRelay,
    ssh_only: bool,
) -> Callable[[JobProgress, threading.Event], object]:
    """The job function: check_stack on the worker thread, each result relayed as it comes."""

    def run(progress: JobProgress, cancel: threading.Event) -> object:
        def on_result(result: LayerResult) -> None:
            relay.result.emit(result)  # queued to the GUI thread: the worker touches no widget
            progress(result.layer.value, _fraction(result.layer, ssh_only), result.outcome.value)
            if ssh_only and result.layer is CheckLayer.SSH_AUTH:
                raise _SshLayersDone
            if cancel.is_set():
                raise JobCancelled

        def confirm(unknown: HostKeyUnknown) -> bool:
            return not cancel.is_set() and prompt(unknown)

        try:
            return check_stack(
                profile, secrets, host_keys=host_keys, confirm=confirm, on_result=on_result
            )
        except _SshLayersDone:
            return None

    return run


def _fraction(layer: CheckLayer, ssh_only: bool) -> float:
    layers = SSH_LAYERS if ssh_only else tuple(CheckLayer)
    return (layers.index(layer) + 1) / len(layers) if layer in layers else 1.0
