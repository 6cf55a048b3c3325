"""The Routing page: routing strategy, retries and cooldowns, fallbacks and model-group aliases.

One item per settings key (ItemKind.ROUTER_SETTING, name = the router_settings key). Fallbacks
live where the imported config put them: `router_settings` unless only `litellm_settings` holds
them (the importer keeps each section's keys as that section's items, and router_settings wins
when both do), so a fallback list edited here is staged back into its own section.

The page is plain data in (`set_items`) and edits out (the injected `StagingEditor`). Findings
come from the core validator run on the would-be effective items, so a dangling fallback or
alias is shown in its cell (error colour, the reason in the tooltip, the first rows named above
the table) exactly as Apply would report it. Dangling references block Apply, not staging; rows
that cannot be written at all (no group chosen) block Save.

Fallbacks and aliases are tables (model/view, see `routing_rows`): a Master with 400 fallback
chains shows and refreshes this page without building a widget per chain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

import shiboken6
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.findings import Finding
from llmproxy_desktop.core.items import (
    SETTING_SECTIONS,
    EffectiveItem,
    Flag,
    Item,
    ItemKey,
    ItemKind,
    JSONValue,
    live_items,
    model_group,
)
from llmproxy_desktop.core.render import build_config
from llmproxy_desktop.core.validate import ALLOWED_ROUTING_STRATEGIES, validate_config
from llmproxy_desktop.ui.deferred import DeferredWhileHidden
from llmproxy_desktop.ui.pages.routing_rows import (
    AliasModel,
    AliasRow,
    FallbackModel,
    FallbackRow,
    GroupCellDelegate,
    RowsModel,
)
from llmproxy_desktop.ui.staging import StagingEditor
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    staged_accent,
    status_colour,
)

STRATEGY_KEY: Final = "routing_strategy"
ALIAS_KEY: Final = "model_group_alias"
FALLBACK_KEYS: Final = ("fallbacks", "context_window_fallbacks")
NOT_SET_TEXT: Final = "Not set"
DEFAULT_STRATEGY_TEXT: Final = "simple-shuffle (default)"
DECIMALS: Final = 2  # of the seconds spin boxes
VALIDATE_DELAY_MS: Final = 150  # live validation builds a config: debounce typing
INCOMPLETE_FALLBACK: Final = "Choose a model group and at least one fallback group."
INCOMPLETE_ALIAS: Final = "Enter an alias and choose the model group it stands for."
DUPLICATE_ALIAS: Final = "This alias is listed twice."
SUMMARY_ROWS: Final = 3  # rows with problems named above a table; the rest are counted
MIN_VISIBLE_ROWS: Final = 2  # a table's height, in rows, before it scrolls
MAX_VISIBLE_ROWS: Final = 8
_FLAG_TEXT: Final[Mapping[Flag, str]] = {
    Flag.NEW: "Staged: new",
    Flag.CHANGED: "Staged: changed",
    Flag.DELETED: "Staged: removed",
}


@dataclass(frozen=True)
class NumericSetting:
    """A number in router_settings; the spin box's minimum stands for "not set"."""

    key: str
    label: str
    integer: bool
    maximum: float


NUMERIC_SETTINGS: Final = (
    NumericSetting("num_retries", "Retries:", True, 100),
    NumericSetting("timeout", "Timeout (seconds):", False, 86_400),
    NumericSetting("cooldown_time", "Cooldown (seconds):", False, 86_400),
    NumericSetting("allowed_fails", "Allowed failures:", True, 10_000),
)
EDITED_KEYS: Final = (
    STRATEGY_KEY,
    *(s.key for s in NUMERIC_SETTINGS),
    *FALLBACK_KEYS,
    ALIAS_KEY,
)

FallbackRows = tuple[FallbackRow, ...]
AliasRows = tuple[AliasRow, ...]
Cell = tuple[int, int]  # (row, column) of a fallback or alias table


# ---------------------------------------------------------------------------------------------
# Plain conversions between stored values and what the form shows (no Qt).


