"""The vault-passphrase unlock sheet: a passphrase, an opt-in "Save in keyring", Unlock.

Unlocking (Argon2id, ~0.3 s, plus a database read) runs as a job on the stack's queue of the
JobRunner, never on the GUI thread; so does saving the passphrase in the keyring, which happens
only after the vault accepted it (a wrong passphrase is never remembered). A wrong passphrase
keeps the sheet open with an inline "Wrong passphrase" message.

The `unlock` callable is injected (the app passes `Master.unlock_vault`); whatever it returns
is handed on by the `unlocked` signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...remote.keyring_secrets import KeyringError, KeyringSecrets
from ...remote.profiles import SecretKind
from ...store.vault import WrongPassphrase
from ..job_runner import Job, JobProgress, JobRunner
from ._form_secret_field import SecretField
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, error_label, secondary_label, show_error

# A message, not a password (hence the S105 waiver).
WRONG_PASSPHRASE_MESSAGE = "Wrong passphrase. Check for typos, Caps Lock and the keyboard layout."  # noqa: S105


@dataclass(frozen=True)
class _Unlocked:
    """What the unlock job hands back: `unlock`'s result and any keyring problem."""

    value: object
    keyring_problem: str | None


class VaultSheet(QDialog):
    """Ask for `stack`'s vault passphrase and unlock it with `unlock` in the background.

    Emits `unlocked(result)` with `unlock`'s return value, then closes. `keyring_secrets`
    defaults to KeyringSecrets().
    """

    unlocked = Signal(object)
    """`unlocked(result)`: `unlock` accepted the passphrase; `result` is what it returned."""

    def __init__(
        self,
        runner: JobRunner,
        stack: str,
        unlock: Callable[[str], object],
        parent: QWidget | None = None,
        *,
        keyring_secrets: KeyringSecrets | None = None,
        title: str = "Unlock Vault",
        intro: str | None = None,
        action_text: str = "Unlock",
    ) -> None:
        """`title`, `intro` and `action_text` let the same sheet ask for the passphrase of
        another vault action (e.g. rotating the data key); `unlock` then performs it."""
        super().__init__(parent)
        self._intro = intro
        self._runner = runner
        self._stack = stack
        self._unlock = unlock
        self._keyring = keyring_secrets or KeyringSecrets()
        self._job_id: str | None = None
        # Every job's end comes through these; the slots keep only this sheet's job.
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        status = self._keyring.status()
        self.passphrase = SecretField(SecretKind.VAULT_PASSPHRASE, status)
        self.passphrase.edit.setPlaceholderText("")
        self.message = error_label()
        self.keyring_note = secondary_label("" if status.secure else status.message)
        self.keyring_note.setVisible(not status.secure)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: Argon2 gives no progress
        self.busy.setTextVisible(False)
        self.busy.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button: QPushButton = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.unlock_button = QPushButton(action_text)
        buttons.addButton(self.unlock_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.unlock_button.setDefault(True)
        buttons.accepted.connect(self._start_unlock)
        buttons.rejected.connect(self.reject)
        self.passphrase.edit.textEdited.connect(lambda _text: self._passphrase_edited())
        self._lay_out(buttons)
        self._passphrase_edited()
        self.passphrase.edit.setFocus()

    def _lay_out(self, buttons: QDialogButtonBox) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        layout.addWidget(
            secondary_label(
                self._intro
                or f"Enter the vault passphrase of {self._stack} to read and change the "
                "credentials stored for it."
            )
        )
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Passphrase:", self.passphrase)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.busy)
        layout.addWidget(buttons)

    def is_unlocking(self) -> bool:
        """True while the unlock job is queued or running."""
        return self._job_id is not None

    def done(self, result: int) -> None:
        """Closing drops the unlock in flight: a queued one is withdrawn; a running one ends on
        its own (Argon2's cost bounds it) and its result is ignored."""
        if self._job_id is not None:
            self._runner.cancel(self._job_id)
            self._job_id = None
        super().done(result)

    # --- unlocking -------------------------------------------------------------------------

    def _passphrase_edited(self) -> None:
        if self._job_id is None:
            self.unlock_button.setEnabled(bool(self.passphrase.value()))

    @Slot()
    def _start_unlock(self) -> None:
        passphrase = self.passphrase.value()
        if not passphrase or self._job_id is not None:
            return
        remember = self.passphrase.remember.isEnabled() and self.passphrase.remember.isChecked()
        show_error(self.message, None)
        self._set_busy(True)
        job = Job(
            name="Unlock vault",
            stack=self._stack,
            run=_unlock_job(self._unlock, self._keyring, self._stack, passphrase, remember),
        )
        self._job_id = self._runner.submit(job)

    @Slot(str, object)
    def _on_finished(self, job_id: str, result: object) -> None:
        if job_id != self._job_id:
            return
        self._job_id = None
        self._set_busy(False)
        assert isinstance(result, _Unlocked)
        self.unlocked.emit(result.value)
        if result.keyring_problem is None:
            self.accept()
            return
        # Unlocked all the same; stay open so the admin reads that it was not remembered.
        show_error(self.message, f"Unlocked. {result.keyring_problem}")
        self.passphrase.setEnabled(False)
        self.unlock_button.hide()
        self.cancel_button.setText("Close")

    @Slot(str, str, object)
    def _on_failed(self, job_id: str, message: str, error: object) -> None:
        if job_id != self._job_id:
            return
        self._job_id = None
        self._set_busy(False)
        wrong = isinstance(error, WrongPassphrase)
        show_error(self.message, WRONG_PASSPHRASE_MESSAGE if wrong else message)
        self.passphrase.edit.selectAll()
        self.passphrase.edit.setFocus()

    @Slot(str)
    def _on_cancelled(self, job_id: str) -> None:
        if job_id == self._job_id:
            self._job_id = None
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.passphrase.setEnabled(not busy)
        self.unlock_button.setEnabled(not busy and bool(self.passphrase.value()))


def _unlock_job(
    unlock: Callable[[str], object],
    keyring: KeyringSecrets,
    stack: str,
    passphrase: str,
    remember: bool,
) -> Callable[[JobProgress, threading.Event], object]:
    """Unlock, then (only if it worked and the admin opted in) save the passphrase."""

    def run(_progress: JobProgress, _cancel: threading.Event) -> object:
        value = unlock(passphrase)
        problem = None
        if remember:
            try:
                keyring.save(stack, SecretKind.VAULT_PASSPHRASE, passphrase)
            except KeyringError as exc:
                problem = f"The passphrase was not saved in the keyring: {exc.args[0]}"
        return _Unlocked(value, problem)

    return run


__all__ = ["WRONG_PASSPHRASE_MESSAGE", "VaultSheet"]
