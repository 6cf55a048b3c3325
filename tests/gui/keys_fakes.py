"""A DOUBLE of the Virtual Keys page's `KeysService`, for GUI tests.

It does no work: every call is recorded with its callbacks, and the test answers it when it
chooses (`answer(...)` / `fail(...)`), synchronously on the GUI thread, exactly as the window's
job runner delivers answers. This lets a test order answers (e.g. a slow, stale search answer
after a newer one) without sleeping. It does not model LiteLLM's rules: those are tested in
tests/keys against the /key/* double.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmproxy_desktop.core.virtual_keys import CreatedKey, KeyPage, KeySpec, VirtualKey


@dataclass
class Call:
    """One request the page made: the method, its arguments, and how to answer it."""

    method: str
    args: tuple[Any, ...]
    done: Callable[[Any], None]
    failed: Callable[[str], None]
    answered: bool = False

    def answer(self, result: Any = None) -> None:
        assert not self.answered, f"{self.method} answered twice"
        self.answered = True
        self.done(result)

    def fail(self, sentence: str) -> None:
        assert not self.answered, f"{self.method} answered twice"
        self.answered = True
        self.failed(sentence)


@dataclass
class RecordingKeysService:
    """Implements KeysService by recording; see the module docstring."""

    calls: list[Call] = field(default_factory=list)

    def _record(self, method: str, *args: Any) -> None:
        *arguments, done, failed = args
        self.calls.append(Call(method, tuple(arguments), done, failed))

    def pending(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and not c.answered]

    def last(self, method: str) -> Call:
        matching = [c for c in self.calls if c.method == method]
        assert matching, f"the page never called {method}"
        return matching[-1]

    def list_page(
        self, page: int, search: str, done: Callable[[KeyPage], None], failed: Callable[[str], None]
    ) -> None:
        self._record("list_page", page, search, done, failed)

    def create_key(
        self, spec: KeySpec, done: Callable[[CreatedKey], None], failed: Callable[[str], None]
    ) -> None:
        self._record("create_key", spec, done, failed)

    def update_key(
        self,
        token: str,
        spec: KeySpec,
        done: Callable[[VirtualKey], None],
        failed: Callable[[str], None],
    ) -> None:
        self._record("update_key", token, spec, done, failed)

    def set_blocked(
        self, token: str, blocked: bool, done: Callable[[None], None], failed: Callable[[str], None]
    ) -> None:
        self._record("set_blocked", token, blocked, done, failed)

    def regenerate_key(
        self, token: str, done: Callable[[CreatedKey], None], failed: Callable[[str], None]
    ) -> None:
        self._record("regenerate_key", token, done, failed)

    def delete_key(
        self, token: str, done: Callable[[None], None], failed: Callable[[str], None]
    ) -> None:
        self._record("delete_key", token, done, failed)
