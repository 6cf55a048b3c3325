"""The headless command line. Imports no Qt: the GUI is loaded only when no command is given.

Every failure is one line on stderr and an exit code; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from dataclasses import MISSING, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from . import __version__
from .core.findings import Finding, Severity, has_errors
from .core.importer import import_config
from .core.render import render
from .core.validate import validate_bytes
from .core.yamltext import MAX_CONFIG_BYTES, decode_config_bytes
from .remote.errors import RemoteError

if TYPE_CHECKING:
    from .remote.errors import HostKeyUnknown
    from .remote.host_keys import Confirm
    from .remote.keyring_secrets import KeyringSecrets
    from .remote.profiles import JumpHost, ProfileError, SecretKind, StackProfile
    from .remote.profiles_store import ProfileStore
    from .remote.ssh_target import SshTarget

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report as one line, with the exit code to use."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message} (see --help)")


def _read(path: str) -> bytes:
    file = Path(path)
    try:
        if file.is_dir():
            raise CliError(f"{path}: is a directory, not a config file")
        with file.open("rb") as stream:  # bounded: /dev/zero or a pipe has no size to stat
            data = stream.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            size = max(file.stat().st_size, len(data)) / (1024 * 1024)
            raise CliError(f"{path}: {size:.1f} MB is too large for a LiteLLM config (max 8 MB)")
        return data
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except PermissionError:
        raise CliError(f"{path}: permission denied") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _print_findings(findings: Sequence[Finding], out: TextIO) -> None:
    for finding in findings:
        print(finding.line(), file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    """`validate PATH`: one line per finding; 0 when no errors, 1 when errors."""
    findings = validate_bytes(_read(args.path))
    _print_findings(findings, sys.stdout)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    print(f"{args.path}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return EXIT_FINDINGS if errors else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """`import --dry-run PATH`: the config the Master would hold, every secret shown as ***."""
    if not args.dry_run:
        raise CliError(
            "import without --dry-run writes into a stack's Master and needs a stack profile; "
            "stack profiles arrive with the remote milestone. Use --dry-run to preview."
        )
    text, problem = decode_config_bytes(_read(args.path))
    if problem is not None or text is None:
        _print_findings([problem] if problem else [], sys.stderr)
        return EXIT_FINDINGS
    result = import_config(text)
    _print_findings(result.findings, sys.stderr)
    if has_errors(result.findings) and not result.items:
        return EXIT_FINDINGS
    sys.stdout.write(render(result.items, redact=True))
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK


# --- stacks: profiles and their secrets ---------------------------------------------------------
# The remote modules are imported inside the commands: `validate` should not pay for paramiko
# and keyring at start-up.

# Profile field (or jump field) → the option that sets it, so problems name what to type.
_OPTION_FOR_FIELD = {
    "name": "NAME",
    "transport": "--transport",
    "host": "--host",
    "port": "--port",
    "user": "--user",
    "auth": "--auth",
    "key_file": "--key-file",
    "ssh_config_alias": "--ssh-config-alias",
    "jump": "--jump-host",
    "jump.host": "--jump-host",
    "jump.port": "--jump-host",
    "jump.user": "--jump-host",
    "jump.auth": "--jump-auth",
    "jump.key_file": "--jump-key-file",
    "keepalive_seconds": "--keepalive",
    "compose_dir": "--compose-dir",
    "config_path": "--config-path",
    "postgres_port": "--postgres-port",
    "socket_proxy_port": "--socket-proxy-port",
    "litellm_port": "--litellm-port",
    "litellm_container": "--litellm-container",
    "db_name": "--db-name",
    "db_user": "--db-user",
}
_INT_FIELDS = ("port", "keepalive_seconds", "postgres_port", "socket_proxy_port", "litellm_port")
_SSH_FIELDS = ("host", "port", "user", "auth", "key_file", "ssh_config_alias", "jump")


def _add_profile_options(parser: argparse.ArgumentParser) -> None:
    ssh = parser.add_argument_group("how to reach the stack (with edit, '' unsets a field)")
    ssh.add_argument("--transport", metavar="ssh|local", help="local: the stack runs here")
    ssh.add_argument("--host", help="SSH server (overrides the alias's HostName)")
    ssh.add_argument("--port", metavar="PORT", help="SSH port (default: the alias's, else 22)")
    ssh.add_argument("--user", help="SSH user (default: the alias's, else your login name)")
    ssh.add_argument("--auth", metavar="agent|key-file|password", help="SSH authentication")
    ssh.add_argument("--key-file", metavar="FILE", help="private key (implies --auth key-file)")
    ssh.add_argument("--ssh-config-alias", metavar="ALIAS", help="a Host of ~/.ssh/config")
    ssh.add_argument("--jump-host", metavar="USER@HOST:PORT", help="one bastion in front")
    ssh.add_argument("--jump-auth", metavar="agent|key-file|password")
    ssh.add_argument("--jump-key-file", metavar="FILE", help="(implies --jump-auth key-file)")
    ssh.add_argument("--keepalive", metavar="SECONDS", help="SSH keepalive, 0 = off (15)")
    stack = parser.add_argument_group("the stack on its host")
    stack.add_argument("--compose-dir", metavar="DIR", help="absolute; holds docker-compose.yml")
    stack.add_argument("--config-path", metavar="PATH", help="(DIR/config/config.yaml)")
    stack.add_argument("--postgres-port", metavar="PORT", help="(5432)")
    stack.add_argument("--socket-proxy-port", metavar="PORT", help="(2375)")
    stack.add_argument("--litellm-port", metavar="PORT", help="(4000)")
    stack.add_argument("--litellm-container", metavar="NAME", help="(litellm-proxy)")
    stack.add_argument("--db-name", metavar="NAME", help="(litellm)")
    stack.add_argument("--db-user", metavar="NAME", help="(llmproxy)")
    parser.add_argument(
        "--save-secrets",
        action="store_true",
        help="ask for this stack's secrets (hidden input; empty skips one) and save them in "
        "the OS keyring. Secrets are never taken from the command line.",
    )


def _add_stacks_commands(commands: Any) -> None:
    stacks = commands.add_parser("stacks", help="manage stack profiles and their saved secrets")
    actions = stacks.add_subparsers(
        dest="stacks_command",
        metavar="list|add|edit|remove|test",
        parser_class=_Parser,
        required=True,
    )
    listing = actions.add_parser("list", help="list the stacks")
    listing.set_defaults(run=cmd_stacks_list)
    add = actions.add_parser("add", help="add a stack profile")
    add.add_argument("name", metavar="NAME")
    _add_profile_options(add)
    add.set_defaults(run=cmd_stacks_add)
    edit = actions.add_parser("edit", help="change fields of a stack profile")
    edit.add_argument("name", metavar="NAME")
    _add_profile_options(edit)
    edit.add_argument(
        "--forget-secrets", action="store_true", help="remove its saved secrets from the keyring"
    )
    edit.set_defaults(run=cmd_stacks_edit)
    remove = actions.add_parser("remove", help="remove a stack and forget its saved secrets")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(run=cmd_stacks_remove)
    test = actions.add_parser(
        "test", help="connect and check every layer (SSH, forwards, Postgres, Docker, LiteLLM)"
    )
    test.add_argument("name", metavar="NAME")
    test.add_argument(
        "--accept-host-key",
        metavar="SHA256:...",
        help="trust an unknown host key with exactly this fingerprint (compare it with the "
        "server's `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` first)",
    )
    test.set_defaults(run=cmd_stacks_test)


def _profile_store() -> ProfileStore:
    from .remote.profiles_store import ProfileStore

    return ProfileStore()


def _keyring() -> KeyringSecrets:
    from .remote.keyring_secrets import KeyringSecrets

    return KeyringSecrets()


def _find(store: ProfileStore, name: str) -> StackProfile:
    from .remote.profiles_store import ProfileNotFound

    try:
        return store.get(name)
    except ProfileNotFound:
        names = ", ".join(repr(p.name) for p in store.load())
        known = f" (stacks: {names})" if names else " (no stacks yet)"
        raise CliError(f"no stack named {name!r}{known}") from None


def _profile_problem_line(name: str, exc: ProfileError) -> str:
    if not exc.problems:
        return f"stack {name!r}: {exc.args[0]}"
    listed = "; ".join(
        f"{_OPTION_FOR_FIELD.get(p.field, p.field)}: {p.message}" for p in exc.problems
    )
    return f"stack {name!r} is not valid: {listed}"


def _local_path(text: str) -> Path:
    # Kept as typed when it starts with ~ (the profile then follows the home directory); a
    # relative path means the current directory, as everywhere on a command line.
    return Path(text) if text.startswith("~") else Path(text).absolute()


def _option_value(field_name: str, text: str) -> object:
    """Convert one option's text to its profile field value; '' means the field's default."""
    from .remote.profiles import StackProfile, Transport
    from .remote.ssh_target import AuthMethod

    option = _OPTION_FOR_FIELD[field_name]
    if text == "":
        default = {f.name: f.default for f in fields(StackProfile)}.get(field_name, MISSING)
        if default is MISSING:
            raise CliError(f"{option} cannot be unset")
        return default
    if field_name in _INT_FIELDS:
        if not (text.isascii() and text.isdigit()):  # '²' and '٣' are digits to isdigit()
            raise CliError(f"{option}: {text!r} is not a whole number")
        return int(text)
    enums: dict[str, type[Transport] | type[AuthMethod]] = {
        "transport": Transport,
        "auth": AuthMethod,
    }
    if field_name in enums:
        enum = enums[field_name]
        try:
            return enum(text)
        except ValueError:
            choices = " or ".join(member.value for member in enum)
            raise CliError(f"{option} must be {choices}, not {text!r}") from None
    if field_name == "key_file":
        return _local_path(text)
    return text


_KEEP = object()  # the jump host is not mentioned on the command line


def _jump_from_args(args: argparse.Namespace, current: JumpHost | None) -> object:
    """The new jump host (None to remove it), or _KEEP when no jump option was given."""
    from .remote.profiles import JumpHost
    from .remote.ssh_config import SshConfigError, parse_jump_spec
    from .remote.ssh_target import AuthMethod

    spec_text, auth_text, key_text = args.jump_host, args.jump_auth, args.jump_key_file
    if spec_text is None and auth_text is None and key_text is None:
        return _KEEP
    if spec_text == "":
        if auth_text or key_text:
            raise CliError("--jump-auth and --jump-key-file need a jump host")
        return None
    if spec_text is not None:
        try:
            spec = parse_jump_spec(spec_text)
        except SshConfigError as exc:
            raise CliError(f"--jump-host: {exc.args[0]}") from None
        host, port, user = spec.host, spec.port or 22, spec.user
    elif current is not None:
        host, port, user = current.host, current.port, current.user
    else:
        raise CliError("--jump-auth and --jump-key-file need --jump-host")
    auth = current.auth if current is not None else AuthMethod.AGENT
    key_file = current.key_file if current is not None else None
    if key_text is not None:
        key_file = _local_path(key_text) if key_text else None
        if key_file is not None and auth_text is None:
            auth = AuthMethod.KEY_FILE
    if auth_text is not None:
        try:
            auth = AuthMethod(auth_text or AuthMethod.AGENT.value)
        except ValueError:
            raise CliError(
                f"--jump-auth must be agent, key-file or password, not {auth_text!r}"
            ) from None
    return JumpHost(host=host, port=port, user=user, auth=auth, key_file=key_file)


def _changes_from_args(args: argparse.Namespace, current: StackProfile | None) -> dict[str, Any]:
    """The profile fields the command line sets. Raises ProfileError for a bad jump host."""
    from .remote.profiles import Transport
    from .remote.ssh_target import AuthMethod

    changes: dict[str, Any] = {}
    for field_name, dest in (
        ("transport", "transport"),
        ("host", "host"),
        ("port", "port"),
        ("user", "user"),
        ("auth", "auth"),
        ("key_file", "key_file"),
        ("ssh_config_alias", "ssh_config_alias"),
        ("keepalive_seconds", "keepalive"),
        ("compose_dir", "compose_dir"),
        ("config_path", "config_path"),
        ("postgres_port", "postgres_port"),
        ("socket_proxy_port", "socket_proxy_port"),
        ("litellm_port", "litellm_port"),
        ("litellm_container", "litellm_container"),
        ("db_name", "db_name"),
        ("db_user", "db_user"),
    ):
        text = getattr(args, dest)
        if text is not None:
            changes[field_name] = _option_value(field_name, text)
    if changes.get("key_file") is not None and "auth" not in changes:
        changes["auth"] = AuthMethod.KEY_FILE  # like `ssh -i`: naming a key means using it
    jump = _jump_from_args(args, current.jump if current is not None else None)
    if jump is not _KEEP:
        changes["jump"] = jump
    if current is not None and changes.get("transport") is Transport.LOCAL:
        # Moving a stack onto this machine: its SSH settings no longer apply.
        for name in _SSH_FIELDS:
            changes.setdefault(name, None)
    return changes


def _describe(profile: StackProfile) -> str:
    return f"{profile.name!r}: {profile.transport.value}, {profile.target_label()}"


def _save_secrets(profile: StackProfile, keyring_secrets: KeyringSecrets) -> None:
    """Ask for each secret the profile can use (hidden input) and save the non-empty ones."""
    saved: list[str] = []
    for kind in profile.secret_kinds():
        value = getpass.getpass(f"{kind.label} for {profile.name} (empty: do not save): ")
        if value:
            keyring_secrets.save(profile.name, kind, value)
            saved.append(kind.label)
    print(f"saved in the keyring: {', '.join(saved)}" if saved else "no secrets saved")


def _safe_keyring_or_refuse() -> KeyringSecrets:
    """The keyring for --save-secrets, checked BEFORE anything is written or asked."""
    keyring_secrets = _keyring()
    status = keyring_secrets.status()
    if not status.secure:
        raise CliError(f"--save-secrets refused: {status.message}")
    return keyring_secrets


def cmd_stacks_list(args: argparse.Namespace) -> int:
    """`stacks list`: one row per stack (name, transport, target, auth)."""
    profiles = _profile_store().load()
    if not profiles:
        print(
            "no stacks yet; add one with: llmproxy-desktop stacks add NAME --host HOST "
            "--compose-dir DIR",
            file=sys.stderr,
        )
        return EXIT_OK
    rows = [("NAME", "TRANSPORT", "TARGET", "AUTH")]
    rows += [(p.name, p.transport.value, p.target_label(), p.auth_label()) for p in profiles]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]))
    return EXIT_OK


def cmd_stacks_add(args: argparse.Namespace) -> int:
    """`stacks add NAME ...`: validate and store a new profile; secrets only with
    --save-secrets, asked with hidden input."""
    from .remote.profiles import ProfileError, StackProfile

    store = _profile_store()
    try:
        changes = _changes_from_args(args, None)
        compose_dir = changes.pop("compose_dir", "")
        profile = StackProfile(name=args.name, compose_dir=compose_dir, **changes)
    except ProfileError as exc:
        raise CliError(_profile_problem_line(args.name, exc)) from None
    keyring_secrets = _safe_keyring_or_refuse() if args.save_secrets else None
    store.add(profile)
    print(f"added stack {_describe(profile)}")
    _forget_leftover_secrets(profile.name)
    if keyring_secrets is not None:
        _save_secrets(profile, keyring_secrets)
    return EXIT_OK


def _forget_leftover_secrets(name: str) -> None:
    """A new stack must not inherit the secrets of a removed stack of the same name (removed
    where no keyring was reachable): they would be sent to the new host."""
    from .remote.keyring_secrets import KeyringError

    try:
        leftovers = _keyring().forget_stack(name)
    except KeyringError:
        return  # no safe keyring here: nothing can be read from it either
    if leftovers:
        print(
            f"note: removed {len(leftovers)} secret(s) left in the keyring by an earlier "
            f"stack named {name!r}"
        )


def cmd_stacks_edit(args: argparse.Namespace) -> int:
    """`stacks edit NAME ...`: change the given fields; '' unsets an optional one."""
    from .remote.profiles import ProfileError

    store = _profile_store()
    current = _find(store, args.name)
    try:
        changes = _changes_from_args(args, current)
        profile = replace(current, **changes)
    except ProfileError as exc:
        raise CliError(_profile_problem_line(args.name, exc)) from None
    if not changes and not args.save_secrets and not args.forget_secrets:
        raise CliError("nothing to change: give at least one option (see --help)")
    keyring_secrets = _safe_keyring_or_refuse() if args.save_secrets else None
    if changes:
        store.replace(profile)
        print(f"changed stack {_describe(profile)}")
    if args.forget_secrets:
        forgotten = _keyring().forget_stack(profile.name)
        print(f"forgot {len(forgotten)} saved secret(s) of {profile.name!r}")
    if keyring_secrets is not None:
        _save_secrets(profile, keyring_secrets)
    return EXIT_OK


def _confirm(question: str) -> bool:
    """Ask on the terminal; without one, refuse (a script must say --yes)."""
    if not sys.stdin.isatty():
        raise CliError("not removing without confirmation: pass --yes (no terminal to ask on)")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_stacks_remove(args: argparse.Namespace) -> int:
    """`stacks remove NAME [--yes]`: delete the profile, then its keyring secrets."""
    from .remote.keyring_secrets import KeyringError

    store = _profile_store()
    profile = _find(store, args.name)
    if not args.yes and not _confirm(
        f"Remove stack {profile.name!r} and forget its saved secrets?"
    ):
        print("not removed", file=sys.stderr)
        return EXIT_OK
    store.remove(profile.name)
    print(f"removed stack {profile.name!r}")
    try:
        forgotten = _keyring().forget_stack(profile.name)
    except KeyringError as exc:
        # The profile is gone either way; say what may be left behind, and where.
        print(f"note: {exc.args[0]}", file=sys.stderr)
        return EXIT_OK
    if forgotten:
        print(f"forgot {len(forgotten)} saved secret(s)")
    return EXIT_OK


def _host_key_confirm(accept: str | None, interactive: bool) -> Confirm | None:
    """How `stacks test` decides about an unknown host key: the fingerprint given with
    --accept-host-key, else a question on the terminal, else refuse (fail closed)."""
    from .remote.host_keys import accept_fingerprint

    if accept is not None:
        try:
            return accept_fingerprint(accept)
        except ValueError as exc:
            raise CliError(f"--accept-host-key: {exc}") from None
    if not interactive:
        return None

    def ask(unknown: HostKeyUnknown) -> bool:
        print(unknown.args[0], file=sys.stderr)
        answer = input("Trust this host key and remember it? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return ask


def _ssh_secrets_needed(profile: StackProfile, secrets: dict[SecretKind, str]) -> list[SecretKind]:
    """Which SSH secrets the hops of `profile` need and nobody supplied: passwords, and
    passphrases of key files that are encrypted (an unencrypted key needs none, so no one is
    asked for it). A key file shared by several hops is asked for once."""
    from .remote.errors import KeyPassphraseMissing
    from .remote.profiles import SecretKind, to_ssh_target
    from .remote.ssh_auth import load_private_key
    from .remote.ssh_target import AuthMethod

    needed: list[SecretKind] = []
    asked_files: set[Path] = set()
    hop: SshTarget | None = to_ssh_target(profile, secrets)
    is_target = True
    while hop is not None:
        auth = hop.auth
        if auth.method is AuthMethod.PASSWORD and not auth.secret:
            needed.append(SecretKind.SSH_PASSWORD if is_target else SecretKind.JUMP_PASSWORD)
        elif (
            auth.method is AuthMethod.KEY_FILE
            and auth.key_file is not None
            and not auth.secret
            and auth.key_file not in asked_files
        ):
            asked_files.add(auth.key_file)
            try:
                load_private_key(auth.key_file, None)
            except KeyPassphraseMissing:
                needed.append(
                    SecretKind.SSH_KEY_PASSPHRASE if is_target else SecretKind.JUMP_KEY_PASSPHRASE
                )
            except RemoteError:
                pass  # unreadable or unusable: the test reports it at the SSH auth layer
        hop, is_target = hop.jump, False
    return needed


def _secrets_for_test(profile: StackProfile, interactive: bool) -> dict[SecretKind, str]:
    """The secrets `stacks test` uses: those saved in the keyring, and, on a terminal, the
    missing ones it needs, asked with hidden input (never saved from here)."""
    from .remote.keyring_secrets import KeyringError
    from .remote.profiles import SecretKind, Transport

    secrets: dict[SecretKind, str] = {}
    keyring_secrets = _keyring()
    try:
        for kind in SecretKind:
            value = keyring_secrets.get(profile.name, kind)
            if value:
                secrets[kind] = value
    except KeyringError as exc:
        print(f"note: {exc.args[0]}", file=sys.stderr)
    if not interactive:
        return secrets
    needed = _ssh_secrets_needed(profile, secrets) if profile.transport is Transport.SSH else []
    needed += [SecretKind.DB_PASSWORD, SecretKind.LITELLM_MASTER_KEY]
    for kind in needed:
        if kind not in secrets:
            value = getpass.getpass(f"{kind.label} for {profile.name} (empty: skip): ")
            if value:
                secrets[kind] = value
    return secrets


def cmd_stacks_test(args: argparse.Namespace) -> int:
    """`stacks test NAME`: one line per layer, each OK, FAILED with that layer's error, or
    skipped; exit 0 when no layer failed, 2 otherwise."""
    from .ops.stack_check import LayerResult, Outcome, all_ok, check_stack
    from .remote.errors import HostKeyUnknown
    from .remote.host_keys import HostKeyStore

    profile = _find(_profile_store(), args.name)
    interactive = sys.stdin.isatty()
    confirm = _host_key_confirm(args.accept_host_key, interactive)
    secrets = _secrets_for_test(profile, interactive)

    def show(result: LayerResult) -> None:
        detail = result.detail
        if isinstance(result.error, HostKeyUnknown):
            detail += f" To trust it: --accept-host-key {result.error.fingerprint}"
        print(f"{result.layer.value:<13} {result.outcome.value:<7} {detail}", flush=True)

    def show_status(status: str, reason: str | None) -> None:
        print(f"{'session':<13} {status}{f' ({reason})' if reason else ''}", flush=True)

    results = check_stack(
        profile,
        secrets,
        host_keys=HostKeyStore(),
        confirm=confirm,
        on_result=show,
        on_status=show_status,
    )
    failed = [r.layer.value for r in results if r.outcome is Outcome.FAILED]
    if failed:
        print(f"{profile.name}: failed at {', '.join(failed)}", file=sys.stderr)
    return EXIT_OK if all_ok(results) else EXIT_USAGE


def cmd_doctor(args: argparse.Namespace) -> int:
    """`doctor`: the keyring self-check and the stacks file; 0 when both are fine, else 1."""
    from .remote.errors import RemoteError
    from .remote.keyring_secrets import keyring_status

    status = keyring_status()
    print(f"keyring: {'ok' if status.secure else 'NOT SAFE'}: {status.message}")
    store = _profile_store()
    try:
        count = len(store.load())
    except RemoteError as exc:
        print(f"stacks file: PROBLEM: {exc.args[0]}")
        return EXIT_FINDINGS
    print(f"stacks file: ok: {store.path} ({count} stack(s))")
    return EXIT_OK if status.secure else EXIT_FINDINGS


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="llmproxy-desktop",
        description="Admin for self-hosted LiteLLM gateways. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # The GUI's smoke-test option; declared here so "--quit-after-ms 100" is not read as a command.
    parser.add_argument("--quit-after-ms", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--stack", metavar="NAME", help="the stack the stack commands (status ... init) act on"
    )
    parser.add_argument(
        "--json", action="store_true", help="stack commands: print one JSON object on stdout"
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    validate = commands.add_parser("validate", help="check a LiteLLM config.yaml")
    validate.add_argument("path")
    validate.set_defaults(run=cmd_validate)
    importer = commands.add_parser("import", help="preview the first-boot import of a config")
    importer.add_argument("--dry-run", action="store_true", help="print, write nothing")
    importer.add_argument("path")
    importer.set_defaults(run=cmd_import)
    _add_stacks_commands(commands)
    from .cli_deploy import add_init_command  # `stack init DIR`

    add_init_command(commands)
    doctor = commands.add_parser("doctor", help="check the keyring and the stacks file")
    doctor.set_defaults(run=cmd_doctor)
    from .self_check_cli import add_commands as add_self_check_command

    add_self_check_command(commands)
    from .cli_stack import add_stack_commands  # here: cli_stack imports this module's helpers

    add_stack_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `llmproxy-desktop` console script. Called as the console script
    (`argv` None), it also sends the process's logging to the log file (app_logging); tests
    that call it with arguments leave their process's logging alone."""
    if argv is None:
        from .app_logging import configure_logging

        configure_logging()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args, rest = build_parser().parse_known_args(args_list)
        if args.command is None:
            from .ui.app import run_gui  # Qt only when a window is wanted

            if args.quit_after_ms is not None:
                rest = [f"--quit-after-ms={args.quit_after_ms}", *rest]
            return run_gui(rest)
        if rest:
            raise CliError(f"unrecognised arguments: {' '.join(rest)}")
        code: int = args.run(args)
        return code
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except RemoteError as exc:  # "[layer] what went wrong", e.g. a corrupt stacks file
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last line of defence: one sentence, never a traceback
        print(f"error: unexpected {type(exc).__name__}; please report this.", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
