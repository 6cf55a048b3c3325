"""Sheets of the Virtual Keys page: create/edit a key, show a new key once, confirm.

The create/edit sheet validates with the same rules as the ops (`core.virtual_keys.check_spec`)
and shows every problem inline; Save hands a `KeySpec` to the page's `KeysService`, and a
refusal from LiteLLM is shown as its sentence while the sheet stays open. The show-once sheet is
the only place a key's plaintext appears in the window; it is cleared when the sheet closes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.virtual_keys import (
    NEVER,
    ROUTING_STRATEGIES,
    CreatedKey,
    KeySpec,
    RoutingOverride,
    VirtualKey,
    check_spec,
)
from llmproxy_desktop.ui.sheets._form_sheet import (
    SHEET_MARGIN,
    SHEET_SPACING,
    FormSheet,
    error_label,
    secondary_label,
    show_error,
)

__all__ = [
    "KeySheet",
    "KeyWriter",
    "ShowOnceSheet",
    "confirm_key_action",
]

SHEET_MIN_WIDTH: Final = 520
INHERIT_TEXT: Final = "Inherit the global strategy"
KEEP_EXPIRY_TEXT: Final = "Keep the current expiry"
NEVER_TEXT: Final = "Never"
EXPIRY_CHOICES: Final = ("1d", "7d", "30d", "90d", "365d")
PERIOD_CHOICES: Final = ("", "1d", "7d", "30d", "1mo")

Failed = Callable[[str], None]


class KeyWriter(Protocol):
    """The part of the page's KeysService a key sheet uses (asynchronous, GUI-thread answers)."""

    def create_key(
        self, spec: KeySpec, done: Callable[[CreatedKey], None], failed: Failed
    ) -> None: ...

    def update_key(
        self, token: str, spec: KeySpec, done: Callable[[VirtualKey], None], failed: Failed
    ) -> None: ...


# --- text fields ↔ values ----------------------------------------------------------------------


def _number(text: str, label: str, problems: list[str], *, whole: bool) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text) if whole else float(text)
    except ValueError:
        problems.append(f"The {label} must be a {'whole ' if whole else ''}number.")
        return None


def pairs_text(pairs: Mapping[str, str]) -> str:
    """Aliases as the sheet edits them: one `alias = group` per line."""
    return "\n".join(f"{name} = {target}" for name, target in pairs.items())


def parse_pairs(text: str, problems: list[str]) -> dict[str, str]:
    """`alias = group` lines → {alias: group}; a malformed line is a problem."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, target = line.partition("=")
        if not sep or not name.strip() or not target.strip():
            problems.append(f"Write each alias as 'alias = model group', not {line.strip()!r}.")
            continue
        pairs[name.strip()] = target.strip()
    return pairs


def fallbacks_text(fallbacks: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Fallbacks as the sheet edits them: one `group: a, b` per line."""
    return "\n".join(f"{group}: {', '.join(targets)}" for group, targets in fallbacks)


