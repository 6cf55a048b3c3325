"""Apply (issue 4 §5) under the faults the real stack can be made to suffer.

Each fault is produced in the real component, not simulated in the pipeline: a directory the
server cannot write into, a temp file changed on disk before it is read back, the Master's
database connection terminated by Postgres in the middle of the fold, a config LiteLLM refuses
to start with, and the SSH connection killed on the server. Every test asserts the invariant
afterwards: either config.yaml == render(applied) with nothing staged, or config.yaml, applied
and staged all as they were; and that the result says what to do. When the fault leaves a third
state by design (committed but not recorded), the test shows the advised Apply reaching the
first form.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paramiko
import pytest
from sqlalchemy import Engine, event, text

from llmproxy_desktop.core.items import Item, ItemKind
from llmproxy_desktop.core.validate import render_checked
from llmproxy_desktop.ops.apply import ApplyResult, Outcome, Progress, Step, apply
from llmproxy_desktop.ops.apply_target import ApplyTarget
from llmproxy_desktop.remote import sftp_atomic
from llmproxy_desktop.store import Master
from tests.fixtures.docker_stack import TestStack
from tests.fixtures.sshd import SshdServer

from .conftest import ALICE
from .test_apply import (
    NEW_GROUP,
    Recorder,
    config_bytes,
    new_model,
    outcomes,
    rendered_applied,
    started_at,
    temp_files,
)

pytestmark = pytest.mark.integration

_COMMIT_DONE = (Step.COMMIT, 4 / 7)  # what _Run.record reports once config.yaml is replaced


def apply_with(
    master: Master,
    target: ApplyTarget,
    progress: Progress | None = None,
    verify_timeout: float = 60.0,
) -> ApplyResult:
    """Alice's Apply, with an optional progress callback that injects the fault."""
    return apply(
        master,
        target,
        progress=progress or Recorder(),
        cancel=threading.Event(),
        actor=ALICE,
        verify_timeout=verify_timeout,
    )


def render_of_effective(master: Master) -> bytes:
    """What an Apply renders now: applied overlaid by staged."""
    text_, _findings = render_checked(master.effective())
    return text_.encode("utf-8")


# -- SFTP write failure -----------------------------------------------------------------------


@contextmanager
def read_only_directory(directory: Path) -> Iterator[None]:
    """Make `directory` refuse new files, and put it back afterwards.

    chmod a-w is what an admin would do, but the test sshd runs as root, and root ignores
    permission bits (CAP_DAC_OVERRIDE); the immutable attribute stops root too. Both are undone
    in reverse order, so the stack's directory is usable by the next test whatever happens.
    """
    mode = directory.stat().st_mode & 0o7777
    directory.chmod(mode & ~0o222)
    immutable = os.geteuid() == 0
    try:
        if immutable:
            subprocess.run(["chattr", "+i", str(directory)], check=True, capture_output=True)
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=True, capture_output=True)
        directory.chmod(mode)


