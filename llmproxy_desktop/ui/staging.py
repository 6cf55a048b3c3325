"""How pages stage edits without waiting on the network.

A page never talks to the Master itself: the Master sits behind an SSH tunnel, and the GUI thread
never waits on the network. A page hands its edits to a `StagingEditor` (the stack controller,
which runs them as jobs on the stack's worker) and hears back through `done`, called on the GUI
thread: None when the edit is staged, else one sentence for the page to show inline (a staging
conflict, a locked vault, a dropped connection). After a successful edit the controller also
pushes the new effective items to every page (`set_items`), so flags come from the store, never
from widget state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from llmproxy_desktop.core.items import Item, ItemKey

Done = Callable[[str | None], None]
"""Called once on the GUI thread: None on success, else the sentence that says what went wrong."""


class StagingEditor(Protocol):
    """What pages and sheets may ask of the stack: stage, delete, discard (all asynchronous)."""

    def stage(self, changes: Sequence[tuple[Item, int]], done: Done) -> None:
        """Stage new or changed items; each with the version it was read at (0 for new)."""
        ...

    def delete(self, keys: Sequence[tuple[ItemKey, int]], done: Done) -> None:
        """Stage deletions; each key with the version it was read at."""
        ...

    def discard(self, keys: Sequence[ItemKey], done: Done) -> None:
        """Throw away the staged change of each key (back to the applied item, or gone if new)."""
        ...


TestAnswer = Callable[[str | None, str], None]
"""`answer(error, text)` on the GUI thread: error None and the reply's summary, or the sentence."""


class ModelTester(Protocol):
    """The Models page's "Test": one short chat completion through the proxy (asynchronous)."""

    def test_model(self, model_group: str, answer: TestAnswer) -> None:
        """Send the test to `model_group` and answer once."""
        ...
