"""Add / Edit Stack sheet (issue #5 §1): every field of a StackProfile, validated inline.

Validation is the profile's own: the form builds a `StackProfile` (and `JumpHost`) on every
edit and shows each `FieldProblem` under its field; Save is offered only when that succeeds.
A field's message appears once the admin has touched it (a new sheet does not open full of
complaints); the footer says how many untouched fields still need attention.

Saving follows `cli.py` `stacks add` / `stacks edit`: `ProfileStore.add` (then the keyring
leftovers of an earlier stack of the same name are forgotten, so a new stack never sends an
old stack's secrets to a new host) or `ProfileStore.replace`; then the secrets whose "Save in
keyring" box is ticked. Names are fixed once a stack exists (the store keys stacks by name).
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...remote.errors import RemoteError
from ...remote.host_keys import HostKeyStore
from ...remote.keyring_secrets import KeyringError, KeyringSecrets
from ...remote.profiles import (
    CONFIG_PATH_IN_COMPOSE_DIR,
    DEFAULT_DB_NAME,
    DEFAULT_DB_USER,
    DEFAULT_KEEPALIVE_SECONDS,
    DEFAULT_LITELLM_CONTAINER,
    DEFAULT_LITELLM_PORT,
    DEFAULT_POSTGRES_PORT,
    DEFAULT_SOCKET_PROXY_PORT,
    DEFAULT_SSH_PORT,
    FieldProblem,
    JumpHost,
    ProfileError,
    SecretKind,
    StackProfile,
    Transport,
)
from ...remote.profiles_store import ProfileExists, ProfileStore
from ...remote.ssh_target import AuthMethod
from ..job_runner import JobRunner
from ..theme import TextStyle, text_font
from ._form_secret_field import KeyringAction, SecretField
from ._form_sheet import (
    SHEET_MARGIN,
    SHEET_SPACING,
    FormSheet,
    error_label,
    secondary_label,
    show_error,
)
from ._form_stack_test import LayerChecksView, StackTestController

_log = logging.getLogger(__name__)

_SSH_SECRETS = (SecretKind.SSH_KEY_PASSPHRASE, SecretKind.SSH_PASSWORD)
_JUMP_SECRETS = (SecretKind.JUMP_KEY_PASSPHRASE, SecretKind.JUMP_PASSWORD)
_STACK_SECRETS = (
    SecretKind.DB_PASSWORD,
    SecretKind.LITELLM_MASTER_KEY,
    SecretKind.VAULT_PASSPHRASE,
)
_GENERAL = ""  # the error slot for problems that belong to no one field


@dataclass(frozen=True)
class _IntField:
    """A number typed as text: empty means `default` (None: unset)."""

    name: str
    default: int | None


_INT_FIELDS = (
    _IntField("port", None),
    _IntField("keepalive_seconds", DEFAULT_KEEPALIVE_SECONDS),
    _IntField("postgres_port", DEFAULT_POSTGRES_PORT),
    _IntField("socket_proxy_port", DEFAULT_SOCKET_PROXY_PORT),
    _IntField("litellm_port", DEFAULT_LITELLM_PORT),
    _IntField("jump.port", DEFAULT_SSH_PORT),
)


class _Section(QWidget):
    """A titled group of form rows; collapsible ones start folded behind a disclosure arrow."""

    def __init__(self, title: str, *, collapsible: bool = False) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, SHEET_SPACING, 0, 0)
        self.body = QWidget()
        self.form = QFormLayout(self.body)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.toggle: QToolButton | None = None
        if collapsible:
            toggle = QToolButton()
            toggle.setText(title)
            toggle.setFont(text_font(TextStyle.HEADLINE))
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setAutoRaise(True)
            toggle.toggled.connect(self.set_expanded)
            self.toggle = toggle
            outer.addWidget(toggle)
            self.set_expanded(False)
        else:
            heading = QLabel(title)
            heading.setFont(text_font(TextStyle.HEADLINE))
            outer.addWidget(heading)
        outer.addWidget(self.body)

    @Slot(bool)
    def set_expanded(self, expanded: bool) -> None:
        """Show or fold the section's rows."""
        if self.toggle is not None:
            self.toggle.setArrowType(
                Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow
            )
            if self.toggle.isChecked() != expanded:
                self.toggle.setChecked(expanded)
        self.body.setVisible(expanded or self.toggle is None)

    def is_expanded(self) -> bool:
        """True when the rows are shown (always, for a section that does not fold)."""
        return self.toggle is None or self.toggle.isChecked()


