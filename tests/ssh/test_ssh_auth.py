"""Each way of logging in, and what the admin is told when it does not work."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from llmproxy_desktop.remote.errors import (
    KeyPassphraseMissing,
    KeyPassphraseWrong,
    Layer,
    SshAuthFailed,
)
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.remote.ssh_target import AuthMethod, SshAuth
from tests.fixtures.sshd import ClientKeys, PasswordUser, SshAgentProcess, SshdServer
from tests.ssh.conftest import SessionFactory

pytestmark = pytest.mark.integration


def _whoami(
    session_factory: SessionFactory,
    server: SshdServer,
    auth: SshAuth,
    store: HostKeyStore,
    user: str = "root",
) -> str:
    session = session_factory(server.target(auth, user=user), store)
    assert session.status is SessionStatus.CONNECTED
    result = session.exec("id -un", timeout=10)
    assert result.exit_status == 0, result.stderr
    return result.stdout.decode().strip()


def test_key_file_without_passphrase_logs_in(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    trusting_store: HostKeyStore,
) -> None:
    auth = SshAuth(AuthMethod.KEY_FILE, key_file=client_keys.plain)
    assert _whoami(open_session, sshd_target, auth, trusting_store) == "root"


def test_protected_key_file_logs_in_with_its_passphrase(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    trusting_store: HostKeyStore,
) -> None:
    auth = SshAuth(
        AuthMethod.KEY_FILE, key_file=client_keys.protected, secret=client_keys.passphrase
    )
    assert _whoami(open_session, sshd_target, auth, trusting_store) == "root"


def test_wrong_key_passphrase_is_an_auth_error_that_says_so(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    trusting_store: HostKeyStore,
) -> None:
    wrong = client_keys.passphrase + "-not"
    auth = SshAuth(AuthMethod.KEY_FILE, key_file=client_keys.protected, secret=wrong)
    session = open_session(sshd_target.target(auth), trusting_store, connect=False)

    with pytest.raises(KeyPassphraseWrong) as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_AUTH
    assert "passphrase" in str(caught.value) and "wrong" in str(caught.value)
    assert str(client_keys.protected) in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in repr(session)
    assert session.status is SessionStatus.FAILED
    assert wrong not in (session.status_reason or "")


def test_protected_key_without_passphrase_asks_for_one(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    trusting_store: HostKeyStore,
) -> None:
    auth = SshAuth(AuthMethod.KEY_FILE, key_file=client_keys.protected)
    session = open_session(sshd_target.target(auth), trusting_store, connect=False)

    with pytest.raises(KeyPassphraseMissing) as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_AUTH


def test_missing_key_file_is_an_auth_error_naming_the_file(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    trusting_store: HostKeyStore,
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no_such_key"
    session = open_session(
        sshd_target.target(SshAuth(AuthMethod.KEY_FILE, key_file=missing)),
        trusting_store,
        connect=False,
    )

    with pytest.raises(SshAuthFailed, match="no_such_key") as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_AUTH


def test_agent_key_logs_in(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    ssh_agent: SshAgentProcess,
    trusting_store: HostKeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", str(ssh_agent.socket))
    auth = SshAuth(AuthMethod.AGENT)
    assert _whoami(open_session, sshd_target, auth, trusting_store) == "root"


def test_agent_auth_without_an_agent_says_so(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    trusting_store: HostKeyStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "no-agent.sock"))
    session = open_session(
        sshd_target.target(SshAuth(AuthMethod.AGENT)), trusting_store, connect=False
    )

    with pytest.raises(SshAuthFailed, match="ssh-agent") as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_AUTH


def test_explicit_key_file_never_asks_the_agent(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    client_keys: ClientKeys,
    trusting_store: HostKeyStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A socket posing as the agent: any connection to it would be a query.
    decoy_path = tmp_path / "decoy-agent.sock"
    with socket.socket(socket.AF_UNIX) as decoy:
        decoy.bind(str(decoy_path))
        decoy.listen()
        decoy.setblocking(False)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(decoy_path))

        auth = SshAuth(AuthMethod.KEY_FILE, key_file=client_keys.plain)
        assert _whoami(open_session, sshd_target, auth, trusting_store) == "root"

        with pytest.raises(BlockingIOError):
            decoy.accept()


def test_password_logs_in_the_throwaway_user(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    password_user: PasswordUser,
    trusting_store: HostKeyStore,
) -> None:
    auth = SshAuth(AuthMethod.PASSWORD, secret=password_user.password)
    whoami = _whoami(open_session, sshd_target, auth, trusting_store, user=password_user.name)
    assert whoami == password_user.name


def test_wrong_password_is_refused_as_an_auth_error_without_echoing_it(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    password_user: PasswordUser,
    trusting_store: HostKeyStore,
) -> None:
    wrong = password_user.password + "x"
    auth = SshAuth(AuthMethod.PASSWORD, secret=wrong)
    session = open_session(
        sshd_target.target(auth, user=password_user.name), trusting_store, connect=False
    )

    with pytest.raises(SshAuthFailed) as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_AUTH
    assert "password" in str(caught.value)
    for shown in (
        str(caught.value),
        repr(caught.value),
        repr(session),
        repr(session.target),
        session.status_reason or "",
    ):
        assert wrong not in shown


def test_root_cannot_log_in_by_password(
    open_session: SessionFactory,
    sshd_target: SshdServer,
    trusting_store: HostKeyStore,
) -> None:
    # PermitRootLogin prohibit-password: refused whatever the password, as an auth error.
    auth = SshAuth(AuthMethod.PASSWORD, secret="irrelevant")
    session = open_session(sshd_target.target(auth), trusting_store, connect=False)

    with pytest.raises(SshAuthFailed) as caught:
        session.connect()

    assert caught.value.layer is Layer.SSH_AUTH
