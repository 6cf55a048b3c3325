"""Plain result objects the store hands out (never ORM rows): changes, revisions, audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..core.items import ItemKey
from .actor import Actor


def format_time(at: datetime) -> str:
    """A timestamp for messages: UTC, to the second, unambiguous across the admins' time zones."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class ItemChange:
    """The latest change to one item key: its current version token and who made it, when."""

    key: ItemKey
    version: int
    change: str  # a short phrase: "staged as changed", "discarded", "applied", ...
    at: datetime
    by: Actor

    def sentence(self) -> str:
        """E.g. "model:1f2e… was discarded by alice@laptop at 2026-11-27 10:00:00 UTC"."""
        return f"{self.key} was {self.change} by {self.by} at {format_time(self.at)}"


@dataclass(frozen=True)
class RevisionInfo:
    """One applied revision, without its (large) rendered file and snapshot."""

    id: int
    created_at: datetime
    created_by: Actor
    summary: str
    rendered_sha256: str
    item_count: int


@dataclass(frozen=True)
class Revision:
    """One applied revision with the rendered YAML (secrets redacted) and the real file's hash.

    The applied items it snapshots are read with `Master.revision_items`, which may need the
    unlocked vault.
    """

    info: RevisionInfo
    rendered_yaml_redacted: str


@dataclass(frozen=True)
class AuditEntry:
    """One admin action. `detail` is JSON-shaped and never holds a secret."""

    id: int
    at: datetime
    by: Actor
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class InitialisedMarker:
    """When, by whom and how the Master first received configuration."""

    at: datetime
    by: Actor
    via: str  # "import" or "apply"
