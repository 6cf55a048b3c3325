"""Test a stack layer by layer: the CLI's `stacks test` and the GUI's "Test stack" button.

Layers, outermost first: SSH connect, host key, SSH auth, forwards, Postgres, socket-proxy,
LiteLLM. Each gets exactly one result, OK, FAILED (with the error of THAT layer, so "cannot
reach the database" is never reported when the truth is "host key unknown"), or SKIPPED (an
outer layer failed, or the layer does not exist for this stack: a local stack has no SSH).

No step waits without a bound: SSH has its connect timeout, forwards are probed once, Postgres
has a connect timeout, and the HTTP clients have theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..remote.errors import HostKeyUnknown, Layer, RemoteError
from ..remote.host_keys import Confirm, HostKeyStore
from ..remote.profiles import SecretKind, StackProfile, Transport, to_ssh_target
from ..remote.ssh_target import SshTarget

_POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
_LOOPBACK = "127.0.0.1"  # the compose file publishes every port on the server's loopback


class CheckLayer(StrEnum):
    SSH_CONNECT = "SSH connect"
    HOST_KEY = "host key"
    SSH_AUTH = "SSH auth"
    FORWARDS = "forwards"
    POSTGRES = "Postgres"
    SOCKET_PROXY = "socket-proxy"
    LITELLM = "LiteLLM"


class Outcome(StrEnum):
    OK = "OK"
    FAILED = "FAILED"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class LayerResult:
    """One layer's verdict. `detail` is one line without secrets; `error` is the RemoteError
    behind a failure, for a UI that wants its type (e.g. to offer trusting a host key)."""

    layer: CheckLayer
    outcome: Outcome
    detail: str
    error: RemoteError | None = None


OnResult = Callable[[LayerResult], None]


def all_ok(results: tuple[LayerResult, ...]) -> bool:
    """True when no layer failed (skipped layers of a local stack are fine)."""
    return not any(r.outcome is Outcome.FAILED for r in results)


def check_stack(
    profile: StackProfile,
    secrets: Mapping[SecretKind, str],
    *,
    host_keys: HostKeyStore,
    confirm: Confirm | None = None,
    ssh_config_path: Path | None = None,
    on_result: OnResult | None = None,
    on_status: Callable[[str, str | None], None] | None = None,
) -> tuple[LayerResult, ...]:
    """Connect to `profile`'s stack and report every layer, each as soon as it is known.

    Raises ProfileError/SshConfigError when the profile cannot even name an SSH target (that is
    the profile's problem, not a layer of the stack). `on_status` hears the SSH session's
    status changes (connecting, connected, failed with its reason...), as the UI shows them."""
    results: list[LayerResult] = []

    def report(
        layer: CheckLayer, outcome: Outcome, detail: str, error: RemoteError | None = None
    ) -> None:
        result = LayerResult(layer, outcome, _one_line(detail, secrets), error)
        results.append(result)
        if on_result is not None:
            on_result(result)

    if profile.transport is Transport.LOCAL:
        for layer in (
            CheckLayer.SSH_CONNECT,
            CheckLayer.HOST_KEY,
            CheckLayer.SSH_AUTH,
            CheckLayer.FORWARDS,
        ):
            report(layer, Outcome.SKIPPED, "local stack: no SSH")
        direct = {
            CheckLayer.POSTGRES: profile.postgres_port,
            CheckLayer.SOCKET_PROXY: profile.socket_proxy_port,
            CheckLayer.LITELLM: profile.litellm_port,
        }
        _check_services(profile, secrets, direct, report)
        return tuple(results)

    from ..remote.ssh_session import SshSession  # paramiko transport machinery: only here

    target = to_ssh_target(profile, secrets, ssh_config_path=ssh_config_path)
    accepted: list[HostKeyUnknown] = []

    def confirm_and_remember(unknown: HostKeyUnknown) -> bool:
        trusted = confirm is not None and confirm(unknown)
        if trusted:
            accepted.append(unknown)
        return trusted

    session = SshSession(target, host_keys, confirm_and_remember)
    if on_status is not None:
        notify = on_status  # a narrowed local for the closure
        session.add_status_listener(lambda status, reason: notify(status.value, reason))
    try:
        try:
            session.connect()
        except RemoteError as error:
            _report_ssh_failure(error, target, report)
            for layer in (
                CheckLayer.FORWARDS,
                CheckLayer.POSTGRES,
                CheckLayer.SOCKET_PROXY,
                CheckLayer.LITELLM,
            ):
                report(layer, Outcome.SKIPPED, "SSH failed")
            return tuple(results)
        report(CheckLayer.SSH_CONNECT, Outcome.OK, _describe_target(target))
        if accepted:
            names = ", ".join(f"{u.host} {u.fingerprint}" for u in accepted)
            report(CheckLayer.HOST_KEY, Outcome.OK, f"accepted and recorded: {names}")
        else:
            report(CheckLayer.HOST_KEY, Outcome.OK, "matches known_hosts")
        report(CheckLayer.SSH_AUTH, Outcome.OK, f"{target.auth.method.value} as {target.user}")

        ports: dict[CheckLayer, int] = {}
        problems: list[str] = []
        first_error: RemoteError | None = None
        for layer, remote_port in (
            (CheckLayer.POSTGRES, profile.postgres_port),
            (CheckLayer.SOCKET_PROXY, profile.socket_proxy_port),
            (CheckLayer.LITELLM, profile.litellm_port),
        ):
            try:
                forward = session.forward(_LOOPBACK, remote_port, probe=True)
            except RemoteError as error:
                problems.append(f"{layer.value} ({remote_port}): {error.args[0]}")
                first_error = first_error or error
                continue
            ports[layer] = forward.local_port
        if problems:
            report(CheckLayer.FORWARDS, Outcome.FAILED, "; ".join(problems), first_error)
        else:
            report(
                CheckLayer.FORWARDS,
                Outcome.OK,
                f"to ports {profile.postgres_port}, {profile.socket_proxy_port} and "
                f"{profile.litellm_port} on the server's {_LOOPBACK}",
            )
        _check_services(profile, secrets, ports, report)
    finally:
        session.close()
    return tuple(results)


_Report = Callable[[CheckLayer, Outcome, str, RemoteError | None], None]


def _report_ssh_failure(error: RemoteError, target: SshTarget, report: _Report) -> None:
    """Turn the one error of SshSession.connect into the three SSH lines."""
    failed_at = {
        Layer.HOST_KEY: CheckLayer.HOST_KEY,
        Layer.SSH_AUTH: CheckLayer.SSH_AUTH,
    }.get(error.layer, CheckLayer.SSH_CONNECT)
    order = (CheckLayer.SSH_CONNECT, CheckLayer.HOST_KEY, CheckLayer.SSH_AUTH)
    for layer in order:
        if order.index(layer) < order.index(failed_at):
            detail = _describe_target(target) if layer is CheckLayer.SSH_CONNECT else "verified"
            report(layer, Outcome.OK, detail, None)
        elif layer is failed_at:
            report(layer, Outcome.FAILED, str(error), error)
        else:
            report(layer, Outcome.SKIPPED, f"{failed_at.value} failed", None)


def _check_services(
    profile: StackProfile,
    secrets: Mapping[SecretKind, str],
    local_ports: Mapping[CheckLayer, int],
    report: _Report,
) -> None:
    checks: tuple[tuple[CheckLayer, Callable[[int], str]], ...] = (
        (CheckLayer.POSTGRES, lambda port: _check_postgres(profile, secrets, port)),
        (CheckLayer.SOCKET_PROXY, lambda port: _check_socket_proxy(profile, port)),
        (CheckLayer.LITELLM, lambda port: _check_litellm(secrets, port)),
    )
    for layer, check in checks:
        port = local_ports.get(layer)
        if port is None:
            report(layer, Outcome.SKIPPED, "no forward", None)
            continue
        try:
            report(layer, Outcome.OK, check(port), None)
        except RemoteError as error:
            report(layer, Outcome.FAILED, str(error), error)


def _check_postgres(profile: StackProfile, secrets: Mapping[SecretKind, str], port: int) -> str:
    import psycopg

    password = secrets.get(SecretKind.DB_PASSWORD)
    try:
        with psycopg.connect(
            host=_LOOPBACK,
            port=port,
            dbname=profile.db_name,
            user=profile.db_user,
            password=password or "",
            connect_timeout=_POSTGRES_CONNECT_TIMEOUT_SECONDS,
            # Never read a ~/.pgpass or PG* variables meant for other databases.
            passfile="/dev/null",
        ) as connection:
            row = connection.execute("SELECT current_setting('server_version')").fetchone()
    except psycopg.Error as exc:
        hint = "" if password else " (no database password saved or given)"
        raise RemoteError(
            f"{profile.db_user}@{profile.db_name}: {_one_line(str(exc), secrets)}{hint}",
            layer=Layer.POSTGRES,
        ) from None
    version = row[0] if row else "?"
    return f"{profile.db_user}@{profile.db_name}, PostgreSQL {version}"


def _check_socket_proxy(profile: StackProfile, port: int) -> str:
    from ..remote.docker_control import DockerControl

    with DockerControl.through_forward(port, profile.litellm_container) as control:
        control.ping()
        state = control.litellm_state()
    health = "" if state.health.value == "none" else f", {state.health.value}"
    return f"container {profile.litellm_container}: {state.status.value}{health}"


def _check_litellm(secrets: Mapping[SecretKind, str], port: int) -> str:
    from ..remote.litellm_client import LiteLLMClient

    master_key = secrets.get(SecretKind.LITELLM_MASTER_KEY)
    with LiteLLMClient.through_forward(port, master_key or "") as client:
        readiness = client.readiness()
        if not readiness.ready:
            raise RemoteError(
                f"not ready (HTTP {readiness.http_status}, status {readiness.status!r}, "
                f"database {readiness.db or 'unknown'})",
                layer=Layer.LITELLM,
            )
        if not master_key:
            return "ready; master key not checked (none saved or given)"
        models = client.models()
    return f"ready; master key accepted; {len(models)} model group(s)"


def _describe_target(target: SshTarget) -> str:
    described = f"{target.user}@{target.host}:{target.port}"
    hop = target.jump
    while hop is not None:
        described += f" via {hop.user}@{hop.host}:{hop.port}"
        hop = hop.jump
    return described


def _one_line(text: str, secrets: Mapping[SecretKind, str]) -> str:
    """Collapse a message to one line and mask any secret a server might have echoed."""
    line = " ".join(text.split())
    for value in secrets.values():
        if value:
            line = line.replace(value, "***")
    return line
