"""SFTP on the session: atomic replacement of a remote file, and what an interrupted swap leaves.

The sshd runs on this machine, so the tests look at the remote files directly on disk."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from llmproxy_desktop.remote import sftp_atomic
from llmproxy_desktop.remote.errors import Layer, SftpFailed
from llmproxy_desktop.remote.host_keys import HostKeyStore
from llmproxy_desktop.remote.ssh_session import SessionStatus, SshSession
from tests.fixtures.sshd import SshdServer
from tests.ssh.conftest import SessionFactory

pytestmark = pytest.mark.integration

OLD = b"model_list: []\n# old config\n"
NEW = b"model_list:\n- model_name: gpt\n" + bytes(range(256)) * 4096  # ~1 MiB, binary-safe


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """An existing remote config file, world-readable as a careless admin left it."""
    directory = tmp_path / "stack"
    directory.mkdir()
    path = directory / "config.yaml"
    path.write_bytes(OLD)
    path.chmod(0o644)
    return path


@pytest.fixture
def session(
    open_session: SessionFactory, sshd_target: SshdServer, trusting_store: HostKeyStore
) -> SshSession:
    return open_session(sshd_target.key_target(), trusting_store)


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(sftp_atomic.TEMP_SUFFIX)]


def test_atomic_write_replaces_the_file_with_mode_0600(
    session: SshSession, config_file: Path
) -> None:
    session.sftp_write_atomic(str(config_file), NEW)

    assert config_file.read_bytes() == NEW
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert _leftovers(config_file.parent) == []
    assert session.sftp_read(str(config_file)) == NEW


def test_atomic_write_creates_a_missing_file(session: SshSession, tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"

    session.sftp_write_atomic(str(path), b"x: 1\n", mode=0o640)

    assert path.read_bytes() == b"x: 1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failure_between_temp_write_and_rename_keeps_the_old_file_and_no_temp(
    session: SshSession, config_file: Path
) -> None:
    seen: list[tuple[bytes, int]] = []

    def interrupt(temp: str) -> None:
        # The temp file is complete and already private when the swap would happen.
        seen.append((Path(temp).read_bytes(), stat.S_IMODE(Path(temp).stat().st_mode)))
        raise OSError("simulated interruption before the rename")

    with session.open_sftp() as sftp, pytest.raises(SftpFailed) as caught:
        sftp_atomic.write_atomic(sftp, str(config_file), NEW, before_swap=interrupt)

    assert seen == [(NEW, 0o600)]
    assert caught.value.layer is Layer.SFTP
    assert str(config_file) in str(caught.value)
    assert "not replaced" in str(caught.value)
    assert config_file.read_bytes() == OLD
    assert _leftovers(config_file.parent) == []


def test_connection_lost_before_the_rename_keeps_the_old_file_and_next_write_cleans_up(
    open_session: SessionFactory, restartable_sshd: SshdServer, config_file: Path
) -> None:
    store = HostKeyStore(
        restartable_sshd.directory / "app_known_hosts", restartable_sshd.directory / "none"
    )
    session = open_session(restartable_sshd.key_target(), store, lambda _: True)
    reconnecting = threading.Event()
    session.add_status_listener(
        lambda status, _: reconnecting.set() if status is SessionStatus.RECONNECTING else None
    )

    def drop_connection(_temp: str) -> None:
        restartable_sshd.kill_connections()

    with session.open_sftp() as sftp, pytest.raises(SftpFailed):
        sftp_atomic.write_atomic(sftp, str(config_file), NEW, before_swap=drop_connection)

    assert config_file.read_bytes() == OLD
    # With the connection gone the temp file could not be removed; it is private, though.
    [stale] = _leftovers(config_file.parent)
    assert stat.S_IMODE((config_file.parent / stale).stat().st_mode) == 0o600

    assert reconnecting.wait(10.0)
    assert session.wait_for_status(SessionStatus.CONNECTED, 10.0)
    session.sftp_write_atomic(str(config_file), NEW)

    assert config_file.read_bytes() == NEW
    assert _leftovers(config_file.parent) == []


def test_reading_a_missing_file_is_an_sftp_error_naming_it(
    session: SshSession, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.yaml"

    with pytest.raises(SftpFailed) as caught:
        session.sftp_read(str(missing))

    assert caught.value.layer is Layer.SFTP
    assert caught.value.path == str(missing)


def test_writing_into_a_missing_directory_is_an_sftp_error(
    session: SshSession, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-dir" / "config.yaml"

    with pytest.raises(SftpFailed) as caught:
        session.sftp_write_atomic(str(target), NEW)

    assert caught.value.layer is Layer.SFTP
    assert not target.parent.exists()
