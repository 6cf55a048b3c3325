"""Apply: turn the Master's staged intent into the running, verified gateway (issue 4 §1).

Steps, in order, each reported through `progress(step, fraction, message)` and recorded in the
result with its outcome and duration:

1. LOCK     the stack-wide Apply lock (apply_lock.py); a second Apply fails fast or waits.
2. RENDER   render the effective items and validate; any error stops here, nothing written.
3. UPLOAD   temp file beside config.yaml (mode 0600), read back and compared.
4. COMMIT   rename over config.yaml: the commit point. A cancel is honoured until just before.
5. FOLD     staged → applied + revision + audit in one transaction (Master.fold).
6. RESTART  LiteLLM through the socket-proxy.
7. VERIFY   readiness, then /v1/models must list exactly the applied model groups.

Before the commit point a failure leaves the file, the applied items and the staged items as
they were. After it nothing is rolled back (the file is already live for the next LiteLLM start):
the result names the failed step and what to do, to fix forward. A no-op Apply (the rendered
bytes equal the file's) skips upload, commit and restart, and says so; but when it still has
staged changes to record, the file was left by an Apply whose fold failed after the rename, so
it records them and restarts LiteLLM, which was never started on that file.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from ..core.findings import Finding, Severity, has_errors
from ..core.items import EffectiveItem, Flag, ItemKey, ItemKind, live_items, model_group
from ..core.render import render
from ..core.validate import render_checked
from ..remote.errors import RemoteError
from ..store import Actor, Master, StoreError
from .apply_lock import ApplyLocked, apply_lock
from .apply_outcome import APPLY_RESULT_ACTION, outcome_detail
from .apply_target import ApplyTarget

__all__ = [
    "ApplyCancelled",
    "ApplyLocked",
    "ApplyResult",
    "CancelToken",
    "Outcome",
    "Progress",
    "Step",
    "StepResult",
    "apply",
]

_RENDER_ATTEMPTS = 3  # re-read when another admin stages between our two reads
_READY_POLL_SECONDS = 0.25


_log = logging.getLogger(__name__)


class Step(StrEnum):
    """The Apply's steps, in order (issue 4 §1)."""

    LOCK = "lock"
    RENDER = "render and validate"
    UPLOAD = "upload and read back"
    COMMIT = "replace config.yaml"
    FOLD = "record revision"
    RESTART = "restart LiteLLM"
    VERIFY = "verify"


_STEPS = tuple(Step)


class Outcome(StrEnum):
    """How one step ended."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not needed (no-op) or not reached
    CANCELLED = "cancelled"


class CancelToken(Protocol):
    """Anything with `is_set()`, e.g. a `threading.Event` the UI sets from its Cancel button."""

    def is_set(self) -> bool:
        """True once cancellation was requested."""
        ...


class Progress(Protocol):
    """`progress(step, fraction, message)`; `fraction` is the whole Apply's share done, 0..1."""

    def __call__(self, step: Step, fraction: float, message: str) -> None:
        """Called at the start and end of every step (from the Apply's thread)."""
        ...


class ApplyCancelled(Exception):
    """Raised inside the pipeline when the cancel token is set before the commit point."""


@dataclass(frozen=True)
class StepResult:
    """One step's outcome, a one-line detail and how long it took."""

    step: Step
    outcome: Outcome
    detail: str
    seconds: float


@dataclass(frozen=True)
class ApplyResult:
    """Everything an Apply did, for the UI, the CLI and the audit.

    `committed`: config.yaml now holds the new render. `advice` is set whenever something failed
    or was cancelled: what the state is and what to do next.
    """

    steps: tuple[StepResult, ...]
    findings: tuple[Finding, ...] = ()
    committed: bool = False
    noop: bool = False
    revision_id: int | None = None
    missing_groups: tuple[str, ...] = ()
    unexpected_groups: tuple[str, ...] = ()
    advice: str | None = None

    @property
    def ok(self) -> bool:
        """True when no step failed or was cancelled."""
        return all(s.outcome in (Outcome.OK, Outcome.SKIPPED) for s in self.steps)

    @property
    def cancelled(self) -> bool:
        """True when the Apply stopped on a cancel (always before the commit point)."""
        return any(s.outcome is Outcome.CANCELLED for s in self.steps)

    def outcome(self, step: Step) -> Outcome:
        """The outcome of `step` (every step has exactly one)."""
        return next(s.outcome for s in self.steps if s.step is step)


