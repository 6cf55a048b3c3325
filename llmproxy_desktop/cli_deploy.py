"""`llmproxy-desktop stack init DIR` and `llmproxy-desktop --stack NAME deploy --from DIR`.

A new server from the app (issue #7 §2): `stack init` writes a compose directory on this machine
(the app's docker-compose.yml, config seed and socket-proxy policy, and a `.env` with fresh
secrets, mode 0600) and says what to back up; `deploy` uploads it to the stack's compose
directory over SSH, runs `docker compose up -d` with its output streamed, waits until every
service is healthy and runs the first-boot import into the still-empty Master.

Exit codes as for the other stack commands: 0 ok, 1 the services or the import failed, 2
connection or usage error, 130 cancelled (Ctrl-C before `up`, or while waiting).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CliError, _Parser
from .cli_stack import Output, StackCommands, cancel_on_interrupt, confirm

if TYPE_CHECKING:
    from .ops.deploy import DeployResult
    from .remote.profiles import SecretKind, StackProfile

__all__ = ["add_commands", "add_init_command", "cmd_deploy", "cmd_stack_init"]

EXIT_CANCELLED = 130


# --- stack init DIR -----------------------------------------------------------------------------


def add_init_command(commands: Any) -> None:
    """Register `stack init DIR` on the top-level subparsers."""
    stack = commands.add_parser("stack", help="prepare a new stack's files on this machine")
    actions = stack.add_subparsers(
        dest="stack_command", metavar="init", parser_class=_Parser, required=True
    )
    init = actions.add_parser(
        "init", help="write docker-compose.yml, the config seed and a .env with fresh secrets"
    )
    init.add_argument("directory", metavar="DIR", help="the compose directory (created if needed)")
    init.set_defaults(run=cmd_stack_init)


def cmd_stack_init(args: argparse.Namespace) -> int:
    """Create or complete DIR; on a terminal, ask before replacing anything real."""
    from .ops.stack_init import init_stack_dir
    from .stack_files import StackFilesMissing

    out = Output(json_mode=bool(getattr(args, "json", False)))
    directory = Path(args.directory).expanduser().absolute()
    interactive = sys.stdin.isatty()
    declined: list[str] = []

    def ask_overwrite(name: str, reason: str) -> bool:
        if not interactive:
            declined.append(name)
            return False
        answer = input(f"{name} {reason}. Replace it? [y/N] ").strip().lower()
        return answer in ("y", "yes")

    try:
        result = init_stack_dir(directory, ask_overwrite)
    except StackFilesMissing as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"{directory}: {error.strerror or error}") from None
    for name in result.written:
        out.say(f"wrote     {name}" + ("  (mode 0600)" if name == ".env" else ""))
    for name in result.unchanged:
        out.say(f"unchanged {name}")
    if result.generated:
        out.say(f"generated {', '.join(result.generated)}")
    if result.replaced:
        out.say(f"replaced  {', '.join(result.replaced)}")
    if declined:
        out.note("kept without asking (no terminal): " + ", ".join(declined))
    out.say("")
    for line in result.advice:
        out.say(f"BACK UP: {line}")
    out.payload.update(
        directory=str(directory),
        written=list(result.written),
        unchanged=list(result.unchanged),
        generated=list(result.generated),
        replaced=list(result.replaced),
        kept=list(result.kept),
        advice=list(result.advice),
    )
    return out.finish(EXIT_OK)


# --- --stack NAME deploy --------------------------------------------------------------------------


def add_commands(registry: StackCommands) -> None:
    """Register `deploy` as a stack command."""
    deploy = registry.add(
        "deploy",
        "upload a compose directory, docker compose up -d, wait for health, first-boot import",
        cmd_deploy,
        confirmable=True,
    )
    deploy.add_argument(
        "--from",
        dest="from_dir",
        metavar="DIR",
        required=True,
        help="the local compose directory to upload (made by `stack init DIR`)",
    )
    deploy.add_argument(
        "--health-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long the services may take to become healthy (300)",
    )
    deploy.add_argument(
        "--docker-host",
        metavar="URL",
        help="DOCKER_HOST for the docker commands on the server, for a daemon that is not the "
        "default one (e.g. rootless: unix:///run/user/1000/docker.sock)",
    )
    deploy.add_argument(
        "--no-import", action="store_true", help="skip the first-boot import at the end"
    )


def cmd_deploy(args: argparse.Namespace, out: Output) -> int:
    """Deploy DIR to the stack's compose directory; progress lines while it runs."""
    from .cli import _find, _host_key_confirm, _profile_store
    from .core.env_file import EnvFile
    from .ops.deploy import DeployFailed, DeployFiles, deploy_profile
    from .remote.errors import HostKeyUnknown, RemoteError
    from .remote.host_keys import HostKeyStore
    from .remote.profiles import Transport
    from .stack_files import ENV_FILE

    profile = _find(_profile_store(), args.stack)
    if profile.transport is Transport.LOCAL:
        raise CliError(
            f"{profile.name} is a local stack: run `docker compose up -d` in its directory, "
            f"then `--stack {profile.name} init`"
        )
    directory = Path(args.from_dir).expanduser().absolute()
    try:
        files = DeployFiles.from_dir(directory)
    except DeployFailed as error:
        raise CliError(str(error)) from None
    env = EnvFile.parse(files.files[ENV_FILE].decode("utf-8", "replace")).values()
    interactive = sys.stdin.isatty()
    secrets = _deploy_secrets(profile, env, interactive, out)
    if not confirm(args, f"Deploy {directory} to {profile.name} ({profile.compose_dir})?"):
        out.say("not deployed")
        return out.finish(EXIT_OK)

    host_key_confirm = _host_key_confirm(args.accept_host_key, interactive)
    out.say(f"connecting to {profile.name} ...")
    progress = _DeployLines(out)
    try:
        with cancel_on_interrupt(
            out, "cancelling: honoured before `docker compose up` starts and while waiting"
        ) as cancel:
            result = deploy_profile(
                profile,
                secrets,
                files,
                progress,
                cancel,
                host_keys=HostKeyStore(),
                confirm=host_key_confirm,
                vault_passphrase=None if args.no_import else _passphrase(profile, interactive),
                remote_env={"DOCKER_HOST": args.docker_host} if args.docker_host else None,
                health_timeout=args.health_timeout,
            )
    except HostKeyUnknown as error:
        raise CliError(
            f"{profile.name}: {error} To trust it: --accept-host-key {error.fingerprint}"
        ) from None
    except DeployFailed as error:
        # compose's output, error.output, was already streamed line by line above
        code = EXIT_USAGE if error.step.name in ("CHECK", "UPLOAD") else EXIT_FINDINGS
        raise CliError(f"{error.step.value}: {error}", code) from None
    except RemoteError as error:
        raise CliError(f"{profile.name}: {error}") from None
    return _report(result, profile, out)


