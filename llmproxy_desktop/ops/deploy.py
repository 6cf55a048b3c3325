"""Deploy a stack to its server over SSH (issue #7 §2).

    upload the compose directory's files (atomically; .env mode 0600)
      → `docker compose up -d` on an exec channel, its output streamed through `progress`
      → wait until every service is ready (compose ps + docker inspect, over the same session)
      → connect fully (forwards, the Master) and run the first-boot import if the Master is empty

Only the SSH session is needed up to the wait: the Postgres and LiteLLM forwards only work once
the services run, so the caller passes `connect`, which opens the full StackConnection then.

Re-running is safe: unchanged files are not rewritten, `up -d` leaves running services that did
not change alone, and the import only runs on an empty Master. A server .env whose secrets differ
from the local ones is never overwritten (that would lock LiteLLM out of its own data).
Cancelling is honoured until `up` starts, and during the wait (the services keep starting).
"""

from __future__ import annotations

import dataclasses
import posixpath
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import paramiko

from ..core.compose_health import Readiness, ServiceState, overall, parse_inspect
from ..core.env_file import EnvFile, conflicting_secrets
from ..remote.errors import RemoteError, SftpFailed
from ..remote.host_keys import Confirm, HostKeyStore
from ..remote.profiles import SecretKind, StackProfile, to_ssh_target
from ..remote.sftp_atomic import read_file
from ..remote.ssh_exec_stream import exec_streaming
from ..remote.ssh_session import SshSession
from ..stack_files import COMPOSE_FILE, CONFIG_SEED, ENV_FILE, SOCKET_PROXY_POLICY
from .first_boot import FirstBootFailed, FirstBootResult, first_boot_import, master_is_empty
from .stack_connection import StackConnection, connect_stack

__all__ = [
    "DEPLOYED_FILES",
    "DeployFailed",
    "DeployFiles",
    "DeployResult",
    "DeployStep",
    "Progress",
    "deploy",
    "deploy_profile",
    "secrets_with_env",
]

DEPLOYED_FILES: tuple[str, ...] = (COMPOSE_FILE, ENV_FILE, CONFIG_SEED, SOCKET_PROXY_POLICY)
"""What a deploy uploads, relative to the compose directory. config/config.yaml is not among
them: the compose file's config-seed creates it from the seed, and Apply owns it after that."""

_MODES: Mapping[str, int] = {ENV_FILE: 0o600}
_DEFAULT_MODE = 0o644
_OUTPUT_TAIL = 40  # lines of compose output kept for an error message
_SFTP_FAILURES = (OSError, EOFError, paramiko.SSHException)

Progress = Callable[[str, float, str], None]
"""`progress(step, fraction, message)`, as the job runner and the CLI take it."""

Connect = Callable[[], AbstractContextManager[StackConnection]]
FirstBoot = Callable[[StackConnection], FirstBootResult]


class DeployStep(StrEnum):
    """The steps, in order; the value is the step's title."""

    CHECK = "Check the server"
    UPLOAD = "Upload the stack files"
    START = "docker compose up -d"
    HEALTH = "Wait until every service is healthy"
    IMPORT = "First-boot import"


# Where each step's progress fraction starts; a step ends where the next starts.
_SPAN: Mapping[DeployStep, tuple[float, float]] = {
    DeployStep.CHECK: (0.0, 0.05),
    DeployStep.UPLOAD: (0.05, 0.2),
    DeployStep.START: (0.2, 0.5),
    DeployStep.HEALTH: (0.5, 0.9),
    DeployStep.IMPORT: (0.9, 1.0),
}


