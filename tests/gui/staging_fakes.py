"""A test double of the stack controller's staging API (ui/staging.py `StagingEditor`).

It records every call and answers `done` either at once (`answer`: None = success, or the
sentence a real failure would give) or later, when the test calls `finish_pending`, so tests can
look at a sheet while its edit is still "in flight". It does not model the Master's rules; tests
that need those (version conflicts, vault) run against the real Master elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from llmproxy_desktop.core.items import Item, ItemKey
from llmproxy_desktop.ui.staging import Done


@dataclass
class RecordingEditor:
    """Records stage/delete/discard calls; see the module docstring."""

    answer: str | None = None
    hold: bool = False  # True: keep `done` until finish_pending()
    staged: list[tuple[Item, int]] = field(default_factory=list)
    deleted: list[tuple[ItemKey, int]] = field(default_factory=list)
    discarded: list[ItemKey] = field(default_factory=list)
    pending: list[Done] = field(default_factory=list)

    def stage(self, changes: Sequence[tuple[Item, int]], done: Done) -> None:
        self.staged.extend(changes)
        self._answer(done)

    def delete(self, keys: Sequence[tuple[ItemKey, int]], done: Done) -> None:
        self.deleted.extend(keys)
        self._answer(done)

    def discard(self, keys: Sequence[ItemKey], done: Done) -> None:
        self.discarded.extend(keys)
        self._answer(done)

    def finish_pending(self, answer: str | None = None) -> None:
        pending, self.pending = self.pending, []
        for done in pending:
            done(answer)

    def _answer(self, done: Done) -> None:
        if self.hold:
            self.pending.append(done)
        else:
            done(self.answer)