def test_sftp_write_failure_in_a_read_only_directory_changes_nothing(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before, before_start = config_bytes(stack_restored), started_at(stack_restored)

    with read_only_directory(stack_restored.config_dir):
        result = apply_with(master, target)

    assert not result.ok and not result.committed
    assert outcomes(result)[Step.UPLOAD] is Outcome.FAILED
    assert all(outcomes(result)[s] is Outcome.SKIPPED for s in list(Step)[3:])
    upload = next(s for s in result.steps if s.step is Step.UPLOAD)
    assert upload.detail.startswith("[sftp]") and "not replaced" in upload.detail
    assert result.advice is not None
    assert "not replaced" in result.advice and "apply again" in result.advice
    # Second form of the invariant: file, applied and staged as they were; no restart.
    assert config_bytes(stack_restored) == before
    assert temp_files(stack_restored) == []
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert started_at(stack_restored) == before_start


# -- read-back mismatch -----------------------------------------------------------------------


def test_read_back_mismatch_removes_the_temp_file_and_changes_nothing(
    master: Master, target: ApplyTarget, stack_restored: TestStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before, before_start = config_bytes(stack_restored), started_at(stack_restored)
    real_read = sftp_atomic.read_file
    corrupted: list[str] = []

    def corrupt_then_read(sftp: paramiko.SFTPClient, path: str) -> bytes:
        # The server is this machine: change the complete temp file on its disk, between the
        # write and the read-back, as a faulty disk or a concurrent writer would.
        if path.endswith(sftp_atomic.TEMP_SUFFIX):
            with Path(path).open("ab") as temp:
                temp.write(b"# not what was written\n")
            corrupted.append(path)
        return real_read(sftp, path)

    monkeypatch.setattr(sftp_atomic, "read_file", corrupt_then_read)
    result = apply_with(master, target)
    monkeypatch.undo()

    assert len(corrupted) == 1
    assert not result.ok and not result.committed
    assert outcomes(result)[Step.UPLOAD] is Outcome.FAILED
    assert outcomes(result)[Step.COMMIT] is Outcome.SKIPPED
    upload = next(s for s in result.steps if s.step is Step.UPLOAD)
    assert "read back gave other bytes" in upload.detail
    assert result.advice is not None and "staged items are kept" in result.advice
    assert config_bytes(stack_restored) == before
    assert temp_files(stack_restored) == []  # the corrupted temp file was removed
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert started_at(stack_restored) == before_start


# -- database failure during the fold ---------------------------------------------------------


class TerminateNextStatement:
    """Once armed, has Postgres terminate the backend of the next statement on `engine`, just
    before that statement is sent: a connection cut in the middle of a transaction.

    The pool pre-pings on checkout, so a connection killed earlier would just be replaced; the
    cut must happen after the checkout, which is what before_cursor_execute gives. Armed from
    the progress callback when the commit step reports done, the next statement on the Master's
    engine is the fold's first (the lock's connection is idle until the Apply ends).
    """

    def __init__(self, engine: Engine, killer: Engine) -> None:
        self.engine = engine
        self.killer = killer
        self.armed = False
        self.terminated: list[int] = []

    def progress(self, step: Step, fraction: float, message: str) -> None:
        if (step, fraction) == _COMMIT_DONE:
            self.armed = True

    def before_cursor_execute(self, conn: Any, *_args: Any) -> None:
        if not self.armed:
            return
        self.armed = False
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.killer.connect() as killer:
            # The timeout makes the call wait until the backend is really gone, so the
            # statement about to be sent meets a closed connection, not a race.
            done = killer.execute(
                text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}
            ).scalar_one()
        assert done
        self.terminated.append(pid)

    def __enter__(self) -> TerminateNextStatement:
        event.listen(self.engine, "before_cursor_execute", self.before_cursor_execute)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self.before_cursor_execute)


