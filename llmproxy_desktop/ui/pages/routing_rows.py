"""The Routing page's row editors: fallback and alias rows as table models, and the delegate
that edits one cell at a time with a model-group picker.

Hundreds of fallback chains are plain tuples in a model; no widget exists per row. The one
editor open at a time is created by the delegate for the cell being edited, and every change in
it is committed at once, so the page tracks unsaved changes (and enables Save) as the admin
types, as it did when each row was a form of its own.

Problems the page finds (an incomplete row, a group that no longer exists) are set per cell:
the cell turns the error colour and its tooltip says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from llmproxy_desktop.ui.theme import StatusColour, status_colour
from llmproxy_desktop.ui.widgets.group_picker import (
    LIST_SEPARATOR,
    GroupListPicker,
    GroupPicker,
    split_groups,
)

_AnyIndex = QModelIndex | QPersistentModelIndex

FallbackRow = tuple[str, tuple[str, ...]]
AliasRow = tuple[str, str]
_Row = TypeVar("_Row", FallbackRow, AliasRow)

# The kind of editor a cell wants (a CellKind value), for the delegate.
KIND_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 1
# True when the page has set a problem on the cell.
PROBLEM_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 2
# What an empty cell (and its editor) says.
PLACEHOLDER_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 3
_DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
_EDIT: Final = int(Qt.ItemDataRole.EditRole)
_FOREGROUND: Final = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP: Final = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE: Final = int(Qt.ItemDataRole.AccessibleTextRole)


class CellKind(Enum):
    """What a cell holds, and so which editor the delegate opens for it."""

    TEXT = "text"  # free text (an alias)
    GROUP = "group"  # one model group
    GROUPS = "groups"  # an ordered list of model groups


@dataclass(frozen=True)
class Column:
    """A column: its header, its kind and what an empty cell says."""

    title: str
    kind: CellKind
    placeholder: str


class RowsModel(QAbstractTableModel, Generic[_Row]):
    """Editable rows of one routing setting. `edited` on every change the admin makes (not on
    `set_rows`, which is a reload)."""

    edited = Signal()
    COLUMNS: tuple[Column, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._problems: dict[tuple[int, int], str] = {}

    # ------------------------------------------------------------------ the row type

    def empty_row(self) -> _Row:
        """The row Add appends."""
        raise NotImplementedError

    def cell_text(self, row: _Row, column: int) -> str:
        """A cell as text (what the editor starts with)."""
        raise NotImplementedError

    def with_cell(self, row: _Row, column: int, text: str) -> _Row:
        """`row` with one cell set from the editor's text (normalised: trimmed, listed)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ rows

    def rows(self) -> tuple[_Row, ...]:
        """All rows, in order."""
        return tuple(self._rows)

    def set_rows(self, rows: Iterable[_Row]) -> None:
        """Show exactly these rows (silently: this is a reload, not an edit)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._problems = {}
        self.endResetModel()

    def add_row(self) -> int:
        """Append an empty row; its index."""
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(self.empty_row())
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove_rows(self, rows: Iterable[int]) -> None:
        """Drop these rows (indexes as they are now)."""
        doomed = sorted({r for r in rows if 0 <= r < len(self._rows)}, reverse=True)
        if not doomed:
            return
        for row in doomed:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
        self.set_problems({})  # they were found for the old rows; the page checks again
        self.edited.emit()

    def set_problems(self, problems: Mapping[tuple[int, int], str]) -> None:
        """The problem of each (row, column) that has one: coloured, and told in the tooltip."""
        if dict(problems) == self._problems:
            return
        self._problems = dict(problems)
        if self._rows:
            last = self.index(len(self._rows) - 1, len(self.COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last, [_FOREGROUND, _TOOLTIP, PROBLEM_ROLE])

    def problem(self, row: int, column: int) -> str | None:
        """The problem set on one cell, if any."""
        return self._problems.get((row, column))

    # ------------------------------------------------------------------ Qt

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and int(role) == _DISPLAY:
            return self.COLUMNS[section].title
        return None

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def data(self, index: _AnyIndex, role: int = _DISPLAY) -> Any:
        role = int(role)
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        text = self.cell_text(self._rows[row], column)
        if role == _EDIT:
            return text
        if role in (_DISPLAY, _ACCESSIBLE):
            return text or self.COLUMNS[column].placeholder
        if role == _FOREGROUND:
            return self._foreground(row, column, text)
        if role == _TOOLTIP:
            return self._problems.get((row, column)) or text or None
        if role == KIND_ROLE:
            return self.COLUMNS[column].kind.value
        if role == PROBLEM_ROLE:
            return (row, column) in self._problems
        if role == PLACEHOLDER_ROLE:
            return self.COLUMNS[column].placeholder
        return None

    def setData(self, index: _AnyIndex, value: Any, role: int = _EDIT) -> bool:
        if int(role) != _EDIT or not index.isValid():
            return False
        row, column = index.row(), index.column()
        changed = self.with_cell(self._rows[row], column, str(value))
        if changed != self._rows[row]:
            self._rows[row] = changed
            self.dataChanged.emit(index, index, [_DISPLAY, _EDIT, _FOREGROUND, _TOOLTIP])
            self.edited.emit()
        return True

    def _foreground(self, row: int, column: int, text: str) -> QBrush | None:
        # The live palette each time, so a light/dark switch recolours at once.
        palette = QGuiApplication.palette()
        if (row, column) in self._problems:
            return QBrush(status_colour(StatusColour.BAD, palette))
        return None if text else palette.brush(QPalette.ColorRole.PlaceholderText)


class FallbackModel(RowsModel[FallbackRow]):
    """model group → [fallback groups, in order], one row per chain."""

    COLUMNS = (
        Column("Model group", CellKind.GROUP, "Choose a model group"),
        Column("Fallback groups, in order", CellKind.GROUPS, "Choose fallback groups"),
    )

    def empty_row(self) -> FallbackRow:
        return ("", ())

    def cell_text(self, row: FallbackRow, column: int) -> str:
        return row[0] if column == 0 else LIST_SEPARATOR.join(row[1])

    def with_cell(self, row: FallbackRow, column: int, text: str) -> FallbackRow:
        if column == 0:
            return (text.strip(), row[1])
        return (row[0], tuple(split_groups(text)))


class AliasModel(RowsModel[AliasRow]):
    """alias → the model group it stands for."""

    COLUMNS = (
        Column("Alias", CellKind.TEXT, "Alias clients may ask for"),
        Column("Model group", CellKind.GROUP, "Choose a model group"),
    )

    def empty_row(self) -> AliasRow:
        return ("", "")

    def cell_text(self, row: AliasRow, column: int) -> str:
        return row[column]

    def with_cell(self, row: AliasRow, column: int, text: str) -> AliasRow:
        return (text.strip(), row[1]) if column == 0 else (row[0], text.strip())


# ---------------------------------------------------------------------------------------------
# The delegate


def editor_text(editor: QWidget) -> str:
    """The text an editor the delegate made holds."""
    if isinstance(editor, GroupPicker):
        return editor.value()
    if isinstance(editor, GroupListPicker):
        return editor.edit.text()
    assert isinstance(editor, QLineEdit)
    return editor.text()


def _normalised(kind: CellKind, text: str) -> str:
    if kind is CellKind.GROUPS:
        return LIST_SEPARATOR.join(split_groups(text))
    return text.strip()


class GroupCellDelegate(QStyledItemDelegate):
    """Opens the editor a cell's kind asks for (a group picker sharing the groups' list model,
    a group-list picker, or a line edit) only while that cell is edited, and commits every
    change in it to the model as it is made."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: tuple[str, ...] = ()
        self._row_height = 0  # measured on first use: the editors must fit the row
        self._filling = False  # setEditorData at work: its own text is not an edit

    def set_groups(self, groups: Iterable[str]) -> None:
        """Offer these model groups in the editors opened from now on."""
        self._groups = tuple(groups)

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: _AnyIndex
    ) -> QWidget:
        kind = CellKind(index.data(KIND_ROLE))
        editor = self._new_editor(kind, str(index.data(PLACEHOLDER_ROLE)), parent)
        model = index.model()
        if model is not None:
            editor.setAccessibleName(
                str(model.headerData(index.column(), Qt.Orientation.Horizontal))
            )
        editor.setAutoFillBackground(True)  # the cell's own text must not show through
        return editor

    def _new_editor(self, kind: CellKind, placeholder: str, parent: QWidget) -> QWidget:
        if kind is CellKind.GROUP:
            picker = GroupPicker(placeholder, parent)
            picker.set_groups(self._groups)
            picker.changed.connect(lambda: self._commit(picker))
            return picker
        if kind is CellKind.GROUPS:
            groups = GroupListPicker(parent)
            groups.edit.setPlaceholderText(placeholder)
            groups.set_groups(self._groups)
            groups.setFocusProxy(groups.edit)  # the view focuses (and selects) the text
            groups.changed.connect(lambda: self._commit(groups))
            return groups
        line = QLineEdit(parent)
        line.setPlaceholderText(placeholder)
        line.textChanged.connect(lambda _text: self._commit(line))
        return line

    def _commit(self, editor: QWidget) -> None:
        if not self._filling:
            self.commitData.emit(editor)

    def setEditorData(self, editor: QWidget, index: _AnyIndex) -> None:
        text = str(index.data(_EDIT) or "")
        kind = CellKind(index.data(KIND_ROLE))
        # Edits are committed as they are typed and come back here: leave the editor alone
        # when it already says the same (a half-typed "a, " must not become "a").
        if _normalised(kind, editor_text(editor)) == text:
            return
        self._filling = True
        try:
            if isinstance(editor, GroupPicker):
                editor.set_value(text)
            elif isinstance(editor, GroupListPicker):
                editor.edit.setText(text)
            elif isinstance(editor, QLineEdit):
                editor.setText(text)
        finally:
            self._filling = False

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _AnyIndex) -> None:
        model.setData(index, editor_text(editor), _EDIT)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: _AnyIndex
    ) -> None:
        # At the editor's own height, centred: a combo box stretched to the row looks wrong.
        rect = QRect(option.rect)
        height = min(rect.height(), max(editor.sizeHint().height(), self.row_height()))
        rect.setTop(rect.top() + (rect.height() - height) // 2)
        rect.setHeight(height)
        editor.setGeometry(rect)

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:
        size = super().sizeHint(option, index)
        size.setHeight(max(size.height(), self.row_height()))
        return size

    def row_height(self) -> int:
        """A row's height: the tallest editor's, so an open editor is never clipped."""
        if not self._row_height:
            probes = (GroupPicker(), QLineEdit())
            self._row_height = max(p.sizeHint().height() for p in probes)
        return self._row_height
