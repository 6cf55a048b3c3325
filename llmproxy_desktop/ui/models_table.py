"""The Models table: one row per model deployment, grouped by model group, with its staged flag.

New and changed rows take the theme's staged accent, deleted rows are struck through.
Every cell is computed once per `set_items` into a `ModelRow`, so painting and filtering 2,000
rows never walk item data again. Credentials show as a credential name, an ``os.environ/`` name
or ***: a secret value never reaches a cell or tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QFont, QGuiApplication, QPalette

from llmproxy_desktop.core.catalog import split_model
from llmproxy_desktop.core.items import (
    REDACTED,
    EffectiveItem,
    Flag,
    ItemKind,
    is_env_reference,
    model_group,
)
from llmproxy_desktop.core.secrets import looks_secret_key
from llmproxy_desktop.ui.theme import staged_accent

_AnyIndex = QModelIndex | QPersistentModelIndex

# The item behind a row, for the page's actions (Qt.UserRole).
ITEM_ROLE: Final = Qt.ItemDataRole.UserRole
APPLIED: Final = "applied"
_STATUS_TIPS: Final[Mapping[str, str]] = {
    Flag.NEW.value: "Staged as new: it goes live with the next Apply.",
    Flag.CHANGED.value: "Staged change: it goes live with the next Apply.",
    Flag.DELETED.value: "Staged for deletion: it is removed with the next Apply.",
    APPLIED: "Live on the gateway, no staged change.",
}


class Column(IntEnum):
    """The table's columns, in display order."""

    GROUP = 0
    PROVIDER = 1
    MODEL = 2
    CREDENTIAL = 3
    STATUS = 4


HEADERS: Final = ("Model group", "Provider", "Model", "Credential", "Status")
_COLUMN_COUNT: Final = len(HEADERS)
# Plain ints: the view asks ~8 roles per visible cell per frame, and enum comparisons and
# Enum.__len__ showed up in the scroll profile.
_DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND: Final = int(Qt.ItemDataRole.ForegroundRole)
_FONT: Final = int(Qt.ItemDataRole.FontRole)
_TOOLTIP: Final = int(Qt.ItemDataRole.ToolTipRole)
_ITEM: Final = int(ITEM_ROLE)
_ANSWERED: Final = frozenset({_DISPLAY, _FOREGROUND, _FONT, _TOOLTIP, _ITEM})


@dataclass(frozen=True)
class ModelRow:
    """The display values of one model item, computed once."""

    effective: EffectiveItem
    cells: tuple[str, str, str, str, str]
    search_text: str  # casefolded "group provider model", what the search field matches

    @property
    def flag(self) -> Flag | None:
        return self.effective.flag


def credential_text(params: Mapping[str, Any]) -> str:
    """How a model authenticates, safe to show: credential name, os.environ/ name or ***."""
    name = params.get("litellm_credential_name")
    if isinstance(name, str) and name:
        return name
    key = params.get("api_key")
    if key is None or key == "":
        # No api_key: other providers authenticate with their own fields (aws_access_key_id,
        # vertex_credentials, ...); name the first one set, never its value.
        other = next(
            (k for k, v in params.items() if looks_secret_key(str(k)) and v not in (None, "")),
            None,
        )
        if other is None:
            return ""
        value = params[other]
        return str(value) if is_env_reference(value) else f"{other}: {REDACTED}"
    if is_env_reference(key):
        return str(key)
    return REDACTED  # a vault Secret or a literal: never its value


def model_row(effective: EffectiveItem) -> ModelRow:
    """The row for one model item (tolerates malformed data: empty cells, never an error)."""
    data = effective.item.data if isinstance(effective.item.data, Mapping) else {}
    params = data.get("litellm_params")
    params = params if isinstance(params, Mapping) else {}
    model = params.get("model")
    model = model if isinstance(model, str) else ""
    provider, _name = split_model(model)
    group = model_group(effective.item) or ""
    status = effective.flag.value if effective.flag is not None else APPLIED
    cells = (group, provider or "", model, credential_text(params), status)
    return ModelRow(effective, cells, f"{group}\n{provider or ''}\n{model}".casefold())


def _sort_key(row: ModelRow) -> tuple[str, str, str]:
    return (row.cells[Column.GROUP].casefold(), row.cells[Column.MODEL], row.effective.item.name)


class ModelsTableModel(QAbstractTableModel):
    """Model items as rows sorted by model group, so the rows of a group sit together."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ModelRow] = []
        self._strike = QFont()
        self._strike.setStrikeOut(True)
        self._accent = QBrush()
        self._accent_key = -1

    def set_items(self, effective: Iterable[EffectiveItem]) -> None:
        """Replace all rows with the model items of `effective` (other kinds are ignored)."""
        rows = [model_row(e) for e in effective if e.item.kind is ItemKind.MODEL]
        rows.sort(key=_sort_key)
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_at(self, row: int) -> ModelRow:
        """The row record at a source row number."""
        return self._rows[row]

    @property
    def rows(self) -> Sequence[ModelRow]:
        """All rows, in display order."""
        return self._rows

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _AnyIndex, role: int = _DISPLAY) -> Any:
        role = int(role)
        if role not in _ANSWERED or not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == _DISPLAY:
            return row.cells[index.column()]
        if role == _FOREGROUND:
            return self._foreground(row) if row.flag is not None else None
        if role == _FONT:
            return self._strike if row.flag is Flag.DELETED else None
        if role == _TOOLTIP:
            return self._tooltip(row, index.column())
        return row.effective

    def _foreground(self, row: ModelRow) -> QBrush:
        # The live palette each time, so a light/dark switch recolours at once; the accent brush
        # is cached per palette because the view asks for it for every staged cell it paints.
        palette = QGuiApplication.palette()
        if row.flag is Flag.DELETED:
            return palette.brush(QPalette.ColorRole.PlaceholderText)
        if palette.cacheKey() != self._accent_key:
            self._accent = QBrush(staged_accent(palette))
            self._accent_key = palette.cacheKey()
        return self._accent

    @staticmethod
    def _tooltip(row: ModelRow, column: int) -> str | None:
        if column == Column.STATUS:
            return _STATUS_TIPS[row.cells[Column.STATUS]]
        text = row.cells[column]
        return text or None  # full text for elided cells; cells hold no secrets


class ModelsFilterProxy(QSortFilterProxyModel):
    """Keeps rows whose group, provider or model contains every word of the search text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()

    def set_search(self, text: str) -> None:
        """Filter by `text` (case-insensitive; words separated by spaces must all match)."""
        words = tuple(text.casefold().split())
        if words == self._words:
            return
        self.beginFilterChange()
        self._words = words
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def search_words(self) -> tuple[str, ...]:
        """The words currently filtered by."""
        return self._words

    def filterAcceptsRow(self, source_row: int, source_parent: _AnyIndex) -> bool:
        if not self._words:
            return True
        source = self.sourceModel()
        assert isinstance(source, ModelsTableModel)
        text = source.row_at(source_row).search_text
        return all(word in text for word in self._words)
