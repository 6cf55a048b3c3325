"""The credential sheet: add a provider credential, or rotate the values of an existing one.

Every value is typed into a password field and staged as a vault `Secret` (an
``os.environ/VARIABLE`` reference stays a plain reference). Rotating shows the credential's keys
with empty fields: a field left empty keeps the stored value, which the sheet passes on as the
very object it got (a `Secret` is never revealed here). Save hands the item to the
`StagingEditor`; its answer arrives later through `done`, and a refusal is shown in the sheet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.items import EffectiveItem, Item, ItemKind, JSONValue, Secret, is_env_reference
from ...core.providers import KNOWN_PROVIDERS
from ..staging import StagingEditor
from ._form_sheet import (
    SHEET_MARGIN,
    SHEET_SPACING,
    FormSheet,
    error_label,
    secondary_label,
    show_error,
)

# credential_info keys the sheet edits; LiteLLM's own admin keeps the provider under this name.
PROVIDER_INFO_KEY: Final = "custom_llm_provider"
DESCRIPTION_INFO_KEY: Final = "description"
COMMON_VALUE_KEYS: Final = ("api_key", "api_base", "api_version", "organization")
KEEP_PLACEHOLDER: Final = "Unchanged: leave empty to keep"
NEW_PLACEHOLDER: Final = "Value or os.environ/VARIABLE"
SHEET_MIN_WIDTH: Final = 560  # key, value and Remove side by side, placeholders readable

_SECRET_INPUT_HINTS: Final = (
    Qt.InputMethodHint.ImhHiddenText
    | Qt.InputMethodHint.ImhSensitiveData
    | Qt.InputMethodHint.ImhNoPredictiveText
    | Qt.InputMethodHint.ImhNoAutoUppercase
)


def password_edit(placeholder: str) -> QLineEdit:
    """A hidden-input line edit that keeps its text out of input methods and predictions."""
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setInputMethodHints(_SECRET_INPUT_HINTS)
    edit.setPlaceholderText(placeholder)
    return edit


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def stored_value(typed: str) -> JSONValue:
    """What a typed value becomes: an env reference as it is, anything else a vault Secret."""
    return typed if is_env_reference(typed) else Secret(typed)


class _ValueRow:
    """One key/value pair of credential_values: a key, a password field and Remove.

    `kept` is the stored value of an existing key (rotation): an empty field keeps it.
    """

    def __init__(self, key: str, kept: object, *, existing: bool) -> None:
        self.existing = existing
        self.kept = kept
        self.key = QComboBox()
        self.key.setEditable(True)
        self.key.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.key.addItems(COMMON_VALUE_KEYS)
        self.key.setEditText(key)
        self.key.setEnabled(not existing)  # a rotated key keeps its name
        self.key.setAccessibleName("Key")
        self.value = password_edit(KEEP_PLACEHOLDER if existing else NEW_PLACEHOLDER)
        self.value.setAccessibleName(f"Value of {key}" if key else "Value")
        self.remove = QToolButton()
        self.remove.setText("Remove")
        self.remove.setAccessibleName(f"Remove {key}" if key else "Remove this value")

    def key_text(self) -> str:
        return self.key.currentText().strip()

    def widgets(self) -> tuple[QWidget, QWidget, QWidget]:
        return (self.key, self.value, self.remove)


class CredentialSheet(FormSheet):
    """Add a credential (`rotate` None) or rotate one. Emits `staged(item)` once the editor
    accepted it, then closes; a refusal is shown inline and the sheet stays open."""

    staged = Signal(object)
    """`staged(Item)`: the editor staged this credential."""

    def __init__(
        self,
        editor: StagingEditor,
        *,
        taken_names: Iterable[str] = (),
        rotate: EffectiveItem | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = f"Rotate Credential {rotate.item.name}" if rotate else "Add Credential"
        super().__init__(title, parent)
        self._editor = editor
        self._rotate = rotate
        self._taken = set(taken_names) - ({rotate.item.name} if rotate else set())
        self._base = _mapping(rotate.item.data) if rotate else {}
        self._info = _mapping(self._base.get("credential_info"))
        self._rows: list[_ValueRow] = []
        self._busy = False
        self.save_button.setText("Rotate Credential" if rotate else "Add Credential")
        self.setMinimumWidth(SHEET_MIN_WIDTH)
        self._build()
        values = _mapping(self._base.get("credential_values"))
        for key, kept in values.items():
            self._add_row(str(key), kept, existing=True)
        if not values:
            self._add_row("api_key", None, existing=False)
        self._validate()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.name_edit = QLineEdit(self._rotate.item.name if self._rotate else "")
        self.name_edit.setPlaceholderText("e.g. openai-prod")
        self.name_edit.setReadOnly(self._rotate is not None)
        self.name_error = error_label()
        self.provider = QComboBox()
        self.provider.setEditable(True)
        self.provider.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.provider.addItems(sorted(KNOWN_PROVIDERS))
        self.provider.setEditText(str(self._info.get(PROVIDER_INFO_KEY) or ""))
        provider_line = self.provider.lineEdit()
        assert provider_line is not None  # an editable combo always has one
        provider_line.setPlaceholderText("Optional, e.g. openai")
        self.description = QLineEdit(str(self._info.get(DESCRIPTION_INFO_KEY) or ""))
        self.description.setPlaceholderText("Optional")
        form = QFormLayout()
        form.addRow("Name:", self.name_edit)
        form.addRow("", self.name_error)
        form.addRow("Provider:", self.provider)
        form.addRow("Description:", self.description)
        self.values_grid = QGridLayout()
        self.values_grid.setColumnStretch(1, 1)
        self.add_value_button = QPushButton("Add Value")
        self.add_value_button.clicked.connect(lambda: self._add_row("", None, existing=False))
        self.values_error = error_label()
        self.save_error = error_label()
        hint = (
            "Type new values for the keys to rotate; empty fields keep their stored values."
            if self._rotate
            else "Values are stored encrypted in the vault; os.environ/VARIABLE stays a reference."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        layout.addLayout(form)
        layout.addWidget(QLabel("Values:"))
        layout.addLayout(self.values_grid)
        layout.addWidget(self.add_value_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.values_error)
        layout.addWidget(secondary_label(hint))
        layout.addWidget(self.save_error)
        layout.addWidget(self.buttons)
        for signal in (
            self.name_edit.textEdited,
            self.provider.editTextChanged,
            self.description.textEdited,
        ):
            signal.connect(self._edited)

    def _add_row(self, key: str, kept: object, *, existing: bool) -> None:
        row = _ValueRow(key, kept, existing=existing)
        line = len(self._rows)
        for column, widget in enumerate(row.widgets()):
            self.values_grid.addWidget(widget, line, column)
        row.key.editTextChanged.connect(self._edited)
        row.value.textEdited.connect(self._edited)
        row.remove.clicked.connect(lambda: self._remove_row(row))
        self._rows.append(row)
        if not existing and key == "" and self.isVisible():
            self.mark_dirty()
            row.key.setFocus()
        self._validate()

    def _remove_row(self, row: _ValueRow) -> None:
        self._rows.remove(row)
        for widget in row.widgets():
            self.values_grid.removeWidget(widget)
            widget.hide()  # deleteLater waits for the event loop: do not paint it meanwhile
            widget.deleteLater()
        self._edited()

    @property
    def rows(self) -> list[tuple[QComboBox, QLineEdit]]:
        """(key, value field) of each value row, in order; for callers and tests."""
        return [(row.key, row.value) for row in self._rows]

    # ------------------------------------------------------------------ validation

    def _edited(self, *_args: object) -> None:
        self.mark_dirty()
        show_error(self.save_error, None)
        self._validate()

    def _validate(self) -> bool:
        name_problem = self._name_problem()
        show_error(self.name_error, name_problem if self.name_edit.text() else None)
        values_problem = self._values_problem()
        show_error(self.values_error, values_problem)
        ok = name_problem is None and values_problem is None
        self.set_save_enabled(ok and not self._busy)
        return ok

    def _name_problem(self) -> str | None:
        name = self.name_edit.text()
        if not name.strip():
            return "Enter a name for the credential."
        if name != name.strip():
            return "The name cannot start or end with a space."
        if name in self._taken:
            return f"A credential named {name!r} exists already."
        return None

    def _values_problem(self) -> str | None:
        if not self._rows:
            return "Add at least one value, e.g. api_key."
        keys = [row.key_text() for row in self._rows]
        if any(not key for key in keys):
            return "Every value needs a key, e.g. api_key."
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            return f"{', '.join(duplicates)} is listed twice."
        missing = [r.key_text() for r in self._rows if not r.existing and not r.value.text()]
        if missing:
            return f"Enter a value for {', '.join(missing)}."
        return None

    # ------------------------------------------------------------------ saving

    def item(self) -> Item:
        """The credential as the form describes it (values typed now become Secrets)."""
        values: dict[str, JSONValue] = {}
        for row in self._rows:
            typed = row.value.text()
            values[row.key_text()] = stored_value(typed) if typed else row.kept
        info = dict(self._info)
        for key, text in (
            (PROVIDER_INFO_KEY, self.provider.currentText().strip()),
            (DESCRIPTION_INFO_KEY, self.description.text().strip()),
        ):
            if text:
                info[key] = text
            else:
                info.pop(key, None)
        data = {**self._base, "credential_values": values, "credential_info": info}
        return Item(ItemKind.CREDENTIAL, self.name_edit.text(), data)

    def save(self) -> None:
        """Hand the credential to the editor; the sheet closes when it was staged."""
        if not self._validate():
            return
        version = self._rotate.version if self._rotate else 0
        item = self.item()
        self._set_busy(True)
        self._editor.stage([(item, version)], lambda sentence: self._answered(item, sentence))

    def _answered(self, item: Item, sentence: str | None) -> None:
        if not shiboken6.isValid(self):  # closed and deleted while the edit was in flight
            return
        self._set_busy(False)
        if sentence is not None:
            show_error(self.save_error, sentence)
            return
        self.mark_clean()
        for row in self._rows:  # typed secrets do not outlive the sheet's purpose
            row.value.clear()
        self.staged.emit(item)
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy)
        if not busy:
            self._validate()
