"""The Add / Edit Model sheet: one model_list entry as a form, driven by the bundled catalog.

Only what the admin touches changes: every field remembers the text it started with, and a field
left as it was keeps the item's original value exactly (a ``"100"`` rpm stays a string, a vault
`Secret` api_key stays the same Secret). Keys the form does not model ("extra params") are
carried over untouched and shown read-only, secrets as ***.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from llmproxy_desktop.core.catalog import Catalog, CatalogModel, parse_catalog
from llmproxy_desktop.core.findings import Finding, Severity
from llmproxy_desktop.core.items import ENV_PREFIX, REDACTED, Item, ItemKind, is_env_reference
from llmproxy_desktop.core.providers import KNOWN_PROVIDERS
from llmproxy_desktop.core.render import model_entry
from llmproxy_desktop.core.validate import validate_config
from llmproxy_desktop.core.yamltext import dump_yaml
from llmproxy_desktop.ui.resources import resource_path
from llmproxy_desktop.ui.staging import Done

_log = logging.getLogger(__name__)

ENV_VAR_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MODES: Final = (
    "chat",
    "completion",
    "embedding",
    "image_generation",
    "audio_transcription",
    "audio_speech",
    "rerank",
    "moderations",
    "responses",
)
# Key-source choices of the credential dropdown (item data of the combo).
KEY_NONE: Final = "none"
KEY_ENV: Final = "env"
KEY_KEEP: Final = "keep"
_CREDENTIAL_PREFIX: Final = "credential:"


@dataclass(frozen=True)
class NumberField:
    """A numeric litellm_params / model_info field of the form."""

    key: str
    label: str
    whole: bool  # rpm/tpm are counts; the rest may have decimals


# New values go into litellm_params (LiteLLM's documented place for custom prices too); a value
# an item already keeps in model_info stays there.
NUMBER_FIELDS: Final = (
    NumberField("rpm", "Requests per minute (rpm)", True),
    NumberField("tpm", "Tokens per minute (tpm)", True),
    NumberField("timeout", "Timeout (seconds)", False),
    NumberField("input_cost_per_token", "Input cost per token", False),
    NumberField("output_cost_per_token", "Output cost per token", False),
)
TEXT_PARAMS: Final = ("api_base", "api_version")
# litellm_params keys the form shows; every other key is an extra param.
MANAGED_PARAMS: Final = frozenset(
    {"model", "api_key", "litellm_credential_name", *TEXT_PARAMS, *(f.key for f in NUMBER_FIELDS)}
)


@functools.cache
def bundled_catalog() -> Catalog:
    """The catalog snapshot shipped in resources/ (parsed once; an empty one if it is missing,
    so the sheet still works with free-typed providers and models)."""
    path = resource_path("catalog", "model_catalog.json")
    try:
        return parse_catalog(path.read_text("utf-8"))
    except (OSError, ValueError):
        _log.warning("The bundled model catalog could not be read from %s", path)
        return Catalog(litellm_version="")


def suggest_group_name(group: str, taken: Iterable[str]) -> str:
    """A group name for a duplicate: ``group-copy``, then ``group-copy-2``, … not in `taken`."""
    used = set(taken)
    candidate = f"{group}-copy"
    n = 2
    while candidate in used:
        candidate = f"{group}-copy-{n}"
        n += 1
    return candidate


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _shown(value: object) -> str:
    """Field text for a stored value; secrets never come through here (api_key is not a field)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _searchable(combo: QComboBox) -> None:
    """An editable combo whose completer matches anywhere in the entries."""
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    completer = combo.completer()
    assert completer is not None  # an editable combo always has one
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)