class StackSheet(FormSheet):
    """Add a stack (`profile` None) or edit one. Emits `saved(StackProfile)` after the profile
    is stored; the sheet then closes (or, if only the keyring failed, stays open to say so).

    `store`, `keyring_secrets` and `host_keys` default to the app's own (ProfileStore(),
    KeyringSecrets(), HostKeyStore()); `runner` runs the Test buttons' jobs.
    """

    saved = Signal(object)
    """`saved(StackProfile)`: the profile was written to the store."""

    def __init__(
        self,
        runner: JobRunner,
        parent: QWidget | None = None,
        *,
        profile: StackProfile | None = None,
        store: ProfileStore | None = None,
        keyring_secrets: KeyringSecrets | None = None,
        host_keys: HostKeyStore | None = None,
        host_key_timeout_seconds: float | None = None,
    ) -> None:
        super().__init__("Edit Stack" if profile else "Add Stack", parent)
        self._original = profile
        self._store = store or ProfileStore()
        self._keyring = keyring_secrets or KeyringSecrets()
        self._keyring_status = self._keyring.status()
        self._host_keys = host_keys
        self._taken_names = self._existing_names()
        self._touched: set[str] = set()
        self._errors: dict[str, QLabel] = {_GENERAL: error_label()}
        self._field_rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self.secret_fields: dict[SecretKind, SecretField] = {}
        self.profile: StackProfile | None = None  # the form's profile while it is valid
        self._build_widgets()
        self._test = StackTestController(
            runner,
            self.checks,
            lambda: self._host_keys or HostKeyStore(),
            self,
            host_key_timeout_seconds=host_key_timeout_seconds,
        )
        self._test.running_changed.connect(lambda _running: self._revalidate())
        if profile is not None:
            self._fill_from(profile)
        self._connect_edits()
        self._revalidate()
        self.name_edit.setFocus()

    # --- public ----------------------------------------------------------------------------

    @property
    def test_controller(self) -> StackTestController:
        """The Test buttons' controller (its `done` signal ends each run)."""
        return self._test

    def field_error(self, field: str) -> str:
        """The inline message shown under `field` ('' when none): what the admin reads."""
        label = self._errors.get(field)
        return label.text() if label is not None and not label.isHidden() else ""

    def save(self) -> None:
        """Store the profile and the opted-in secrets; close on success."""
        profile = self.profile
        if profile is None:
            return
        try:
            if self._original is None:
                self._store.add(profile)
                self._forget_leftover_secrets(profile.name)
            else:
                self._store.replace(profile)
        except ProfileExists as exc:
            self._taken_names.add(profile.name.casefold())  # added meanwhile, e.g. by the CLI
            self._touched.add("name")
            self._revalidate()
            show_error(self._errors["name"], exc.args[0])
            return
        except RemoteError as exc:  # the stacks file cannot be read or written
            show_error(self.save_error, exc.args[0])
            return
        self._original = profile
        self.name_edit.setReadOnly(True)
        self.setWindowTitle("Edit Stack")
        keyring_problem = self._apply_keyring_choices(profile.name)
        self.saved.emit(profile)
        if keyring_problem is not None:
            # The profile is stored; stay open so the admin sees that a secret is not.
            show_error(self.save_error, f"The stack was saved, but {keyring_problem}")
            return
        self.mark_clean()
        self.accept()

    def done(self, result: int) -> None:
        """Closing (saved or not) stops a running test and answers any host-key question."""
        self._test.stop()
        super().done(result)

    # --- building the form -----------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.name_edit = QLineEdit()
        self.transport_combo = QComboBox()
        self.transport_combo.addItem("SSH to a server", Transport.SSH)
        self.transport_combo.addItem("This machine (local)", Transport.LOCAL)
        self.compose_dir_edit = QLineEdit()
        self.compose_dir_edit.setPlaceholderText("where docker-compose.yml is, e.g. /opt/llm-proxy")
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("server.example.com, or from the ssh config alias")
        self.port_edit = _number_edit(f"{DEFAULT_SSH_PORT}, or the alias's Port")
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText(f"{_login_name()}, or the alias's User")
        self.alias_edit = QLineEdit()
        self.alias_edit.setPlaceholderText("none: a Host name from ~/.ssh/config")
        self.keepalive_edit = _number_edit(f"{DEFAULT_KEEPALIVE_SECONDS} seconds (0 = off)")
        self.auth_combo = _auth_combo(with_default=True)
        self.key_file_edit, key_file_row = _file_row(self, "Choose Key File")
        self.jump_host_edit = QLineEdit()
        self.jump_host_edit.setPlaceholderText("none: connect directly")
        self.jump_port_edit = _number_edit(str(DEFAULT_SSH_PORT))
        self.jump_user_edit = QLineEdit()
        self.jump_user_edit.setPlaceholderText(_login_name())
        self.jump_auth_combo = _auth_combo(with_default=False)
        self.jump_key_file_edit, jump_key_row = _file_row(self, "Choose Jump Host Key File")
        self.config_path_edit = QLineEdit()
        self.postgres_port_edit = _number_edit(str(DEFAULT_POSTGRES_PORT))
        self.socket_proxy_port_edit = _number_edit(str(DEFAULT_SOCKET_PROXY_PORT))
        self.litellm_port_edit = _number_edit(str(DEFAULT_LITELLM_PORT))
        self.container_edit = QLineEdit()
        self.container_edit.setPlaceholderText(DEFAULT_LITELLM_CONTAINER)
        self.db_name_edit = QLineEdit()
        self.db_name_edit.setPlaceholderText(DEFAULT_DB_NAME)
        self.db_user_edit = QLineEdit()
        self.db_user_edit.setPlaceholderText(DEFAULT_DB_USER)
        for kind in SecretKind:
            self.secret_fields[kind] = SecretField(kind, self._keyring_status)

        self.stack_section = _Section("Stack")
        self._add_row(self.stack_section, "Name:", "name", self.name_edit)
        self._add_row(self.stack_section, "Runs on:", "transport", self.transport_combo)
        self._add_row(
            self.stack_section, "Compose directory:", "compose_dir", self.compose_dir_edit
        )
        self.server_section = _Section("Server")
        self._add_row(self.server_section, "Host:", "host", self.host_edit)
        self._add_row(self.server_section, "Port:", "port", self.port_edit)
        self._add_row(self.server_section, "User:", "user", self.user_edit)
        self._add_row(self.server_section, "SSH config alias:", "ssh_config_alias", self.alias_edit)
        self._add_row(self.server_section, "Keep-alive:", "keepalive_seconds", self.keepalive_edit)
        self.auth_section = _Section("Authentication")
        self._add_row(self.auth_section, "Method:", "auth", self.auth_combo)
        self._add_row(self.auth_section, "Key file:", "key_file", key_file_row)
        self._add_secret_rows(self.auth_section, _SSH_SECRETS)
        self.jump_section = _Section("Jump host", collapsible=True)
        self._add_row(self.jump_section, "Jump host:", "jump.host", self.jump_host_edit)
        self._add_row(self.jump_section, "Port:", "jump.port", self.jump_port_edit)
        self._add_row(self.jump_section, "User:", "jump.user", self.jump_user_edit)
        self._add_row(self.jump_section, "Method:", "jump.auth", self.jump_auth_combo)
        self._add_row(self.jump_section, "Key file:", "jump.key_file", jump_key_row)
        self._add_secret_rows(self.jump_section, _JUMP_SECRETS)
        self.secrets_section = _Section("Stack credentials")
        self._add_secret_rows(self.secrets_section, _STACK_SECRETS)
        self.keyring_note = secondary_label(self._keyring_status.message)
        self.secrets_section.form.addRow(self.keyring_note)
        self.advanced_section = _Section("Stack on the server (advanced)", collapsible=True)
        for label, field, widget in (
            ("config.yaml:", "config_path", self.config_path_edit),
            ("Postgres port:", "postgres_port", self.postgres_port_edit),
            ("Socket-proxy port:", "socket_proxy_port", self.socket_proxy_port_edit),
            ("LiteLLM port:", "litellm_port", self.litellm_port_edit),
            ("LiteLLM container:", "litellm_container", self.container_edit),
            ("Database name:", "db_name", self.db_name_edit),
            ("Database user:", "db_user", self.db_user_edit),
        ):
            self._add_row(self.advanced_section, label, field, widget)

        self.test_ssh_button = QPushButton("Test SSH")
        self.test_stack_button = QPushButton("Test stack")
        for button in (self.test_ssh_button, self.test_stack_button):
            button.setAutoDefault(False)
        self.test_ssh_button.clicked.connect(lambda: self._start_test(ssh_only=True))
        self.test_stack_button.clicked.connect(lambda: self._start_test(ssh_only=False))
        self.checks = LayerChecksView()
        self.attention_label = secondary_label()
        self.save_error = error_label()  # what the last Save could not do
        self._lay_out()

    def _lay_out(self) -> None:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(SHEET_MARGIN, SHEET_MARGIN, SHEET_MARGIN, SHEET_SPACING)
        column.addWidget(self.save_error)
        column.addWidget(self._errors[_GENERAL])
        for section in (
            self.stack_section,
            self.server_section,
            self.auth_section,
            self.jump_section,
            self.secrets_section,
            self.advanced_section,
        ):
            column.addWidget(section)
        tests = QHBoxLayout()
        tests.addWidget(self.test_ssh_button)
        tests.addWidget(self.test_stack_button)
        tests.addStretch(1)
        column.addLayout(tests)
        self.checks.hide()  # until the first test: seven empty rows would say nothing
        column.addWidget(self.checks)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, SHEET_MARGIN)
        outer.addWidget(scroll, 1)
        footer = QHBoxLayout()
        footer.setContentsMargins(SHEET_MARGIN, 0, SHEET_MARGIN, 0)
        footer.addWidget(self.attention_label, 1)
        footer.addWidget(self.buttons)
        outer.addLayout(footer)
        self._align_labels()
        self.resize(640, 720)

    def _align_labels(self) -> None:
        """One label column across all sections, as in a single form (HIG: right-aligned)."""
        labels: list[QWidget] = []
        for section in self.findChildren(_Section):
            for row in range(section.form.rowCount()):
                item = section.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    labels.append(widget)
        width = max((label.sizeHint().width() for label in labels), default=0)
        for label in labels:
            label.setMinimumWidth(width)
            if isinstance(label, QLabel):
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _add_row(self, section: _Section, label: str, field: str, widget: QWidget) -> None:
        """A field with its inline error message right under it."""
        holder = QWidget()
        stack = QVBoxLayout(holder)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(2)
        stack.addWidget(widget)
        self._errors[field] = error_label()
        stack.addWidget(self._errors[field])
        section.form.addRow(label, holder)
        self._field_rows[field] = (section.form, holder)

    def _add_secret_rows(self, section: _Section, kinds: tuple[SecretKind, ...]) -> None:
        for kind in kinds:
            label = kind.label[0].upper() + kind.label[1:] + ":"
            self._add_row(section, label, f"secret:{kind.value}", self.secret_fields[kind])

    def _connect_edits(self) -> None:
        edits: dict[str, QLineEdit] = {
            "name": self.name_edit,
            "compose_dir": self.compose_dir_edit,
            "host": self.host_edit,
            "port": self.port_edit,
            "user": self.user_edit,
            "ssh_config_alias": self.alias_edit,
            "keepalive_seconds": self.keepalive_edit,
            "key_file": self.key_file_edit,
            "jump.host": self.jump_host_edit,
            "jump.port": self.jump_port_edit,
            "jump.user": self.jump_user_edit,
            "jump.key_file": self.jump_key_file_edit,
            "config_path": self.config_path_edit,
            "postgres_port": self.postgres_port_edit,
            "socket_proxy_port": self.socket_proxy_port_edit,
            "litellm_port": self.litellm_port_edit,
            "litellm_container": self.container_edit,
            "db_name": self.db_name_edit,
            "db_user": self.db_user_edit,
        }
        for field, edit in edits.items():
            # textChanged, not textEdited: the file picker sets text too.
            edit.textChanged.connect(lambda _text, field=field: self._edited(field))
        combos = {
            "transport": self.transport_combo,
            "auth": self.auth_combo,
            "jump.auth": self.jump_auth_combo,
        }
        for field, combo in combos.items():
            combo.currentIndexChanged.connect(lambda _index, field=field: self._edited(field))
        for secret in self.secret_fields.values():
            secret.changed.connect(self._secret_edited)
        self.key_file_edit.editingFinished.connect(self._key_file_means_key_auth)

    def _fill_from(self, profile: StackProfile) -> None:
        self.name_edit.setText(profile.name)
        self.name_edit.setReadOnly(True)  # the store keys stacks by name
        _select(self.transport_combo, profile.transport)
        self.compose_dir_edit.setText(profile.compose_dir)
        self.host_edit.setText(profile.host or "")
        self.port_edit.setText(_text(profile.port))
        self.user_edit.setText(profile.user or "")
        self.alias_edit.setText(profile.ssh_config_alias or "")
        self.keepalive_edit.setText(_text(profile.keepalive_seconds, DEFAULT_KEEPALIVE_SECONDS))
        _select(self.auth_combo, profile.auth)
        self.key_file_edit.setText(str(profile.key_file) if profile.key_file else "")
        if profile.jump is not None:
            self.jump_host_edit.setText(profile.jump.host)
            self.jump_port_edit.setText(_text(profile.jump.port, DEFAULT_SSH_PORT))
            self.jump_user_edit.setText(profile.jump.user or "")
            _select(self.jump_auth_combo, profile.jump.auth)
            self.jump_key_file_edit.setText(str(profile.jump.key_file or ""))
            self.jump_section.set_expanded(True)
        self.config_path_edit.setText(profile.config_path or "")
        self.postgres_port_edit.setText(_text(profile.postgres_port, DEFAULT_POSTGRES_PORT))
        self.socket_proxy_port_edit.setText(
            _text(profile.socket_proxy_port, DEFAULT_SOCKET_PROXY_PORT)
        )
        self.litellm_port_edit.setText(_text(profile.litellm_port, DEFAULT_LITELLM_PORT))
        self.container_edit.setText(
            _text_or_default(profile.litellm_container, DEFAULT_LITELLM_CONTAINER)
        )
        self.db_name_edit.setText(_text_or_default(profile.db_name, DEFAULT_DB_NAME))
        self.db_user_edit.setText(_text_or_default(profile.db_user, DEFAULT_DB_USER))
        for kind in self._saved_kinds(profile.name):
            self.secret_fields[kind].mark_saved()
        # An existing profile is the admin's own work: every message may show at once.
        self._touched.update(self._errors)

    # --- reacting to edits -----------------------------------------------------------------

    def _edited(self, field: str) -> None:
        self._touched.add(field)
        if field.startswith("jump."):
            # The jump host is one unit: a jump user without a jump host is worth saying.
            self._touched.update(name for name in self._errors if name.startswith("jump."))
        self.mark_dirty()
        self._revalidate()

    def _secret_edited(self) -> None:
        self.mark_dirty()
        self._revalidate()

    def _key_file_means_key_auth(self) -> None:
        """Like `ssh -i`: naming a key file with the method left to default means using it."""
        if self.key_file_edit.text().strip() and _auth_of(self.auth_combo) is None:
            _select(self.auth_combo, AuthMethod.KEY_FILE)

    def _revalidate(self) -> None:
        self.profile, problems = self._build_profile()
        self._show_problems(problems)
        self._update_visibility()
        valid = self.profile is not None
        self.set_save_enabled(valid)
        running = self._test.is_running()
        ssh = self._transport() is Transport.SSH
        self.test_ssh_button.setEnabled(valid and ssh and not running)
        self.test_stack_button.setEnabled(valid and not running)

    def _show_problems(self, problems: list[FieldProblem]) -> None:
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            field = "jump.host" if problem.field == "jump" else problem.field
            field = field if field in self._errors else _GENERAL
            by_field.setdefault(field, []).append(problem.message)
        hidden = 0
        for field, label in self._errors.items():
            messages = by_field.get(field, [])
            shown = field == _GENERAL or field in self._touched
            show_error(label, "; ".join(messages) if shown else None)
            hidden += bool(messages) and not shown
        self.attention_label.setText(
            f"{hidden} more field(s) need attention before Save." if hidden else ""
        )

    def _update_visibility(self) -> None:
        ssh = self._transport() is Transport.SSH
        for section in (self.server_section, self.auth_section, self.jump_section):
            section.setVisible(ssh)
        auth = _auth_of(self.auth_combo)
        alias = bool(self.alias_edit.text().strip())
        self._set_row_visible("key_file", auth not in (AuthMethod.AGENT, AuthMethod.PASSWORD))
        jump_auth = _auth_of(self.jump_auth_combo)
        self._set_row_visible("jump.key_file", jump_auth is AuthMethod.KEY_FILE)
        shown = _secret_kinds_shown(ssh, auth, alias, self._jump_in_use(), jump_auth)
        for kind in SecretKind:
            self._set_row_visible(f"secret:{kind.value}", kind in shown)
        compose_dir = self.compose_dir_edit.text().strip() or "<compose directory>"
        self.config_path_edit.setPlaceholderText(
            f"{compose_dir.rstrip('/')}/{CONFIG_PATH_IN_COMPOSE_DIR}"
        )

    def _set_row_visible(self, field: str, visible: bool) -> None:
        form, holder = self._field_rows[field]
        form.setRowVisible(holder, visible)

    # --- the form as a profile -------------------------------------------------------------

    def _transport(self) -> Transport:
        value = self.transport_combo.currentData()
        return Transport(value) if value else Transport.SSH

    def _jump_in_use(self) -> bool:
        texts = (self.jump_host_edit, self.jump_port_edit, self.jump_user_edit)
        return any(edit.text().strip() for edit in texts) or bool(
            self.jump_key_file_edit.text().strip()
        )

    def _build_profile(self) -> tuple[StackProfile | None, list[FieldProblem]]:
        """The form's profile, or None and every problem found (the profile's own checks,
        plus numbers that are not numbers and a name that is taken)."""
        numbers, problems = self._numbers()
        values: dict[str, Any] = {
            "name": self.name_edit.text(),
            "compose_dir": self.compose_dir_edit.text().strip(),
            "transport": self._transport(),
            "config_path": _optional(self.config_path_edit),
            "postgres_port": numbers["postgres_port"],
            "socket_proxy_port": numbers["socket_proxy_port"],
            "litellm_port": numbers["litellm_port"],
            "litellm_container": self.container_edit.text().strip() or DEFAULT_LITELLM_CONTAINER,
            "db_name": self.db_name_edit.text().strip() or DEFAULT_DB_NAME,
            "db_user": self.db_user_edit.text().strip() or DEFAULT_DB_USER,
            "keepalive_seconds": numbers["keepalive_seconds"],
        }
        if self._transport() is Transport.SSH:
            values.update(
                host=_optional(self.host_edit),
                port=numbers["port"],
                user=_optional(self.user_edit),
                auth=_auth_of(self.auth_combo),
                key_file=_optional_path(self.key_file_edit),
                ssh_config_alias=_optional(self.alias_edit),
                jump=self._jump(numbers["jump.port"], problems),
            )
        try:
            profile: StackProfile | None = StackProfile(**values)
        except ProfileError as exc:
            profile = None
            problems += exc.problems or (FieldProblem(_GENERAL, exc.args[0]),)
        if self._original is None and values["name"].casefold() in self._taken_names:
            problems.append(FieldProblem("name", "a stack with this name exists already"))
        return (profile if not problems else None), problems

    def _numbers(self) -> tuple[dict[str, int | None], list[FieldProblem]]:
        edits = {
            "port": self.port_edit,
            "keepalive_seconds": self.keepalive_edit,
            "postgres_port": self.postgres_port_edit,
            "socket_proxy_port": self.socket_proxy_port_edit,
            "litellm_port": self.litellm_port_edit,
            "jump.port": self.jump_port_edit,
        }
        numbers: dict[str, int | None] = {}
        problems: list[FieldProblem] = []
        for spec in _INT_FIELDS:
            text = edits[spec.name].text().strip()
            if not text:
                numbers[spec.name] = spec.default
            elif text.isascii() and text.isdigit():
                numbers[spec.name] = int(text)
            else:
                numbers[spec.name] = spec.default
                problems.append(FieldProblem(spec.name, f"{text!r} is not a whole number"))
        return numbers, problems

    def _jump(self, port: int | None, problems: list[FieldProblem]) -> JumpHost | None:
        if not self._jump_in_use():
            return None
        auth = _auth_of(self.jump_auth_combo)
        try:
            return JumpHost(
                host=self.jump_host_edit.text().strip(),
                port=port if port is not None else DEFAULT_SSH_PORT,
                user=_optional(self.jump_user_edit),
                auth=auth or AuthMethod.AGENT,
                key_file=(
                    _optional_path(self.jump_key_file_edit) if auth is AuthMethod.KEY_FILE else None
                ),
            )
        except ProfileError as exc:
            problems.extend(exc.problems)
            return None

    # --- secrets ---------------------------------------------------------------------------

    def _row_visible(self, field: str) -> bool:
        form, holder = self._field_rows[field]
        return form.isRowVisible(holder)

    def _secrets_for_test(self, stack: str) -> dict[SecretKind, str]:
        """Typed secrets, else (for a stored stack) those saved in the keyring."""
        secrets: dict[SecretKind, str] = {}
        for kind, field in self.secret_fields.items():
            if not self._row_visible(f"secret:{kind.value}"):
                continue
            value = field.value()
            if not value and self._original is not None and self._original.name == stack:
                value = self._keyring_get(stack, kind) or ""
            if value:
                secrets[kind] = value
        return secrets

    def _apply_keyring_choices(self, stack: str) -> str | None:
        """Save / forget secrets as their checkboxes say; the first problem as a sentence."""
        for kind, field in self.secret_fields.items():
            if not self._row_visible(f"secret:{kind.value}"):
                continue
            action = field.keyring_action()
            try:
                if action is KeyringAction.SAVE:
                    self._keyring.save(stack, kind, field.value())
                elif action is KeyringAction.FORGET:
                    self._keyring.delete(stack, kind)
            except KeyringError as exc:
                return f"the {kind.label} was not: {exc.args[0]}"
        return None

    def _forget_leftover_secrets(self, name: str) -> None:
        """A new stack must not inherit the secrets of a removed stack of the same name
        (removed where no keyring was reachable): they would be sent to the new host."""
        try:
            leftovers = self._keyring.forget_stack(name)
        except KeyringError:
            return  # no safe keyring here: nothing can be read from it either
        if leftovers:
            _log.info("removed %d secret(s) left by an earlier stack %r", len(leftovers), name)

    def _saved_kinds(self, stack: str) -> tuple[SecretKind, ...]:
        try:
            return self._keyring.saved_kinds(stack)
        except KeyringError:
            return ()

    def _keyring_get(self, stack: str, kind: SecretKind) -> str | None:
        try:
            return self._keyring.get(stack, kind)
        except KeyringError:
            return None

    def _existing_names(self) -> set[str]:
        try:
            return {p.name.casefold() for p in self._store.load()}
        except RemoteError:
            return set()  # a broken stacks file is reported when Save tries to write it

    # --- testing ---------------------------------------------------------------------------

    def _start_test(self, *, ssh_only: bool) -> None:
        profile = self.profile
        if profile is None:
            return
        self.checks.show()
        self._test.start(profile, self._secrets_for_test(profile.name), ssh_only=ssh_only)


