"""Everything the Master store refuses, as types with sentences for a human. No secrets inside.

The UI turns these into dialogs; the messages are written to be shown as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..core.items import ItemKey
from .actor import Actor
from .records import ItemChange, format_time

# How many conflicting items a message names before it summarises the rest.
_NAMED_IN_MESSAGE = 5


class StoreError(Exception):
    """Base class of every error raised by the Master store."""


@dataclass(frozen=True)
class Conflict:
    """One item whose version token is not the one the caller based its change on."""

    key: ItemKey
    expected_version: int  # 0 = the caller believed the item does not exist / is not staged
    current_version: int  # 0 = the item does not exist / is not staged now
    last_change: ItemChange | None  # who changed it last; None if nobody ever touched the key

    def sentence(self) -> str:
        """One sentence naming who changed the item and when."""
        if self.last_change is not None:
            return self.last_change.sentence()
        return f"{self.key} changed (no record of who changed it)"


class StagingConflict(StoreError):
    """Someone else staged, applied or discarded an item since the caller read it.

    Nothing was written. `conflicts` names every item concerned and who changed it last.
    """

    def __init__(
        self, conflicts: Sequence[Conflict], *, during: Literal["stage", "apply"] = "stage"
    ) -> None:
        self.conflicts = tuple(conflicts)
        self.during = during
        named = "; ".join(c.sentence() for c in self.conflicts[:_NAMED_IN_MESSAGE])
        more = len(self.conflicts) - _NAMED_IN_MESSAGE
        if more > 0:
            named += f"; and {more} more"
        if during == "apply":
            text = (
                f"The staged changes are not the ones you reviewed: {named}. Nothing was applied; "
                "review the staged changes again and apply them then."
            )
        else:
            text = (
                f"Someone changed this since you loaded it: {named}. Your edit was not saved; "
                "reload to see the current state and make the edit again."
            )
        super().__init__(text)


class UnknownItem(StoreError, LookupError):
    """A delete or discard named an item that exists neither applied nor staged."""

    def __init__(self, key: ItemKey) -> None:
        self.key = key
        super().__init__(f"There is no item {key} to delete: it is neither applied nor staged.")


class MasterNotEmpty(StoreError):
    """First-boot import refused: the Master already holds configuration."""

    def __init__(self, applied: int, staged: int) -> None:
        self.applied = applied
        self.staged = staged
        super().__init__(
            f"The Master already holds configuration ({applied} applied and {staged} staged "
            "items), so config.yaml was not imported. An import only seeds an empty Master; "
            "edit the existing items instead."
        )


class MasterWasInitialised(StoreError):
    """First-boot import refused: the Master had configuration before and is now empty."""

    def __init__(self, at: datetime, by: Actor, via: str) -> None:
        self.at = at
        self.by = by
        self.via = via
        super().__init__(
            f"The Master is empty, but it was initialised on {format_time(at)} by {by} "
            f"(via {via}). It was probably emptied by accident, so config.yaml was not imported "
            "over it. Restore the configuration from History instead."
        )


class ServedModelsMissing(StoreError):
    """First-boot import refused: LiteLLM serves model groups the imported file lacks."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = frozenset(missing)
        shown = sorted(self.missing)
        names = ", ".join(shown[:_NAMED_IN_MESSAGE])
        if len(shown) > _NAMED_IN_MESSAGE:
            names += f" and {len(shown) - _NAMED_IN_MESSAGE} more"
        super().__init__(
            f"LiteLLM currently serves model groups that the imported config.yaml does not "
            f"contain ({names}), so the file does not describe what is running. It was not "
            "imported: applying it would remove those models. Import the file LiteLLM really "
            "runs with, or restore the Master from a backup."
        )


class InvalidSchemaName(StoreError, ValueError):
    """The configured schema name is unusable for the Master."""

    def __init__(self, schema: str, reason: str) -> None:
        self.schema = schema
        super().__init__(f"The Master cannot use the database schema {schema!r}: {reason}.")


class SchemaTooNew(StoreError):
    """The Master schema was migrated by a newer (or unknown) version of the app."""

    def __init__(self, schema: str, found: Sequence[str], newest_known: str | None) -> None:
        self.schema = schema
        self.found = tuple(found)
        self.newest_known = newest_known
        super().__init__(
            f"The Master in schema {schema!r} is at revision {', '.join(self.found)}, which this "
            f"version of LLM-Proxy Desktop does not know (the newest it knows is {newest_known}). "
            "A newer version of the app probably upgraded it. Nothing was changed; update this "
            "app before using it with this database."
        )


class VaultLocked(StoreError):
    """Sealed secrets were read or secrets were to be written without an unlocked vault."""

    def __init__(self) -> None:
        super().__init__(
            "The credential vault is locked. Unlock it with the stack's vault passphrase to read "
            "or save items that hold secrets."
        )


class VaultNotInitialised(StoreError):
    """There is no vault in this Master yet."""

    def __init__(self) -> None:
        super().__init__(
            "This Master has no credential vault yet. Create one with a passphrase before "
            "storing secrets."
        )


class VaultAlreadyInitialised(StoreError):
    """A second vault was to be created over an existing one."""

    def __init__(self) -> None:
        super().__init__(
            "This Master already has a credential vault; it was not replaced. Unlock it with its "
            "passphrase, or change the passphrase instead."
        )


class VaultKeyMismatch(StoreError):
    """A sealed value and the unlocked vault belong to different data keys."""

    def __init__(self, sealed_with: object, unlocked: int) -> None:
        self.sealed_with = sealed_with
        self.unlocked = unlocked
        super().__init__(
            f"The credential vault's data key has changed: the stored secrets use key "
            f"{sealed_with}, but this session unlocked key {unlocked}. Another admin probably "
            "rotated the key; unlock the vault again."
        )


class ReservedKeyInData(StoreError, ValueError):
    """Item data uses the key the store reserves for sealed secrets."""

    def __init__(self, reserved: str) -> None:
        super().__init__(
            f"Item data may not contain the key {reserved!r}: the Master uses it to mark "
            "encrypted secrets. Rename the key."
        )


class UnstorableValue(StoreError, ValueError):
    """Item data holds something JSONB cannot store. The message names where, never the value
    (Postgres would otherwise quote the surrounding JSON, secrets included, in its error)."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        super().__init__(f"Cannot store the value at {where or 'the top'}: {reason}.")


class RevisionNotFound(StoreError, LookupError):
    """No revision with this id exists."""

    def __init__(self, revision_id: int) -> None:
        self.revision_id = revision_id
        super().__init__(f"There is no applied revision {revision_id} in the Master's history.")
