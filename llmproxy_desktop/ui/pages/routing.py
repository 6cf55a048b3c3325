"""The Routing page: routing strategy, retries and cooldowns, fallbacks and model-group aliases.

One item per settings key (ItemKind.ROUTER_SETTING, name = the router_settings key). Fallbacks
live where the imported config put them: `router_settings` unless only `litellm_settings` holds
them (the importer keeps each section's keys as that section's items, and router_settings wins
when both do), so a fallback list edited here is staged back into its own section.

The page is plain data in (`set_items`) and edits out (the injected `StagingEditor`). Findings
come from the core validator run on the would-be effective items, so a dangling fallback or
alias is shown next to its row exactly as Apply would report it. Dangling references block
Apply, not staging; rows that cannot be written at all (no group chosen) block Save.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
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
    model_group,
)
from llmproxy_desktop.core.validate import ALLOWED_ROUTING_STRATEGIES, validate_items
from llmproxy_desktop.ui.deferred import DeferredWhileHidden
from llmproxy_desktop.ui.staging import StagingEditor
from llmproxy_desktop.ui.theme import (
    CONTROL_SPACING,
    WINDOW_MARGIN,
    StatusColour,
    staged_accent,
    status_colour,
)
from llmproxy_desktop.ui.widgets.group_picker import GroupListPicker, GroupPicker

STRATEGY_KEY: Final = "routing_strategy"
ALIAS_KEY: Final = "model_group_alias"
FALLBACK_KEYS: Final = ("fallbacks", "context_window_fallbacks")
NOT_SET_TEXT: Final = "Not set"
DEFAULT_STRATEGY_TEXT: Final = "simple-shuffle (default)"
DECIMALS: Final = 2  # of the seconds spin boxes
VALIDATE_DELAY_MS: Final = 150  # live validation renders the whole config: debounce typing
INCOMPLETE_FALLBACK: Final = "Choose a model group and at least one fallback group."
INCOMPLETE_ALIAS: Final = "Enter an alias and choose the model group it stands for."
DUPLICATE_ALIAS: Final = "This alias is listed twice."
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

FallbackRows = tuple[tuple[str, tuple[str, ...]], ...]
AliasRows = tuple[tuple[str, str], ...]


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


class _FallbackRow(QWidget):
    """group → [fallback groups], Remove, and the row's inline error underneath."""

    changed = Signal()
    remove_requested = Signal()

    def __init__(self, primary: str, targets: Sequence[str], groups: Sequence[str]) -> None:
        super().__init__()
        self.primary = GroupPicker()
        self.primary.setAccessibleName("Model group")
        self.targets = GroupListPicker()
        self.targets.setAccessibleName("Fallback groups")
        for picker in (self.primary, self.targets):
            picker.set_groups(groups)
        self.primary.set_value(primary)
        self.targets.set_value(targets)
        self.remove = QToolButton()
        self.remove.setText("Remove")
        self.error = error_text_label()
        line = QHBoxLayout()
        line.addWidget(self.primary, 2)
        line.addWidget(QLabel("→"))
        line.addWidget(self.targets, 3)
        line.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(line)
        layout.addWidget(self.error)
        self.primary.changed.connect(self.changed)
        self.targets.changed.connect(self.changed)
        self.remove.clicked.connect(self.remove_requested)

    def set_groups(self, groups: Sequence[str]) -> None:
        self.primary.set_groups(groups)
        self.targets.set_groups(groups)

    def row(self) -> tuple[str, tuple[str, ...]]:
        return (self.primary.value(), tuple(self.targets.value()))

    def is_complete(self) -> bool:
        primary, targets = self.row()
        return bool(primary and targets)


class _AliasRow(QWidget):
    """alias → model group, Remove, and the row's inline error underneath."""

    changed = Signal()
    remove_requested = Signal()

    def __init__(self, alias: str, group: str, groups: Sequence[str]) -> None:
        super().__init__()
        self.alias = QLineEdit(alias)
        self.alias.setPlaceholderText("Alias clients may ask for")
        self.alias.setAccessibleName("Alias")
        self.target = GroupPicker()
        self.target.setAccessibleName("Model group")
        self.target.set_groups(groups)
        self.target.set_value(group)
        self.remove = QToolButton()
        self.remove.setText("Remove")
        self.error = error_text_label()
        line = QHBoxLayout()
        line.addWidget(self.alias, 2)
        line.addWidget(QLabel("→"))
        line.addWidget(self.target, 3)
        line.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(line)
        layout.addWidget(self.error)
        self.alias.textChanged.connect(lambda _t: self.changed.emit())
        self.target.changed.connect(self.changed)
        self.remove.clicked.connect(self.remove_requested)

    def set_groups(self, groups: Sequence[str]) -> None:
        self.target.set_groups(groups)

    def row(self) -> tuple[str, str]:
        return (self.alias.text().strip(), self.target.value())

    def is_complete(self) -> bool:
        alias, group = self.row()
        return bool(alias and group)


_Row = TypeVar("_Row", _FallbackRow, _AliasRow)