def number_or_none(value: object, setting: NumericSetting) -> float | int | None:
    """A stored number as the spin box shows it; None for absent values and for values the
    spin box cannot show (those stay stored as they are unless the admin sets a new one)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    if number is None or not 0 <= number <= setting.maximum:
        return None
    if setting.integer:
        return int(number) if number.is_integer() else None
    return round(number, DECIMALS)


def number_value(number: float) -> int | float:
    """What is written for a number: an int when it is whole (30, not 30.0)."""
    return int(number) if float(number).is_integer() else float(number)


def fallback_rows(value: object) -> FallbackRows:
    """`[{group: [fallbacks]}, …]` as rows; a multi-key entry becomes one row per key."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    for entry in value if isinstance(value, list) else []:
        for primary, targets in entry.items() if isinstance(entry, Mapping) else ():
            listed = targets if isinstance(targets, list) else [targets]
            rows.append((str(primary), tuple(str(t) for t in listed)))
    return tuple(rows)


def fallback_value(rows: FallbackRows) -> JSONValue:
    """Rows as LiteLLM's shape, a list of single-key mappings; None (remove) for no rows."""
    return [{primary: list(targets)} for primary, targets in rows] or None


def alias_rows(value: object) -> AliasRows:
    """`{alias: group}` (or `{alias: {model: group, …}}`) as (alias, group) rows."""
    rows: list[tuple[str, str]] = []
    for alias, target in value.items() if isinstance(value, Mapping) else ():
        group = target.get("model") if isinstance(target, Mapping) else target
        rows.append((str(alias), "" if group is None else str(group)))
    return tuple(rows)


def alias_value(rows: AliasRows, stored: object) -> JSONValue:
    """Rows as `{alias: group}`, keeping the extra keys of a stored `{model: …}` form."""
    old = stored if isinstance(stored, Mapping) else {}
    value: dict[str, Any] = {}
    for alias, group in rows:
        previous = old.get(alias)
        value[alias] = {**previous, "model": group} if isinstance(previous, Mapping) else group
    return value or None


def row_index(path: str, prefix: str) -> int | None:
    """The row a finding path points at: `router_settings.fallbacks[2].gpt[0]` → 2."""
    if not path.startswith(prefix + "["):
        return None
    inside = path[len(prefix) + 1 :].split("]", 1)[0]
    return int(inside) if inside.isdigit() else None


def check_basis(effective: Iterable[EffectiveItem]) -> list[EffectiveItem]:
    """What this page's findings depend on: every item but the models, and one live model per
    model group. References are checked against group names only, and the check runs as the
    admin types: the other 1,600 models of a 2,000-model Master would only make it slower."""
    seen: set[str] = set()
    basis: list[EffectiveItem] = []
    for entry in effective:
        if entry.item.kind is ItemKind.MODEL:
            group = _live_group(entry)
            if entry.is_deleted or group in seen:
                continue
            if group is not None:
                seen.add(group)
        basis.append(entry)
    return basis


def fallback_problems(
    rows: FallbackRows, findings: Iterable[Finding], prefix: str
) -> dict[Cell, str]:
    """The problem of each (row, column) of a fallback table: empty cells, and the findings
    under `prefix[row]` (the fallback groups' column when they name a target)."""
    problems: dict[Cell, list[str]] = {}
    for row, (primary, targets) in enumerate(rows):
        for column, filled in enumerate((primary, targets)):
            if not filled:
                problems.setdefault((row, column), []).append(INCOMPLETE_FALLBACK)
    for finding in findings:
        at = row_index(finding.path, prefix)
        if at is None or at >= len(rows):
            continue
        target = finding.path.startswith(f"{prefix}[{at}].{rows[at][0]}[")
        problems.setdefault((at, 1 if target else 0), []).append(finding.message)
    return {cell: " ".join(messages) for cell, messages in problems.items()}


def alias_problems(rows: AliasRows, findings: Iterable[Finding], prefix: str) -> dict[Cell, str]:
    """The problem of each (row, column) of the alias table: empty cells, repeated aliases,
    and the findings at `prefix.alias` (about the group it stands for)."""
    problems: dict[Cell, list[str]] = {}
    findings = list(findings)
    counts = Counter(alias for alias, _ in rows)
    for row, (alias, group) in enumerate(rows):
        for column, filled in enumerate((alias, group)):
            if not filled:
                problems.setdefault((row, column), []).append(INCOMPLETE_ALIAS)
        if alias and group and counts[alias] > 1:
            problems.setdefault((row, 0), []).append(DUPLICATE_ALIAS)
        for message in _messages(findings, f"{prefix}.{alias}"):
            problems.setdefault((row, 1), []).append(message)
    return {cell: " ".join(messages) for cell, messages in problems.items()}


