"""Test doubles and sample data for the Models page and the model sheet tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKey, ItemKind, Secret
from llmproxy_desktop.store.errors import StoreError
from llmproxy_desktop.ui.staging import Done

# A secret value that must never appear in any cell, tooltip or field of the UI.
SECRET_VALUE = "sk-live-THIS-MUST-NEVER-SHOW-0123456789"


@dataclass
class FakeEditor:
    """Test double of the stack controller's staging API (ui/staging.py `StagingEditor`): records
    every call and answers `done` at once: None, or, while `fail_with` is set, that error's
    sentence instead of recording (as the controller reports a refused job)."""

    staged: list[tuple[Item, int]] = field(default_factory=list)
    deleted: list[tuple[ItemKey, int]] = field(default_factory=list)
    discarded: list[ItemKey] = field(default_factory=list)
    fail_with: StoreError | None = None

    def stage(self, changes: Sequence[tuple[Item, int]], done: Done) -> None:
        self._answer(done, lambda: self.staged.extend(changes))

    def delete(self, keys: Sequence[tuple[ItemKey, int]], done: Done) -> None:
        self._answer(done, lambda: self.deleted.extend(keys))

    def discard(self, keys: Sequence[ItemKey], done: Done) -> None:
        self._answer(done, lambda: self.discarded.extend(keys))

    def _answer(self, done: Done, record: Callable[[], None]) -> None:
        if self.fail_with is not None:
            done(str(self.fail_with))
            return
        record()
        done(None)


CREDENTIALS = ["anthropic-prod", "openai-prod"]


def model(
    name: str,
    group: str,
    model_value: str,
    *,
    flag: Flag | None = None,
    version: int = 1,
    **params: object,
) -> EffectiveItem:
    """An effective model item with `litellm_params` = model + `params`."""
    data = {"model_name": group, "litellm_params": {"model": model_value, **params}}
    return EffectiveItem(Item(ItemKind.MODEL, name, data), flag, version)


def sample_items() -> list[EffectiveItem]:
    """A small stack: applied, new, changed and deleted models, three ways to authenticate."""
    return [
        model("id-4", "gpt-4o", "openai/gpt-4o", api_key="os.environ/OPENAI_KEY"),
        model(
            "id-1",
            "claude",
            "anthropic/claude-haiku-4-5",
            flag=Flag.NEW,
            version=7,
            litellm_credential_name="anthropic-prod",
        ),
        model("id-2", "gpt-4o", "azure/gpt-4o-eu", flag=Flag.CHANGED, api_key=Secret(SECRET_VALUE)),
        model("id-3", "embed", "openai/text-embedding-3-small", flag=Flag.DELETED, version=3),
        model("id-5", "legacy", "openai/gpt-3.5-turbo", api_key=SECRET_VALUE),  # a literal
        *(
            EffectiveItem(Item(ItemKind.CREDENTIAL, name, {"credential_values": {}}))
            for name in CREDENTIALS
        ),
    ]
