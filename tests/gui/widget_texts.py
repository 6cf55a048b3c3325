"""Every text a widget tree shows or tells assistive tools, for "no secret leaks" assertions."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.StatusTipRole,
    Qt.ItemDataRole.AccessibleTextRole,
    Qt.ItemDataRole.AccessibleDescriptionRole,
)


def all_texts(root: QWidget, *, include_secret_fields: bool = False) -> list[str]:
    """Texts of `root` and every widget under it (child dialogs included). A password field's
    content counts only with `include_secret_fields` (its display text always counts)."""
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        texts.extend(_widget_texts(widget, include_secret_fields))
    return [t for t in texts if t]


def _widget_texts(widget: QWidget, include_secret_fields: bool) -> Iterator[str]:
    yield widget.toolTip()
    yield widget.statusTip()
    yield widget.whatsThis()
    yield widget.accessibleName()
    yield widget.accessibleDescription()
    yield widget.windowTitle()
    if isinstance(widget, QLabel | QAbstractButton):
        yield widget.text()
    if isinstance(widget, QLineEdit):
        yield widget.displayText()
        yield widget.placeholderText()
        if include_secret_fields or widget.echoMode() is QLineEdit.EchoMode.Normal:
            yield widget.text()
    if isinstance(widget, QComboBox):
        yield widget.currentText()
        yield from (widget.itemText(i) for i in range(widget.count()))
    if isinstance(widget, QMessageBox):
        yield from (widget.text(), widget.informativeText(), widget.detailedText())
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        yield widget.toPlainText()
    if isinstance(widget, QAbstractItemView) and widget.model() is not None:
        yield from _model_texts(widget.model())


def _model_texts(model: QAbstractItemModel) -> Iterator[str]:
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column, QModelIndex())
            for role in _ROLES:
                value = model.data(index, role)
                if value is not None:
                    yield str(value)
