"""The window's handle on one stack: its connection and every operation, run as jobs.

The `StackConnection` (SSH session, forwards, Master, Apply target) is opened, used and closed
only inside jobs of this stack's queue in the `JobRunner`, so it lives on the stack's worker
thread and no two operations on it ever race. The GUI thread submits and listens: results come
back as the runner's signals, which this class turns into per-call callbacks and its own signals
(`status_changed` after every change, so pages re-read flags from the store, never from widget
state).

It implements the pages' `StagingEditor` (ui/staging.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from llmproxy_desktop.core.items import Item, ItemKey
from llmproxy_desktop.remote.host_keys import Confirm, HostKeyStore
from llmproxy_desktop.remote.profiles import SecretKind, StackProfile
from llmproxy_desktop.remote.ssh_session import SessionStatus
from llmproxy_desktop.ui.job_runner import Job, JobProgress, JobRunner
from llmproxy_desktop.ui.staging import Done

# The ops (SQLAlchemy, alembic, docker, httpx: ~0.6 s of imports) are imported inside the jobs,
# on the stack's worker thread, so the window opens without waiting for them.
if TYPE_CHECKING:
    from llmproxy_desktop.ops.apply import ApplyResult
    from llmproxy_desktop.ops.stack_connection import StackConnection
    from llmproxy_desktop.ops.stack_status import StackStatus
    from llmproxy_desktop.remote.litellm_status import ChatTest
    from llmproxy_desktop.store import RevisionInfo

__all__ = ["StackController"]

OnResult = Callable[[object], None]
OnError = Callable[[str], None]
OnProgress = Callable[[str, float, str], None]


@dataclass
class _Pending:
    on_result: OnResult | None
    on_error: OnError | None
    on_progress: OnProgress | None = None


class NotConnected(Exception):
    """An operation was asked of a stack that is not connected (yet, or any more)."""

    def __init__(self, stack: str) -> None:
        super().__init__(f"{stack} is not connected; connect first.")


class StackController(QObject):
    """One stack's connection and operations for the window. Use from the GUI thread only."""

    session_status = Signal(object, object)
    """`(SessionStatus, reason | None)`, from the SSH session, delivered on the GUI thread."""
    status_changed = Signal(object)
    """`(StackStatus)`: a fresh snapshot after connect, every edit, Apply and refresh."""
    connect_failed = Signal(str)
    """One sentence: why connecting failed (the layer that refused)."""
    busy_changed = Signal(bool)
    """True while an Apply runs on this stack."""

    def __init__(
        self,
        runner: JobRunner,
        profile: StackProfile,
        secrets: Mapping[SecretKind, str] | Callable[[], Mapping[SecretKind, str]],
        *,
        host_keys: HostKeyStore | None = None,
        confirm: Confirm | None = None,
        verify_timeout: float = 90.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.profile = profile
        self._runner = runner
        # A callable is read on the worker when connecting: the keyring may block (D-Bus, an
        # unlock prompt), and the GUI thread never waits.
        self._secrets_source = secrets
        self._secrets: dict[SecretKind, str] = {}
        self._host_keys = host_keys or HostKeyStore()
        self._confirm = confirm
        self._verify_timeout = verify_timeout
        self._connection: StackConnection | None = None  # touched on the worker thread only
        self._pending: dict[str, _Pending] = {}
        self.last_status: StackStatus | None = None
        self.apply_job: str | None = None
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.progress.connect(self._on_progress)

    @property
    def name(self) -> str:
        return self.profile.name

    # -- connection ----------------------------------------------------------------------------

    def open(self) -> None:
        """Connect (SSH, forwards, Master), unlock the vault with a saved passphrase, and read
        the first status. Failures arrive as `connect_failed(sentence)`."""
        self._submit(
            "Connect", lambda _p, _c: self._connect_and_read(), self._publish, self._connect_failed
        )

    def _connect_and_read(self) -> StackStatus:
        """On the worker: connect unless connected, then read the status."""
        from llmproxy_desktop.ops.stack_connection import connect_stack
        from llmproxy_desktop.ops.stack_status import read_status

        if self._connection is None:
            source = self._secrets_source
            self._secrets = dict(source() if callable(source) else source)
            self._connection = connect_stack(
                self.profile,
                self._secrets,
                host_keys=self._host_keys,
                confirm=self._confirm,
                on_status=lambda status, reason: self.session_status.emit(status, reason),
            )
            passphrase = self._secrets.get(SecretKind.VAULT_PASSPHRASE)
            master = self._connection.master
            if passphrase and master.has_vault():
                from llmproxy_desktop.store.vault import WrongPassphrase

                # A stale saved passphrase: stay locked, the window asks.
                with contextlib.suppress(WrongPassphrase):
                    master.unlock_vault(passphrase)
        return read_status(self._connection)

    def close(self) -> None:
        """Close the connection on the worker (queued behind whatever runs), or right here once
        the runner is shut down: its workers have ended, so nothing else touches it."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> None:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

        if self._runner.is_closed():
            run(lambda _s, _f, _m: None, threading.Event())
            return
        self._submit("Disconnect", run, None, None, cancellable=False)

    def refresh(self, on_error: OnError | None = None) -> None:
        """Re-read the status (items, drift, LiteLLM, container); when not connected (the first
        connect failed, e.g. the server was down), connect again first, as `open` does."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> StackStatus:
            from llmproxy_desktop.ops.stack_status import read_status

            if self._connection is None:
                return self._connect_and_read()
            return read_status(self._connection)

        def failed(sentence: str) -> None:
            if self._connection is None:
                self._connect_failed(sentence)
            if on_error is not None:
                on_error(sentence)

        self._submit("Refresh", run, self._publish, failed)

    def unlock_vault(self, passphrase: str) -> object:
        """For the vault sheet, which runs it as a job of this stack: call on the worker only."""
        unlocked = self._connected().master.unlock_vault(passphrase)
        return unlocked

    def rotate_data_key(self, passphrase: str) -> object:
        """For the vault sheet (a job of this stack): re-encrypt every secret under a new key."""
        connection = self._connected()
        return connection.master.rotate_data_key(passphrase, connection.actor)

    def change_passphrase(
        self, old: str, new: str, done: Done, *, on_changed: Callable[[str], None] | None = None
    ) -> None:
        """Re-wrap the vault's key under `new`; `on_changed(new)` runs on the worker after it
        worked (e.g. to update a passphrase saved in the keyring)."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> None:
            connection = self._connected()
            connection.master.change_passphrase(old, new, connection.actor)
            if on_changed is not None:
                on_changed(new)

        self._submit("Change passphrase", run, lambda _r: done(None), done, cancellable=False)

    # -- StagingEditor -------------------------------------------------------------------------

    def stage(self, changes: Sequence[tuple[Item, int]], done: Done) -> None:
        """Stage new or changed items (ui/staging.py)."""
        batch = list(changes)
        self._edit("Stage", lambda c: c.master.stage_many(batch, c.actor), done)

    def delete(self, keys: Sequence[tuple[ItemKey, int]], done: Done) -> None:
        """Stage deletions (ui/staging.py)."""
        batch = list(keys)

        def run(connection: StackConnection) -> None:
            for key, version in batch:
                connection.master.stage_delete(key, version, connection.actor)

        self._edit("Delete", run, done)

    def discard(self, keys: Sequence[ItemKey], done: Done) -> None:
        """Discard staged changes of `keys` (ui/staging.py)."""
        batch = list(keys)

        def run(connection: StackConnection) -> None:
            for key in batch:
                connection.master.discard(key, connection.actor)

        self._edit("Discard", run, done)

    def discard_all(self, done: Done) -> None:
        """Discard every staged change."""
        self._edit("Discard", lambda c: c.master.discard_all(c.actor), done)

    # -- Apply, drift, history -----------------------------------------------------------------

    def apply(
        self,
        on_progress: OnProgress,
        on_result: Callable[[ApplyResult], None],
        on_error: OnError,
        *,
        force_restart: bool = False,
    ) -> str:
        """Run the Apply pipeline; returns the job id (for `cancel_apply`)."""

        def run(progress: JobProgress, cancel: threading.Event) -> ApplyResult:
            from llmproxy_desktop.ops.apply import apply

            connection = self._connected()
            return apply(
                connection.master,
                connection.target,
                progress=progress,
                cancel=cancel,
                actor=connection.actor,
                verify_timeout=self._verify_timeout,
                force_restart=force_restart,
            )

        def finished(result: object) -> None:
            from llmproxy_desktop.ops.apply import ApplyResult

            self._apply_ended()
            assert isinstance(result, ApplyResult)
            on_result(result)
            self.refresh()

        def failed(sentence: str) -> None:
            self._apply_ended()
            on_error(sentence)
            self.refresh()

        job_id = self._submit("Apply", run, finished, failed, progress=on_progress)
        self.apply_job = job_id
        self.busy_changed.emit(True)
        return job_id

    def cancel_apply(self) -> bool:
        """Ask the running Apply to stop; honoured only before its commit point."""
        return self.apply_job is not None and self._runner.cancel(self.apply_job)

    def finish_interrupted_apply(
        self, on_progress: OnProgress, on_result: Callable[[ApplyResult], None], on_error: OnError
    ) -> None:
        """Record the revision an interrupted Apply left, then restart and verify (an Apply
        with a forced restart), as `drift --finish` does."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> int:
            from llmproxy_desktop.ops.drift import finish_pending_apply

            connection = self._connected()
            return finish_pending_apply(
                connection.master,
                connection.config_file,
                connection.actor,
                lock_engine=connection.target.master_engine,
            )

        def recorded(_revision: object) -> None:
            self.apply(on_progress, on_result, on_error, force_restart=True)

        self._submit("Finish Apply", run, recorded, on_error)

    def revisions(
        self, on_result: Callable[[tuple[list[RevisionInfo], str | None]], None], on_error: OnError
    ) -> None:
        """The applied revisions and the SHA-256 of the file the server holds now."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> object:
            from llmproxy_desktop.ops.history import history

            connection = self._connected()
            data = connection.config_file.read()
            current = hashlib.sha256(data).hexdigest() if data is not None else None
            return history(connection.master, 200), current

        def listed(result: object) -> None:
            assert isinstance(result, tuple)
            on_result(result)  # (revisions, current sha), as `run` returned it

        self._submit("History", run, listed, on_error)

    def restore(
        self, revision_id: int, on_result: Callable[[int], None], on_error: OnError
    ) -> None:
        """Stage what turns the Master into revision `revision_id`; the count comes back."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> int:
            from llmproxy_desktop.ops.history import restore_revision

            connection = self._connected()
            return restore_revision(connection.master, revision_id, connection.actor)

        def staged(count: object) -> None:
            assert isinstance(count, int)
            on_result(count)
            self.refresh()

        self._submit("Restore", run, staged, on_error)

    def test_model(
        self, model_group: str, on_result: Callable[[ChatTest], None], on_error: OnError
    ) -> None:
        """One short chat completion to `model_group` through the proxy."""

        def run(_progress: JobProgress, _cancel: threading.Event) -> ChatTest:
            return self._connected().target.litellm.chat_test(model_group)

        def answered(result: object) -> None:
            from llmproxy_desktop.remote.litellm_status import ChatTest

            assert isinstance(result, ChatTest)
            on_result(result)

        self._submit(f"Test {model_group}", run, answered, on_error)

    # -- any operation -----------------------------------------------------------------------

    def run(
        self,
        name: str,
        operation: Callable[[StackConnection, JobProgress, threading.Event], object],
        on_result: OnResult,
        on_error: OnError,
        *,
        on_progress: OnProgress | None = None,
        cancellable: bool = True,
        refresh_after: bool = False,
    ) -> str:
        """Run `operation(connection, progress, cancel)` as a job of this stack; its return value
        goes to `on_result`, a failure's sentence to `on_error` (both on the GUI thread). The
        pages of other areas (keys, usage, housekeeping, logs) reach the stack through this.
        Returns the job id (for `cancel`)."""

        def run(progress: JobProgress, cancel: threading.Event) -> object:
            return operation(self._connected(), progress, cancel)

        def finished(result: object) -> None:
            on_result(result)
            if refresh_after:
                self.refresh()

        return self._submit(
            name, run, finished, on_error, progress=on_progress, cancellable=cancellable
        )

    def run_detached(
        self,
        name: str,
        operation: Callable[[JobProgress, threading.Event], object],
        on_result: OnResult,
        on_error: OnError,
        *,
        on_progress: OnProgress | None = None,
        cancellable: bool = True,
    ) -> str:
        """Run `operation(progress, cancel)` on this stack's queue without its connection:
        deploying a stack whose services do not run yet (nothing to connect to)."""
        return self._submit(
            name, operation, on_result, on_error, progress=on_progress, cancellable=cancellable
        )

    def cancel(self, job_id: str) -> bool:
        """Ask a job started with `run` to stop (it decides where stopping is safe)."""
        return self._runner.cancel(job_id)

    # -- plumbing ------------------------------------------------------------------------------

    def _connected(self) -> StackConnection:
        if self._connection is None:
            raise NotConnected(self.name)
        return self._connection

    def _edit(self, name: str, change: Callable[[StackConnection], Any], done: Done) -> None:
        def run(_progress: JobProgress, _cancel: threading.Event) -> StackStatus:
            from llmproxy_desktop.ops.stack_status import read_status

            connection = self._connected()
            change(connection)
            return read_status(connection)

        def finished(status: object) -> None:
            self._publish(status)
            done(None)

        self._submit(name, run, finished, done, cancellable=False)

    def _submit(
        self,
        name: str,
        run: Callable[[JobProgress, threading.Event], object],
        on_result: OnResult | None,
        on_error: OnError | None,
        *,
        progress: OnProgress | None = None,
        cancellable: bool = True,
    ) -> str:
        job = Job(name=name, stack=self.name, run=run, cancellable=cancellable)
        job_id = self._runner.submit(job)
        self._pending[job_id] = _Pending(on_result, on_error, progress)
        return job_id

    def _publish(self, status: object) -> None:
        from llmproxy_desktop.ops.stack_status import StackStatus

        assert isinstance(status, StackStatus)
        self.last_status = status
        self.status_changed.emit(status)

    def _connect_failed(self, sentence: str) -> None:
        self.session_status.emit(SessionStatus.FAILED, sentence)
        self.connect_failed.emit(sentence)

    def _apply_ended(self) -> None:
        self.apply_job = None
        self.busy_changed.emit(False)

    @Slot(str, object)
    def _on_finished(self, job_id: str, result: object) -> None:
        pending = self._pending.pop(job_id, None)
        if pending is not None and pending.on_result is not None:
            pending.on_result(result)

    @Slot(str, str, object)
    def _on_failed(self, job_id: str, sentence: str, _error: object) -> None:
        pending = self._pending.pop(job_id, None)
        if pending is not None and pending.on_error is not None:
            pending.on_error(sentence)

    @Slot(str)
    def _on_cancelled(self, job_id: str) -> None:
        pending = self._pending.pop(job_id, None)
        if job_id == self.apply_job:
            self._apply_ended()
        if pending is not None and pending.on_error is not None:
            pending.on_error("Cancelled.")

    @Slot(str, str, float, str)
    def _on_progress(self, job_id: str, step: str, fraction: float, message: str) -> None:
        pending = self._pending.get(job_id)
        if pending is not None and pending.on_progress is not None:
            pending.on_progress(step, fraction, message)
