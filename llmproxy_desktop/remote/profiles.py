"""Stack profiles: where a stack lives and how to reach it. Plain values, validated on
construction; no secrets (those live in the OS keyring, see `keyring_secrets`).

Precedence with an ssh_config alias: a field set in the profile wins over the alias, the alias
wins over the default. This is what `ssh -p 2222 alias` does (the command line beats the config)
and it lets an admin override one detail of a shared ~/.ssh/config entry without copying the
rest. Fields that an alias may supply (host, port, user, auth, key file, jump host) are
therefore optional in the profile: None means "from the alias, else the default".

`to_ssh_target` turns a profile and the secrets the caller has (from the keyring or a prompt)
into the `SshTarget` that `ssh_session` dials; persistence is in `profiles_store`.
"""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from .errors import Layer, RemoteError
from .ssh_config import ResolvedHost, SshConfigFile
from .ssh_target import AuthMethod, SshAuth, SshTarget

DEFAULT_SSH_PORT = 22
# Matches SshTarget's default; pgAdmin and DBeaver use 15-30 s. 0 turns keepalive off.
DEFAULT_KEEPALIVE_SECONDS = 15
MAX_KEEPALIVE_SECONDS = 3600
DEFAULT_POSTGRES_PORT = 5432
DEFAULT_SOCKET_PROXY_PORT = 2375
DEFAULT_LITELLM_PORT = 4000
# container_name of the LiteLLM service in the repository's docker-compose.yml.
DEFAULT_LITELLM_CONTAINER = "litellm-proxy"
# POSTGRES_DB in docker-compose.yml and POSTGRES_USER in .env.example.
DEFAULT_DB_NAME = "litellm"
DEFAULT_DB_USER = "llmproxy"
# Where docker-compose.yml mounts the config directory from, relative to the compose directory.
CONFIG_PATH_IN_COMPOSE_DIR = PurePosixPath("config/config.yaml")
MAX_NAME_LENGTH = 64

_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Postgres identifiers are at most 63 bytes; the characters are limited to those that need no
# quoting in a connection URL, which is where these names end up.
_DB_IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,62}$")


class Transport(StrEnum):
    SSH = "ssh"  # the stack runs on a server reached over SSH; its ports are tunnelled
    LOCAL = "local"  # the stack runs on this machine; its ports are reached directly


class SecretKind(StrEnum):
    """The secrets a stack can have. Each is stored in the keyring under its own name, only when
    the admin opts in; the key passphrase and the password are separate so switching the auth
    method never sends one as the other."""

    # The values are names of kinds, never secrets (hence the S105 waivers).
    SSH_KEY_PASSPHRASE = "ssh-key-passphrase"  # noqa: S105
    SSH_PASSWORD = "ssh-password"  # noqa: S105
    JUMP_KEY_PASSPHRASE = "jump-key-passphrase"  # noqa: S105
    JUMP_PASSWORD = "jump-password"  # noqa: S105
    DB_PASSWORD = "db-password"  # noqa: S105
    LITELLM_MASTER_KEY = "litellm-master-key"
    VAULT_PASSPHRASE = "vault-passphrase"  # noqa: S105

    @property
    def label(self) -> str:
        """How prompts and messages name this secret."""
        return _SECRET_LABELS[self]


