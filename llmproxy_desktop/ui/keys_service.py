"""The Virtual Keys page's service on a stack: each call is one `ops.keys` use-case run as a job of
the stack (`StackController.run`), answered on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmproxy_desktop.ui.job_runner import JobProgress
from llmproxy_desktop.ui.maintenance_services import StackRunner

if TYPE_CHECKING:
    from llmproxy_desktop.core.virtual_keys import CreatedKey, KeyPage, KeySpec, VirtualKey
    from llmproxy_desktop.ops.stack_connection import StackConnection

__all__ = ["StackKeysService"]

Failed = Callable[[str], None]


class StackKeysService:
    """`KeysService` (ui/pages/virtual_keys.py) on whichever stack `runner` reaches."""

    def __init__(self, runner: StackRunner) -> None:
        self._runner = runner

    def list_page(
        self, page: int, search: str, done: Callable[[KeyPage], None], failed: Failed
    ) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import list_page

            return list_page(connection.target.litellm, page, search or None)

        self._runner.run("List keys", run, _as(done), failed)

    def create_key(self, spec: KeySpec, done: Callable[[CreatedKey], None], failed: Failed) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import applied_model_groups, create_key

            client = connection.target.litellm
            return create_key(client, spec, applied_model_groups(connection.master, client))

        self._runner.run("Create key", run, _as(done), failed)

    def update_key(
        self, token: str, spec: KeySpec, done: Callable[[VirtualKey], None], failed: Failed
    ) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import applied_model_groups, update_key

            client = connection.target.litellm
            return update_key(client, token, spec, applied_model_groups(connection.master, client))

        self._runner.run("Update key", run, _as(done), failed)

    def set_blocked(
        self, token: str, blocked: bool, done: Callable[[None], None], failed: Failed
    ) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import block_key, unblock_key

            (block_key if blocked else unblock_key)(connection.target.litellm, token)
            return None

        self._runner.run("Block key" if blocked else "Unblock key", run, _as(done), failed)

    def regenerate_key(
        self, token: str, done: Callable[[CreatedKey], None], failed: Failed
    ) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import regenerate_key

            return regenerate_key(connection.target.litellm, token)

        self._runner.run("Regenerate key", run, _as(done), failed)

    def delete_key(self, token: str, done: Callable[[None], None], failed: Failed) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import delete_key

            delete_key(connection.target.litellm, token)
            return None

        self._runner.run("Delete key", run, _as(done), failed)

    def delete_expired(self, done: Callable[[int], None], failed: Failed) -> None:
        """Delete every expired key (Housekeeping's action); `done` gets how many."""

        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.keys import delete_expired_keys

            deleted = delete_expired_keys(connection.target.litellm)
            connection.master.audit(
                "housekeeping.delete_expired_keys",
                {"deleted": len(deleted), "aliases": [k.alias for k in deleted if k.alias]},
                connection.actor,
            )
            return len(deleted)

        self._runner.run("Delete expired keys", run, _as(done), failed)


def _as(done: Callable[[Any], None]) -> Callable[[object], None]:
    """The runner hands results as `object`; the page's callback knows their type."""
    return done
