"""The admin's OpenSSH client config (`~/.ssh/config`), read the way `ssh` reads it, for the
fields a stack profile honours: HostName, User, Port, IdentityFile and ProxyJump.

paramiko.SSHConfig does the Host/Match evaluation; this module adds what paramiko leaves out
and what admins rely on most (desktop-conventions §1.1): `Include` (with globs, relative to the
config file's directory, as OpenSSH does for ~/.ssh/config) and ProxyJump hops that are
themselves aliases. `Match exec` blocks are never run (resolving an alias must not execute
commands); they count as not matching. Options we do not use are ignored rather than rejected,
so an unfamiliar option never breaks a connection. ProxyCommand is the exception: a connection
that silently skipped the admin's proxy would go somewhere else, so it is refused.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

import paramiko

from .errors import Layer, RemoteError

# OpenSSH's own limit on nested Include, which also stops include cycles.
_MAX_INCLUDE_DEPTH = 16
# A ProxyJump hop that names an alias whose own ProxyJump names ... ends here: deeper chains are
# cycles in practice (a → b → a).
_MAX_JUMP_DEPTH = 8
_INCLUDE_LINE = re.compile(r"^\s*include(?:\s*=\s*|\s+)(?P<value>.+?)\s*$", re.IGNORECASE)
_HOST_LINE = re.compile(r"^\s*host(?:\s*=\s*|\s+)(?P<patterns>.+?)\s*$", re.IGNORECASE)
_BLOCK_LINE = re.compile(r"^\s*(?:host|match)(?:\s*=\s*|\s+)", re.IGNORECASE)
_MATCH_LINE = re.compile(r"^\s*match(?:\s*=\s*|\s+)(?P<criteria>.+?)\s*$", re.IGNORECASE)
# Stands in for a block that must never apply (paramiko: a negated `*` matches no host).
_NEVER_MATCHING_BLOCK = "Host !*"
_PORT_TEXT = re.compile(r"^[0-9]{1,5}$")


class SshConfigError(RemoteError):
    """The ssh config cannot be read or does not say what the profile needs."""

    layer = Layer.PROFILE


@dataclass(frozen=True)
class JumpSpec:
    """One ProxyJump hop as written: `[user@]host[:port]`, `[user@][v6-address]:port` or
    `ssh://[user@]host[:port]`. Unset parts come from the ssh config, then from defaults."""

    host: str
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{user}{host}{port}"


@dataclass(frozen=True)
class ResolvedHost:
    """What the ssh config says about one name: the real host to dial, the user and port if the
    config sets them, its IdentityFiles in order, and the hop before it (already resolved)."""

    name: str  # the alias or host name as looked up
    hostname: str
    user: str | None
    port: int | None
    identity_files: tuple[Path, ...]
    jump: ResolvedHost | None


def default_ssh_config_path() -> Path:
    """The user's OpenSSH client config, `~/.ssh/config`."""
    return Path.home() / ".ssh" / "config"


def parse_port(text: str, what: str) -> int:
    """A TCP port from text, or SshConfigError naming `what` (e.g. "the jump host's port")."""
    if not _PORT_TEXT.match(text) or not 1 <= int(text) <= 65535:
        raise SshConfigError(f"{what} must be a number from 1 to 65535, not {text!r}")
    return int(text)


