"""Host-key sheets (issue #5 §1; desktop-conventions §1.2 item 3): fail closed.

- `HostKeySheet`: an unknown key. Shows host, key type and SHA-256 fingerprint (monospace,
  selectable) and asks; "Trust and Connect" is never the default, Cancel is.
- `HostKeyChangedSheet`: a changed key. Explains, shows both fingerprints and how to remove the
  old line; there is no button that trusts the new key.
- `HostKeyPrompt`: the `confirm` callback for `check_stack` / `SshSession`. It is called on a
  job's worker thread; it asks the GUI thread to open a `HostKeySheet` and blocks the worker
  until the admin answers, the sheet goes away, `abandon()` is called, or a bound passes.
  Every way out other than "Trust and Connect" answers no.
"""

from __future__ import annotations

import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ...remote.errors import HostKeyChanged, HostKeyUnknown
from ...remote.host_keys import HostKeyStore
from ..theme import TextStyle, text_font
from ._form_sheet import SHEET_MARGIN, SHEET_SPACING, secondary_label

# sshd drops a login that has not authenticated after LoginGraceTime (120 s by default), so
# waiting longer for the admin could only end in a dropped connection.
DEFAULT_ANSWER_TIMEOUT_SECONDS = 120.0
TRUST_BUTTON_TEXT = "Trust and Connect"
_SHEET_MIN_WIDTH = 520


def fingerprint_label(text: str) -> QLabel:
    """A fingerprint or command: monospace, selectable, never elided."""
    label = QLabel(text)
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    # Where the system names no fixed font, the hints still make Qt pick a monospaced one.
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    label.setFont(font)
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    label.setWordWrap(True)
    return label


def _headline(text: str) -> QLabel:
    label = QLabel(text)
    label.setFont(text_font(TextStyle.HEADLINE))
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _sheet_layout(sheet: QDialog) -> QVBoxLayout:
    sheet.setMinimumWidth(_SHEET_MIN_WIDTH)  # room for a fingerprint on one line
    layout = QVBoxLayout(sheet)
    layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
    layout.setSpacing(SHEET_SPACING)
    return layout


class HostKeySheet(QDialog):
    """Ask whether to trust an unknown host key. Accepted = trust; anything else = do not."""

    def __init__(self, unknown: HostKeyUnknown, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unknown = unknown
        self.setWindowTitle("Unknown Host Key")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = _sheet_layout(self)
        layout.addWidget(_headline(f"The host key of {unknown.host} is not known yet."))
        if unknown.other_known_types:
            known = ", ".join(unknown.other_known_types)
            layout.addWidget(
                secondary_label(
                    f"Warning: a {known} key is already recorded for this host, but it now "
                    f"offers a {unknown.key_type} key. Someone may be intercepting the "
                    "connection; trust it only after checking with the server's administrator."
                )
            )
        layout.addWidget(secondary_label(f"Key type: {unknown.key_type}"))
        self.fingerprint = fingerprint_label(unknown.fingerprint)
        layout.addWidget(self.fingerprint)
        layout.addWidget(
            secondary_label(
                "Compare it with the server's own fingerprint (on the server: ssh-keygen -lf "
                "/etc/ssh/ssh_host_*_key.pub) and trust it only if they match. A trusted key "
                "is remembered in the app's known_hosts."
            )
        )
        buttons = QDialogButtonBox()
        self.cancel_button: QPushButton = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.trust_button = QPushButton(TRUST_BUTTON_TEXT)
        buttons.addButton(self.trust_button, QDialogButtonBox.ButtonRole.AcceptRole)
        # Return must not trust a key the admin has not looked at: Cancel is the default.
        self.trust_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.cancel_button.setFocus()


class HostKeyChangedSheet(QDialog):
    """A changed host key: refused. Says why and how to fix it; offers no way to trust it."""

    def __init__(
        self,
        changed: HostKeyChanged,
        host_keys: HostKeyStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.changed = changed
        self.setWindowTitle("Host Key Changed")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = _sheet_layout(self)
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32)
        )
        layout.addWidget(icon)
        layout.addWidget(
            _headline(f"The host key of {changed.host} has changed. The app will not connect.")
        )
        layout.addWidget(
            secondary_label(
                "This can be a man-in-the-middle attack. It is also what happens when the "
                "server was reinstalled or its keys were regenerated. Ask the server's "
                "administrator which it is before you do anything."
            )
        )
        layout.addWidget(secondary_label(f"Recorded {changed.key_type} key:"))
        self.expected = fingerprint_label(changed.expected)
        layout.addWidget(self.expected)
        layout.addWidget(secondary_label("Key the server presents now:"))
        self.presented = fingerprint_label(changed.presented)
        layout.addWidget(self.presented)
        app_file, user_file = host_keys.app_known_hosts, host_keys.user_known_hosts
        layout.addWidget(
            secondary_label(
                "If the new key is genuine, remove the old line for "
                f"{changed.host} from the app's known_hosts at {app_file} (or from your own "
                f"{user_file}, if it is recorded there), then test again and check the new "
                "fingerprint. For example:"
            )
        )
        self.fix_command = fingerprint_label(_removal_commands(changed.host, app_file, user_file))
        layout.addWidget(self.fix_command)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button: QPushButton = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _removal_commands(host: str, app_file: Path, user_file: Path) -> str:
    return "\n".join(
        f"ssh-keygen -R {shlex.quote(host)} -f {shlex.quote(str(path))}"
        for path in (app_file, user_file)
    )