def _deploy_secrets(
    profile: StackProfile, env: dict[str, str], interactive: bool, out: Output
) -> dict[SecretKind, str]:
    """The keyring's secrets (SSH ones asked on a terminal), with the database password and the
    master key taken from the .env being deployed: that is what the new stack will use."""
    from .cli import _secrets_for_test, _ssh_secrets_needed
    from .remote.profiles import SecretKind

    secrets = _secrets_for_test(profile, interactive=False)
    if interactive:
        import getpass

        for kind in _ssh_secrets_needed(profile, secrets):
            value = getpass.getpass(f"{kind.label} for {profile.name} (empty: skip): ")
            if value:
                secrets[kind] = value
    for kind, key in (
        (SecretKind.DB_PASSWORD, "POSTGRES_PASSWORD"),
        (SecretKind.LITELLM_MASTER_KEY, "LITELLM_MASTER_KEY"),
    ):
        value = env.get(key, "")
        if value and secrets.get(kind) not in (None, value):
            out.note(f"the saved {kind.label} differs from {key} in the .env; using the .env's")
        if value:
            secrets[kind] = value
    if env.get("POSTGRES_USER") and env["POSTGRES_USER"] != profile.db_user:
        out.note(
            f"POSTGRES_USER in the .env is {env['POSTGRES_USER']!r} but the stack profile uses "
            f"{profile.db_user!r}; change one of them"
        )
    return secrets


def _passphrase(profile: StackProfile, interactive: bool) -> Callable[[], str | None]:
    """The vault passphrase for an import that finds credentials: the keyring's, else a new
    one asked on a terminal (twice), else none (the import then says one is needed)."""
    from .cli_stack import _keyring_passphrase, _new_passphrase

    def passphrase() -> str | None:
        return _keyring_passphrase(profile) or (_new_passphrase(profile) if interactive else None)

    return passphrase


class _DeployLines:
    """Prints a step's title once, then its messages indented (compose output with a bar)."""

    def __init__(self, out: Output) -> None:
        from .ops.deploy import DeployStep

        self._out = out
        self._titles = [step.value for step in DeployStep]
        self._current: str | None = None

    def __call__(self, step: str, _fraction: float, message: str) -> None:
        if step != self._current:
            self._current = step
            number = self._titles.index(step) + 1 if step in self._titles else 0
            self._out.say(f"[{number}/{len(self._titles)}] {step}")
        self._out.say(f"    {message}")


def _report(result: DeployResult, profile: StackProfile, out: Output) -> int:
    out.payload.update(
        stack=profile.name,
        compose_dir=result.compose_dir,
        compose_command=result.compose_command,
        uploaded=list(result.uploaded),
        unchanged=list(result.unchanged),
        services={s.service: s.readiness.value for s in result.services},
        imported=result.first_boot.imported if result.first_boot else None,
        import_skipped=result.first_boot_skipped,
        cancelled=result.cancelled,
    )
    if result.cancelled:
        out.say("cancelled" + (": the services keep starting" if result.services else ""))
        return out.finish(EXIT_CANCELLED)
    out.say(f"deployed {profile.name}: {len(result.services)} service(s) ready")
    if result.first_boot is not None:
        out.say(f"imported {result.first_boot.imported} item(s) into the Master")
    elif result.first_boot_skipped:
        out.say(f"no import: {result.first_boot_skipped}")
    out.say(
        f"save the new stack's secrets in the keyring: `stacks edit {profile.name} "
        "--save-secrets` (POSTGRES_PASSWORD and LITELLM_MASTER_KEY of the .env)"
    )
    return out.finish(EXIT_OK)