def parse_jump_spec(text: str) -> JumpSpec:
    """Parse one hop as OpenSSH's -J/ProxyJump accepts it. The user is everything before the
    LAST '@' (user names like `ann@corp` exist); an IPv6 address needs brackets to carry a
    port."""
    spec = text.strip()
    if spec.startswith("ssh://"):
        spec = spec[len("ssh://") :].rstrip("/")
    if not spec or any(c.isspace() for c in spec) or "," in spec:
        raise SshConfigError(f"{text!r} is not a jump host; expected user@host:port")
    user: str | None = None
    if "@" in spec:
        user, spec = spec.rsplit("@", 1)
        if not user:
            raise SshConfigError(f"{text!r} has an empty user before '@'")
    port: int | None = None
    if spec.startswith("["):
        host, bracket, rest = spec[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise SshConfigError(f"{text!r}: a bracketed address must look like [::1]:22")
        if rest:
            port = parse_port(rest[1:], f"the port in {text!r}")
    elif spec.count(":") == 1:
        host, _, port_text = spec.partition(":")
        port = parse_port(port_text, f"the port in {text!r}")
    else:
        host = spec  # a bare IPv6 address (several colons) has no port
    if not host or host.startswith("-"):
        raise SshConfigError(f"{text!r} has no host name")
    return JumpSpec(host=host, user=user, port=port)


def parse_proxy_jump(value: str) -> tuple[JumpSpec, ...]:
    """A ProxyJump value: comma-separated hops in the order they are dialled, or `none`."""
    if value.strip().lower() == "none":
        return ()
    return tuple(parse_jump_spec(part) for part in value.split(","))


class SshConfigFile:
    """One parsed ssh config (with its Includes expanded). Read it once per connection attempt:
    the admin may edit it between attempts, and it is small."""

    def __init__(self, config: paramiko.SSHConfig, path: Path, host_patterns: set[str]) -> None:
        self._config = config
        self.path = path
        self._host_patterns = host_patterns

    @classmethod
    def load(cls, path: Path | None = None) -> SshConfigFile:
        """Read and parse `path` (default `~/.ssh/config`). Raises SshConfigError when the file
        is missing, unreadable or has a line OpenSSH syntax cannot hold."""
        path = path or default_ssh_config_path()
        lines: list[str] = []
        _expand_includes(path, path.parent, 0, lines)
        try:
            config = paramiko.SSHConfig.from_text("\n".join(lines))
        except Exception as exc:  # ConfigParseError, or ValueError for bad quoting
            raise SshConfigError(f"{path}: cannot be parsed ({exc})") from None
        # Collected here rather than with SSHConfig.get_hostnames(), which fails on Match blocks.
        patterns: set[str] = set()
        for line in lines:
            host_line = _HOST_LINE.match(line)
            if host_line is not None:
                patterns.update(shlex.split(host_line.group("patterns")))
        return cls(config, path, patterns)

    def knows(self, alias: str) -> bool:
        """Whether a Host line names `alias` (a pattern other than the catch-all `*` counts), so
        a typo in a profile's alias is reported instead of being dialled as a host name."""
        for pattern in self._host_patterns:
            if pattern == "*" or pattern.startswith("!"):
                continue
            if fnmatch.fnmatch(alias, pattern):
                return True
        return False

    def resolve(self, alias: str) -> ResolvedHost:
        """Resolve a profile's alias: it must be named by a Host line. Its ProxyJump hops are
        resolved through this same config, as `ssh` does."""
        if not self.knows(alias):
            raise SshConfigError(f"{self.path} has no 'Host {alias}' entry")
        return self._resolve(JumpSpec(host=alias), depth=0, follow_jump=True)

    def _lookup(self, name: str) -> dict[str, object]:
        try:
            found: dict[str, object] = dict(self._config.lookup(name))
        except Exception as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise SshConfigError(
                f"{self.path}: cannot evaluate it for {name!r} ({type(exc).__name__}"
                f"{': ' + first_line if first_line else ''})"
            ) from None
        return found

    def _resolve(self, spec: JumpSpec, depth: int, *, follow_jump: bool) -> ResolvedHost:
        if depth > _MAX_JUMP_DEPTH:
            raise SshConfigError(
                f"{self.path}: the ProxyJump chain through {spec.host!r} is longer than "
                f"{_MAX_JUMP_DEPTH} hops; is there a cycle?"
            )
        options = self._lookup(spec.host)
        if isinstance(options.get("proxycommand"), str):
            raise SshConfigError(
                f"{self.path}: {spec.host!r} uses ProxyCommand, which the app cannot follow; "
                "use ProxyJump instead"
            )
        hostname = str(options.get("hostname") or spec.host)
        port_text = options.get("port")
        config_port = (
            parse_port(str(port_text), f"Port for {spec.host!r} in {self.path}")
            if port_text is not None
            else None
        )
        user_option = options.get("user")
        files = options.get("identityfile") or []
        identity_files = tuple(
            Path(os.path.expanduser(str(f))) for f in (files if isinstance(files, list) else [])
        )
        proxy_jump = options.get("proxyjump")
        try:
            hops = parse_proxy_jump(str(proxy_jump)) if follow_jump and proxy_jump else ()
        except SshConfigError as exc:
            raise SshConfigError(
                f"{self.path}: ProxyJump of {spec.host!r}: {exc.args[0]}"
            ) from None
        # ProxyJump a,b means: dial a, then b through a, then this host through b. Only the first
        # hop is dialled on its own, so only its own ProxyJump applies (as with `ssh -J a,b`).
        previous: ResolvedHost | None = None
        for index, hop in enumerate(hops):
            resolved = self._resolve(hop, depth + 1, follow_jump=index == 0)
            previous = resolved if previous is None else replace(resolved, jump=previous)
        return ResolvedHost(
            name=spec.host,
            hostname=hostname,
            # Explicit parts of a hop (user@host:port) win over its config, as on the command line.
            user=spec.user or (str(user_option) if user_option else None),
            port=spec.port if spec.port is not None else config_port,
            identity_files=identity_files,
            jump=previous,
        )


def _expand_includes(path: Path, base: Path, depth: int, out: list[str]) -> None:
    """Append `path`'s lines to `out` with every Include replaced by the included files.

    After an Include the enclosing Host/Match line is repeated (or `Host *` at top level), so
    lines that follow the Include in the outer file stay in the outer block: an included file
    that opens its own Host blocks must not capture them.
    """
    if depth > _MAX_INCLUDE_DEPTH:
        raise SshConfigError(f"{path}: Include nested deeper than {_MAX_INCLUDE_DEPTH} levels")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise SshConfigError(f"{path}: no such ssh config file") from None
    except OSError as exc:
        raise SshConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    current_block = "Host *"
    for line in text.splitlines():
        include = _INCLUDE_LINE.match(line)
        if include is None:
            if _BLOCK_LINE.match(line):
                line = _without_match_exec(line)
                current_block = line
            out.append(line)
            continue
        try:
            patterns = shlex.split(include.group("value"))
        except ValueError:
            raise SshConfigError(f"{path}: cannot parse {line.strip()!r}") from None
        for pattern in patterns:
            expanded = Path(os.path.expanduser(pattern))
            full = expanded if expanded.is_absolute() else base / expanded
            # Like OpenSSH: a pattern that matches nothing is not an error.
            for included in sorted(glob.glob(str(full))):
                _expand_includes(Path(included), base, depth + 1, out)
        out.append(current_block)


def _without_match_exec(line: str) -> str:
    """A `Match exec ...` block, never run: resolving an alias must not execute the admin's
    shell commands from a GUI worker. Such a block is treated as not matching."""
    match = _MATCH_LINE.match(line)
    if match is None:
        return line
    try:
        criteria = shlex.split(match.group("criteria"))
    except ValueError:
        return line  # paramiko reports the bad quoting with the file's name
    if any(word.lower() in ("exec", "!exec") for word in criteria):
        return _NEVER_MATCHING_BLOCK
    return line
