"""The stack's `.env`: parse, fill in fresh secrets, merge with the template, render (issue #7 §2).

A `.env` is read line by line and rendered back byte for byte, except for the lines whose value
changes, so the template's comments and order survive every `stack init`. Values are never logged
or returned in summaries, only the names of the variables.

Randomness comes in as a `token_hex`-shaped callable (`secrets.token_hex` in production), so
tests are deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "NEVER_ROTATE",
    "SECRET_KEYS",
    "EnvFile",
    "EnvLine",
    "MergeResult",
    "TokenHex",
    "backup_advice",
    "conflicting_secrets",
    "generate_secret",
    "is_placeholder",
    "merge_env",
]

TokenHex = Callable[[int], str]
"""`secrets.token_hex`: `n` random bytes as 2n hex digits."""

SECRET_BYTES = 32  # 256 bits each
"""Bytes of randomness per generated secret."""

SECRET_KEYS: tuple[str, ...] = (
    "LITELLM_MASTER_KEY",
    "LITELLM_SALT_KEY",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
)
"""The variables `stack init` generates. Hex only: the Postgres password is pasted into a URL."""

NEVER_ROTATE: frozenset[str] = frozenset({"LITELLM_SALT_KEY"})
"""Secrets that cannot be changed once data exists (LiteLLM's stored provider keys)."""

# LiteLLM requires its keys to start with "sk-".
_PREFIXES: Mapping[str, str] = {"LITELLM_MASTER_KEY": "sk-", "LITELLM_SALT_KEY": "sk-"}
_ASSIGNMENT = re.compile(
    r"^(?P<export>\s*export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=(?P<rest>.*)$"
)
_PLACEHOLDER = "change-me"


class LineKind(StrEnum):
    """What one line of a `.env` is."""

    BLANK = "blank"
    COMMENT = "comment"
    ASSIGNMENT = "assignment"
    OTHER = "other"  # kept as it is; compose would complain about it, we do not


@dataclass(frozen=True)
class EnvLine:
    """One line: its text as read (without the newline) and, for an assignment, key and value."""

    raw: str
    kind: LineKind
    key: str | None = None
    value: str | None = None

    @staticmethod
    def parse(raw: str) -> EnvLine:
        """Classify `raw`; the value of an assignment is unquoted and its inline comment cut."""
        stripped = raw.strip()
        if not stripped:
            return EnvLine(raw, LineKind.BLANK)
        if stripped.startswith("#"):
            return EnvLine(raw, LineKind.COMMENT)
        match = _ASSIGNMENT.match(raw)
        if match is None:
            return EnvLine(raw, LineKind.OTHER)
        return EnvLine(raw, LineKind.ASSIGNMENT, match["key"], _value(match["rest"]))

    @staticmethod
    def assignment(key: str, value: str) -> EnvLine:
        """A new `KEY=value` line (values we write are hex or plain words: never quoted)."""
        return EnvLine(f"{key}={value}", LineKind.ASSIGNMENT, key, value)


def _value(rest: str) -> str:
    text = rest.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    # Compose: in an unquoted value, " #" starts a comment.
    return re.split(r"\s+#", text, maxsplit=1)[0].strip()


@dataclass(frozen=True)
class EnvFile:
    """A parsed `.env`, in file order."""

    lines: tuple[EnvLine, ...]
    trailing_newline: bool = True

    @staticmethod
    def parse(text: str) -> EnvFile:
        """Parse `text` (any newline style; rendered back with "\\n")."""
        rows = text.splitlines()
        return EnvFile(
            tuple(EnvLine.parse(row) for row in rows),
            trailing_newline=text.endswith(("\n", "\r")) or not text,
        )

    def render(self) -> str:
        """The file's text."""
        text = "\n".join(line.raw for line in self.lines)
        return text + "\n" if self.trailing_newline and self.lines else text

    def values(self) -> dict[str, str]:
        """Each key's value (the last assignment wins, as in compose)."""
        return {
            line.key: line.value or ""
            for line in self.lines
            if line.kind is LineKind.ASSIGNMENT and line.key is not None
        }

    def keys(self) -> tuple[str, ...]:
        """The assigned keys in file order, each once."""
        return tuple(dict.fromkeys(self.values()))

    def with_value(self, key: str, value: str) -> EnvFile:
        """This file with every assignment of `key` set to `value` (appended when absent)."""
        if key not in self.values():
            return EnvFile((*self.lines, EnvLine.assignment(key, value)), self.trailing_newline)
        lines = tuple(
            EnvLine.assignment(key, value) if line.key == key else line for line in self.lines
        )
        return EnvFile(lines, self.trailing_newline)


def is_placeholder(value: str | None) -> bool:
    """True when `value` is not a real setting: missing, empty, or a template's "change-me"."""
    return value is None or not value.strip() or _PLACEHOLDER in value.lower()


def generate_secret(key: str, token_hex: TokenHex) -> str:
    """A fresh value for `key`: 256 random bits as hex, with the prefix LiteLLM wants."""
    return _PREFIXES.get(key, "") + token_hex(SECRET_BYTES)


@dataclass(frozen=True)
class MergeResult:
    """The merged `.env` and what happened to each secret (names only, never values)."""

    text: str
    generated: tuple[str, ...]  # secrets that were missing or placeholders
    replaced: tuple[str, ...]  # real secrets replaced because `overwrite` said so
    kept: tuple[str, ...]  # real secrets left as they were
    added: tuple[str, ...]  # non-secret keys copied from the template with its default

    @property
    def changed(self) -> bool:
        """True when the text differs from the existing file's."""
        return bool(self.generated or self.replaced or self.added)


def merge_env(
    template: str,
    existing: str | None,
    token_hex: TokenHex,
    overwrite: Callable[[str], bool] = lambda _key: False,
) -> MergeResult:
    """Fill a `.env`: start from `existing` (or the template when there is none), add the
    template's keys it lacks, and generate every secret that is missing or a placeholder.

    A real existing secret is replaced only when `overwrite(key)` returns True; `overwrite` is
    asked about nothing else. Existing non-secret values are never touched. Comments and order
    of the base file are kept."""
    base = EnvFile.parse(existing if existing is not None else template)
    defaults = EnvFile.parse(template).values()
    added: list[str] = []
    for key, value in defaults.items():
        if key not in base.values() and key not in SECRET_KEYS:
            base = base.with_value(key, value)
            added.append(key)
    generated: list[str] = []
    replaced: list[str] = []
    kept: list[str] = []
    for key in SECRET_KEYS:
        current = base.values().get(key)
        if is_placeholder(current):
            generated.append(key)
        elif overwrite(key):
            replaced.append(key)
        else:
            kept.append(key)
            continue
        base = base.with_value(key, generate_secret(key, token_hex))
    return MergeResult(base.render(), tuple(generated), tuple(replaced), tuple(kept), tuple(added))


def conflicting_secrets(local: str, remote: str) -> tuple[str, ...]:
    """The secrets that both files set to real, different values. Uploading `local` over
    `remote` would then lock LiteLLM out of its data (salt key, Postgres password) or the app out
    of LiteLLM: a deploy refuses, naming these keys."""
    mine, theirs = EnvFile.parse(local).values(), EnvFile.parse(remote).values()
    return tuple(
        key
        for key in SECRET_KEYS
        if not is_placeholder(theirs.get(key))
        and not is_placeholder(mine.get(key))
        and mine[key] != theirs[key]
    )


def backup_advice(generated: tuple[str, ...] = SECRET_KEYS) -> tuple[str, ...]:
    """What to back up and why, one sentence per line (for `stack init` and its sheet)."""
    advice = [
        "Back up this .env somewhere safe and offline (a password manager), never in git.",
    ]
    if "LITELLM_SALT_KEY" in generated:
        advice.append(
            "LITELLM_SALT_KEY encrypts the provider keys LiteLLM stores in Postgres: it can never "
            "be rotated away; without it those keys are lost, with it anyone holding a database "
            "dump can read them."
        )
    advice.append(
        "The vault passphrase you choose at the first import encrypts the credentials in the "
        "Master: it cannot be recovered, and data sealed under it is lost without it. Back it up "
        "with the .env."
    )
    rotatable = [key for key in generated if key in SECRET_KEYS and key not in NEVER_ROTATE]
    if rotatable:
        advice.append(
            f"{', '.join(rotatable)} can be rotated later (POSTGRES_PASSWORD also needs ALTER "
            "ROLE in the database), but the app needs the current LITELLM_MASTER_KEY and "
            "POSTGRES_PASSWORD: save them in the stack profile (OS keyring)."
        )
    return tuple(advice)