class _Field(QWidget):
    """A form control with its inline message underneath."""

    def __init__(self, control: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.control = control
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(control)
        layout.addWidget(self.message)

    def show_message(self, text: str, *, error: bool = True) -> None:
        """Show `text` under the control (empty hides it). Errors are bold, warnings secondary:
        the palette has no "error" role, and a hard-coded red would fight the dark scheme."""
        self.message.setText(text)
        font = self.message.font()
        font.setBold(error)
        self.message.setFont(font)
        self.message.setForegroundRole(
            QPalette.ColorRole.WindowText if error else QPalette.ColorRole.PlaceholderText
        )
        self.message.setVisible(bool(text))


class ModelSheet(QDialog):
    """Add, edit or duplicate one model. Save calls `stage(item, done)`, which answers later on
    the GUI thread: `done(None)` closes the sheet, `done(sentence)` shows the refusal in the sheet
    and keeps it open with the admin's edits. Save is disabled while the answer is pending."""

    saved = Signal(Item)

    def __init__(
        self,
        stage: Callable[[Item, Done], None],
        *,
        catalog: Catalog | None = None,
        credential_names: Sequence[str] = (),
        item: Item | None = None,
        duplicate_as: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`item` None adds a model; with `item`, the sheet edits it, or, with `duplicate_as`
        (the suggested group name), adds a copy of it under a new id."""
        super().__init__(parent)
        self._stage = stage
        self._catalog = catalog if catalog is not None else bundled_catalog()
        self._editing = item is not None and duplicate_as is None
        data = item.data if item is not None else {}
        # A duplicate must not share mutable values with the original.
        self._base: dict[str, Any] = _mapping(data if self._editing else copy.deepcopy(data))
        if duplicate_as is not None:
            self._base["model_name"] = duplicate_as
        self._name = item.name if item is not None and self._editing else str(uuid.uuid4())
        self._params = _mapping(self._base.get("litellm_params"))
        self._info = _mapping(self._base.get("model_info"))
        # Only a brand-new model's group follows the model picker until the admin types one.
        self._group_edited = item is not None
        self._pre_existing = self._finding_keys(self._base) if self._editing else set()
        self.discard_prompt: QMessageBox | None = None
        self.discard_button: QPushButton | None = None
        self.pending = False  # Save was pressed and the editor has not answered yet
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setWindowTitle(self._title(item, duplicate_as))
        self._build(credential_names)
        self._fill()
        self._initial = self._snapshot()
        self._touched: set[str] = set()  # required fields the admin has changed at least once
        self._connect()
        self._validate()

    # ------------------------------------------------------------------ building the form

    @staticmethod
    def _title(item: Item | None, duplicate_as: str | None) -> str:
        if item is None:
            return "Add Model"
        return "Duplicate Model" if duplicate_as else "Edit Model"

    def _build(self, credential_names: Sequence[str]) -> None:
        self.provider = QComboBox()
        _searchable(self.provider)
        self.provider.addItems(sorted(set(self._catalog.providers) | KNOWN_PROVIDERS))
        self.model = QComboBox()
        _searchable(self.model)
        self.catalog_hint = QLabel()
        self.catalog_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.catalog_hint.setWordWrap(True)
        self.group = QLineEdit()
        self.group.setPlaceholderText("The name clients ask for, e.g. gpt-4o")
        self.key_source = QComboBox()
        self.key_source.addItem("No API key", KEY_NONE)
        for name in credential_names:
            self.key_source.addItem(f"Credential: {name}", f"{_CREDENTIAL_PREFIX}{name}")
        self.key_source.addItem("Environment variable (os.environ/…)", KEY_ENV)
        self.env_var = QLineEdit()
        self.env_var.setPlaceholderText("OPENAI_API_KEY")
        self.api_base = QLineEdit()
        self.api_version = QLineEdit()
        self.numbers = {f.key: QLineEdit() for f in NUMBER_FIELDS}
        self.mode = QComboBox()
        self.mode.setEditable(True)
        self.mode.addItems(["", *MODES])
        self.extra = QPlainTextEdit()
        self.extra.setReadOnly(True)
        self.extra.setMaximumHeight(120)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.fields: dict[str, _Field] = {}
        self._layout_form()

    def _field(self, key: str, control: QWidget) -> _Field:
        self.fields[key] = _Field(control)
        return self.fields[key]

    def _layout_form(self) -> None:
        self._form = form = QFormLayout()
        form.addRow("Provider", self._field("provider", self.provider))
        form.addRow("Model", self._field("model", self.model))
        form.addRow("", self.catalog_hint)
        form.addRow("Model group", self._field("group", self.group))
        form.addRow("API key", self._field("key", self.key_source))
        form.addRow("Variable name", self._field("env", self.env_var))
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced = QWidget()
        advanced = QFormLayout(self.advanced)
        advanced.setContentsMargins(0, 0, 0, 0)
        advanced.addRow("API base", self._field("api_base", self.api_base))
        advanced.addRow("API version", self._field("api_version", self.api_version))
        for spec in NUMBER_FIELDS:
            advanced.addRow(spec.label, self._field(spec.key, self.numbers[spec.key]))
        advanced.addRow("Mode", self._field("mode", self.mode))
        advanced.addRow("Extra params", self.extra)
        self.advanced.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def _fill(self) -> None:
        """Put the base item's values into the fields."""
        model = self._params.get("model")
        provider, _, name = (model if isinstance(model, str) else "").partition("/")
        if not name:  # no prefix: the whole value is the model
            provider, name = "", provider
        self.provider.setCurrentText(provider)
        self._load_models(provider)
        self.model.setCurrentText(name)
        group = self._base.get("model_name")
        self.group.setText(_shown(group))
        self._fill_key()
        for key in TEXT_PARAMS:
            getattr(self, key).setText(_shown(self._params.get(key)))
        for spec in NUMBER_FIELDS:
            self.numbers[spec.key].setText(_shown(self._stored(spec.key)))
        self.mode.setCurrentText(_shown(self._info.get("mode")))
        self.extra.setPlainText(self._extra_text())
        self._show_catalog_hint()

    def _fill_key(self) -> None:
        credential = self._params.get("litellm_credential_name")
        api_key = self._params.get("api_key")
        if api_key is not None and not is_env_reference(api_key):
            # A vault Secret or a literal: keep it as it is; the sheet never shows it.
            self.key_source.addItem(f"Keep the stored key ({REDACTED})", KEY_KEEP)
            self.key_source.setCurrentIndex(self.key_source.findData(KEY_KEEP))
        elif isinstance(credential, str) and credential:
            data = f"{_CREDENTIAL_PREFIX}{credential}"
            if self.key_source.findData(data) < 0:  # a credential the vault no longer lists
                self.key_source.addItem(f"Credential: {credential} (not found)", data)
            self.key_source.setCurrentIndex(self.key_source.findData(data))
        elif is_env_reference(api_key):
            self.key_source.setCurrentIndex(self.key_source.findData(KEY_ENV))
            self.env_var.setText(str(api_key)[len(ENV_PREFIX) :])
        self._update_env_enabled()

    def _stored(self, key: str) -> Any:
        """A managed value from where the item keeps it (litellm_params first)."""
        if key in self._params:
            return self._params[key]
        return self._info.get(key)

    def _extra(self) -> dict[str, Any]:
        """Everything of the base item that the form does not model."""
        extra: dict[str, Any] = {
            k: v for k, v in self._base.items() if k not in ("model_name", "litellm_params")
        }
        params = {k: v for k, v in self._params.items() if k not in MANAGED_PARAMS}
        info = {k: v for k, v in self._info.items() if not self._info_managed(k)}
        extra.pop("model_info", None)
        if params:
            extra["litellm_params"] = params
        if info:
            extra["model_info"] = info
        return extra

    def _info_managed(self, key: str) -> bool:
        numbers = {f.key for f in NUMBER_FIELDS}
        return key == "mode" or (key in numbers and key not in self._params)

    def _extra_text(self) -> str:
        extra = self._extra()
        # redact=True: vault Secrets and literals under secret-looking keys show as ***.
        return dump_yaml(extra, redact=True) if extra else "None"

    def _load_models(self, provider: str) -> None:
        text = self.model.currentText()
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItems([m.name for m in self._catalog.models(provider.strip())])
        self.model.setCurrentText(text)
        self.model.blockSignals(False)

    def _connect(self) -> None:
        self.provider.currentTextChanged.connect(self._provider_changed)
        self.model.currentTextChanged.connect(self._model_changed)
        self.group.textEdited.connect(self._group_typed)
        self.key_source.currentIndexChanged.connect(self._update_env_enabled)
        watched: list[QLineEdit] = [self.group, self.env_var, self.api_base, self.api_version]
        for line in [*watched, *self.numbers.values()]:
            line.textChanged.connect(self._validate)
        self.key_source.currentIndexChanged.connect(self._validate)
        self.mode.currentTextChanged.connect(self._validate)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Save, self, self._save)

    # ------------------------------------------------------------------ reacting to edits

    def _provider_changed(self, provider: str) -> None:
        self._load_models(provider)
        self._show_catalog_hint()
        self._validate()

    def _model_changed(self, name: str) -> None:
        if not self._group_edited:  # a new model's group follows its model until typed in
            self.group.setText(name.strip())
        self._show_catalog_hint()
        self._validate()

    def _group_typed(self, _text: str) -> None:
        self._group_edited = True

    def _update_env_enabled(self) -> None:
        is_env = self.key_source.currentData() == KEY_ENV
        self.env_var.setEnabled(is_env)
        self._form.setRowVisible(self.fields["env"], is_env)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.advanced_toggle.setArrowType(arrow)

    def catalog_entry(self) -> CatalogModel | None:
        """The catalog's entry for the chosen provider and model, if it has one."""
        return self._catalog.find(self._model_value())

    def _show_catalog_hint(self) -> None:
        entry = self.catalog_entry()
        parts: list[str] = []
        if entry is not None:
            if entry.mode:
                parts.append(entry.mode)
            if entry.max_input_tokens:
                parts.append(f"{entry.max_input_tokens:,} input tokens")
            for label, cost in (
                ("in", entry.input_cost_per_token),
                ("out", entry.output_cost_per_token),
            ):
                if cost is not None:
                    parts.append(f"${cost * 1e6:,.2f} per million tokens {label}")
        elif self.model.currentText().strip():
            parts.append("Not in the catalog: LiteLLM must know this model under this provider.")
        self.catalog_hint.setText(" · ".join(parts))
        self.catalog_hint.setVisible(bool(parts))

    # ------------------------------------------------------------------ state

    def _model_value(self) -> str:
        return self._catalog.model_value(self.provider.currentText(), self.model.currentText())

    def _snapshot(self) -> dict[str, str]:
        """Every field's text: the form is dirty when this differs from the start."""
        return {
            "provider": self.provider.currentText(),
            "model": self.model.currentText(),
            "group": self.group.text(),
            "key": str(self.key_source.currentData()),
            "env": self.env_var.text(),
            "api_base": self.api_base.text(),
            "api_version": self.api_version.text(),
            "mode": self.mode.currentText(),
            **{f.key: self.numbers[f.key].text() for f in NUMBER_FIELDS},
        }

    @property
    def is_dirty(self) -> bool:
        """Whether the form holds edits that are not saved."""
        return self._snapshot() != self._initial

    @property
    def item_name(self) -> str:
        """The item's stable id (model_info.id): kept when editing, new when adding."""
        return self._name

    def build_item(self) -> Item:
        """The model item the form describes now (fields left as they were keep their value)."""
        return Item(ItemKind.MODEL, self._name, self._build_data())

    def _changed(self, *fields: str) -> bool:
        now = self._snapshot()
        return any(now[f] != self._initial[f] for f in fields)

    def _build_data(self) -> dict[str, Any]:
        data = dict(self._base)  # same key order, same value objects: extras stay as they were
        params = dict(self._params)
        info = dict(self._info)
        if self._changed("provider", "model") or "model" not in params:
            params["model"] = self._model_value()
        if self._changed("group") or "model_name" not in data:
            data["model_name"] = self.group.text().strip()
        if self._changed("key", "env"):
            self._apply_key(params)
        for key in TEXT_PARAMS:
            if self._changed(key):
                self._put(params, key, self._snapshot()[key].strip() or None)
        for spec in NUMBER_FIELDS:
            if self._changed(spec.key):
                self._apply_number(params, info, spec)
        if self._changed("mode"):
            self._put(info, "mode", self.mode.currentText().strip() or None)
        data["litellm_params"] = params
        if info:
            data["model_info"] = info
        else:
            data.pop("model_info", None)
        # model_name, litellm_params, model_info first, as LiteLLM's docs write them.
        head: dict[str, Any] = {
            k: data[k] for k in ("model_name", "litellm_params", "model_info") if k in data
        }
        return {**head, **{k: v for k, v in data.items() if k not in head}}

    def _apply_key(self, params: dict[str, Any]) -> None:
        choice = str(self.key_source.currentData())
        if choice == KEY_KEEP:
            return
        params.pop("api_key", None)
        params.pop("litellm_credential_name", None)
        if choice == KEY_ENV:
            params["api_key"] = f"{ENV_PREFIX}{self._env_name()}"
        elif choice.startswith(_CREDENTIAL_PREFIX):
            params["litellm_credential_name"] = choice[len(_CREDENTIAL_PREFIX) :]

    def _env_name(self) -> str:
        name = self.env_var.text().strip()
        # A pasted "os.environ/NAME" means NAME.
        return name[len(ENV_PREFIX) :] if name.startswith(ENV_PREFIX) else name

    def _apply_number(
        self, params: dict[str, Any], info: dict[str, Any], spec: NumberField
    ) -> None:
        text = self.numbers[spec.key].text()
        target = info if spec.key in self._info and spec.key not in self._params else params
        value = _parse_number(text, whole=spec.whole)
        if text.strip() and value is None:
            return  # invalid: reported by validation, Save is disabled
        self._put(target, spec.key, value)

    @staticmethod
    def _put(target: dict[str, Any], key: str, value: object) -> None:
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value

    # ------------------------------------------------------------------ validation

    def field_errors(self) -> dict[str, str]:
        """Field key → what is wrong with it (empty when the form can be saved)."""
        errors: dict[str, str] = {}
        if not self.model.currentText().strip():
            errors["model"] = "Choose or type the model, e.g. gpt-4o."
        if not self.group.text().strip():
            errors["group"] = "Enter the model group name clients will ask for."
        if self.key_source.currentData() == KEY_ENV:
            name = self._env_name()
            if not name:
                errors["env"] = "Enter the environment variable that holds the API key."
            elif not ENV_VAR_NAME.match(name):
                errors["env"] = (
                    f"{name!r} is not a valid variable name: use letters, digits and _, "
                    "not starting with a digit."
                )
        for spec in NUMBER_FIELDS:
            text = self.numbers[spec.key].text()
            if not self._changed(spec.key) or not text.strip():
                continue
            if _parse_number(text, whole=spec.whole) is None:
                kind = "a whole number" if spec.whole else "a number"
                errors[spec.key] = f"Enter {kind} of 0 or more."
        return errors

    def _finding_keys(self, data: Mapping[str, Any]) -> set[tuple[str, str]]:
        return {(f.rule, f.path) for f in _core_findings(Item(ItemKind.MODEL, "-", data))}

    def _new_findings(self) -> list[Finding]:
        """Core validation findings the edit would introduce (old ones do not block Save)."""
        findings = _core_findings(self.build_item())
        return [f for f in findings if (f.rule, f.path) not in self._pre_existing]

    def _validate(self) -> None:
        errors = self.field_errors()
        blocked = bool(errors)
        general: list[str] = []
        warnings: dict[str, str] = {}
        for finding in self._new_findings():
            field = _FINDING_FIELDS.get(finding.path.removeprefix("model_list[0]."))
            if field is not None and field in errors:
                continue
            if finding.severity is Severity.ERROR:
                blocked = True
                if field is not None:
                    errors[field] = finding.message
                else:
                    general.append(finding.message)
            elif field is not None:
                warnings[field] = finding.message
            else:
                general.append(finding.message)
        # A fresh Add sheet does not scold about fields the admin has not reached yet; Save
        # stays disabled all the same.
        self._touched |= {k for k in ("model", "group") if self._changed(k)}
        quiet = set() if self._editing else {"model", "group"} - self._touched
        for key, widget in self.fields.items():
            if key in errors and key not in quiet:
                widget.show_message(errors[key])
            else:
                widget.show_message(warnings.get(key, "") if key not in errors else "", error=False)
        self._show_error(" ".join(general))
        self.save_button.setEnabled(not blocked)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # ------------------------------------------------------------------ save / close

    def _save(self) -> None:
        if not self.save_button.isEnabled():
            return
        item = self.build_item()
        self.save_button.setEnabled(False)
        self._show_error("")
        self.pending = True
        self._stage(item, lambda error: self._staged(item, error))

    def _staged(self, item: Item, error: str | None) -> None:
        """The editor's answer to Save (on the GUI thread)."""
        self.pending = False
        if error is not None:
            self._validate()  # re-enables Save as validation allows
            self._show_error(error)  # written to be shown as it is; the next edit clears it
            return
        self._initial = self._snapshot()
        self.saved.emit(item)
        self.accept()

    def reject(self) -> None:
        """Close without saving; with unsaved edits, ask "Discard changes?" first."""
        if not self.is_dirty:
            super().reject()
            return
        if self.discard_prompt is not None and self.discard_prompt.isVisible():
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard changes?",
            "Discard changes?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setInformativeText("Your edits to this model have not been saved.")
        self.discard_button = box.addButton(
            "Discard Changes", QMessageBox.ButtonRole.DestructiveRole
        )
        keep = box.addButton("Keep Editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _r: self._discard_answered(box))
        self.discard_prompt = box
        box.open()

    def _discard_answered(self, box: QMessageBox) -> None:
        if self.discard_button is not None and box.clickedButton() is self.discard_button:
            self._initial = self._snapshot()
            super().reject()


# Finding paths (below model_list[0].) → the form field that shows them.
_FINDING_FIELDS: Final[Mapping[str, str]] = {
    "model_name": "group",
    "litellm_params.model": "model",
    "litellm_params.api_key": "key",
    "litellm_params.api_base": "api_base",
    "litellm_params.api_version": "api_version",
    **{f"litellm_params.{f.key}": f.key for f in NUMBER_FIELDS},
    **{f"model_info.{f.key}": f.key for f in NUMBER_FIELDS},
}


def _core_findings(item: Item) -> list[Finding]:
    """What core validation says about this one model; the credential dropdown only offers
    existing credentials, so "credential missing" is not this sheet's business."""
    findings = validate_config({"model_list": [model_entry(item)]})
    return [f for f in findings if f.rule != "ref.credential-missing"]


def _parse_number(text: str, *, whole: bool) -> int | float | None:
    """The number in `text` if it is one and ≥ 0 (finite), else None."""
    text = text.strip()
    try:
        value: int | float = int(text) if whole else float(text)
    except ValueError:
        return None
    if value < 0 or value != value or value in (float("inf"), float("-inf")):
        return None
    if not whole and float(value).is_integer() and "." not in text and "e" not in text.lower():
        return int(value)  # "60" stays 60, not 60.0, in the file
    return value
