"""One connected stack: the SSH session, its forwards, the Master and the Apply target.

The CLI's `--stack NAME ...` commands and the window's per-stack worker both open a stack through
`connect_stack` and close it with `StackConnection.close` (or `with`). Everything is opened in
one go so a failure names the first layer that refused, and closed in reverse order so nothing
(a forward, a pooled Postgres connection, a docker client) outlives the connection.

A local stack (`Transport.LOCAL`) reaches its ports directly and its config.yaml on this disk;
an SSH stack reaches them through forwards of one `SshSession` and its file over SFTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..remote.closing import ClosesOnExit
from ..remote.docker_control import DockerControl
from ..remote.errors import Layer, RemoteError
from ..remote.host_keys import Confirm, HostKeyStore
from ..remote.litellm_client import LiteLLMClient
from ..remote.profiles import SecretKind, StackProfile, Transport, to_ssh_target
from ..remote.ssh_session import SessionStatus, SshSession
from ..store import DEFAULT_SCHEMA, Actor, Master, create_master_engine, current_actor
from .apply_target import ApplyTarget, ConfigFile, LocalConfigFile, SftpConfigFile

__all__ = ["StackConnection", "connect_stack", "master_url"]

_LOOPBACK = "127.0.0.1"  # the compose file publishes every port on the server's loopback
_POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

OnSessionStatus = Callable[[SessionStatus, str | None], None]


@dataclass
class StackConnection(ClosesOnExit):
    """An open stack. `session` is None for a local stack. Not thread-safe: one per worker."""

    profile: StackProfile
    actor: Actor
    master: Master
    target: ApplyTarget
    session: SshSession | None
    _closer: ExitStack = field(repr=False)

    @property
    def config_file(self) -> ConfigFile:
        """The stack's config.yaml (over SFTP, or on this disk for a local stack)."""
        return self.target.config

    def close(self) -> None:
        """Close the clients, the database pool, the forwards and the session (in that order)."""
        self._closer.close()


def master_url(profile: StackProfile, password: str | None, port: int) -> URL:
    """The Master's database URL for `profile`, on `port` of this machine's loopback."""
    return URL.create(
        "postgresql+psycopg",
        username=profile.db_user,
        password=password or None,
        host=_LOOPBACK,
        port=port,
        database=profile.db_name,
        # Never read a ~/.pgpass or PG* variables meant for other databases.
        query={"connect_timeout": str(_POSTGRES_CONNECT_TIMEOUT_SECONDS), "passfile": "/dev/null"},
    )


def connect_stack(
    profile: StackProfile,
    secrets: Mapping[SecretKind, str],
    *,
    host_keys: HostKeyStore,
    confirm: Confirm | None = None,
    ssh_config_path: Path | None = None,
    on_status: OnSessionStatus | None = None,
    schema: str = DEFAULT_SCHEMA,
    actor: Actor | None = None,
) -> StackConnection:
    """Open `profile`'s stack: SSH (unless local), forwards, the Master (migrated), the target.

    Raises RemoteError naming the layer that refused (SSH connect, host key, SSH auth, forward,
    Postgres); ProfileError/SshConfigError when the profile cannot name an SSH target; StoreError
    (e.g. SchemaTooNew) when the Master's schema cannot be used. The vault stays locked: unlock it
    with `connection.master.unlock_vault(passphrase)`. Nothing is left open on failure.
    """
    closer = ExitStack()
    try:
        session, ports = _open_ports(
            profile, secrets, host_keys, confirm, ssh_config_path, closer, on_status
        )
        engine = _open_engine(profile, secrets, ports[0], closer)
        master = _open_master(engine, profile, secrets, schema)
        docker = closer.enter_context(
            DockerControl.through_forward(ports[1], profile.litellm_container)
        )
        litellm = closer.enter_context(
            LiteLLMClient.through_forward(ports[2], secrets.get(SecretKind.LITELLM_MASTER_KEY, ""))
        )
        config: ConfigFile
        if session is None:
            config = LocalConfigFile(Path(profile.effective_config_path))
        else:
            config = SftpConfigFile(session, profile.effective_config_path)
        target = ApplyTarget(config=config, docker=docker, litellm=litellm, master_engine=engine)
    except BaseException:
        closer.close()
        raise
    return StackConnection(profile, actor or current_actor(), master, target, session, closer)


def _open_ports(
    profile: StackProfile,
    secrets: Mapping[SecretKind, str],
    host_keys: HostKeyStore,
    confirm: Confirm | None,
    ssh_config_path: Path | None,
    closer: ExitStack,
    on_status: OnSessionStatus | None,
) -> tuple[SshSession | None, tuple[int, int, int]]:
    """The local ports of Postgres, the socket-proxy and LiteLLM (forwarded over SSH or not)."""
    remote_ports = (profile.postgres_port, profile.socket_proxy_port, profile.litellm_port)
    if profile.transport is Transport.LOCAL:
        return None, remote_ports
    target = to_ssh_target(profile, secrets, ssh_config_path=ssh_config_path)
    session = SshSession(target, host_keys, confirm)
    if on_status is not None:
        session.add_status_listener(on_status)
    closer.callback(session.close)
    session.connect()
    local = tuple(session.forward(_LOOPBACK, port, probe=True).local_port for port in remote_ports)
    return session, (local[0], local[1], local[2])


def _open_engine(
    profile: StackProfile, secrets: Mapping[SecretKind, str], port: int, closer: ExitStack
) -> Engine:
    url = master_url(profile, secrets.get(SecretKind.DB_PASSWORD), port)
    engine = create_master_engine(url.render_as_string(hide_password=False))
    closer.callback(engine.dispose)
    return engine


def _open_master(
    engine: Engine, profile: StackProfile, secrets: Mapping[SecretKind, str], schema: str
) -> Master:
    try:
        return Master.open(engine, schema=schema)
    except SQLAlchemyError as error:
        hint = (
            "" if secrets.get(SecretKind.DB_PASSWORD) else " (no database password saved or given)"
        )
        raise RemoteError(
            f"{profile.db_user}@{profile.db_name}: {_one_line(error, secrets)}{hint}",
            layer=Layer.POSTGRES,
        ) from None


def _one_line(error: BaseException, secrets: Mapping[SecretKind, str]) -> str:
    """The driver's own first line (not SQLAlchemy's wrapper text), secrets masked."""
    cause = getattr(error, "orig", None) or error
    line = " ".join(str(cause).split()) or type(cause).__name__
    for value in secrets.values():
        if value:
            line = line.replace(value, "***")
    return line