def parse_fallbacks(text: str, problems: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`group: a, b` lines → ((group, (a, b)), ...)."""
    parsed: list[tuple[str, tuple[str, ...]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        group, sep, rest = line.partition(":")
        targets = tuple(t.strip() for t in rest.split(",") if t.strip())
        if not sep or not group.strip() or not targets:
            problems.append(f"Write each fallback as 'group: a, b', not {line.strip()!r}.")
            continue
        parsed.append((group.strip(), targets))
    return tuple(parsed)


# --- create / edit -----------------------------------------------------------------------------


class KeySheet(FormSheet):
    """Create a key (`key` None) or edit one. Emits `created(CreatedKey)` or `saved(VirtualKey)`
    once LiteLLM accepted it, then closes."""

    created = Signal(object)
    saved = Signal(object)

    def __init__(
        self,
        writer: KeyWriter,
        model_groups: Sequence[str],
        key: VirtualKey | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = f"Edit Key {key.label}" if key else "New Virtual Key"
        super().__init__(title, parent)
        self._writer = writer
        self._groups = list(model_groups)
        self._key = key
        self._busy = False
        self.save_button.setText("Save Key" if key else "Create Key")
        self.setMinimumWidth(SHEET_MIN_WIDTH)
        self._build()
        self._fill()
        self._validate()

    def _build(self) -> None:
        self.alias_edit = QLineEdit()
        self.alias_edit.setPlaceholderText("e.g. billing-service")
        self.models_list = QListWidget()
        self.models_list.setMaximumHeight(120)
        self.budget_edit = QLineEdit()
        self.budget_edit.setPlaceholderText("No budget")
        self.period_combo = _editable_combo(PERIOD_CHOICES, "No reset")
        expiry = (KEEP_EXPIRY_TEXT, NEVER_TEXT) if self._key else (NEVER_TEXT,)
        self.expiry_combo = _editable_combo((*expiry, *EXPIRY_CHOICES), "")
        self.rpm_edit = QLineEdit()
        self.rpm_edit.setPlaceholderText("No limit")
        self.tpm_edit = QLineEdit()
        self.tpm_edit.setPlaceholderText("No limit")
        self.metadata_edit = QPlainTextEdit()
        self.metadata_edit.setPlaceholderText('{"owner": "alice"}')
        self.metadata_edit.setMaximumHeight(70)
        self.aliases_edit = QPlainTextEdit()
        self.aliases_edit.setPlaceholderText("fast = gpt-4o-mini")
        self.aliases_edit.setMaximumHeight(60)
        self.strategy_combo = QComboBox()
        self.strategy_combo.addItems([INHERIT_TEXT, *ROUTING_STRATEGIES])
        self.fallbacks_edit = QPlainTextEdit()
        self.fallbacks_edit.setPlaceholderText("gpt-4o: gpt-4o-mini")
        self.fallbacks_edit.setMaximumHeight(60)
        form = QFormLayout()
        form.addRow("Alias:", self.alias_edit)
        form.addRow("Models:", self.models_list)
        form.addRow("", secondary_label("None checked: the key may call every model."))
        form.addRow("Max budget (USD):", self.budget_edit)
        form.addRow("Budget period:", self.period_combo)
        form.addRow("Expires after:", self.expiry_combo)
        form.addRow("Requests/min:", self.rpm_edit)
        form.addRow("Tokens/min:", self.tpm_edit)
        form.addRow("Metadata (JSON):", self.metadata_edit)
        form.addRow("Model aliases:", self.aliases_edit)
        form.addRow("Routing strategy:", self.strategy_combo)
        form.addRow("Fallbacks:", self.fallbacks_edit)
        self.problems_label = error_label()
        self.save_error = error_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        layout.addLayout(form)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.save_error)
        layout.addWidget(self.buttons)
        for line in (self.alias_edit, self.budget_edit, self.rpm_edit, self.tpm_edit):
            line.textEdited.connect(self._edited)
        for combo in (self.period_combo, self.expiry_combo, self.strategy_combo):
            combo.currentTextChanged.connect(self._edited)
        for text in (self.metadata_edit, self.aliases_edit, self.fallbacks_edit):
            text.textChanged.connect(self._edited)
        self.models_list.itemChanged.connect(self._edited)

    def _fill(self) -> None:
        key = self._key
        chosen = set(key.models) - set(key.aliases) if key else set()
        # A model the key names that is no longer applied stays visible, so it can be removed.
        for name in [*self._groups, *sorted(chosen - set(self._groups))]:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in chosen else Qt.CheckState.Unchecked)
            self.models_list.addItem(item)
        if key is None:
            self.expiry_combo.setCurrentText(NEVER_TEXT)
            self.mark_clean()
            return
        self.alias_edit.setText(key.alias or "")
        self.budget_edit.setText("" if key.max_budget is None else f"{key.max_budget:g}")
        self.period_combo.setCurrentText(key.budget_duration or "")
        self.expiry_combo.setCurrentText(KEEP_EXPIRY_TEXT)
        self.rpm_edit.setText("" if key.rpm_limit is None else str(key.rpm_limit))
        self.tpm_edit.setText("" if key.tpm_limit is None else str(key.tpm_limit))
        if key.metadata:
            self.metadata_edit.setPlainText(json.dumps(dict(key.metadata), indent=1))
        self.aliases_edit.setPlainText(pairs_text(key.aliases))
        routing = key.routing
        self.strategy_combo.setCurrentText(routing.strategy or INHERIT_TEXT)
        self.fallbacks_edit.setPlainText(fallbacks_text(routing.fallbacks))
        self.mark_clean()

    # --- reading the form ---------------------------------------------------------------------

    def checked_models(self) -> tuple[str, ...]:
        """The models ticked in the list, in list order."""
        items = (self.models_list.item(row) for row in range(self.models_list.count()))
        return tuple(i.text() for i in items if i.checkState() == Qt.CheckState.Checked)

    def spec(self) -> tuple[KeySpec, list[str]]:
        """The form as a KeySpec, and the problems of the fields that cannot be read."""
        problems: list[str] = []
        metadata, removed = self._metadata(problems)
        expiry = self.expiry_combo.currentText().strip()
        duration = {KEEP_EXPIRY_TEXT: None, NEVER_TEXT: NEVER if self._key else None, "": None}
        strategy = self.strategy_combo.currentText()
        spec = KeySpec(
            alias=self.alias_edit.text().strip() or None,
            models=self.checked_models(),
            max_budget=_number(self.budget_edit.text(), "budget", problems, whole=False),
            budget_duration=self.period_combo.currentText().strip() or None,
            duration=duration.get(expiry, expiry),
            rpm_limit=_number(self.rpm_edit.text(), "requests/min limit", problems, whole=True),
            tpm_limit=_number(self.tpm_edit.text(), "tokens/min limit", problems, whole=True),
            metadata=metadata,
            metadata_removed=removed,
            aliases=parse_pairs(self.aliases_edit.toPlainText(), problems),
            routing=RoutingOverride(
                None if strategy == INHERIT_TEXT else strategy,
                parse_fallbacks(self.fallbacks_edit.toPlainText(), problems),
            ),
        )
        return spec, problems

    def _metadata(self, problems: list[str]) -> tuple[dict[str, Any], tuple[str, ...]]:
        text = self.metadata_edit.toPlainText().strip()
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            value = None
        if not isinstance(value, dict):
            problems.append('Metadata must be a JSON object, e.g. {"owner": "alice"}.')
            value = {}
        before = dict(self._key.metadata) if self._key else {}
        removed = tuple(name for name in before if name not in value)
        return value, removed

    # --- validation and saving ----------------------------------------------------------------

    def _edited(self, *_args: object) -> None:
        self.mark_dirty()
        show_error(self.save_error, None)
        self._validate()

    def _validate(self) -> bool:
        spec, problems = self.spec()
        if self._key is None and spec.alias is None:
            problems.insert(0, "Enter an alias, so people can tell the key apart.")
        problems += check_spec(spec, self._groups, creating=self._key is None)
        show_error(self.problems_label, "\n".join(problems) or None)
        self.set_save_enabled(not problems and not self._busy)
        return not problems

    def save(self) -> None:
        """Hand the key to the service; the sheet closes once LiteLLM accepted it."""
        if not self._validate():
            return
        spec, _problems = self.spec()
        self._set_busy(True)
        if self._key is None:
            self._writer.create_key(spec, self._created, self._failed)
        else:
            self._writer.update_key(self._key.token, spec, self._saved, self._failed)

    def _created(self, created: CreatedKey) -> None:
        if shiboken6.isValid(self):
            self._finish()
            self.created.emit(created)
            self.accept()

    def _saved(self, key: VirtualKey) -> None:
        if shiboken6.isValid(self):
            self._finish()
            self.saved.emit(key)
            self.accept()

    def _failed(self, sentence: str) -> None:
        if shiboken6.isValid(self):
            self._set_busy(False)
            show_error(self.save_error, sentence)

    def _finish(self) -> None:
        self._set_busy(False)
        self.mark_clean()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy)
        if not busy:
            self._validate()


def _editable_combo(choices: Sequence[str], placeholder: str) -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(list(choices))
    line = combo.lineEdit()
    assert line is not None  # an editable combo always has one
    line.setPlaceholderText(placeholder)
    return combo


# --- show once ---------------------------------------------------------------------------------


class ShowOnceSheet(QDialog):
    """The new key's plaintext with a Copy button: shown this once, cleared on close."""

    def __init__(self, created: CreatedKey, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Key {created.key.label}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(SHEET_MIN_WIDTH)
        heading = QLabel(f"The key {created.key.label} is ready.")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.secret_edit = QLineEdit(created.secret)
        self.secret_edit.setReadOnly(True)
        self.secret_edit.setObjectName("secretKey")
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        self.copied_label = secondary_label("")
        row = QHBoxLayout()
        row.addWidget(self.secret_edit, 1)
        row.addWidget(self.copy_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setText("Done")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN)
        layout.setSpacing(SHEET_SPACING)
        layout.addWidget(heading)
        layout.addWidget(
            secondary_label(
                "Copy it now and store it safely: it is shown only this once, and neither "
                "LiteLLM nor this app can show it again."
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.copied_label)
        layout.addWidget(buttons)

    def copy(self) -> None:
        """Put the key on the clipboard."""
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.secret_edit.text())
        self.copied_label.setText("Copied to the clipboard.")

    def done(self, result: int) -> None:
        self.secret_edit.clear()  # the plaintext does not outlive the sheet
        super().done(result)


# --- confirmation ------------------------------------------------------------------------------


def confirm_key_action(
    parent: QWidget, action: str, key: VirtualKey, detail: str, answered: Callable[[bool], None]
) -> QMessageBox:
    """A window-modal question whose destructive button names the action and the key
    ("Delete Key billing"); Cancel is the default. `answered(confirmed)` when it closes."""
    text = f"{action} {key.label}"
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText(f"{text}?")
    box.setInformativeText(detail)
    confirm = box.addButton(text, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.finished.connect(lambda _r: answered(box.clickedButton() is confirm))
    box.open()
    return box