# --- small helpers ----------------------------------------------------------------------------


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry
        return "your login name"


def _number_edit(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaximumWidth(220)
    return edit


def _auth_combo(*, with_default: bool) -> QComboBox:
    combo = QComboBox()
    if with_default:
        combo.addItem("Default: the alias's key file, else the SSH agent", None)
    combo.addItem("SSH agent", AuthMethod.AGENT)
    combo.addItem("Key file", AuthMethod.KEY_FILE)
    combo.addItem("Password", AuthMethod.PASSWORD)
    return combo


def _file_row(sheet: QWidget, title: str) -> tuple[QLineEdit, QWidget]:
    """A path field with a "Choose…" button opening a (window-modal) file dialog."""
    edit = QLineEdit()
    edit.setPlaceholderText("~/.ssh/id_ed25519")
    button = QToolButton()
    button.setText("Choose…")
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    button.clicked.connect(lambda: _choose_file(sheet, title, edit))
    return edit, row


def _choose_file(sheet: QWidget, title: str, edit: QLineEdit) -> None:
    start = edit.text().strip() or str(Path.home() / ".ssh")
    dialog = QFileDialog(sheet, title, str(Path(start).expanduser()))
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.fileSelected.connect(edit.setText)
    dialog.fileSelected.connect(lambda _path: edit.editingFinished.emit())
    dialog.open()


def _auth_of(combo: QComboBox) -> AuthMethod | None:
    """The combo's method (Qt hands enum data back as its plain string value)."""
    value = combo.currentData()
    return AuthMethod(value) if value else None


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _optional(edit: QLineEdit) -> str | None:
    return edit.text().strip() or None


def _optional_path(edit: QLineEdit) -> Path | None:
    text = edit.text().strip()
    return Path(text) if text else None


def _text(value: int | None, default: int | None = None) -> str:
    """A stored number as field text; the default stays a placeholder, not a value."""
    return "" if value is None or value == default else str(value)


def _text_or_default(value: str, default: str) -> str:
    return "" if value == default else value


def _secret_kinds_shown(
    ssh: bool,
    auth: AuthMethod | None,
    alias: bool,
    jump_in_use: bool,
    jump_auth: AuthMethod | None,
) -> set[SecretKind]:
    """The secret fields the form offers: those `StackProfile.secret_kinds` names for the
    form's current choices (computed from the widgets, so they show while the form is still
    incomplete)."""
    shown = set(_STACK_SECRETS)
    if ssh:
        if auth is AuthMethod.PASSWORD:
            shown.add(SecretKind.SSH_PASSWORD)
        elif auth is AuthMethod.KEY_FILE or (auth is None and alias):
            shown.add(SecretKind.SSH_KEY_PASSPHRASE)
        if jump_in_use and jump_auth is AuthMethod.PASSWORD:
            shown.add(SecretKind.JUMP_PASSWORD)
        elif jump_in_use and jump_auth is AuthMethod.KEY_FILE:
            shown.add(SecretKind.JUMP_KEY_PASSPHRASE)
    return shown


__all__ = ["StackSheet"]