@dataclass
class _Run:
    """Mutable bookkeeping of one Apply; frozen into an ApplyResult at the end."""

    progress: Progress
    cancel: CancelToken
    results: list[StepResult] = field(default_factory=list)
    findings: tuple[Finding, ...] = ()
    committed: bool = False
    noop: bool = False
    revision_id: int | None = None
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    advice: str | None = None

    def record(self, step: Step, outcome: Outcome, detail: str, started: float) -> None:
        self.results.append(StepResult(step, outcome, detail, time.monotonic() - started))
        self.progress(step, (_STEPS.index(step) + 1) / len(_STEPS), detail)

    def begin(self, step: Step, message: str) -> float:
        self.progress(step, _STEPS.index(step) / len(_STEPS), message)
        return time.monotonic()

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise ApplyCancelled

    def skip_rest(self, reason: str) -> None:
        done = {r.step for r in self.results}
        for step in _STEPS:
            if step not in done:
                self.results.append(StepResult(step, Outcome.SKIPPED, reason, 0.0))

    def result(self) -> ApplyResult:
        order = {step: i for i, step in enumerate(_STEPS)}
        return ApplyResult(
            steps=tuple(sorted(self.results, key=lambda r: order[r.step])),
            findings=self.findings,
            committed=self.committed,
            noop=self.noop,
            revision_id=self.revision_id,
            missing_groups=self.missing,
            unexpected_groups=self.unexpected,
            advice=self.advice,
        )


@dataclass(frozen=True)
class _Rendered:
    effective: tuple[EffectiveItem, ...]
    expected_staged: Mapping[ItemKey, int]
    text: str
    findings: tuple[Finding, ...]

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")

    @property
    def model_groups(self) -> frozenset[str]:
        live = live_items(self.effective)
        return frozenset(
            group
            for item in live
            if item.kind is ItemKind.MODEL and (group := model_group(item)) is not None
        )

    def summary(self) -> str:
        flags = Counter(e.flag for e in self.effective if e.flag is not None)
        return (
            f"{flags[Flag.NEW]} new, {flags[Flag.CHANGED]} changed, {flags[Flag.DELETED]} deleted"
        )


def apply(
    master: Master,
    target: ApplyTarget,
    *,
    progress: Progress,
    cancel: CancelToken,
    actor: Actor,
    verify_timeout: float = 90.0,
    lock_wait: float = 0.0,
    force_restart: bool = False,
) -> ApplyResult:
    """Run the Apply pipeline for `master`'s stack at `target` and report every step.

    `force_restart` restarts LiteLLM even on a no-op: after `drift.finish_pending_apply` recorded
    an interrupted Apply's file, LiteLLM has not loaded it yet.

    Raises ApplyLocked (before anything else happens) when another Apply holds the stack's lock
    and `lock_wait` is 0, or it is still held after `lock_wait` seconds; while waiting, progress
    reports "Apply in progress by USER@HOST". Every other failure is a result, not an exception:
    `result.ok` is False and `result.advice` says what to do. `cancel` is honoured until just
    before the commit point (step 4) and ignored after it.
    """
    run = _Run(progress, cancel)
    started = run.begin(Step.LOCK, "taking the stack's Apply lock")

    def waiting(holder: str) -> None:
        progress(Step.LOCK, 0.0, f"Apply in progress by {holder}; waiting up to {lock_wait:g} s")

    try:
        with apply_lock(
            target.master_engine, master.schema, actor, wait_seconds=lock_wait, on_wait=waiting
        ):
            run.record(Step.LOCK, Outcome.OK, f"held by {actor}", started)
            _locked_pipeline(master, target, run, actor, verify_timeout, force_restart)
            # Under the lock, so outcomes are recorded in the order the Applies ran.
            _record_outcome(master, run.result(), actor)
    except ApplyLocked:
        raise
    except SQLAlchemyError as error:
        # The lock's own connection failed (taking or releasing it): the database is unreachable.
        if not run.results:
            run.record(Step.LOCK, Outcome.FAILED, _one_line(error), started)
            run.advice = "The Master's database is unreachable; nothing was changed. Reconnect."
        run.skip_rest("not reached")  # the database is gone: no outcome can be recorded either
    return run.result()


def _record_outcome(master: Master, result: ApplyResult, actor: Actor) -> None:
    """Record how the Apply ended in the audit log (`ops.apply_outcome`), unless it changed
    nothing (cancelled, no-op). Best effort: the result stands even if the database is gone."""
    if result.cancelled or result.noop:
        return
    failed = next((s for s in result.steps if s.outcome is Outcome.FAILED), None)
    detail = outcome_detail(
        ok=result.ok,
        failed_step=None if failed is None else failed.step.name,  # LOCK, RENDER, ... as the docs
        detail=failed.detail if failed is not None else _done_detail(result),
        revision_id=result.revision_id,
    )
    try:
        master.audit(APPLY_RESULT_ACTION, detail, actor)
    except (SQLAlchemyError, StoreError) as error:
        _log.warning("the Apply's outcome was not recorded: %s", _one_line(error))