_SECRET_LABELS = {
    SecretKind.SSH_KEY_PASSPHRASE: "SSH key passphrase",
    SecretKind.SSH_PASSWORD: "SSH password",
    SecretKind.JUMP_KEY_PASSPHRASE: "jump host key passphrase",
    SecretKind.JUMP_PASSWORD: "jump host password",
    SecretKind.DB_PASSWORD: "database password",
    SecretKind.LITELLM_MASTER_KEY: "LiteLLM master key",
    SecretKind.VAULT_PASSPHRASE: "vault passphrase",
}


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: `field` is the dataclass field name, so a form can mark it."""

    field: str
    message: str


class ProfileError(RemoteError):
    """A profile that cannot be used as it is. All problems are listed in one line."""

    layer = Layer.PROFILE

    def __init__(self, message: str, problems: tuple[FieldProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class JumpHost:
    """The one hop in front of the stack's server (a bastion). `user` None means the local login
    name, as OpenSSH does for `-J host`."""

    host: str
    port: int = DEFAULT_SSH_PORT
    user: str | None = None
    auth: AuthMethod = AuthMethod.AGENT
    key_file: Path | None = None

    def __post_init__(self) -> None:
        problems = list(_jump_problems(self))
        if problems:
            raise _error("jump host", problems)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{user}{host}:{self.port}"


@dataclass(frozen=True)
class StackProfile:
    """Everything non-secret about one stack. `name` is the display name and the key: unique
    (ignoring case) among the admin's stacks. Remote paths are POSIX paths on the server."""

    name: str
    compose_dir: str
    transport: Transport = Transport.SSH
    host: str | None = None
    port: int | None = None  # None: the alias's Port, else 22
    user: str | None = None  # None: the alias's User, else the local login name
    auth: AuthMethod | None = None  # None: key-file if the alias names an IdentityFile, else agent
    key_file: Path | None = None  # None: the alias's first existing IdentityFile
    ssh_config_alias: str | None = None
    jump: JumpHost | None = None  # None: the alias's ProxyJump, if any
    keepalive_seconds: int = DEFAULT_KEEPALIVE_SECONDS
    config_path: str | None = None  # None: <compose_dir>/config/config.yaml
    postgres_port: int = DEFAULT_POSTGRES_PORT
    socket_proxy_port: int = DEFAULT_SOCKET_PROXY_PORT
    litellm_port: int = DEFAULT_LITELLM_PORT
    litellm_container: str = DEFAULT_LITELLM_CONTAINER
    db_name: str = DEFAULT_DB_NAME
    db_user: str = DEFAULT_DB_USER

    def __post_init__(self) -> None:
        problems = list(_profile_problems(self))
        if problems:
            shown = f"stack {self.name!r}" if isinstance(self.name, str) else "the stack"
            raise _error(shown, problems)

    @property
    def effective_config_path(self) -> str:
        """Where LiteLLM's config.yaml lives: the explicit path, else the compose layout's."""
        if self.config_path is not None:
            return self.config_path
        if self.transport is Transport.LOCAL:
            return str(Path(self.compose_dir) / CONFIG_PATH_IN_COMPOSE_DIR)
        return str(PurePosixPath(self.compose_dir) / CONFIG_PATH_IN_COMPOSE_DIR)

    def target_label(self) -> str:
        """Where the stack is, for lists: `user@host:port`, the alias, and the jump host."""
        if self.transport is Transport.LOCAL:
            return "this machine"
        host = self.host or self.ssh_config_alias or "?"
        shown = f"[{host}]" if ":" in host else host
        label = f"{self.user + '@' if self.user else ''}{shown}"
        if self.port is not None:
            label += f":{self.port}"
        if self.host is None and self.ssh_config_alias:
            label += " (ssh config)"
        elif self.ssh_config_alias:
            label += f" (ssh config {self.ssh_config_alias})"
        if self.jump is not None:
            label += f" via {self.jump}"
        return label

    def auth_label(self) -> str:
        """The auth method for lists; unset with an alias means the alias decides."""
        if self.transport is Transport.LOCAL:
            return "-"
        if self.auth is None:
            return "from ssh config" if self.ssh_config_alias else AuthMethod.AGENT.value
        return self.auth.value

    def secret_kinds(self) -> tuple[SecretKind, ...]:
        """The secrets this profile can use, in prompt order. A key passphrase is offered for an
        alias without an explicit method, since the alias may name a key file."""
        kinds: list[SecretKind] = []
        if self.transport is Transport.SSH:
            if self.auth is AuthMethod.PASSWORD:
                kinds.append(SecretKind.SSH_PASSWORD)
            elif self.auth is AuthMethod.KEY_FILE or (self.auth is None and self.ssh_config_alias):
                kinds.append(SecretKind.SSH_KEY_PASSPHRASE)
            if self.jump is not None and self.jump.auth is AuthMethod.PASSWORD:
                kinds.append(SecretKind.JUMP_PASSWORD)
            elif self.jump is not None and self.jump.auth is AuthMethod.KEY_FILE:
                kinds.append(SecretKind.JUMP_KEY_PASSPHRASE)
        return (
            *kinds,
            SecretKind.DB_PASSWORD,
            SecretKind.LITELLM_MASTER_KEY,
            SecretKind.VAULT_PASSPHRASE,
        )


