"""What a drift check found, as plain data: the UI shows it without loading the store's
database side (see drift.py for the check itself)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ..store.records import RevisionInfo

__all__ = ["DriftAction", "DriftReport", "DriftState"]


class DriftState(StrEnum):
    """What the remote config.yaml is, relative to the Master."""

    IN_SYNC = "in sync"
    FOLD_PENDING = "applied but not recorded"
    OLDER_REVISION = "an older revision"
    EDITED_BY_HAND = "edited by hand"
    UNKNOWN_FILE = "unknown file"


class DriftAction(StrEnum):
    """What the UI may offer for a report."""

    FINISH = "finish"  # record the revision the interrupted Apply did not record
    RERENDER = "re-render"  # a normal Apply of the current Master overwrites the file


_OFFERS: Final[Mapping[DriftState, tuple[DriftAction, ...]]] = {
    DriftState.IN_SYNC: (),
    DriftState.FOLD_PENDING: (DriftAction.FINISH, DriftAction.RERENDER),
    DriftState.OLDER_REVISION: (DriftAction.RERENDER,),
    DriftState.EDITED_BY_HAND: (DriftAction.RERENDER,),
    DriftState.UNKNOWN_FILE: (DriftAction.RERENDER,),
}


@dataclass(frozen=True)
class DriftReport:
    """The result of one drift check; plain data for the UI and the CLI.

    `last_revision` is the newest applied revision (None when there is none). `matched_revision`
    is the revision whose hash the file has (the last one when in sync, an older one for
    OLDER_REVISION), else None. `diff` is a unified diff with every secret shown as ***: last
    applied → file for EDITED_BY_HAND, last applied → matched for OLDER_REVISION, what a re-render
    would write → file for UNKNOWN_FILE; empty otherwise. `file_sha256` is None without a file.
    """

    state: DriftState
    location: str
    file_sha256: str | None
    last_revision: RevisionInfo | None
    matched_revision: RevisionInfo | None = None
    diff: str = ""
    staged_count: int = 0

    @property
    def offers(self) -> tuple[DriftAction, ...]:
        """The actions that resolve this state (none when in sync)."""
        return _OFFERS[self.state]

    def sentence(self) -> str:
        """One sentence for the status bar or the CLI."""
        last = self.last_revision
        match self.state:
            case DriftState.IN_SYNC:
                assert last is not None
                return f"{self.location} is in sync with revision {last.id}."
            case DriftState.FOLD_PENDING:
                return (
                    f"{self.location} holds what the Master renders now, but no revision records "
                    "it: an Apply replaced the file and did not finish. Finish it (record the "
                    "revision) or re-render; LiteLLM may still serve the previous file, so "
                    "restart it afterwards."
                )
            case DriftState.OLDER_REVISION:
                matched = self.matched_revision
                assert matched is not None and last is not None
                return (
                    f"{self.location} is revision {matched.id} of {matched.created_at:%Y-%m-%d}, "
                    f"not the last applied revision {last.id}: was a backup restored? Re-render "
                    f"to apply the Master, or restore revision {matched.id} from History."
                )
            case DriftState.EDITED_BY_HAND:
                # The diff compares parsed YAML, so an edit of comments or layout shows none.
                cosmetic = "" if self.diff else " Only comments or formatting differ."
                return (
                    f"{self.location} was edited outside the app since revision "
                    f"{last.id if last else '?'}; re-render to overwrite it with the Master."
                    + cosmetic
                )
            case DriftState.UNKNOWN_FILE:
                if self.file_sha256 is None:
                    return f"There is no {self.location}; re-render to write it from the Master."
                return (
                    f"{self.location} was never written by an Apply of this Master; re-render to "
                    "replace it with the Master's configuration."
                )