def test_connection_cut_during_the_fold_is_reported_and_fixed_forward_by_the_next_apply(
    master: Master,
    target: ApplyTarget,
    stack_restored: TestStack,
    engine: Engine,
    other_engine: Engine,
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before_start = started_at(stack_restored)

    with TerminateNextStatement(engine, other_engine) as cut:
        result = apply_with(master, target, progress=cut.progress)

    assert len(cut.terminated) == 1
    assert result.committed and not result.ok
    assert outcomes(result)[Step.COMMIT] is Outcome.OK
    assert outcomes(result)[Step.FOLD] is Outcome.FAILED
    assert outcomes(result)[Step.RESTART] is Outcome.SKIPPED
    assert outcomes(result)[Step.VERIFY] is Outcome.SKIPPED
    assert result.advice is not None
    assert "config.yaml was replaced, but the Master did not record it" in result.advice
    assert "Apply again" in result.advice
    # The transaction was rolled back by the cut: nothing folded, nothing lost, no restart. The
    # file already holds the render of applied + staged (what the next connect's drift check
    # reports as a file matching no revision).
    assert master.revisions() == []
    assert master.staged_versions() == staged
    assert config_bytes(stack_restored) == render_of_effective(master)
    assert started_at(stack_restored) == before_start

    # The advised Apply records the revision, and LiteLLM, never restarted on this file, is.
    again = apply_with(master, target)

    assert again.ok, again
    assert again.noop and again.revision_id is not None
    assert outcomes(again)[Step.FOLD] is Outcome.OK
    assert outcomes(again)[Step.RESTART] is Outcome.OK
    assert config_bytes(stack_restored) == rendered_applied(master)
    assert started_at(stack_restored) != before_start
    assert NEW_GROUP in target.litellm.models()


# -- LiteLLM never becomes ready --------------------------------------------------------------


def test_a_config_litellm_refuses_fails_verify_with_advice_after_the_commit(
    master: Master, target: ApplyTarget, stack_restored: TestStack
) -> None:
    # A disk cache passes our validation with a warning (it is a valid LiteLLM type), but the
    # pinned LiteLLM lacks the diskcache package and cannot start with it.
    disk_cache = Item(ItemKind.LITELLM_SETTING, "cache_params", {"type": "disk"})
    (applied_cache,) = (e for e in master.effective() if e.item.key == disk_cache.key)
    master.stage(disk_cache, applied_cache.version, ALICE)
    before_start = started_at(stack_restored)

    result = apply_with(master, target, verify_timeout=20.0)

    assert "cache.type-unusable" in {f.rule for f in result.findings}
    assert result.committed and not result.ok
    assert outcomes(result) == {
        Step.LOCK: Outcome.OK,
        Step.RENDER: Outcome.OK,
        Step.UPLOAD: Outcome.OK,
        Step.COMMIT: Outcome.OK,
        Step.FOLD: Outcome.OK,
        Step.RESTART: Outcome.OK,
        Step.VERIFY: Outcome.FAILED,
    }
    verify = next(s for s in result.steps if s.step is Step.VERIFY)
    assert "not ready after 20 s" in verify.detail
    assert result.advice is not None
    assert f"revision {result.revision_id}" in result.advice
    assert "Read its logs" in result.advice and "fix forward with another Apply" in result.advice
    # First form of the invariant: nothing is rolled back after the commit point.
    assert config_bytes(stack_restored) == rendered_applied(master)
    assert master.revisions()[0].id == result.revision_id
    assert started_at(stack_restored) != before_start
    # stack_restored puts the original file back and restarts LiteLLM for the next tests.


# -- SSH connection dropped mid-Apply ---------------------------------------------------------


class DropSshAt:
    """Progress callback that kills the server side of every SSH connection at one report."""

    def __init__(self, sshd: SshdServer, step: Step, fraction: float) -> None:
        self.sshd = sshd
        self.at = (step, fraction)
        self.killed = 0

    def __call__(self, step: Step, fraction: float, message: str) -> None:
        if (step, fraction) == self.at and not self.killed:
            self.killed = self.sshd.kill_connections()


def test_ssh_dropped_before_the_rename_changes_nothing(
    master: Master, target: ApplyTarget, stack_restored: TestStack, stack_host_sshd: SshdServer
) -> None:
    master.stage(new_model(), 0, ALICE)
    staged = master.staged_versions()
    before, before_start = config_bytes(stack_restored), started_at(stack_restored)
    # The commit step's start: the temp file is complete and read back, the rename not sent.
    drop = DropSshAt(stack_host_sshd, Step.COMMIT, 3 / 7)

    result = apply_with(master, target, progress=drop)

    assert drop.killed >= 1
    assert not result.ok and not result.committed
    assert outcomes(result)[Step.COMMIT] is Outcome.FAILED
    assert all(outcomes(result)[s] is Outcome.SKIPPED for s in list(Step)[4:])
    assert result.advice is not None and "staged items are kept" in result.advice
    assert config_bytes(stack_restored) == before
    assert master.staged_versions() == staged
    assert master.revisions() == []
    assert started_at(stack_restored) == before_start


def test_ssh_dropped_after_the_rename_is_committed_and_says_what_to_do(
    master: Master, target: ApplyTarget, stack_restored: TestStack, stack_host_sshd: SshdServer
) -> None:
    master.stage(new_model(), 0, ALICE)
    drop = DropSshAt(stack_host_sshd, *_COMMIT_DONE)

    result = apply_with(master, target, progress=drop)

    assert drop.killed >= 1
    assert result.committed
    assert outcomes(result)[Step.FOLD] is Outcome.OK
    # The session reconnects on its own; whether the forwards to the socket-proxy and LiteLLM
    # are back in time decides between a verified Apply and a named step to redo.
    if not result.ok:
        failed = [s.step for s in result.steps if s.outcome is Outcome.FAILED]
        assert failed in ([Step.RESTART], [Step.VERIFY]), result
        assert result.advice is not None
        assert f"revision {result.revision_id}" in result.advice
    # First form of the invariant either way.
    assert config_bytes(stack_restored) == rendered_applied(master)
    assert master.revisions()[0].id == result.revision_id