@dataclass
class _Question:
    """One pending question from a worker; `answered` is set exactly when `trusted` is final."""

    unknown: HostKeyUnknown
    answered: threading.Event = field(default_factory=threading.Event)
    trusted: bool = False
    sheet: HostKeySheet | None = None


class HostKeyPrompt(QObject):
    """`confirm` for check_stack: callable from a worker thread, answered on the GUI thread.

    Create it on the GUI thread. `parent_window` parents the sheets. `timeout_seconds` bounds
    how long a worker waits for the admin (then: no).
    """

    _ask = Signal(object)  # _Question, worker -> GUI thread
    _expired = Signal(object)  # _Question, worker -> GUI thread: close its sheet
    sheet_opened = Signal(object)
    """`sheet_opened(HostKeySheet)`: a question is on screen (for the caller and for tests)."""

    def __init__(
        self,
        parent_window: QWidget | None,
        timeout_seconds: float = DEFAULT_ANSWER_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__()
        self._window = parent_window
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._questions: dict[int, _Question] = {}
        self._abandoned = False
        queued = Qt.ConnectionType.QueuedConnection
        self._ask.connect(self._open_sheet, queued)
        self._expired.connect(self._close_sheet, queued)

    def __call__(self, unknown: HostKeyUnknown) -> bool:
        """Ask the admin about `unknown` and wait for the answer (worker thread only)."""
        if QThread.currentThread() is self.thread():
            # Blocking here would freeze the very loop that must show the sheet.
            raise RuntimeError("HostKeyPrompt is called from a worker thread, not the GUI")
        question = _Question(unknown)
        with self._lock:
            if self._abandoned:
                return False
            self._questions[id(question)] = question
        self._ask.emit(question)
        if not question.answered.wait(self._timeout):
            self._answer(question, trusted=False)
            self._expired.emit(question)
        return question.trusted

    def abandon(self) -> None:
        """Answer no to every open question and to any that come later (the caller is going
        away). Call on the GUI thread; the waiting worker is released at once."""
        with self._lock:
            self._abandoned = True
            questions = list(self._questions.values())
        for question in questions:
            self._answer(question, trusted=False)
            self._close_sheet(question)

    def _answer(self, question: _Question, *, trusted: bool) -> None:
        with self._lock:
            if question.answered.is_set():
                return  # the first answer stands (a late click after a timeout changes nothing)
            question.trusted = trusted
            question.answered.set()
            self._questions.pop(id(question), None)

    @Slot(object)
    def _open_sheet(self, question: _Question) -> None:
        if question.answered.is_set():
            return  # abandoned or timed out before the GUI got to it
        sheet = HostKeySheet(question.unknown, self._window)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        question.sheet = sheet
        sheet.finished.connect(lambda result: self._sheet_finished(question, result))
        # A sheet destroyed without finishing (its parent window went) still answers no.
        sheet.destroyed.connect(lambda: self._sheet_finished(question, None))
        sheet.open()
        self.sheet_opened.emit(sheet)

    def _sheet_finished(self, question: _Question, result: int | None) -> None:
        question.sheet = None
        self._answer(question, trusted=result == QDialog.DialogCode.Accepted.value)

    @Slot(object)
    def _close_sheet(self, question: _Question) -> None:
        sheet, question.sheet = question.sheet, None
        if sheet is not None and sheet.isVisible():
            sheet.reject()


def show_host_key_changed(
    changed: HostKeyChanged, host_keys: HostKeyStore, parent: QWidget | None
) -> HostKeyChangedSheet:
    """Open the fail-closed sheet for `changed` (window-modal) and return it."""
    sheet = HostKeyChangedSheet(changed, host_keys, parent)
    sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    sheet.open()
    return sheet


__all__ = [
    "DEFAULT_ANSWER_TIMEOUT_SECONDS",
    "TRUST_BUTTON_TEXT",
    "HostKeyChangedSheet",
    "HostKeyPrompt",
    "HostKeySheet",
    "show_host_key_changed",
]