def problems_summary(problems: Mapping[Cell, str]) -> list[str]:
    """Lines naming the first rows with problems (numbered from 1), then how many more."""
    by_row: dict[int, list[str]] = {}
    for (row, _column), message in sorted(problems.items()):
        if message not in by_row.setdefault(row, []):
            by_row[row].append(message)
    lines = [f"Row {row + 1}: {' '.join(by_row[row])}" for row in sorted(by_row)[:SUMMARY_ROWS]]
    more = len(by_row) - SUMMARY_ROWS
    if more > 0:
        lines.append(
            f"{more} more {'row has' if more == 1 else 'rows have'} problems; "
            "their cells are marked, and each cell's tooltip says why."
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Widgets


class _TintedLabel(QLabel):
    """A label whose text colour follows a meaning (staged accent, error) in light and dark."""

    def __init__(self, tint: Callable[[QPalette], QColor]) -> None:
        super().__init__()
        self._tint = tint
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()
        self._retint()

    def show_text(self, text: str) -> None:
        """Show `text` (empty hides the label)."""
        self.setText(text)
        self.setVisible(bool(text))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._retint()

    def _retint(self) -> None:
        colour = self._tint(self.palette())
        # Only when it differs: setting the palette sends another PaletteChange.
        if self.palette().color(QPalette.ColorRole.WindowText) != colour:
            palette = self.palette()
            palette.setColor(QPalette.ColorRole.WindowText, colour)
            self.setPalette(palette)


def error_text_label() -> _TintedLabel:
    """An inline error in the "bad" colour."""
    return _TintedLabel(lambda p: status_colour(StatusColour.BAD, p))


def flag_label() -> _TintedLabel:
    """A setting's staged flag in the staged accent."""
    return _TintedLabel(staged_accent)


class RowsView(QTableView):
    """A section's rows: as tall as its rows up to MAX_VISIBLE_ROWS, then it scrolls. Delete
    (or Backspace) asks to remove the selected rows."""

    remove_requested = Signal()

    def __init__(self, model: RowsModel[Any], delegate: GroupCellDelegate) -> None:
        super().__init__()
        self.setModel(model)
        self.setItemDelegate(delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        triggers = QAbstractItemView.EditTrigger
        self.setEditTriggers(
            triggers.DoubleClicked
            | triggers.SelectedClicked
            | triggers.EditKeyPressed
            | triggers.AnyKeyPressed
        )
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # As tall as the app's other tables, and never shorter than the editors.
        rows.setDefaultSectionSize(max(rows.defaultSectionSize(), delegate.row_height()))
        columns = self.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        columns.setHighlightSections(False)  # a selected row is not a selected column
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self.updateGeometry)

    def sizeHint(self) -> QSize:
        model = self.model()
        shown = min(max(model.rowCount() if model else 0, MIN_VISIBLE_ROWS), MAX_VISIBLE_ROWS)
        height = (
            self.horizontalHeader().sizeHint().height()
            + shown * self.verticalHeader().defaultSectionSize()
            + 2 * self.frameWidth()
        )
        return QSize(super().sizeHint().width(), height)

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        removing = event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        if removing and self.state() != QAbstractItemView.State.EditingState:
            self.remove_requested.emit()
            return
        super().keyPressEvent(event)


_Model = TypeVar("_Model", FallbackModel, AliasModel)


class RowsSection(QGroupBox, Generic[_Model]):
    """A titled table of rows with Add and Remove, a staged flag and the section's errors."""

    changed = Signal()

    def __init__(self, title: str, add_text: str, model: _Model) -> None:
        super().__init__(title)
        self.model: _Model = model
        model.setParent(self)
        self.delegate = GroupCellDelegate(self)
        self.view = RowsView(model, self.delegate)
        self.view.setAccessibleName(title)
        self.flag = flag_label()
        self.error = error_text_label()
        self.add_button = QPushButton(add_text)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.flag)
        layout.addWidget(self.error)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self.remove_selected)
        self.view.remove_requested.connect(self.remove_selected)
        model.edited.connect(self.changed)
        selection = self.view.selectionModel()
        selection.selectionChanged.connect(self._selection_changed)
        model.modelReset.connect(self._selection_changed)

    def set_groups(self, groups: Sequence[str]) -> None:
        """Offer these model groups in the cell editors."""
        self.delegate.set_groups(groups)

    def add_row(self) -> int:
        """Append an empty row and start editing it (also the Add button's action)."""
        row = self.model.add_row()
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        self.view.edit(index)
        return row

    def remove_selected(self) -> None:
        """Drop the selected rows (also the Remove button's and the Delete key's action)."""
        self.model.remove_rows(i.row() for i in self.view.selectionModel().selectedRows())

    def _selection_changed(self, *_args: object) -> None:
        self.remove_button.setEnabled(self.view.selectionModel().hasSelection())


