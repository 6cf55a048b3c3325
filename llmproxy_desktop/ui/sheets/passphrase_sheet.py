"""The change-passphrase sheet: current passphrase, new one, the new one again.

The sheet only asks: `submitted(old, new)` hands both to whoever runs the change (the lead runs
`Master.change_passphrase` as a job), who answers with `show_error(sentence)` (the sheet stays
open, fields kept) or `succeeded()` (fields cleared, sheet closed). The passphrases live in the
fields only; nothing else on the widget holds them.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFormLayout, QVBoxLayout, QWidget

from ._form_sheet import (
    SHEET_MARGIN,
    SHEET_SPACING,
    FormSheet,
    error_label,
    secondary_label,
    show_error,
)
from .credential_sheet import password_edit

MIN_PASSPHRASE_LENGTH: Final = 12
SHEET_MIN_WIDTH: Final = 460  # room for the inline messages beside the labels
# Messages, not passwords.
TOO_SHORT_MESSAGE: Final = f"Use at least {MIN_PASSPHRASE_LENGTH} characters."
MISMATCH_MESSAGE: Final = "The two new passphrases do not match."
SAME_MESSAGE: Final = "The new passphrase is the same as the current one."


class PassphraseSheet(FormSheet):
    """Ask for the vault's current and new passphrase. See the module docstring."""

    submitted = Signal(str, str)
    """`submitted(old, new)`: the admin asked to change the passphrase."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Change Vault Passphrase", parent)
        self._busy = False
        self.save_button.setText("Change Passphrase")
        self.setMinimumWidth(SHEET_MIN_WIDTH)
        self.old_edit = password_edit("")
        self.old_edit.setAccessibleName("Current passphrase")
        self.new_edit = password_edit(f"At least {MIN_PASSPHRASE_LENGTH} characters")
        self.new_edit.setAccessibleName("New passphrase")
        self.repeat_edit = password_edit("")
        self.repeat_edit.setAccessibleName("Repeat the new passphrase")
        self.new_error = error_label()
        self.repeat_error = error_label()
        self.submit_error = error_label()
        form = QFormLayout()
        form.addRow("Current passphrase:", self.old_edit)
        form.addRow("New passphrase:", self.new_edit)
        form.addRow("", self.new_error)
        form.addRow("Repeat new passphrase:", self.repeat_edit)
        form.addRow("", self.repeat_error)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        layout.addWidget(
            secondary_label(
                "The stored secrets stay as they are; only the passphrase that unlocks "
                "them changes. There is no way to recover a forgotten passphrase."
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.submit_error)
        layout.addWidget(self.buttons)
        for edit in (self.old_edit, self.new_edit, self.repeat_edit):
            edit.textEdited.connect(self._edited)
        self._validate()

    def _edited(self, _text: str) -> None:
        self.mark_dirty()
        show_error(self.submit_error, None)
        self._validate()

    def _validate(self) -> bool:
        old, new, repeat = self.old_edit.text(), self.new_edit.text(), self.repeat_edit.text()
        new_problem = None
        if new and len(new) < MIN_PASSPHRASE_LENGTH:
            new_problem = TOO_SHORT_MESSAGE
        elif new and new == old:
            new_problem = SAME_MESSAGE
        repeat_problem = MISMATCH_MESSAGE if repeat and repeat != new else None
        show_error(self.new_error, new_problem)
        show_error(self.repeat_error, repeat_problem)
        ok = bool(old and new and repeat) and new_problem is None and repeat_problem is None
        self.set_save_enabled(ok and not self._busy)
        return ok

    def save(self) -> None:
        """Hand the passphrases on; the sheet waits for `show_error` or `succeeded`."""
        if not self._validate():
            return
        self._set_busy(True)
        self.submitted.emit(self.old_edit.text(), self.new_edit.text())

    @Slot(str)
    def show_error(self, sentence: str) -> None:
        """The change failed: say why under the fields and let the admin try again."""
        self._set_busy(False)
        show_error(self.submit_error, sentence)
        self.old_edit.setFocus()

    @Slot()
    def succeeded(self) -> None:
        """The change is done: forget the typed passphrases and close."""
        self._set_busy(False)
        for edit in (self.old_edit, self.new_edit, self.repeat_edit):
            edit.clear()
        self.mark_clean()
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for edit in (self.old_edit, self.new_edit, self.repeat_edit):
            edit.setReadOnly(busy)
        self._validate()
