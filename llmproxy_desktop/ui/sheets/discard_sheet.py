"""The question before staged changes are thrown away (issue #5 §2): "Discard N Changes?".

Discarding cannot be undone, so the destructive button names the action and Cancel is both the
default and the escape button. Two ways to ask:

- `ask_discard`: window-modal, opened with `open()` (a sheet on macOS), answers through a
  callback. The app uses this one; tests find the box it returns and click its buttons.
- `confirm_discard_all`: blocking (`exec()`), for callers that need a plain bool.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

__all__ = ["ask_discard", "confirm_discard_all", "discard_action_text", "make_discard_box"]


def discard_action_text(count: int) -> str:
    """The destructive button's name: "Discard 1 Change", "Discard 3 Changes"."""
    return f"Discard {count} Change" if count == 1 else f"Discard {count} Changes"


def make_discard_box(
    parent: QWidget | None, count: int, *, selected: bool = False
) -> tuple[QMessageBox, QPushButton]:
    """Build (not show) the question and return it with its destructive button.

    `selected`: the question is about some of the staged changes, not all of them.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    noun = "staged change" if count == 1 else "staged changes"
    which = "the selected" if selected else ("the" if count == 1 else "all")
    box.setText(f"Discard {which} {count} {noun}?")
    box.setInformativeText(
        "The edits are thrown away and cannot be recovered; the gateway keeps serving its "
        "applied configuration."
    )
    discard = box.addButton(discard_action_text(count), QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    # Losing edits is the irreversible choice: Return and Esc both keep them.
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    return box, discard


def ask_discard(
    parent: QWidget | None,
    count: int,
    on_confirmed: Callable[[], None],
    *,
    selected: bool = False,
) -> QMessageBox:
    """Open the question without blocking; call `on_confirmed` only if the admin discards.

    Returns the open box (deleted once answered) so the caller can keep a handle on it.
    """
    box, discard = make_discard_box(parent, count, selected=selected)

    def answered(_result: int) -> None:
        confirmed = box.clickedButton() is discard
        box.deleteLater()
        if confirmed:
            on_confirmed()

    box.finished.connect(answered)
    box.open()
    return box


def confirm_discard_all(parent: QWidget | None, count: int) -> bool:
    """Ask modally (blocking) whether to discard all `count` staged changes; True to discard."""
    box, discard = make_discard_box(parent, count)
    box.exec()
    confirmed = box.clickedButton() is discard
    box.deleteLater()
    return confirmed