def to_ssh_target(
    profile: StackProfile,
    secrets: Mapping[SecretKind, str],
    *,
    ssh_config_path: Path | None = None,
    local_user: str | None = None,
) -> SshTarget:
    """The SSH hop chain for `profile`, with the secrets the caller supplies (missing ones are
    None: agent and unencrypted keys need none).

    With an alias, `ssh_config_path` (default ~/.ssh/config) is read now, so edits to it apply
    to the next connection. Explicit profile fields win over the alias; the alias's ProxyJump
    hops are resolved through the same config and checked under their own names. Raises
    ProfileError (or SshConfigError) for a local stack or a profile the config cannot complete.
    """
    if profile.transport is Transport.LOCAL:
        raise ProfileError(f"{profile.name!r} is a local stack: it is reached without SSH")
    login = local_user or _local_login()
    resolved: ResolvedHost | None = None
    if profile.ssh_config_alias:
        config = SshConfigFile.load(ssh_config_path)
        resolved = config.resolve(profile.ssh_config_alias)

    host = profile.host or (resolved.hostname if resolved else None)
    if host is None:  # unreachable: validation demands host or alias
        raise ProfileError(f"{profile.name!r} names no SSH host")
    port = _first_set(profile.port, resolved.port if resolved else None, DEFAULT_SSH_PORT)
    user = profile.user or (resolved.user if resolved else None) or login
    auth = _target_auth(profile, resolved, secrets)

    if profile.jump is not None:  # explicit beats the alias's ProxyJump
        jump: SshTarget | None = _explicit_jump(profile, secrets, login)
    elif resolved is not None and resolved.jump is not None:
        jump = _config_hop(resolved.jump, profile, auth, secrets, login)
    else:
        jump = None
    return SshTarget(
        host=host,
        port=port,
        user=user,
        auth=auth,
        jump=jump,
        keepalive_seconds=profile.keepalive_seconds,
    )


def _local_login() -> str:
    """The local login name, which OpenSSH uses when neither profile nor config names a user."""
    try:
        return getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (KeyError or OSError by version)
        raise ProfileError(
            "no SSH user is set and the local login name is unknown; set the user",
            (FieldProblem("user", "needed: the local login name is unknown"),),
        ) from None


def _first_set(*values: int | None) -> int:
    for value in values:
        if value is not None:
            return value
    raise AssertionError("the last value is a default and never None")


def _target_auth(
    profile: StackProfile, resolved: ResolvedHost | None, secrets: Mapping[SecretKind, str]
) -> SshAuth:
    config_files = resolved.identity_files if resolved else ()
    method = profile.auth or (AuthMethod.KEY_FILE if config_files else AuthMethod.AGENT)
    if method is AuthMethod.AGENT:
        return SshAuth(AuthMethod.AGENT)
    if method is AuthMethod.PASSWORD:
        return SshAuth(AuthMethod.PASSWORD, secret=secrets.get(SecretKind.SSH_PASSWORD))
    key_file = _expand(profile.key_file) if profile.key_file else _pick_identity(config_files)
    if key_file is None:
        raise ProfileError(
            f"{profile.name!r} uses key-file auth but names no key file, and its ssh config "
            "alias has no IdentityFile",
            (FieldProblem("key_file", "a key file is needed for key-file auth"),),
        )
    return SshAuth(
        AuthMethod.KEY_FILE, key_file=key_file, secret=secrets.get(SecretKind.SSH_KEY_PASSPHRASE)
    )


def _explicit_jump(
    profile: StackProfile, secrets: Mapping[SecretKind, str], login: str
) -> SshTarget:
    jump = profile.jump
    assert jump is not None
    if jump.auth is AuthMethod.PASSWORD:
        auth = SshAuth(AuthMethod.PASSWORD, secret=secrets.get(SecretKind.JUMP_PASSWORD))
    elif jump.auth is AuthMethod.KEY_FILE:
        assert jump.key_file is not None  # validation guarantees it
        auth = SshAuth(
            AuthMethod.KEY_FILE,
            key_file=_expand(jump.key_file),
            secret=secrets.get(SecretKind.JUMP_KEY_PASSPHRASE),
        )
    else:
        auth = SshAuth(AuthMethod.AGENT)
    return SshTarget(
        host=jump.host,
        port=jump.port,
        user=jump.user or login,
        auth=auth,
        keepalive_seconds=profile.keepalive_seconds,
    )


