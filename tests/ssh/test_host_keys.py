"""Host keys fail closed: unknown keys are asked about and remembered, changed keys refused."""

from __future__ import annotations

import base64
import stat
import subprocess
from pathlib import Path

import paramiko
import pytest

from llmproxy_desktop.remote.errors import HostKeyChanged, HostKeyError, HostKeyUnknown, Layer
from llmproxy_desktop.remote.host_keys import (
    HostKeyPolicy,
    HostKeyStore,
    HostKeyVerdict,
    accept_fingerprint,
    fingerprint,
    host_key_changed,
    normalize_fingerprint,
)
from llmproxy_desktop.remote.ssh_session import SessionStatus
from tests.fixtures.sshd import ClientKeys, SshdServer
from tests.ssh.conftest import SessionFactory, write_known_hosts

pytestmark = pytest.mark.integration


class Asker:
    """A confirm callback that records what it was shown and answers as told."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.shown: list[HostKeyUnknown] = []

    def __call__(self, unknown: HostKeyUnknown) -> bool:
        self.shown.append(unknown)
        return self.answer


def test_unknown_key_is_shown_with_its_sha256_fingerprint_then_remembered(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    asker = Asker(answer=True)

    first = open_session(sshd_target.key_target(), empty_store, asker)

    assert first.status is SessionStatus.CONNECTED
    [shown] = asker.shown
    assert shown.host == f"[127.0.0.1]:{sshd_target.port}"
    assert shown.key_type == "ssh-ed25519"
    assert shown.fingerprint == sshd_target.fingerprint()  # what ssh-keygen -lf says
    assert shown.layer is Layer.HOST_KEY
    recorded = empty_store.app_known_hosts.read_text()
    assert recorded == sshd_target.known_hosts_line()  # OpenSSH format, [host]:port name
    assert stat.S_IMODE(empty_store.app_known_hosts.stat().st_mode) == 0o600

    second_asker = Asker(answer=False)
    second = open_session(sshd_target.key_target(), empty_store, second_asker)

    assert second.status is SessionStatus.CONNECTED
    assert second_asker.shown == []


def test_recorded_key_is_accepted_by_openssh_itself(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    empty_store: HostKeyStore,
) -> None:
    open_session(sshd_target.key_target(), empty_store, Asker(answer=True))

    # The app's file is a real known_hosts: OpenSSH's client connects with it, strictly.
    result = subprocess.run(
        [
            "ssh",
            "-p",
            str(sshd_target.port),
            "-i",
            str(client_keys.plain),
            "-o",
            f"UserKnownHostsFile={empty_store.app_known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "root@127.0.0.1",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_unknown_key_refused_by_the_admin_raises_and_records_nothing(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    session = open_session(
        sshd_target.key_target(), empty_store, Asker(answer=False), connect=False
    )

    with pytest.raises(HostKeyUnknown) as caught:
        session.connect()

    assert caught.value.fingerprint == sshd_target.fingerprint()
    assert session.status is SessionStatus.FAILED
    assert not empty_store.app_known_hosts.exists()


def test_unknown_key_without_anyone_to_ask_is_refused(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    session = open_session(sshd_target.key_target(), empty_store, None, connect=False)

    with pytest.raises(HostKeyUnknown):
        session.connect()


def test_pre_accepted_fingerprint_connects_and_is_recorded(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    confirm = accept_fingerprint(sshd_target.fingerprint())

    session = open_session(sshd_target.key_target(), empty_store, confirm)

    assert session.status is SessionStatus.CONNECTED
    assert empty_store.app_known_hosts.read_text() == sshd_target.known_hosts_line()


def test_pre_accepted_fingerprint_of_another_key_is_refused(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    confirm = accept_fingerprint(sshd_jump.fingerprint())  # a real key, but not this server's
    session = open_session(sshd_target.key_target(), empty_store, confirm, connect=False)

    with pytest.raises(HostKeyUnknown):
        session.connect()

    assert not empty_store.app_known_hosts.exists()


def test_changed_host_key_is_refused_without_asking_and_nothing_is_recorded(
    open_session: SessionFactory,
    restartable_sshd: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    open_session(restartable_sshd.key_target(), empty_store, Asker(answer=True)).close()
    recorded = empty_store.app_known_hosts.read_bytes()
    old_fingerprint = restartable_sshd.fingerprint()

    restartable_sshd.restart(new_host_key=True)
    asker = Asker(answer=True)  # would say yes, but must never be asked
    session = open_session(restartable_sshd.key_target(), empty_store, asker, connect=False)

    with pytest.raises(HostKeyChanged) as caught:
        session.connect()

    assert asker.shown == []
    assert caught.value.layer is Layer.HOST_KEY
    assert caught.value.expected == old_fingerprint
    assert caught.value.presented == restartable_sshd.fingerprint() != old_fingerprint
    assert "CHANGED" in str(caught.value)
    assert session.status is SessionStatus.FAILED
    assert "CHANGED" in (session.status_reason or "")
    assert empty_store.app_known_hosts.read_bytes() == recorded


def test_changed_key_in_the_users_known_hosts_is_refused_too(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    tmp_path: Path,
) -> None:
    # The user's file says the target's name has the jump's key: same type, other bytes.
    impostor_line = sshd_jump.known_hosts_line().replace(
        sshd_jump.known_hosts_name, sshd_target.known_hosts_name
    )
    user_file = tmp_path / "user_known_hosts"
    user_file.write_text(impostor_line)
    store = HostKeyStore(tmp_path / "app_known_hosts", user_file)
    session = open_session(sshd_target.key_target(), store, Asker(answer=True), connect=False)

    with pytest.raises(HostKeyChanged):
        session.connect()

    assert user_file.read_text() == impostor_line  # the user's file is never written
    assert not store.app_known_hosts.exists()


def test_hashed_and_wildcard_entries_of_openssh_are_understood(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    tmp_path: Path,
) -> None:
    user_file = write_known_hosts(tmp_path / "known_hosts", sshd_target)
    subprocess.run(
        ["ssh-keygen", "-q", "-H", "-f", str(user_file)], check=True, capture_output=True
    )  # OpenSSH's own hashing of the host names
    assert user_file.read_text().startswith("|1|")
    session = open_session(sshd_target.key_target(), HostKeyStore(tmp_path / "app", user_file))
    assert session.status is SessionStatus.CONNECTED

    key_type, key_data = sshd_target.host_key_public.read_text().split()[:2]
    user_file.write_text(f"[127.0.0.*]:*,!10.0.0.1 {key_type} {key_data}\n")
    session = open_session(sshd_target.key_target(), HostKeyStore(tmp_path / "app", user_file))
    assert session.status is SessionStatus.CONNECTED


def test_negated_pattern_excludes_a_host(tmp_path: Path) -> None:
    key = paramiko.RSAKey.generate(1024)
    user_file = tmp_path / "known_hosts"
    user_file.write_text(f"*,!db.example {key.get_name()} {key.get_base64()}\n")
    store = HostKeyStore(tmp_path / "app", user_file)

    assert store.check("web.example", key) is HostKeyVerdict.KNOWN
    with pytest.raises(HostKeyUnknown):
        store.check("db.example", key)


def test_revoked_key_is_refused_even_when_confirmed(tmp_path: Path) -> None:
    key = paramiko.RSAKey.generate(1024)
    user_file = tmp_path / "known_hosts"
    user_file.write_text(f"@revoked * {key.get_name()} {key.get_base64()}\n")
    store = HostKeyStore(tmp_path / "app", user_file)

    with pytest.raises(HostKeyError, match="revoked"):
        store.check("host.example", key, lambda _: True)


def test_a_key_of_a_new_type_when_another_type_is_known_warns_like_openssh(
    tmp_path: Path,
) -> None:
    recorded = paramiko.RSAKey.generate(1024)
    user_file = tmp_path / "known_hosts"
    user_file.write_text(f"host.example {recorded.get_name()} {recorded.get_base64()}\n")
    store = HostKeyStore(tmp_path / "app", user_file)
    offered = paramiko.ECDSAKey.generate()
    asked: list[HostKeyUnknown] = []

    with pytest.raises(HostKeyUnknown):
        store.check("host.example", offered, lambda unknown: asked.append(unknown) or False)

    (question,) = asked
    assert question.other_known_types == ("ssh-rsa",)
    assert str(question).startswith("[host-key] WARNING: ssh-rsa key(s) are already known")


def test_port_22_is_recorded_under_the_bare_host_name(tmp_path: Path) -> None:
    key = paramiko.RSAKey.generate(1024)
    store = HostKeyStore(tmp_path / "app" / "known_hosts", tmp_path / "none")

    assert store.check("Host.Example", key, lambda _: True) is HostKeyVerdict.ACCEPTED

    assert store.app_known_hosts.read_text() == f"host.example ssh-rsa {key.get_base64()}\n"
    assert store.check("host.example", key) is HostKeyVerdict.KNOWN
    assert stat.S_IMODE(store.app_known_hosts.parent.stat().st_mode) == 0o700


def test_fingerprint_text_is_normalised_and_validated(sshd_target: SshdServer) -> None:
    reference = sshd_target.fingerprint()
    body = reference.removeprefix("SHA256:")

    assert normalize_fingerprint(body) == reference
    assert normalize_fingerprint(f"  sha256:{body}=  ") == reference
    with pytest.raises(ValueError, match="SHA-256"):
        normalize_fingerprint("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48")
    with pytest.raises(ValueError):
        accept_fingerprint("SHA256:tooshort")


def test_policy_gives_sshclient_the_same_fail_closed_check(
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    empty_store: HostKeyStore,
) -> None:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(HostKeyPolicy(empty_store, None))
    with pytest.raises(HostKeyUnknown):
        client.connect(
            "127.0.0.1",
            sshd_target.port,
            "root",
            key_filename=str(client_keys.plain),
            allow_agent=False,
            look_for_keys=False,
        )
    client.close()

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(HostKeyPolicy(empty_store, lambda _: True))
    client.connect(
        "127.0.0.1",
        sshd_target.port,
        "root",
        key_filename=str(client_keys.plain),
        allow_agent=False,
        look_for_keys=False,
    )
    client.close()
    assert empty_store.app_known_hosts.read_text() == sshd_target.known_hosts_line()


def test_paramikos_bad_host_key_becomes_host_key_changed(
    sshd_target: SshdServer,
    sshd_jump: SshdServer,
    client_keys: ClientKeys,
) -> None:
    client = paramiko.SSHClient()
    key_type, key_data = sshd_jump.host_key_public.read_text().split()[:2]
    jump_key = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data))
    client.get_host_keys().add(sshd_target.known_hosts_name, "ssh-ed25519", jump_key)
    with pytest.raises(paramiko.BadHostKeyException) as caught:
        client.connect(
            "127.0.0.1",
            sshd_target.port,
            "root",
            key_filename=str(client_keys.plain),
            allow_agent=False,
            look_for_keys=False,
        )
    client.close()

    changed = host_key_changed(caught.value)

    assert isinstance(changed, HostKeyChanged)
    assert changed.expected == fingerprint(jump_key) == sshd_jump.fingerprint()
    assert changed.presented == sshd_target.fingerprint()


def test_a_confirm_callback_that_raises_leaves_the_session_failed_and_retryable(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    empty_store: HostKeyStore,
) -> None:
    def no_terminal(_question: HostKeyUnknown) -> bool:
        raise EOFError  # input() with no stdin

    session = open_session(sshd_target.key_target(), empty_store, no_terminal, connect=False)
    with pytest.raises(EOFError):
        session.connect()
    assert session.status is SessionStatus.FAILED
    # A second attempt runs again (asks again), instead of "connect() is already running".
    with pytest.raises(EOFError):
        session.connect()
    assert session.status is SessionStatus.FAILED
