"""One secret in a sheet: hidden input plus its own opt-in "Save in keyring" checkbox.

The value never leaves the widget except through `value()`: no tooltip, no accessible
description and no repr carries it. The checkbox is off by default (desktop-conventions §1.2
item 4) and disabled, with the reason given by the sheet, when no safe keyring is available.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLineEdit, QWidget

from ...remote.keyring_secrets import KeyringStatus
from ...remote.profiles import SecretKind

_SECRET_INPUT_HINTS = (
    Qt.InputMethodHint.ImhHiddenText
    | Qt.InputMethodHint.ImhSensitiveData
    | Qt.InputMethodHint.ImhNoPredictiveText
    | Qt.InputMethodHint.ImhNoAutoUppercase
)


class KeyringAction(enum.Enum):
    """What Save does with the keyring entry of one secret."""

    NOTHING = enum.auto()
    SAVE = enum.auto()  # store the typed value
    KEEP = enum.auto()  # a value is saved already and nothing new was typed
    FORGET = enum.auto()  # a value is saved and the admin unticked "Save in keyring"


class SecretField(QWidget):
    """A password field for `kind` with a "Save in keyring" opt-in; `changed` on any edit."""

    changed = Signal()

    def __init__(
        self, kind: SecretKind, keyring: KeyringStatus, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._saved_before = False
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setInputMethodHints(_SECRET_INPUT_HINTS)
        self.edit.setAccessibleName(kind.label)
        self.edit.setPlaceholderText("not saved: asked when needed")
        self.remember = QCheckBox("Save in keyring")
        self.remember.setAccessibleName(f"Save the {kind.label} in the keyring")
        self.remember.setEnabled(keyring.secure)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.remember)
        self.edit.textEdited.connect(lambda _text: self.changed.emit())
        self.remember.toggled.connect(lambda _on: self.changed.emit())

    def __repr__(self) -> str:
        return f"SecretField({self.kind.value}, typed={bool(self.edit.text())})"

    def value(self) -> str:
        """The typed secret ('' when nothing was typed)."""
        return self.edit.text()

    def mark_saved(self) -> None:
        """A value for this secret is in the keyring already: say so and tick the box, so
        unticking it is how the admin asks to forget it."""
        self._saved_before = True
        self.edit.setPlaceholderText("saved in the keyring: leave empty to keep it")
        self.remember.setChecked(True)

    def keyring_action(self) -> KeyringAction:
        """What Save must do with this secret's keyring entry."""
        if not self.remember.isEnabled():
            return KeyringAction.NOTHING
        if self.remember.isChecked():
            if self.value():
                return KeyringAction.SAVE
            return KeyringAction.KEEP if self._saved_before else KeyringAction.NOTHING
        return KeyringAction.FORGET if self._saved_before else KeyringAction.NOTHING