# ---------------------------------------------------------------------------------------------
# The page


class RoutingPage(DeferredWhileHidden):
    """Router settings as a form; Save stages the changed keys, Revert shows the stored ones."""

    def __init__(self, editor: StagingEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("routingPage")
        self._editor = editor
        self._basis: list[EffectiveItem] = []  # what the findings depend on (check_basis)
        self._stored: dict[str, EffectiveItem] = {}  # key → its live-or-flagged effective item
        # key → the item the form's value was read from: its version goes with the edit.
        self._read: dict[str, EffectiveItem | None] = {}
        self._groups: list[str] = []
        self._pending = 0
        self._failures: list[str] = []
        self.findings: list[Finding] = []
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self._loading = True  # building and loading the widgets is not an edit
        self._build()
        self._load_form()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.error_label = error_text_label()
        self.flags: dict[str, _TintedLabel] = {}
        self.field_errors: dict[str, _TintedLabel] = {}
        content = QWidget()
        column = QVBoxLayout(content)
        column.setSpacing(CONTROL_SPACING)
        column.addWidget(self.error_label)
        column.addWidget(self._build_basics())
        self.fallback_sections: dict[str, RowsSection[FallbackModel]] = {}
        for key, title, add in (
            ("fallbacks", "Fallbacks", "Add Fallback"),
            ("context_window_fallbacks", "Context window fallbacks", "Add Fallback"),
        ):
            section = RowsSection(title, add, FallbackModel())
            self.fallback_sections[key] = section
            self.flags[key] = section.flag
            self.field_errors[key] = section.error
            section.changed.connect(self._form_changed)
            column.addWidget(section)
        self.alias_section = RowsSection("Model group aliases", "Add Alias", AliasModel())
        self.flags[ALIAS_KEY] = self.alias_section.flag
        self.field_errors[ALIAS_KEY] = self.alias_section.error
        self.alias_section.changed.connect(self._form_changed)
        column.addWidget(self.alias_section)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        self.revert_button = QPushButton("Revert")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.revert_button.clicked.connect(self.revert)
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN, WINDOW_MARGIN)
        layout.setSpacing(CONTROL_SPACING)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)

    def _build_basics(self) -> QGroupBox:
        box = QGroupBox("Strategy and retries")
        form = QFormLayout(box)
        self.strategy = QComboBox()
        self.strategy.addItems(ALLOWED_ROUTING_STRATEGIES)
        self.strategy.setAccessibleName("Routing strategy")
        self.strategy.currentIndexChanged.connect(self._form_changed)
        form.addRow("Routing strategy:", self._with_extras(STRATEGY_KEY, self.strategy))
        self.numbers: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for setting in NUMERIC_SETTINGS:
            spin = _spin_box(setting)
            spin.valueChanged.connect(self._form_changed)
            self.numbers[setting.key] = spin
            form.addRow(setting.label, self._with_extras(setting.key, spin))
        return box

    def _with_extras(self, key: str, control: QWidget) -> QWidget:
        """The control, its staged flag beside it and its inline error under it."""
        self.flags[key] = flag_label()
        self.field_errors[key] = error_text_label()
        holder = QWidget()
        line = QHBoxLayout()
        line.addWidget(control, 1)
        line.addWidget(self.flags[key])
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(line)
        layout.addWidget(self.field_errors[key])
        return holder

    # ------------------------------------------------------------------ data in

    def set_items(self, effective: list[EffectiveItem]) -> None:
        """Show these effective items (applied when the page is shown: rebuilding hundreds of
        fallback rows is not worth doing for a hidden page)."""
        items = list(effective)
        self.defer("items", lambda: self._apply_items(items))

    def _apply_items(self, effective: list[EffectiveItem]) -> None:
        """Fields not edited follow the store; a field being edited keeps the admin's value
        (and the version it was read at)."""
        before, form = self._read_form(), self.form_values()
        self._stored = _stored_settings(effective)
        self._basis = check_basis(effective)
        self._groups = sorted(
            {g for e in self._basis if (g := _live_group(e)) is not None}, key=str.casefold
        )
        self._refresh_groups()
        self._loading = True
        try:
            for key in EDITED_KEYS:
                if form[key] == _form_of(key, _value_of(self._stored.get(key))):
                    self._read[key] = self._stored.get(key)  # saved, or the same anyway
                elif form[key] == before[key]:
                    self._load_key(key)  # not edited here: show the new stored value
                # else: an edit in progress keeps the version it was read at, so a change
                # made meanwhile elsewhere comes back as a staging conflict, not an overwrite.
        finally:
            self._loading = False
        self._form_changed()

    def _refresh_groups(self) -> None:
        for section in self.fallback_sections.values():
            section.set_groups(self._groups)
        self.alias_section.set_groups(self._groups)

    def stored_value(self, key: str) -> object:
        """The value the form read for a setting (None: absent or staged for removal)."""
        return _value_of(self._read.get(key))

    def _read_form(self) -> dict[str, object]:
        return {key: _form_of(key, self.stored_value(key)) for key in EDITED_KEYS}

    def _load_form(self) -> None:
        """Put the stored values into the widgets without counting it as an edit."""
        self._loading = True
        try:
            for key in EDITED_KEYS:
                self._load_key(key)
        finally:
            self._loading = False
        self._form_changed()

    def _load_key(self, key: str) -> None:
        """Show the stored value of one key, and remember the item (version) it came from."""
        self._read[key] = entry = self._stored.get(key)
        value = _value_of(entry)
        if key == STRATEGY_KEY:
            self._load_strategy(value)
        elif key in self.numbers:
            setting = next(s for s in NUMERIC_SETTINGS if s.key == key)
            self.set_number(key, number_or_none(value, setting))
        elif key in self.fallback_sections:
            self.fallback_sections[key].model.set_rows(fallback_rows(value))
        else:
            self.alias_section.model.set_rows(alias_rows(value))

    def _load_strategy(self, value: object) -> None:
        index = (
            ALLOWED_ROUTING_STRATEGIES.index(value) if value in ALLOWED_ROUTING_STRATEGIES else -1
        )
        if value is None:
            self.strategy.setPlaceholderText(DEFAULT_STRATEGY_TEXT)
        elif index < 0:
            self.strategy.setPlaceholderText(f"{value} (not allowed)")
        self.strategy.setCurrentIndex(index)

    # ------------------------------------------------------------------ the form's values

    def form_values(self) -> dict[str, object]:
        """Each edited key's value in comparable form (rows as tuples; None = not set)."""
        values: dict[str, object] = {}
        index = self.strategy.currentIndex()
        values[STRATEGY_KEY] = (
            self.strategy.currentText() if index >= 0 else self.stored_value(STRATEGY_KEY)
        )
        for setting in NUMERIC_SETTINGS:
            values[setting.key] = self.number(setting.key)
        for key, section in self.fallback_sections.items():
            values[key] = section.model.rows()
        values[ALIAS_KEY] = self.alias_section.model.rows()
        return values

    def number(self, key: str) -> int | float | None:
        """The value of a number field; None when it reads "Not set"."""
        spin = self.numbers[key]
        return None if spin.value() == spin.minimum() else spin.value()

    def set_number(self, key: str, value: float | None) -> None:
        """Put a value (None: "Not set") into a number field, as if typed."""
        _set_spin(self.numbers[key], value)

    def changed_keys(self) -> list[str]:
        """The keys whose form value differs from the stored one, in form order."""
        stored, form = self._read_form(), self.form_values()
        return [key for key in EDITED_KEYS if stored[key] != form[key]]

    def has_changes(self) -> bool:
        """True while the form holds edits that Save has not staged."""
        return bool(self.changed_keys())

    def _value_to_store(self, key: str, form: object) -> JSONValue:
        if key in FALLBACK_KEYS:
            return fallback_value(cast(FallbackRows, form))
        if key == ALIAS_KEY:
            return alias_value(cast(AliasRows, form), self.stored_value(ALIAS_KEY))
        if key == STRATEGY_KEY or form is None:
            return form
        assert isinstance(form, int | float)
        return number_value(form)

    def _kind_of(self, key: str) -> ItemKind:
        entry = self._read.get(key)
        return entry.item.kind if entry is not None else ItemKind.ROUTER_SETTING

    def _would_be(self) -> tuple[list[tuple[Item, int]], list[tuple[ItemKey, int]]]:
        """What Save would send: (items to stage, keys to delete), each with its version."""
        form = self.form_values()
        stage: list[tuple[Item, int]] = []
        delete: list[tuple[ItemKey, int]] = []
        for key in self.changed_keys():
            entry = self._read.get(key)
            version = entry.version if entry is not None else 0
            value = self._value_to_store(key, form[key])
            if value is not None:
                stage.append((Item(self._kind_of(key), key, value), version))
            elif entry is not None and not entry.is_deleted:
                delete.append((entry.item.key, version))
        return stage, delete

    # ------------------------------------------------------------------ validation

    def _form_changed(self, *_args: object) -> None:
        if self._loading:
            return
        self._show_flags()
        self._update_buttons()
        self._validate_timer.start()

    def validate_now(self) -> None:
        """Run the core validator on the would-be effective items; show what concerns us."""
        self._validate_timer.stop()
        stage, delete = self._would_be()
        # The config rules, not validate_items: its extra item-level rules (passthrough,
        # credentials in use) never point into these settings, and its YAML dump (which
        # Apply needs) would double the time each check takes as the admin types.
        config = build_config(live_items(_overlay(self._basis, stage, delete)))
        self.findings = [f for f in validate_config(config) if self._concerns_page(f.path)]
        self._show_findings()
        self._update_buttons()

    def _show_findings(self) -> None:
        for key in (STRATEGY_KEY, *(s.key for s in NUMERIC_SETTINGS)):
            self.field_errors[key].show_text(
                " ".join(_messages(self.findings, self._path_of(key), exact=False))
            )
        for key, section in self.fallback_sections.items():
            prefix = self._path_of(key)
            problems = fallback_problems(section.model.rows(), self.findings, prefix)
            self._show_problems(key, section, problems)
        prefix = self._path_of(ALIAS_KEY)
        problems = alias_problems(self.alias_section.model.rows(), self.findings, prefix)
        self._show_problems(ALIAS_KEY, self.alias_section, problems)

    def _show_problems(
        self, key: str, section: RowsSection[Any], problems: Mapping[Cell, str]
    ) -> None:
        """Mark the cells in the table; sum them up (with the section's own) above it."""
        section.model.set_problems(problems)
        own = _messages(self.findings, self._path_of(key))
        self.field_errors[key].show_text("\n".join([*own, *problems_summary(problems)]))

    def _path_of(self, key: str) -> str:
        return f"{SETTING_SECTIONS[self._kind_of(key)]}.{key}"

    def _concerns_page(self, path: str) -> bool:
        """Whether a finding's path is at or under a setting this page edits."""
        for key in EDITED_KEYS:
            prefix = self._path_of(key)
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                return True
        return False

    def _rows_complete(self) -> bool:
        fallbacks = self.fallback_sections.values()
        complete = all(p and t for s in fallbacks for p, t in s.model.rows())
        aliases = self.alias_section.model.rows()
        names = [alias for alias, _ in aliases]
        unique = len(names) == len(set(names))
        return complete and unique and all(a and g for a, g in aliases)

    def _show_flags(self) -> None:
        for key, label in self.flags.items():
            entry = self._stored.get(key)
            flag = entry.flag if entry is not None else None
            label.show_text(_FLAG_TEXT[flag] if flag is not None else "")

    def _update_buttons(self) -> None:
        changes = self.has_changes() and self._pending == 0
        self.revert_button.setEnabled(changes)
        self.save_button.setEnabled(changes and self._rows_complete())

    # ------------------------------------------------------------------ actions

    def revert(self) -> None:
        """Throw the form's edits away and show the stored values again."""
        self.error_label.show_text("")
        self._load_form()
        self.validate_now()

    def save(self) -> None:
        """Stage the changed keys in one call and delete the removed ones in another."""
        if not self.save_button.isEnabled():
            return
        stage, delete = self._would_be()
        self.error_label.show_text("")
        self._failures = []
        calls: list[Callable[[], None]] = []
        if stage:
            calls.append(lambda: self._editor.stage(stage, self._answered))
        if delete:
            calls.append(lambda: self._editor.delete(delete, self._answered))
        self._pending = len(calls)
        self._update_buttons()
        for call in calls:
            call()

    def _answered(self, sentence: str | None) -> None:
        if not shiboken6.isValid(self):  # the page went away while the edit was in flight
            return
        self._pending = max(0, self._pending - 1)
        if sentence:
            self._failures.append(sentence)
        if self._pending == 0:
            self.error_label.show_text(" ".join(self._failures))
        self._update_buttons()