def _config_hop(
    hop: ResolvedHost,
    profile: StackProfile,
    target_auth: SshAuth,
    secrets: Mapping[SecretKind, str],
    login: str,
) -> SshTarget:
    """A ProxyJump hop from the ssh config: its IdentityFile if it names one, else the agent
    (ssh_config cannot ask for a password). A hop that uses the target's own key file gets the
    target's passphrase when no jump passphrase is stored: it is the same key."""
    key_file = _pick_identity(hop.identity_files)
    if key_file is None:
        auth = SshAuth(AuthMethod.AGENT)
    else:
        passphrase = secrets.get(SecretKind.JUMP_KEY_PASSPHRASE)
        if passphrase is None and key_file == target_auth.key_file:
            passphrase = target_auth.secret
        auth = SshAuth(AuthMethod.KEY_FILE, key_file=key_file, secret=passphrase)
    return SshTarget(
        host=hop.hostname,
        port=hop.port if hop.port is not None else DEFAULT_SSH_PORT,
        user=hop.user or login,
        auth=auth,
        jump=_config_hop(hop.jump, profile, target_auth, secrets, login) if hop.jump else None,
        keepalive_seconds=profile.keepalive_seconds,
    )


def _pick_identity(files: tuple[Path, ...]) -> Path | None:
    """OpenSSH tries every IdentityFile; one key per hop is what SshAuth holds, so take the
    first that exists (or the first, so the connect error names it)."""
    for candidate in files:
        if candidate.is_file():
            return candidate
    return files[0] if files else None


def _expand(path: Path) -> Path:
    return Path(os.path.expanduser(path))


# --- validation -------------------------------------------------------------------------------


def _error(what: str, problems: list[FieldProblem]) -> ProfileError:
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
    return ProfileError(f"{what} is not valid: {summary}", tuple(problems))


def _is_port(value: object) -> bool:
    return type(value) is int and 1 <= value <= 65535


def _text_problem(value: object, what: str, *, max_length: int = 255) -> str | None:
    """Why `value` is not a usable single-line token (host, user, alias), or None."""
    if not isinstance(value, str) or not value:
        return f"{what} must not be empty"
    if len(value) > max_length:
        return f"{what} is longer than {max_length} characters"
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in value):
        return f"{what} must not contain spaces or control characters"
    if value.startswith("-"):
        # Never let a value be read as an option by any tool it may be handed to.
        return f"{what} must not start with '-'"
    return None


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return "the name must not be empty"
    if name != name.strip():
        return "the name must not start or end with spaces"
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is longer than {MAX_NAME_LENGTH} characters"
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        return "the name must not contain control characters"
    return None


def _key_file_problem(path: object) -> str | None:
    if not isinstance(path, Path):
        return "must be a path"
    if not Path(os.path.expanduser(path)).is_absolute():
        return f"{str(path)!r} must be an absolute path (or start with ~/)"
    return None


def _remote_path_problem(value: object, local: bool) -> str | None:
    if not isinstance(value, str) or not value:
        return "must not be empty"
    if "\x00" in value or "\n" in value or "\r" in value:
        return "must not contain control characters"
    absolute = os.path.isabs(value) if local else value.startswith("/")
    if not absolute:
        where = "on this machine" if local else "on the server (start with /)"
        return f"{value!r} must be an absolute path {where}"
    if ".." in value.replace("\\", "/").split("/"):
        return f"{value!r} must not contain '..'"
    return None


def _port_problems(owner: object, names: tuple[str, ...]) -> list[FieldProblem]:
    return [
        FieldProblem(name, f"must be a port from 1 to 65535, not {getattr(owner, name)!r}")
        for name in names
        if not _is_port(getattr(owner, name))
    ]


