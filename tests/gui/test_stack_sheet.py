"""The Add / Edit Stack sheet: inline validation, Save into a ProfileStore in tmp, the opt-in
keyring checkboxes (MemoryKeyring double; PlaintextFileKeyring as the unsafe one), the
"Discard changes?" question, and "Test SSH" against a REAL sshd (tests/fixtures/sshd.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ops.stack_check import CheckLayer
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles import JumpHost, SecretKind, StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.remote.ssh_target import AuthMethod
from llmproxy_desktop.ui.job_runner import JobRunner
from llmproxy_desktop.ui.sheets.host_key_sheet import HostKeyChangedSheet, HostKeySheet
from llmproxy_desktop.ui.sheets.stack_sheet import StackSheet
from tests.fixtures.sshd import ClientKeys, SshdServer, client_keys, openssh_root, running_sshd
from tests.gui.sheet_fixtures import (
    BOUND_MS,
    host_keys,
    isolated_home,
    memory_keyring,
    plaintext_keyring,
    profile_store,
    runner,
)
from tests.profiles.fake_keyrings import MemoryKeyring, PlaintextFileKeyring

__all__ = [  # fixtures, used by name
    "client_keys",
    "host_keys",
    "isolated_home",
    "memory_keyring",
    "openssh_root",
    "plaintext_keyring",
    "profile_store",
    "runner",
]

pytestmark = pytest.mark.usefixtures("isolated_home")


def new_sheet(qtbot: QtBot, runner: JobRunner, store: ProfileStore, **kwargs: object) -> StackSheet:
    sheet = StackSheet(runner, store=store, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(sheet)
    sheet.open()
    return sheet


def fill_minimal(sheet: StackSheet, name: str = "prod") -> None:
    sheet.name_edit.setText(name)
    sheet.host_edit.setText("server.example.com")
    sheet.compose_dir_edit.setText("/opt/llm-proxy")


def saved_secret(backend: MemoryKeyring, stack: str, kind: SecretKind) -> str | None:
    return backend.entries.get((SERVICE, f"{stack}:{kind.value}"))


# --- validation -----------------------------------------------------------------------------


def test_new_sheet_has_save_disabled_and_no_messages_before_anything_is_touched(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)

    assert not sheet.save_button.isEnabled()
    assert sheet.field_error("name") == ""
    assert sheet.field_error("compose_dir") == ""
    assert "need attention" in sheet.attention_label.text()
    assert sheet.host_edit.placeholderText().startswith("server.example.com")
    assert sheet.postgres_port_edit.placeholderText() == "5432"


def test_each_problem_shows_under_its_own_field_and_save_stays_disabled(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    sheet.compose_dir_edit.setText("opt/llm-proxy")
    sheet.port_edit.setText("70000")
    sheet.keepalive_edit.setText("soon")

    assert "absolute path" in sheet.field_error("compose_dir")
    assert "1 to 65535" in sheet.field_error("port")
    assert "not a whole number" in sheet.field_error("keepalive_seconds")
    assert sheet.field_error("host") == ""
    assert not sheet.save_button.isEnabled()

    sheet.compose_dir_edit.setText("/opt/llm-proxy")
    sheet.port_edit.setText("2222")
    sheet.keepalive_edit.setText("")

    assert sheet.field_error("compose_dir") == ""
    assert sheet.field_error("port") == ""
    assert sheet.save_button.isEnabled()


def test_an_ssh_stack_without_host_or_alias_is_told_so_under_host(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    sheet.host_edit.setText("")

    assert "host or an ssh config alias" in sheet.field_error("host")
    sheet.alias_edit.setText("prod-box")
    assert sheet.field_error("host") == ""
    assert sheet.save_button.isEnabled()


def test_jump_host_problems_show_under_the_jump_fields(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    assert not sheet.jump_section.is_expanded()  # folded by default
    sheet.jump_section.set_expanded(True)
    sheet.jump_user_edit.setText("ops")  # a jump user but no jump host
    sheet.jump_auth_combo.setCurrentIndex(sheet.jump_auth_combo.findData(AuthMethod.KEY_FILE))

    assert "must not be empty" in sheet.field_error("jump.host")
    assert "key file is needed" in sheet.field_error("jump.key_file")
    assert not sheet.save_button.isEnabled()


def test_a_taken_name_is_refused_inline(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    profile_store.add(StackProfile(name="Prod", compose_dir="/srv", host="a.example"))
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet, name="prod")

    assert "exists already" in sheet.field_error("name")
    assert not sheet.save_button.isEnabled()


def test_a_local_stack_hides_the_ssh_sections_and_saves_without_ssh_fields(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet, name="laptop")
    sheet.compose_dir_edit.setText(str(Path.home() / "llm-proxy"))
    sheet.transport_combo.setCurrentIndex(1)

    assert sheet.server_section.isHidden()
    assert not sheet.test_ssh_button.isEnabled()
    sheet.save_button.click()

    stored = profile_store.get("laptop")
    assert stored.host is None and stored.transport.value == "local"


# --- saving and the keyring -------------------------------------------------------------------


def test_save_writes_the_profile_and_emits_saved_and_an_unticked_secret_stays_unsaved(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    sheet.port_edit.setText("2222")
    sheet.secret_fields[SecretKind.DB_PASSWORD].edit.setText("db-secret-1")

    with qtbot.waitSignal(sheet.saved, timeout=BOUND_MS) as saved:
        sheet.save_button.click()

    profile = profile_store.get("prod")
    assert saved.args == [profile]
    assert (profile.host, profile.port, profile.compose_dir) == (
        "server.example.com",
        2222,
        "/opt/llm-proxy",
    )
    assert profile.postgres_port == 5432  # the placeholder default
    assert memory_keyring.entries == {}
    assert sheet.result() == QDialog.DialogCode.Accepted
    assert not sheet.isVisible()


def test_a_ticked_keyring_box_saves_that_secret_only(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    db, master = (
        sheet.secret_fields[k] for k in (SecretKind.DB_PASSWORD, SecretKind.LITELLM_MASTER_KEY)
    )
    assert not db.remember.isChecked() and db.remember.isEnabled()  # opt-in, off by default
    db.edit.setText("db-secret-2")
    db.remember.setChecked(True)
    master.edit.setText("sk-master-2")  # typed but not ticked

    sheet.save_button.click()

    assert saved_secret(memory_keyring, "prod", SecretKind.DB_PASSWORD) == "db-secret-2"
    assert saved_secret(memory_keyring, "prod", SecretKind.LITELLM_MASTER_KEY) is None


def test_secret_fields_hide_their_value(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    field = sheet.secret_fields[SecretKind.DB_PASSWORD]
    field.edit.setText("db-secret-3")

    assert field.edit.echoMode() is field.edit.EchoMode.Password
    assert "db-secret-3" not in repr(field)
    assert "db-secret-3" not in field.toolTip() + field.edit.toolTip() + field.remember.toolTip()


def test_an_unsafe_keyring_disables_every_save_box_and_says_why(
    qtbot: QtBot,
    runner: JobRunner,
    profile_store: ProfileStore,
    plaintext_keyring: PlaintextFileKeyring,
    tmp_path: Path,
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    sheet.secret_fields[SecretKind.DB_PASSWORD].edit.setText("db-secret-4")

    assert all(not field.remember.isEnabled() for field in sheet.secret_fields.values())
    assert "cannot be saved safely" in sheet.keyring_note.text()
    sheet.save_button.click()

    assert profile_store.get("prod").host == "server.example.com"
    assert not (tmp_path / "plaintext-keyring.json").exists()


def test_a_new_stack_does_not_inherit_secrets_left_by_a_removed_stack_of_that_name(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, "prod:ssh-password", "old-host-password")
    memory_keyring.set_password(SERVICE, "prod:db-password", "old-db-password")
    sheet = new_sheet(qtbot, runner, profile_store)
    fill_minimal(sheet)
    db = sheet.secret_fields[SecretKind.DB_PASSWORD]
    db.edit.setText("new-db-password")
    db.remember.setChecked(True)

    sheet.save_button.click()

    assert memory_keyring.entries == {(SERVICE, "prod:db-password"): "new-db-password"}


def test_edit_replaces_the_profile_keeps_the_name_and_unticking_forgets_a_saved_secret(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    original = StackProfile(
        name="prod",
        compose_dir="/srv/llm",
        host="a.example",
        jump=JumpHost("bastion.example", user="ops"),
    )
    profile_store.add(original)
    memory_keyring.set_password(SERVICE, "prod:db-password", "kept")
    memory_keyring.set_password(SERVICE, "prod:litellm-master-key", "to-forget")
    sheet = new_sheet(qtbot, runner, profile_store, profile=original)

    assert sheet.windowTitle() == "Edit Stack"
    assert sheet.name_edit.isReadOnly()
    assert sheet.jump_section.is_expanded()
    assert sheet.secret_fields[SecretKind.DB_PASSWORD].remember.isChecked()
    assert sheet.save_button.isEnabled()
    sheet.host_edit.setText("b.example")
    sheet.secret_fields[SecretKind.LITELLM_MASTER_KEY].remember.setChecked(False)

    sheet.save_button.click()

    stored = profile_store.get("prod")
    assert stored.host == "b.example" and stored.jump == original.jump
    assert saved_secret(memory_keyring, "prod", SecretKind.DB_PASSWORD) == "kept"
    assert saved_secret(memory_keyring, "prod", SecretKind.LITELLM_MASTER_KEY) is None


def every_field_profile() -> StackProfile:
    """A profile with every field set to something other than its default."""
    return StackProfile(
        name="full",
        compose_dir="/opt/full-stack",
        transport=Transport.SSH,  # the default, but the only transport with the SSH fields
        host="full.example.com",
        port=2200,
        user="deploy",
        auth=AuthMethod.KEY_FILE,
        key_file=Path("/keys/id_full"),
        ssh_config_alias="full-alias",
        jump=JumpHost(
            "bastion.example",
            port=2201,
            user="hop",
            auth=AuthMethod.KEY_FILE,
            key_file=Path("/keys/id_jump"),
        ),
        keepalive_seconds=42,
        config_path="/etc/litellm/custom.yaml",
        postgres_port=15432,
        socket_proxy_port=12375,
        litellm_port=14000,
        litellm_container="my-litellm",
        db_name="proxydb",
        db_user="proxyuser",
    )


def choose(combo: QComboBox, method: AuthMethod) -> None:
    index = combo.findData(method)
    assert index >= 0, method
    combo.setCurrentIndex(index)


def test_every_profile_field_is_saved_and_shown_again_when_edited(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    expected = every_field_profile()
    unset = [
        f.name
        for f in fields(StackProfile)
        if f.name != "transport" and getattr(expected, f.name) == f.default
    ]
    assert unset == []  # so a field the sheet drops cannot pass for its default
    assert expected.jump is not None
    sheet = new_sheet(qtbot, runner, profile_store)
    sheet.name_edit.setText("full")
    sheet.compose_dir_edit.setText("/opt/full-stack")
    sheet.host_edit.setText("full.example.com")
    sheet.port_edit.setText("2200")
    sheet.user_edit.setText("deploy")
    sheet.alias_edit.setText("full-alias")
    sheet.keepalive_edit.setText("42")
    choose(sheet.auth_combo, AuthMethod.KEY_FILE)
    sheet.key_file_edit.setText("/keys/id_full")
    sheet.jump_host_edit.setText("bastion.example")
    sheet.jump_port_edit.setText("2201")
    sheet.jump_user_edit.setText("hop")
    choose(sheet.jump_auth_combo, AuthMethod.KEY_FILE)
    sheet.jump_key_file_edit.setText("/keys/id_jump")
    sheet.config_path_edit.setText("/etc/litellm/custom.yaml")
    sheet.postgres_port_edit.setText("15432")
    sheet.socket_proxy_port_edit.setText("12375")
    sheet.litellm_port_edit.setText("14000")
    sheet.container_edit.setText("my-litellm")
    sheet.db_name_edit.setText("proxydb")
    sheet.db_user_edit.setText("proxyuser")
    assert sheet.save_button.isEnabled(), sheet.attention_label.text()

    with qtbot.waitSignal(sheet.saved, timeout=BOUND_MS) as saved:
        sheet.save_button.click()

    assert profile_store.get("full") == expected
    assert saved.args == [expected]

    edit = new_sheet(qtbot, runner, profile_store, profile=profile_store.get("full"))
    assert not edit.is_dirty()
    assert edit.name_edit.text() == "full"
    assert edit.transport_combo.currentData() == Transport.SSH
    assert edit.compose_dir_edit.text() == "/opt/full-stack"
    assert edit.host_edit.text() == "full.example.com"
    assert edit.port_edit.text() == "2200"
    assert edit.user_edit.text() == "deploy"
    assert edit.alias_edit.text() == "full-alias"
    assert edit.keepalive_edit.text() == "42"
    assert edit.auth_combo.currentData() == AuthMethod.KEY_FILE
    assert edit.key_file_edit.text() == "/keys/id_full"
    assert edit.jump_section.is_expanded()
    assert edit.jump_host_edit.text() == "bastion.example"
    assert edit.jump_port_edit.text() == "2201"
    assert edit.jump_user_edit.text() == "hop"
    assert edit.jump_auth_combo.currentData() == AuthMethod.KEY_FILE
    assert edit.jump_key_file_edit.text() == "/keys/id_jump"
    assert edit.config_path_edit.text() == "/etc/litellm/custom.yaml"
    assert edit.postgres_port_edit.text() == "15432"
    assert edit.socket_proxy_port_edit.text() == "12375"
    assert edit.litellm_port_edit.text() == "14000"
    assert edit.container_edit.text() == "my-litellm"
    assert edit.db_name_edit.text() == "proxydb"
    assert edit.db_user_edit.text() == "proxyuser"
    assert edit.profile == expected  # what Save would store again, unchanged


# --- closing ------------------------------------------------------------------------------------


def test_esc_on_an_untouched_sheet_closes_it_without_asking(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)

    assert sheet.discard_prompt is None
    assert not sheet.isVisible()


def test_unsaved_edits_ask_before_the_sheet_closes(
    qtbot: QtBot, runner: JobRunner, profile_store: ProfileStore, memory_keyring: MemoryKeyring
) -> None:
    sheet = new_sheet(qtbot, runner, profile_store)
    sheet.name_edit.setText("half-typed")

    sheet.reject()  # what Esc, Cancel and the close button all end in
    prompt = sheet.discard_prompt
    assert prompt is not None and prompt.isVisible()
    assert prompt.text() == "Discard changes?"
    assert prompt.defaultButton().text() == "Keep Editing"
    prompt.defaultButton().click()
    assert sheet.isVisible()

    sheet.cancel_button.click()
    prompt = sheet.discard_prompt
    assert prompt is not None
    discard = next(b for b in prompt.buttons() if b.text() == "Discard Changes")
    assert prompt.buttonRole(discard) is QMessageBox.ButtonRole.DestructiveRole
    discard.click()

    assert not sheet.isVisible()
    assert sheet.result() == QDialog.DialogCode.Rejected
    assert profile_store.load() == ()


# --- Test SSH against a real sshd ----------------------------------------------------------------


@pytest.fixture
def sshd(openssh_root: Path, client_keys: ClientKeys) -> Iterator[SshdServer]:
    with running_sshd(openssh_root / f"sheet-{secrets.token_hex(4)}", client_keys) as server:
        yield server


def sshd_profile(server: SshdServer, keys: ClientKeys) -> StackProfile:
    return StackProfile(
        name="lab",
        compose_dir="/srv/llm",
        host="127.0.0.1",
        port=server.port,
        user="root",
        auth=AuthMethod.KEY_FILE,
        key_file=keys.plain,
    )


def outcomes(sheet: StackSheet) -> dict[CheckLayer, str]:
    return {layer: sheet.checks.outcome_text(layer) for layer in CheckLayer}


def start_ssh_test_and_wait_for_question(qtbot: QtBot, sheet: StackSheet) -> HostKeySheet:
    sheet.test_ssh_button.click()
    prompt = sheet.test_controller.prompt
    assert prompt is not None
    with qtbot.waitSignal(prompt.sheet_opened, timeout=BOUND_MS) as opened:
        pass
    question = opened.args[0]
    assert isinstance(question, HostKeySheet)
    return question


def test_test_ssh_asks_about_the_unknown_host_key_and_trusting_connects(
    qtbot: QtBot,
    runner: JobRunner,
    profile_store: ProfileStore,
    memory_keyring: MemoryKeyring,
    host_keys: HostKeyStore,
    sshd: SshdServer,
    client_keys: ClientKeys,
) -> None:
    profile = sshd_profile(sshd, client_keys)
    profile_store.add(profile)
    sheet = new_sheet(qtbot, runner, profile_store, profile=profile, host_keys=host_keys)

    question = start_ssh_test_and_wait_for_question(qtbot, sheet)
    assert question.fingerprint.text() == sshd.fingerprint()
    assert question.fingerprint.font().fixedPitch()
    trust = question.trust_button
    assert trust.text() == "Trust and Connect" and not trust.isDefault()
    with qtbot.waitSignal(sheet.test_controller.done, timeout=BOUND_MS) as done:
        trust.click()

    assert done.args == ["All tested layers OK."]
    got = outcomes(sheet)
    assert [got[layer] for layer in CheckLayer][:3] == ["OK", "OK", "OK"]
    assert got[CheckLayer.FORWARDS] == "not tested"  # Test SSH stops after SSH auth
    assert "accepted and recorded" in sheet.checks.details[CheckLayer.HOST_KEY].text()
    assert sshd.known_hosts_name in host_keys.app_known_hosts.read_text()


def test_test_ssh_refused_host_key_fails_that_layer_and_skips_auth(
    qtbot: QtBot,
    runner: JobRunner,
    profile_store: ProfileStore,
    memory_keyring: MemoryKeyring,
    host_keys: HostKeyStore,
    sshd: SshdServer,
    client_keys: ClientKeys,
) -> None:
    profile = sshd_profile(sshd, client_keys)
    profile_store.add(profile)
    sheet = new_sheet(qtbot, runner, profile_store, profile=profile, host_keys=host_keys)

    question = start_ssh_test_and_wait_for_question(qtbot, sheet)
    with qtbot.waitSignal(sheet.test_controller.done, timeout=BOUND_MS):
        qtbot.keyClick(question, Qt.Key.Key_Escape)

    got = outcomes(sheet)
    assert (got[CheckLayer.SSH_CONNECT], got[CheckLayer.HOST_KEY]) == ("OK", "FAILED")
    assert got[CheckLayer.SSH_AUTH] == "skipped"
    assert not host_keys.app_known_hosts.exists()


def test_closing_the_stack_sheet_during_the_question_answers_no_and_ends_the_job(
    qtbot: QtBot,
    runner: JobRunner,
    profile_store: ProfileStore,
    memory_keyring: MemoryKeyring,
    host_keys: HostKeyStore,
    sshd: SshdServer,
    client_keys: ClientKeys,
) -> None:
    profile = sshd_profile(sshd, client_keys)
    profile_store.add(profile)
    sheet = new_sheet(qtbot, runner, profile_store, profile=profile, host_keys=host_keys)
    start_ssh_test_and_wait_for_question(qtbot, sheet)

    sheet.reject()  # nothing edited: closes at once

    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=BOUND_MS)
    assert not host_keys.app_known_hosts.exists()


def test_a_changed_host_key_fails_closed_with_a_sheet_that_cannot_trust_it(
    qtbot: QtBot,
    runner: JobRunner,
    profile_store: ProfileStore,
    memory_keyring: MemoryKeyring,
    host_keys: HostKeyStore,
    sshd: SshdServer,
    client_keys: ClientKeys,
) -> None:
    host_keys.app_known_hosts.write_text(sshd.known_hosts_line())
    sshd.restart(new_host_key=True)
    profile = sshd_profile(sshd, client_keys)
    profile_store.add(profile)
    sheet = new_sheet(qtbot, runner, profile_store, profile=profile, host_keys=host_keys)

    with qtbot.waitSignal(sheet.test_controller.done, timeout=BOUND_MS):
        sheet.test_ssh_button.click()

    assert outcomes(sheet)[CheckLayer.HOST_KEY] == "FAILED"
    warning = sheet.findChild(HostKeyChangedSheet)
    assert warning is not None and warning.isVisible()
    assert warning.presented.text() == sshd.fingerprint()
    assert str(host_keys.app_known_hosts) in warning.fix_command.text()
    labels = [button.text() for button in warning.findChildren(QPushButton)]
    assert not any("trust" in label.lower() for label in labels)
    warning.close_button.click()
