"""Work for a hidden page waits until it is shown.

Every refresh of a stack feeds every page, but only one is on screen. A page whose update is
expensive for a big stack (rebuilding hundreds of rows, validating, highlighting a 14,000-line
file) keeps the newest pending update per kind while hidden and runs it when shown, so a refresh
costs the GUI thread only what the visible page needs.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

__all__ = ["DeferredWhileHidden"]


class DeferredWhileHidden(QWidget):
    """A QWidget base whose `defer(kind, update)` runs `update` now if visible, else on show
    (only the newest update of each kind, in the order the kinds were first deferred)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._deferred_updates: dict[str, Callable[[], None]] = {}

    def defer(self, kind: str, update: Callable[[], None]) -> None:
        """Run `update` now when the page is visible; otherwise when it is next shown."""
        if self.isVisible():
            self._deferred_updates.pop(kind, None)
            update()
        else:
            self._deferred_updates[kind] = update

    def flush_deferred(self) -> None:
        """Run every pending update now (e.g. before reading the page's state)."""
        pending, self._deferred_updates = self._deferred_updates, {}
        for update in pending.values():
            update()

    def showEvent(self, event: QShowEvent) -> None:
        """Catch up on the updates that arrived while hidden, then show."""
        self.flush_deferred()
        super().showEvent(event)