def _jump_problems(jump: JumpHost) -> list[FieldProblem]:
    problems = []
    if (why := _text_problem(jump.host, "the jump host")) is not None:
        problems.append(FieldProblem("jump.host", why))
    if not _is_port(jump.port):
        problems.append(FieldProblem("jump.port", f"must be from 1 to 65535, not {jump.port!r}"))
    if jump.user is not None and (why := _text_problem(jump.user, "the jump user")) is not None:
        problems.append(FieldProblem("jump.user", why))
    if not isinstance(jump.auth, AuthMethod):
        problems.append(FieldProblem("jump.auth", "must be agent, key-file or password"))
    if jump.key_file is not None and (why := _key_file_problem(jump.key_file)) is not None:
        problems.append(FieldProblem("jump.key_file", why))
    if jump.auth is AuthMethod.KEY_FILE and jump.key_file is None:
        problems.append(FieldProblem("jump.key_file", "a key file is needed for key-file auth"))
    return problems


def _profile_problems(p: StackProfile) -> list[FieldProblem]:
    problems: list[FieldProblem] = []

    def check(name: str, why: str | None) -> None:
        if why is not None:
            problems.append(FieldProblem(name, why))

    check("name", _name_problem(p.name))
    if not isinstance(p.transport, Transport):
        check("transport", "must be ssh or local")
    local = p.transport is Transport.LOCAL
    if local:
        # A local stack has no SSH: leftover SSH fields would suggest otherwise.
        ssh_fields = ("host", "port", "user", "auth", "key_file", "ssh_config_alias", "jump")
        for name in ssh_fields:
            if getattr(p, name) is not None:
                check(name, "a local stack does not use SSH; leave it unset")
    else:
        if p.host is None and p.ssh_config_alias is None:
            check("host", "an SSH stack needs a host or an ssh config alias")
        if p.host is not None:
            check("host", _text_problem(p.host, "the host"))
        if p.ssh_config_alias is not None:
            check("ssh_config_alias", _text_problem(p.ssh_config_alias, "the alias"))
            if isinstance(p.ssh_config_alias, str) and any(c in p.ssh_config_alias for c in "*?!"):
                check("ssh_config_alias", "must be a host name, not a pattern")
        if p.port is not None and not _is_port(p.port):
            check("port", f"must be a port from 1 to 65535, not {p.port!r}")
        if p.user is not None:
            check("user", _text_problem(p.user, "the user"))
        if p.auth is not None and not isinstance(p.auth, AuthMethod):
            check("auth", "must be agent, key-file or password")
        if p.key_file is not None:
            check("key_file", _key_file_problem(p.key_file))
        if p.auth is AuthMethod.KEY_FILE and p.key_file is None and p.ssh_config_alias is None:
            check("key_file", "a key file is needed for key-file auth")
        if p.jump is not None and not isinstance(p.jump, JumpHost):
            check("jump", "must be a jump host")
    if type(p.keepalive_seconds) is not int or not (
        0 <= p.keepalive_seconds <= MAX_KEEPALIVE_SECONDS
    ):
        check(
            "keepalive_seconds",
            f"must be 0 (off) to {MAX_KEEPALIVE_SECONDS} seconds, not {p.keepalive_seconds!r}",
        )
    check("compose_dir", _remote_path_problem(p.compose_dir, local))
    if p.config_path is not None:
        why = _remote_path_problem(p.config_path, local)
        if why is None and p.config_path.endswith(("/", "\\")):
            why = "must name a file, not a directory"
        check("config_path", why)
    problems += _port_problems(p, ("postgres_port", "socket_proxy_port", "litellm_port"))
    if not isinstance(p.litellm_container, str) or not _CONTAINER_NAME.match(p.litellm_container):
        check(
            "litellm_container",
            f"{p.litellm_container!r} is not a Docker container name "
            "(letters, digits, '_', '.', '-'; starting with a letter or digit)",
        )
    for name, what in (("db_name", "database name"), ("db_user", "database user")):
        value = getattr(p, name)
        if not isinstance(value, str) or not _DB_IDENTIFIER.match(value):
            check(
                name,
                f"{value!r} is not a usable {what} (up to 63 letters, digits, '_', '.', '$', '-')",
            )
    return problems