class DeployFailed(Exception):
    """A step failed; `str()` is one sentence, `output` the last lines of compose's output."""

    def __init__(self, step: DeployStep, message: str, output: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.step = step
        self.output = tuple(output)


@dataclass(frozen=True)
class DeployFiles:
    """The files to upload: relative path → content."""

    files: Mapping[str, bytes]

    @staticmethod
    def from_dir(directory: Path) -> DeployFiles:
        """Read `DEPLOYED_FILES` from a local compose directory (made by `stack init`)."""
        files: dict[str, bytes] = {}
        for relative in DEPLOYED_FILES:
            path = directory.joinpath(*relative.split("/"))
            try:
                files[relative] = path.read_bytes()
            except OSError as error:
                raise DeployFailed(
                    DeployStep.CHECK,
                    f"{path}: {error.strerror or error} (create the directory with "
                    f"`stack init {directory}` first)",
                ) from None
        return DeployFiles(files)


@dataclass(frozen=True)
class DeployResult:
    """What a deploy did."""

    compose_dir: str
    compose_command: str = ""
    uploaded: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    services: tuple[ServiceState, ...] = ()
    first_boot: FirstBootResult | None = None
    first_boot_skipped: str | None = None  # why no import ran (None: it ran, or was not asked)
    cancelled: bool = False
    output: tuple[str, ...] = field(default=(), repr=False)  # compose's output lines


def deploy(
    session: SshSession,
    compose_dir: str,
    files: DeployFiles,
    progress: Progress,
    cancel: threading.Event,
    *,
    connect: Connect | None = None,
    first_boot: FirstBoot | None = None,
    remote_env: Mapping[str, str] | None = None,
    up_timeout: float = 900.0,
    health_timeout: float = 300.0,
    poll_seconds: float = 2.0,
) -> DeployResult:
    """Deploy `files` to `compose_dir` on the session's host (see the module docstring).

    `connect` and `first_boot` together enable the import step. `remote_env` is put in front of
    every docker command (e.g. DOCKER_HOST for a rootless or non-default daemon). Raises
    DeployFailed naming the step; a RemoteError when the SSH session itself breaks."""
    env = _env_prefix(remote_env or {})
    report = _Reporter(progress)

    report(DeployStep.CHECK, 0.0, f"checking docker compose on {session.target.host}")
    compose = _compose_command(session, env)
    report(DeployStep.CHECK, 1.0, f"using `{compose}`")
    if cancel.is_set():
        return DeployResult(compose_dir, compose, cancelled=True)

    uploaded, unchanged = _upload(session, compose_dir, files, report, cancel)
    if cancel.is_set():
        return DeployResult(compose_dir, compose, uploaded, unchanged, cancelled=True)

    output = _compose_up(session, compose_dir, f"{env}{compose}", report, up_timeout)
    states, finished = _wait_healthy(
        session, compose_dir, env, compose, report, cancel, health_timeout, poll_seconds
    )
    result = DeployResult(compose_dir, compose, uploaded, unchanged, states, output=output)
    if not finished:
        return _replace(result, cancelled=True)
    if connect is None or first_boot is None:
        return result
    return _first_boot(result, connect, first_boot, report)


def deploy_profile(
    profile: StackProfile,
    secrets: Mapping[SecretKind, str],
    files: DeployFiles,
    progress: Progress,
    cancel: threading.Event,
    *,
    host_keys: HostKeyStore,
    confirm: Confirm | None = None,
    vault_passphrase: Callable[[], str | None] | None = None,
    remote_env: Mapping[str, str] | None = None,
    health_timeout: float = 300.0,
) -> DeployResult:
    """`deploy` for a stack profile: opens its SSH session (closed at the end), deploys to its
    compose directory, then connects fully for the first-boot import. `secrets` should hold the
    deployed .env's database password and master key (`secrets_with_env`). Without
    `vault_passphrase` the import is skipped. Raises DeployFailed, or the RemoteError of the
    SSH connect (HostKeyUnknown included)."""
    with SshSession(to_ssh_target(profile, secrets), host_keys, confirm) as session:

        def connect() -> AbstractContextManager[StackConnection]:
            return connect_stack(profile, secrets, host_keys=host_keys, confirm=confirm)

        passphrase = vault_passphrase
        return deploy(
            session,
            profile.compose_dir,
            files,
            progress,
            cancel,
            connect=None if passphrase is None else connect,
            first_boot=None
            if passphrase is None
            else (lambda connection: first_boot_import(connection, passphrase)),
            remote_env=remote_env,
            health_timeout=health_timeout,
        )


def secrets_with_env(
    secrets: Mapping[SecretKind, str], files: DeployFiles
) -> dict[SecretKind, str]:
    """`secrets` with the database password and master key of the .env being deployed: those
    are what the new stack will use."""
    env = EnvFile.parse(files.files.get(ENV_FILE, b"").decode("utf-8", "replace")).values()
    merged = dict(secrets)
    for kind, key in _ENV_SECRETS.items():
        if env.get(key):
            merged[kind] = env[key]
    return merged


_ENV_SECRETS: Mapping[SecretKind, str] = {
    SecretKind.DB_PASSWORD: "POSTGRES_PASSWORD",
    SecretKind.LITELLM_MASTER_KEY: "LITELLM_MASTER_KEY",
}


# -- steps -------------------------------------------------------------------------------------


def _compose_command(session: SshSession, env: str) -> str:
    """`docker compose` (v2 plugin) if the server has it, else `docker-compose` (v1)."""
    for candidate in ("docker compose", "docker-compose"):
        if session.exec(f"{env}{candidate} version", timeout=30).exit_status == 0:
            return candidate
    raise DeployFailed(
        DeployStep.CHECK,
        f"{session.target.host} has neither `docker compose` nor `docker-compose`: install "
        "Docker with its compose plugin first",
    )


def _upload(
    session: SshSession,
    compose_dir: str,
    files: DeployFiles,
    report: _Reporter,
    cancel: threading.Event,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    uploaded: list[str] = []
    unchanged: list[str] = []
    ordered = [name for name in DEPLOYED_FILES if name in files.files]
    with session.open_sftp() as sftp:
        current = {name: _read_or_none(sftp, _remote(compose_dir, name)) for name in ordered}
    local_env, remote_env = files.files.get(ENV_FILE), current.get(ENV_FILE)
    if local_env is not None and remote_env is not None:
        conflicts = conflicting_secrets(
            local_env.decode("utf-8", "replace"), remote_env.decode("utf-8", "replace")
        )
        if conflicts:
            raise DeployFailed(
                DeployStep.UPLOAD,
                f"the server's {_remote(compose_dir, ENV_FILE)} sets {', '.join(conflicts)} "
                "to other values than the local .env; replacing them would lock LiteLLM out "
                "of its data. Copy the server's values into the local .env (or remove the "
                "server's file if the stack was never used), then deploy again.",
            )
    for index, name in enumerate(ordered):
        if cancel.is_set():
            break
        path = _remote(compose_dir, name)
        if current[name] == files.files[name]:
            unchanged.append(name)
            report(DeployStep.UPLOAD, (index + 1) / len(ordered), f"{name}: unchanged")
            continue
        _make_dirs(session, posixpath.dirname(path))
        session.sftp_write_atomic(path, files.files[name], _MODES.get(name, _DEFAULT_MODE))
        uploaded.append(name)
        report(DeployStep.UPLOAD, (index + 1) / len(ordered), f"{name}: uploaded")
    return tuple(uploaded), tuple(unchanged)


def _compose_up(
    session: SshSession, compose_dir: str, compose: str, report: _Reporter, timeout: float
) -> tuple[str, ...]:
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        report(DeployStep.START, 0.5, line)

    report(DeployStep.START, 0.0, f"{compose} up -d")
    try:
        status = exec_streaming(
            session, f"cd {shlex.quote(compose_dir)} && {compose} up -d", on_line, timeout=timeout
        )
    except RemoteError as error:
        raise DeployFailed(DeployStep.START, str(error), lines[-_OUTPUT_TAIL:]) from None
    if status != 0:
        raise DeployFailed(
            DeployStep.START,
            f"`docker compose up -d` failed with exit status {status}",
            lines[-_OUTPUT_TAIL:],
        )
    report(DeployStep.START, 1.0, "services created and started")
    return tuple(lines)


def _wait_healthy(
    session: SshSession,
    compose_dir: str,
    env: str,
    compose: str,
    report: _Reporter,
    cancel: threading.Event,
    timeout: float,
    poll_seconds: float,
) -> tuple[tuple[ServiceState, ...], bool]:
    """Poll until every service is ready: (states, True); cancelled: (states, False). Raises
    DeployFailed when a service fails or `timeout` passes."""
    deadline = time.monotonic() + timeout
    last: tuple[str, ...] = ()
    states: tuple[ServiceState, ...] = ()
    report(DeployStep.HEALTH, 0.0, "waiting for the services")
    while True:
        states = _service_states(session, compose_dir, env, compose)
        described = tuple(state.describe() for state in states)
        if described != last:
            ready = sum(state.readiness is Readiness.READY for state in states)
            fraction = ready / len(states) if states else 0.0
            report(DeployStep.HEALTH, fraction, "; ".join(described) or "no containers yet")
            last = described
        verdict = overall(states)
        if verdict is Readiness.READY:
            return states, True
        if verdict is Readiness.FAILED:
            failed = [s.describe() for s in states if s.readiness is Readiness.FAILED]
            raise DeployFailed(
                DeployStep.HEALTH,
                f"{'; '.join(failed)}: see `docker compose logs` in {compose_dir}",
            )
        if time.monotonic() >= deadline:
            waiting = [s.describe() for s in states if s.readiness is not Readiness.READY]
            raise DeployFailed(
                DeployStep.HEALTH,
                f"not ready within {timeout:g} s: {'; '.join(waiting) or 'no containers'}",
            )
        if cancel.wait(poll_seconds):
            report(DeployStep.HEALTH, 0.0, "stopped waiting; the services keep starting")
            return states, False


def _service_states(
    session: SshSession, compose_dir: str, env: str, compose: str
) -> tuple[ServiceState, ...]:
    listed = session.exec(f"cd {shlex.quote(compose_dir)} && {env}{compose} ps -a -q", timeout=60)
    if listed.exit_status != 0:
        raise DeployFailed(DeployStep.HEALTH, f"`{compose} ps` failed: {_text(listed.stderr)}")
    ids = [line.strip() for line in _text(listed.stdout).splitlines() if line.strip()]
    if not ids:
        return ()
    inspected = session.exec(f"{env}docker inspect {' '.join(map(shlex.quote, ids))}", timeout=60)
    if inspected.exit_status != 0:
        # A one-shot removed between ps and inspect: the next poll sees the new state.
        return ()
    try:
        return parse_inspect(_text(inspected.stdout))
    except ValueError as error:
        raise DeployFailed(
            DeployStep.HEALTH, f"unexpected docker inspect output: {error}"
        ) from None


def _first_boot(
    result: DeployResult, connect: Connect, first_boot: FirstBoot, report: _Reporter
) -> DeployResult:
    report(DeployStep.IMPORT, 0.0, "connecting to the Master and LiteLLM")
    try:
        with connect() as connection:
            if not master_is_empty(connection):
                report(DeployStep.IMPORT, 1.0, "the Master already holds configuration")
                return _replace(result, first_boot_skipped="the Master already holds configuration")
            report(DeployStep.IMPORT, 0.5, f"importing {connection.config_file.location}")
            imported = first_boot(connection)
    except (RemoteError, FirstBootFailed) as error:
        raise DeployFailed(
            DeployStep.IMPORT,
            f"the stack is running, but the first-boot import failed: {error}; run `init` "
            "for the stack once that is fixed",
        ) from None
    report(DeployStep.IMPORT, 1.0, f"imported {imported.imported} item(s)")
    return _replace(result, first_boot=imported)


# -- helpers -----------------------------------------------------------------------------------


class _Reporter:
    """Maps a step's own 0..1 to the deploy's overall fraction."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def __call__(self, step: DeployStep, fraction: float, message: str) -> None:
        start, end = _SPAN[step]
        self._progress(step.value, start + (end - start) * min(max(fraction, 0.0), 1.0), message)


def _replace(result: DeployResult, **changes: Any) -> DeployResult:
    return dataclasses.replace(result, **changes)


def _env_prefix(env: Mapping[str, str]) -> str:
    if not env:
        return ""
    return "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items())) + " "


def _remote(compose_dir: str, relative: str) -> str:
    return posixpath.join(compose_dir, relative)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip()


def _read_or_none(sftp: paramiko.SFTPClient, path: str) -> bytes | None:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return None
    except _SFTP_FAILURES as error:
        raise SftpFailed(path, str(error)) from None
    return read_file(sftp, path)


def _make_dirs(session: SshSession, directory: str) -> None:
    """`mkdir -p` over SFTP (mode 0755; the compose directory is not secret, .env is)."""
    with session.open_sftp() as sftp:
        for path in _parents(directory):
            try:
                sftp.stat(path)
            except FileNotFoundError:
                try:
                    sftp.mkdir(path, 0o755)
                except _SFTP_FAILURES as error:
                    raise SftpFailed(path, str(error) or "cannot create the directory") from None
            except _SFTP_FAILURES as error:
                raise SftpFailed(path, str(error)) from None


def _parents(directory: str) -> Iterator[str]:
    parts = [p for p in directory.split("/") if p]
    prefix = "/" if directory.startswith("/") else ""
    for index in range(1, len(parts) + 1):
        yield prefix + "/".join(parts[:index])