def _done_detail(result: ApplyResult) -> str:
    fold = next((s for s in result.steps if s.step is Step.FOLD), None)
    return fold.detail if fold is not None else ""


def _locked_pipeline(
    master: Master,
    target: ApplyTarget,
    run: _Run,
    actor: Actor,
    verify_timeout: float,
    force_restart: bool,
) -> None:
    # -- 2: render and validate ----------------------------------------------------------------
    started = run.begin(Step.RENDER, "rendering the effective configuration")
    try:
        run.check_cancel()
        rendered = _render(master)
    except ApplyCancelled:
        _cancelled(run, Step.RENDER, started)
        return
    except (StoreError, SQLAlchemyError) as error:
        run.record(Step.RENDER, Outcome.FAILED, _one_line(error), started)
        run.advice = "Nothing was written and nothing staged was lost. " + _store_hint(error)
        run.skip_rest("render failed")
        return
    run.findings = rendered.findings
    if has_errors(rendered.findings):
        errors = sum(1 for f in rendered.findings if f.severity is Severity.ERROR)
        run.record(Step.RENDER, Outcome.FAILED, f"{errors} validation error(s)", started)
        run.advice = "Fix the findings and apply again; nothing was written, staged items kept."
        run.skip_rest("validation failed")
        return
    run.record(
        Step.RENDER,
        Outcome.OK,
        f"{len(rendered.data)} bytes, {len(rendered.findings)} warning(s)",
        started,
    )

    # -- 3 + 4: upload, read back, commit (or nothing, if the file already says this) ------------
    started = run.begin(Step.UPLOAD, f"writing a temp file beside {target.config.location}")
    try:
        run.check_cancel()
        current = target.config.read()
    except ApplyCancelled:
        _cancelled(run, Step.UPLOAD, started)
        return
    except RemoteError as error:
        _upload_failed(run, started, error)
        return
    if current == rendered.data:
        run.noop = True
        run.record(Step.UPLOAD, Outcome.SKIPPED, "config.yaml already holds this render", started)
        run.results.append(
            StepResult(Step.COMMIT, Outcome.SKIPPED, "no-op: config.yaml unchanged", 0.0)
        )
    elif not _upload_and_commit(target, rendered, run, started):
        return

    # -- 5: fold --------------------------------------------------------------------------------
    started = run.begin(Step.FOLD, "recording the revision")
    if run.noop and not rendered.expected_staged:
        run.record(Step.FOLD, Outcome.SKIPPED, "nothing staged", started)
    else:
        try:
            run.revision_id = master.fold(
                rendered.summary(),
                render(live_items(rendered.effective), redact=True),
                hashlib.sha256(rendered.data).hexdigest(),
                actor,
                rendered.expected_staged,
            )
        except (StoreError, SQLAlchemyError) as error:
            run.record(Step.FOLD, Outcome.FAILED, _one_line(error), started)
            if run.noop:
                run.advice = "The Master did not record the staged changes: " + _store_hint(error)
            else:
                run.advice = (
                    "config.yaml was replaced, but the Master did not record it: "
                    f"{_store_hint(error)} Apply again: it renders the Master anew and records "
                    "the revision."
                )
            # Restart anyway? No: LiteLLM would then serve a file the Master cannot explain.
            run.skip_rest("the revision was not recorded")
            return
        run.record(Step.FOLD, Outcome.OK, f"revision {run.revision_id}", started)

    # -- 6: restart -----------------------------------------------------------------------------
    started = run.begin(Step.RESTART, f"restarting {target.docker.container}")
    # A no-op that still folded staged changes finishes an Apply whose fold failed after its
    # rename: that Apply stopped before the restart, so LiteLLM has not loaded this file yet.
    if run.noop and run.revision_id is None and not force_restart:
        run.record(Step.RESTART, Outcome.SKIPPED, "no-op: LiteLLM already has this file", started)
    else:
        try:
            target.docker.restart_litellm()
        except RemoteError as error:
            run.record(Step.RESTART, Outcome.FAILED, _one_line(error), started)
            run.advice = (
                f"config.yaml and the Master hold revision {run.revision_id}, but LiteLLM still "
                f"serves the previous configuration: the restart failed ({error.layer.value}). "
                f"Fix the cause, then restart the container {target.docker.container} (e.g. "
                "`docker restart` on the server) and verify; nothing needs to be applied again."
            )
            run.skip_rest("LiteLLM was not restarted")
            return
        run.record(Step.RESTART, Outcome.OK, "restarted", started)

    # -- 7: verify ------------------------------------------------------------------------------
    _verify(target, rendered.model_groups, run, verify_timeout)