def _spin_box(setting: NumericSetting) -> QSpinBox | QDoubleSpinBox:
    spin: QSpinBox | QDoubleSpinBox
    if setting.integer:
        spin = QSpinBox()
        spin.setRange(-1, int(setting.maximum))
    else:
        spin = QDoubleSpinBox()
        spin.setDecimals(DECIMALS)
        spin.setRange(-1.0, setting.maximum)
    # The minimum is the "not set" state: the key is then absent from router_settings.
    spin.setSpecialValueText(NOT_SET_TEXT)
    _set_spin(spin, None)
    spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
    spin.setAccessibleName(setting.label.rstrip(":"))
    return spin


def _set_spin(spin: QSpinBox | QDoubleSpinBox, value: float | None) -> None:
    if isinstance(spin, QSpinBox):
        spin.setValue(spin.minimum() if value is None else int(value))
    else:
        spin.setValue(spin.minimum() if value is None else float(value))


def _live_group(entry: EffectiveItem) -> str | None:
    if entry.is_deleted or entry.item.kind is not ItemKind.MODEL:
        return None
    return model_group(entry.item)


def _stored_settings(effective: Sequence[EffectiveItem]) -> dict[str, EffectiveItem]:
    """The effective item of each edited key. Fallbacks come from router_settings, or from
    litellm_settings when only that section has them (router_settings wins, as in LiteLLM)."""
    stored: dict[str, EffectiveItem] = {}
    for kind in (ItemKind.LITELLM_SETTING, ItemKind.ROUTER_SETTING):
        for entry in effective:
            item = entry.item
            if item.kind is not kind or item.name not in EDITED_KEYS:
                continue
            if kind is ItemKind.LITELLM_SETTING and item.name not in FALLBACK_KEYS:
                continue
            previous = stored.get(item.name)
            # A removed router_settings copy must not hide a live litellm_settings one.
            if previous is None or not entry.is_deleted or previous.is_deleted:
                stored[item.name] = entry
    return stored