class RowsSection(QGroupBox, Generic[_Row]):
    """A titled list of rows with an Add button, a staged flag and a section-wide error."""

    changed = Signal()

    def __init__(self, title: str, add_text: str, make_row: Callable[[], _Row]) -> None:
        super().__init__(title)
        self._make_row: Callable[[], _Row] = make_row
        self.rows: list[_Row] = []
        self.flag = flag_label()
        self.error = error_text_label()
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(CONTROL_SPACING)
        self.add_button = QPushButton(add_text)
        self.add_button.clicked.connect(self.add_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.flag)
        layout.addWidget(self.error)
        layout.addLayout(self.rows_layout)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    def add_row(self) -> _Row:
        """Append an empty row (also the Add button's action)."""
        row = self._make_row()
        self._append(row)
        self.changed.emit()
        return row

    def replace_rows(self, rows: Iterable[_Row]) -> None:
        """Show exactly these rows (silently: this is a reload, not an edit)."""
        for row in self.rows:
            self.rows_layout.removeWidget(row)
            row.hide()  # deleteLater waits for the event loop: do not paint it meanwhile
            row.deleteLater()
        self.rows = []
        for row in rows:
            self._append(row)

    def remove_row(self, row: _Row) -> None:
        """Drop one row."""
        self.rows.remove(row)
        self.rows_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self.changed.emit()

    def _append(self, row: _Row) -> None:
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        row.changed.connect(self.changed)
        row.remove_requested.connect(lambda: self.remove_row(row))


# ---------------------------------------------------------------------------------------------
# The page


class RoutingPage(DeferredWhileHidden):
    """Router settings as a form; Save stages the changed keys, Revert shows the stored ones."""

    def __init__(self, editor: StagingEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("routingPage")
        self._editor = editor
        self._effective: list[EffectiveItem] = []
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
        self.fallback_sections: dict[str, RowsSection[_FallbackRow]] = {}
        for key, title, add in (
            ("fallbacks", "Fallbacks", "Add Fallback"),
            ("context_window_fallbacks", "Context window fallbacks", "Add Fallback"),
        ):
            section = RowsSection[_FallbackRow](title, add, lambda: self._fallback_row("", ()))
            self.fallback_sections[key] = section
            self.flags[key] = section.flag
            self.field_errors[key] = section.error
            section.changed.connect(self._form_changed)
            column.addWidget(section)
        self.alias_section = RowsSection[_AliasRow](
            "Model group aliases", "Add Alias", lambda: self._alias_row("", "")
        )
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

    def _fallback_row(self, primary: str, targets: Sequence[str]) -> _FallbackRow:
        return _FallbackRow(primary, targets, self._groups)

    def _alias_row(self, alias: str, group: str) -> _AliasRow:
        return _AliasRow(alias, group, self._groups)

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
        self._effective = list(effective)
        self._stored = _stored_settings(self._effective)
        self._groups = sorted(
            {g for e in self._effective if (g := _live_group(e)) is not None}, key=str.casefold
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
            for row in section.rows:
                row.set_groups(self._groups)
        for alias_row in self.alias_section.rows:
            alias_row.set_groups(self._groups)

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
            rows = fallback_rows(value)
            self.fallback_sections[key].replace_rows(self._fallback_row(p, t) for p, t in rows)
        else:
            aliases = alias_rows(value)
            self.alias_section.replace_rows(self._alias_row(a, g) for a, g in aliases)

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
            values[key] = tuple(row.row() for row in section.rows)
        values[ALIAS_KEY] = tuple(row.row() for row in self.alias_section.rows)
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
        self.findings = validate_items(_overlay(self._effective, stage, delete))
        self._show_findings()
        self._update_buttons()

    def _show_findings(self) -> None:
        for key in (STRATEGY_KEY, *(s.key for s in NUMERIC_SETTINGS)):
            self.field_errors[key].show_text(
                " ".join(_messages(self.findings, self._path_of(key), exact=False))
            )
        for key, section in self.fallback_sections.items():
            prefix = self._path_of(key)
            self.field_errors[key].show_text(" ".join(_messages(self.findings, prefix)))
            for index, fallback in enumerate(section.rows):
                found = [f.message for f in self.findings if row_index(f.path, prefix) == index]
                problem = None if fallback.is_complete() else INCOMPLETE_FALLBACK
                fallback.error.show_text(" ".join([*([problem] if problem else []), *found]))
        prefix = self._path_of(ALIAS_KEY)
        self.field_errors[ALIAS_KEY].show_text(" ".join(_messages(self.findings, prefix)))
        aliases = [row.row()[0] for row in self.alias_section.rows]
        for alias_row in self.alias_section.rows:
            alias = alias_row.row()[0]
            found = _messages(self.findings, f"{prefix}.{alias}")
            if not alias_row.is_complete():
                found.insert(0, INCOMPLETE_ALIAS)
            elif aliases.count(alias) > 1:
                found.insert(0, DUPLICATE_ALIAS)
            alias_row.error.show_text(" ".join(found))

    def _path_of(self, key: str) -> str:
        return f"{SETTING_SECTIONS[self._kind_of(key)]}.{key}"

    def _rows_complete(self) -> bool:
        fallbacks = all(r.is_complete() for s in self.fallback_sections.values() for r in s.rows)
        aliases = [row.row()[0] for row in self.alias_section.rows]
        unique = len(aliases) == len(set(aliases))
        return fallbacks and unique and all(r.is_complete() for r in self.alias_section.rows)

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
