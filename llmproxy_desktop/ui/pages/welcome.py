"""The welcome page: what the app is and the first step, shown until a stack has been added."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.ui.resources import app_icon
from llmproxy_desktop.ui.theme import CONTROL_SPACING, WINDOW_MARGIN, TextStyle, text_font

APP_NAME = "LLM-Proxy Desktop"
DESCRIPTION = (
    "Run your self-hosted LiteLLM gateways from one window: "
    "stage changes, review them, then apply them in one step."
)
ADD_STACK_TEXT = "Add Stack…"
ADD_STACK_TOOLTIP = "Connect a LiteLLM stack: the host you reach over SSH and its compose directory"
ADD_STACK_NOTE = "A stack is one LiteLLM gateway and its database, on a host you reach over SSH."
KEYRING_UNSAFE_PREFIX = "Secrets will not be saved:"
STORE_ERROR_PREFIX = "Your stacks could not be read:"

_ICON_SIZE = 96
_CONTENT_WIDTH = 520


class WelcomePage(QWidget):
    """A centred column: icon, app name, one-line description and the first step.

    ``add_stack_requested`` is emitted by the "Add Stack…" button; the window opens the sheet.
    """

    add_stack_requested = Signal()

    def __init__(self, keyring_warning: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")

        self.icon_label = QLabel()
        self.icon_label.setPixmap(app_icon().pixmap(_ICON_SIZE, _ICON_SIZE))
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.title_label = QLabel(APP_NAME)
        self.title_label.setFont(text_font(TextStyle.LARGE_TITLE))
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setAccessibleName(APP_NAME)

        self.description_label = _secondary_label(
            DESCRIPTION, TextStyle.TITLE_3, QFont.Weight.Normal
        )
        self.description_label.setWordWrap(True)
        self.description_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.add_stack_button = QPushButton(ADD_STACK_TEXT)
        self.add_stack_button.setToolTip(ADD_STACK_TOOLTIP)
        self.add_stack_button.setDefault(True)
        self.add_stack_button.clicked.connect(self.add_stack_requested)
        self.add_stack_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.add_stack_button.setMinimumWidth(140)

        # What a stack is, in plain sight: tooltips are easy to miss.
        self.add_stack_note = _secondary_label(ADD_STACK_NOTE, TextStyle.CALLOUT)
        self.add_stack_note.setWordWrap(True)
        self.add_stack_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # The start-up self-check: only an unsafe keyring is worth a line on this page.
        self.keyring_label = _secondary_label(
            f"{KEYRING_UNSAFE_PREFIX} {keyring_warning}" if keyring_warning else "",
            TextStyle.CALLOUT,
        )
        self.keyring_label.setObjectName("keyringWarning")
        self.keyring_label.setWordWrap(True)
        self.keyring_label.setVisible(bool(keyring_warning))

        # A stacks file that cannot be read: the admin must hear why the list is empty.
        self.store_error_label = _secondary_label("", TextStyle.CALLOUT)
        self.store_error_label.setObjectName("storeError")
        self.store_error_label.setWordWrap(True)
        self.store_error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.store_error_label.setVisible(False)

        column = QWidget()
        column.setMaximumWidth(_CONTENT_WIDTH)
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(CONTROL_SPACING)
        column_layout.addWidget(self.icon_label)
        column_layout.addSpacing(12)
        column_layout.addWidget(self.title_label)
        column_layout.addWidget(self.description_label)
        column_layout.addSpacing(20)
        column_layout.addWidget(self.add_stack_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column_layout.addWidget(self.add_stack_note)
        column_layout.addSpacing(12)
        column_layout.addWidget(self.keyring_label)
        column_layout.addWidget(self.store_error_label)

        # Centre the column with stretches, not an alignment flag: an aligned widget is given its
        # size hint, which ignores height-for-width, and the wrapped description gets clipped.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.addStretch(2)
        layout.addLayout(row)
        layout.addStretch(3)  # a little above centre reads as centred

    def set_store_error(self, message: str | None) -> None:
        """Show why the stacks file could not be read, or hide the line when ``message`` is None."""
        self.store_error_label.setText(f"{STORE_ERROR_PREFIX} {message}" if message else "")
        self.store_error_label.setVisible(bool(message))


def _secondary_label(text: str, style: TextStyle, weight: QFont.Weight | None = None) -> QLabel:
    """A centred label in the secondary text colour, which follows palette changes."""
    label = QLabel(text)
    font = text_font(style)
    if weight is not None:
        font.setWeight(weight)
    label.setFont(font)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label