def _value_of(entry: EffectiveItem | None) -> object:
    """A setting's effective value; None when absent or staged for removal."""
    return None if entry is None or entry.is_deleted else entry.item.data


def _form_of(key: str, value: object) -> object:
    """A stored value in the comparable form `form_values` produces."""
    if key in FALLBACK_KEYS:
        return fallback_rows(value)
    if key == ALIAS_KEY:
        return alias_rows(value)
    for setting in NUMERIC_SETTINGS:
        if setting.key == key:
            return number_or_none(value, setting)
    return value


def _overlay(
    effective: Sequence[EffectiveItem],
    stage: Sequence[tuple[Item, int]],
    delete: Sequence[tuple[ItemKey, int]],
) -> list[EffectiveItem]:
    """The effective items as they would be after these edits."""
    result = {e.item.key: e for e in effective}
    for item, version in stage:
        result[item.key] = EffectiveItem(item, Flag.CHANGED, version)
    for key, version in delete:
        if key in result:
            result[key] = EffectiveItem(result[key].item, Flag.DELETED, version)
    return list(result.values())


def _messages(findings: Iterable[Finding], path: str, *, exact: bool = True) -> list[str]:
    """Messages of findings at `path` (exact), or at or under it (`exact=False`)."""
    if exact:
        return [f.message for f in findings if f.path == path]
    return [f.message for f in findings if f.path == path or f.path.startswith(path + ".")]
