"""Pickers for model-group names: one group, or an ordered list of groups.

Both are fed the model groups of the live models (`set_groups`) and stay editable, so a value
that names no live group (a dangling reference read from the store) is shown as it is instead
of being silently replaced: the page reports it next to the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QStringListModel, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
)

LIST_SEPARATOR = ", "


def split_groups(text: str) -> list[str]:
    """The group names of a comma-separated list, in order, blanks and repeats dropped."""
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


_last_model: tuple[tuple[str, ...], QStringListModel] | None = None


def _shared_model(names: tuple[str, ...]) -> QStringListModel:
    """The list model of `names`, shared by the pickers of one refresh (the last one is kept)."""
    global _last_model
    if _last_model is None or _last_model[0] != names:
        _last_model = (names, QStringListModel(list(names)))
    return _last_model[1]


class GroupPicker(QComboBox):
    """One model group: pick from the live groups or type a name. `changed` on any edit."""

    changed = Signal()

    def __init__(
        self, placeholder: str = "Choose a model group", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.lineEdit()
        assert line is not None  # an editable combo always has one
        line.setPlaceholderText(placeholder)
        line.textChanged.connect(lambda _text: self.changed.emit())
        self._names: tuple[str, ...] | None = None
        self._model: QStringListModel | None = None

    def set_groups(self, groups: Iterable[str]) -> None:
        """Offer these groups; the current text is kept even when it is not among them.

        Every picker offering the same groups shares one list model: a routing page with
        hundreds of fallback rows would otherwise copy every group into every combo box."""
        names = tuple(sorted(set(groups), key=str.casefold))
        if names == self._names:
            return
        text = self.value()
        self.blockSignals(True)
        self._names = names
        self._model = _shared_model(names)  # held here: the combo does not own it
        self.setModel(self._model)
        self.setEditText(text)
        self.blockSignals(False)

    def value(self) -> str:
        """The chosen group name, trimmed ('' when none)."""
        return self.currentText().strip()

    def set_value(self, name: str) -> None:
        """Show `name` (whether or not it is a live group)."""
        self.setEditText(name)


class GroupListPicker(QWidget):
    """An ordered list of model groups: typed as "a, b" or toggled from the ▾ menu.

    Order matters (fallbacks are tried in order), so a group picked from the menu is appended.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._groups: list[str] = []
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Fallback groups, in order")
        self.menu_button = QToolButton()
        self.menu_button.setText("▾")
        self.menu_button.setAccessibleName("Choose fallback groups")
        self.menu_button.setToolTip("Choose fallback groups")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.menu_button)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.menu_button.setMenu(self.menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.menu_button)
        self.edit.textChanged.connect(lambda _text: self.changed.emit())

    def set_groups(self, groups: Iterable[str]) -> None:
        """Offer these groups in the menu."""
        self._groups = sorted(set(groups), key=str.casefold)

    def value(self) -> list[str]:
        """The listed groups, in order."""
        return split_groups(self.edit.text())

    def set_value(self, names: Sequence[str]) -> None:
        """Show these groups, in order."""
        self.edit.setText(LIST_SEPARATOR.join(names))

    def toggle(self, name: str) -> None:
        """Append `name`, or remove it when it is listed already."""
        names = self.value()
        if name in names:
            names.remove(name)
        else:
            names.append(name)
        self.set_value(names)

    def _fill_menu(self) -> None:
        self.menu.clear()
        chosen = set(self.value())
        if not self._groups:
            empty = self.menu.addAction("No model groups yet")
            empty.setEnabled(False)
        for name in self._groups:
            action = QAction(name, self.menu)
            action.setCheckable(True)
            action.setChecked(name in chosen)
            action.triggered.connect(lambda _on=False, n=name: self.toggle(n))
            self.menu.addAction(action)
