"""The shared shape of an edit sheet: window-modal, Save / Cancel, Esc and Ctrl+S, and a
"Discard changes?" question before unsaved edits are thrown away.

Closing goes through `reject()` whichever way the admin asks (Esc, Cancel, the window's close
button: QDialog's closeEvent calls reject), so the question is asked in one place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QWidget,
)

from ..theme import TextStyle, text_font

SHEET_MARGIN = 20  # HIG window margins (desktop-conventions §6.8)
SHEET_SPACING = 8


class FormSheet(QDialog):
    """A window-modal edit sheet with Save / Cancel. Subclasses call `mark_dirty()` when the
    admin changes something, `set_save_enabled()` as validation allows, and implement
    `save()` (which ends with `accept()` when it succeeded)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        # Window-modal + open(): a sheet on macOS, a modal child elsewhere.
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._dirty = False
        self.discard_prompt: QMessageBox | None = None
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.cancel_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self._save_if_enabled)
        self.buttons.rejected.connect(self.reject)
        save_shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        save_shortcut.activated.connect(self._save_if_enabled)

    # --- for subclasses --------------------------------------------------------------------

    def mark_dirty(self) -> None:
        """Remember that the form holds edits that Save has not stored yet."""
        self._dirty = True

    def mark_clean(self) -> None:
        """The form matches what is stored (after a successful save)."""
        self._dirty = False

    def is_dirty(self) -> bool:
        """True while there are unsaved edits."""
        return self._dirty

    def set_save_enabled(self, enabled: bool) -> None:
        """Save is offered only while the form is valid."""
        self.save_button.setEnabled(enabled)

    def save(self) -> None:
        """Store the form; call `accept()` on success. Subclasses implement it."""
        raise NotImplementedError

    # --- closing ---------------------------------------------------------------------------

    def reject(self) -> None:
        """Close without saving; with unsaved edits, ask first (the sheet stays open)."""
        if not self._dirty:
            super().reject()
            return
        if self.discard_prompt is not None:  # already asking
            return
        self.discard_prompt = self._make_discard_prompt()
        self.discard_prompt.open()

    def _save_if_enabled(self) -> None:
        if self.save_button.isEnabled():
            self.save()

    def _make_discard_prompt(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText("Discard changes?")
        box.setInformativeText("Your edits in this sheet have not been saved.")
        discard = box.addButton("Discard Changes", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep Editing", QMessageBox.ButtonRole.RejectRole)
        # Losing edits is the irreversible choice: Return and Esc both keep editing.
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.finished.connect(lambda _result: self._discard_answered(box.clickedButton() is discard))
        return box

    def _discard_answered(self, discard: bool) -> None:
        self.discard_prompt = None
        if discard:
            self._dirty = False
            self.reject()


def error_label() -> QLabel:
    """An inline message under a field: hidden until there is something to say."""
    label = QLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setFont(text_font(TextStyle.SUBHEADLINE))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_error(label: QLabel, message: str | None) -> None:
    """Show `message` in an inline error label, or hide it for None."""
    label.setText(message or "")
    label.setVisible(bool(message))


def secondary_label(text: str = "") -> QLabel:
    """Explanatory text in the secondary style, selectable like all static text in a sheet."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setFont(text_font(TextStyle.SUBHEADLINE))
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # the secondary text colour
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
