"""The toolbar's stack switcher: a pop-up of the stack profiles, with "Add Stack…" at the end."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from llmproxy_desktop.remote.profiles_store import ProfileStore, ProfileStoreError

ADD_STACK_TEXT = "Add Stack…"
_NO_STACKS_TEXT = "No Stacks"


class StackSwitcher(QComboBox):
    """Lists the stacks of a ProfileStore and remembers which one is current.

    ``stack_selected(name)`` is emitted whenever the current stack changes, by the user or by
    ``select_stack``/``refresh``; picking "Add Stack…" emits ``add_stack_requested`` instead and
    leaves the current stack selected.
    """

    stack_selected = Signal(str)
    add_stack_requested = Signal()

    def __init__(self, store: ProfileStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stackSwitcher")
        self.setAccessibleName("Stack")
        self.setToolTip("The stack this window shows")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMinimumContentsLength(10)
        self._store = store
        self._current: str | None = None
        self._load_error: str | None = None
        self.activated.connect(self._on_activated)
        self.refresh()

    @property
    def load_error(self) -> str | None:
        """Why the profiles file could not be read at the last refresh, or None."""
        return self._load_error

    def stack_names(self) -> list[str]:
        """The stack names listed, in order (without the "Add Stack…" entry)."""
        return [str(self.itemData(i)) for i in range(self.count()) if self.itemData(i)]

    def current_stack(self) -> str | None:
        """The selected stack's name, or None when there is no stack."""
        return self._current

    def refresh(self) -> None:
        """Re-read the store; keep the current stack if it still exists, else take the first."""
        try:
            names = [profile.name for profile in self._store.load()]
            self._load_error = None
        except ProfileStoreError as exc:
            # A corrupt file blocks the list, never the window; the message names the file.
            names, self._load_error = [], str(exc)
        self.blockSignals(True)
        self.clear()
        if not names:
            self.addItem(_NO_STACKS_TEXT, None)
        for name in names:
            self.addItem(name, name)
        self.insertSeparator(self.count())
        self.addItem(ADD_STACK_TEXT, None)
        self.blockSignals(False)
        keep = self._current if self._current in names else (names[0] if names else None)
        self._show(keep)
        self._set_current(keep)

    def select_stack(self, name: str) -> bool:
        """Make ``name`` the current stack; return False (changing nothing) if it is not listed."""
        if name not in self.stack_names():
            return False
        self._show(name)
        self._set_current(name)
        return True

    def _show(self, name: str | None) -> None:
        """Point the pop-up at ``name`` (the placeholder when None) without emitting anything."""
        self.blockSignals(True)
        self.setCurrentIndex(self.findData(name) if name is not None else 0)
        self.blockSignals(False)

    def _set_current(self, name: str | None) -> None:
        if name == self._current:
            return
        self._current = name
        if name is not None:
            self.stack_selected.emit(name)

    def _on_activated(self, index: int) -> None:
        name = self.itemData(index)
        if name:
            self._set_current(str(name))
            return
        # "Add Stack…" (or the placeholder) is an action, not a selection: undo the pop-up's move.
        self._show(self._current)
        if self.itemText(index) == ADD_STACK_TEXT:
            self.add_stack_requested.emit()