def _render(master: Master) -> _Rendered:
    """Read the effective items and the staged versions consistently, then render once.

    The two reads are separate transactions; another admin staging between them would make the
    fold's expectation disagree with what was rendered, so re-read until they agree.
    """
    for _ in range(_RENDER_ATTEMPTS):
        before = master.staged_versions()
        effective = tuple(master.effective())
        if master.staged_versions() == before:
            text, findings = render_checked(effective)
            return _Rendered(effective, before, text, tuple(findings))
    raise _StagingBusy


class _StagingBusy(StoreError):
    """Staging kept changing while rendering."""

    def __init__(self) -> None:
        super().__init__("Other admins kept staging changes while rendering; try again.")


def _upload_and_commit(target: ApplyTarget, rendered: _Rendered, run: _Run, started: float) -> bool:
    """Steps 3 and 4 in one atomic replace; True when config.yaml now holds the render."""
    swap_started: list[float] = []

    def before_swap() -> None:
        # The temp file is complete and was read back equal: step 3 is done. The last cancel.
        run.check_cancel()
        run.record(Step.UPLOAD, Outcome.OK, f"{len(rendered.data)} bytes read back equal", started)
        swap_started.append(run.begin(Step.COMMIT, "replacing config.yaml (commit point)"))

    try:
        target.config.replace(rendered.data, before_swap)
    except ApplyCancelled:
        _cancelled(run, Step.UPLOAD, started)
        return False
    except RemoteError as error:
        if not swap_started:
            _upload_failed(run, started, error)
            return False
        # The rename itself or the check after it failed: look at what the file now holds.
        try:
            committed = target.config.read() == rendered.data
        except RemoteError:
            run.record(Step.COMMIT, Outcome.FAILED, _one_line(error), swap_started[0])
            run.advice = (
                "It is unknown whether config.yaml was replaced (the file cannot be read now). "
                "Nothing was recorded in the Master; staged items are kept. Reconnect and apply "
                "again."
            )
            run.skip_rest("the commit is uncertain")
            return False
        if not committed:
            run.record(Step.COMMIT, Outcome.FAILED, _one_line(error), swap_started[0])
            run.advice = "config.yaml was not replaced; nothing changed, staged items are kept."
            run.skip_rest("config.yaml was not replaced")
            return False
        detail = f"replaced; the check after the rename complained: {_one_line(error)}"
        run.committed = True
        run.record(Step.COMMIT, Outcome.OK, detail, swap_started[0])
        return True
    run.committed = True
    run.record(Step.COMMIT, Outcome.OK, "config.yaml replaced (mode 0600)", swap_started[0])
    return True


def _verify(target: ApplyTarget, expected: frozenset[str], run: _Run, timeout: float) -> None:
    started = run.begin(Step.VERIFY, "waiting for LiteLLM to be ready")
    try:
        # Readiness is bounded by the timeout; the one /v1/models call by the client's own.
        target.litellm.wait_until_ready(timeout=timeout, poll=_READY_POLL_SECONDS)
        served = frozenset(target.litellm.models())
    except RemoteError as error:
        run.record(Step.VERIFY, Outcome.FAILED, _one_line(error), started)
        run.advice = _after_commit_prefix(run) + (
            "LiteLLM did not become ready or did not list its models. Read its logs (the file "
            "may be one LiteLLM rejects) and fix forward with another Apply."
        )
        return
    run.missing = tuple(sorted(expected - served))
    run.unexpected = tuple(sorted(served - expected))
    if run.missing or run.unexpected:
        detail = f"missing: {list(run.missing)}; unexpected: {list(run.unexpected)}"
        run.record(Step.VERIFY, Outcome.FAILED, detail, started)
        run.advice = _after_commit_prefix(run) + (
            "LiteLLM serves other model groups than the Master applied. Read its logs; if it "
            "was not restarted, restart it; then fix forward with another Apply."
        )
        return
    run.record(Step.VERIFY, Outcome.OK, f"{len(served)} model group(s) served", started)


def _after_commit_prefix(run: _Run) -> str:
    if run.revision_id is not None:
        return f"config.yaml and the Master hold revision {run.revision_id}. "
    return ""


def _cancelled(run: _Run, step: Step, started: float) -> None:
    run.record(step, Outcome.CANCELLED, "cancelled before the commit point", started)
    run.advice = "Cancelled: config.yaml, the applied and the staged items are as they were."
    run.skip_rest("cancelled")


def _upload_failed(run: _Run, started: float, error: RemoteError) -> None:
    run.record(Step.UPLOAD, Outcome.FAILED, _one_line(error), started)
    run.advice = (
        f"config.yaml was not replaced ({error.layer.value}); nothing was recorded and staged "
        "items are kept. Fix the cause and apply again."
    )
    run.skip_rest("the upload failed")


def _store_hint(error: Exception) -> str:
    if isinstance(error, SQLAlchemyError):
        return "The Master's database failed; reconnect."
    return _one_line(error)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
