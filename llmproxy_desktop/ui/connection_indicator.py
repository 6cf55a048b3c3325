"""The toolbar's connection indicator: a coloured dot and a word, the reason one click away.

The states are the SSH session's own (``remote.ssh_session.SessionStatus``), re-exported as
``ConnectionState`` so the badge and the session can never disagree about what states exist.
Colour is never the only signal (HIG): every state also has its own text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QToolButton, QVBoxLayout, QWidget

from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    StatusColour,
    TextStyle,
    status_colour,
    text_font,
)

ConnectionState = SessionStatus

STATE_TEXT: dict[ConnectionState, str] = {
    ConnectionState.DISCONNECTED: "Not Connected",
    ConnectionState.CONNECTING: "Connecting…",
    ConnectionState.CONNECTED: "Connected",
    ConnectionState.RECONNECTING: "Reconnecting…",
    ConnectionState.FAILED: "Connection Failed",
}
_DOT_SIZE = 10
_POPUP_WIDTH = 320


def state_colour(state: ConnectionState, palette: QPalette) -> QColor:
    """The dot colour of ``state`` on ``palette``: green, blue while trying, red, or grey."""
    if state is ConnectionState.CONNECTED:
        return status_colour(StatusColour.GOOD, palette)
    if state is ConnectionState.FAILED:
        return status_colour(StatusColour.BAD, palette)
    if state in (ConnectionState.CONNECTING, ConnectionState.RECONNECTING):
        # Not amber: amber is the staged-state accent and must mean only that.
        return palette.color(QPalette.ColorRole.Highlight)
    return palette.color(QPalette.ColorRole.PlaceholderText)


def _dot_icon(colour: QColor, ratio: float) -> QIcon:
    """A filled circle, drawn at the screen's pixel ratio so it stays round and sharp."""
    pixmap = QPixmap(QSize(_DOT_SIZE, _DOT_SIZE) * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(1, 1, _DOT_SIZE - 2, _DOT_SIZE - 2)
    painter.end()
    return QIcon(pixmap)


class ConnectionDetails(QFrame):
    """The small pop-up a click on the indicator opens: the state and, if any, its reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("connectionDetails")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title_label = QLabel()
        self.title_label.setFont(text_font(TextStyle.HEADLINE))
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        # Selectable: an error message is something people copy into a search or a ticket.
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(CONTROL_SPACING // 2)
        layout.addWidget(self.title_label)
        layout.addWidget(self.reason_label)
        self.setFixedWidth(_POPUP_WIDTH)

    def show_details(self, title: str, reason: str, anchor: QPoint) -> None:
        """Show ``title`` and ``reason`` with the pop-up's top-left corner at ``anchor``."""
        self.title_label.setText(title)
        self.reason_label.setText(reason)
        self.adjustSize()
        self.move(anchor)
        self.show()


class ConnectionIndicator(QToolButton):
    """Shows a ConnectionState; the tooltip and a click tell the reason of a failure.

    ``set_state`` must run on the GUI thread. SshSession calls its listeners from its own
    threads, so hand it ``post_state`` instead: that queues the change to the GUI thread.
    """

    _state_posted = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionIndicator")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setAutoRaise(True)
        self.setIconSize(QSize(_DOT_SIZE, _DOT_SIZE))
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._state = ConnectionState.DISCONNECTED
        self._reason: str | None = None
        self.details = ConnectionDetails(self)
        self.clicked.connect(self.show_details)
        self._state_posted.connect(self.set_state, Qt.ConnectionType.QueuedConnection)
        self._update()

    @property
    def state(self) -> ConnectionState:
        """The state shown."""
        return self._state

    @property
    def reason(self) -> str | None:
        """Why the state is what it is (set for failures and reconnects), or None."""
        return self._reason

    def set_state(self, state: ConnectionState, reason: str | None = None) -> None:
        """Show ``state``; ``reason`` goes into the tooltip and the details pop-up."""
        self._state, self._reason = state, reason
        self._update()

    def post_state(self, state: ConnectionState, reason: str | None = None) -> None:
        """Thread-safe ``set_state``: usable as an SshSession status listener."""
        self._state_posted.emit(state, reason)

    def show_details(self) -> None:
        """Open the details pop-up below the indicator."""
        anchor = self.mapToGlobal(QPoint(0, self.height()))
        self.details.show_details(STATE_TEXT[self._state], self._details_text(), anchor)

    def _details_text(self) -> str:
        if self._reason:
            return self._reason
        if self._state is ConnectionState.CONNECTED:
            return "The SSH session to the stack is open."
        if self._state is ConnectionState.DISCONNECTED:
            return "The app connects when a page needs the stack."
        return "Waiting for the stack to answer."

    def _update(self) -> None:
        text = STATE_TEXT[self._state]
        self.setText(text)
        self.setAccessibleName(f"Connection: {text}")
        self.setToolTip(f"{text}: {self._reason}" if self._reason else text)
        colour = state_colour(self._state, self.palette())
        self.setIcon(_dot_icon(colour, self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        """Redraw the dot when the palette changes (light/dark switch)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._update()
