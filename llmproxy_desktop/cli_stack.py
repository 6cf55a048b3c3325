"""`llmproxy-desktop --stack NAME status|diff|apply|discard|drift|history|restore N|init`.

The stack commands of the headless CLI (issue 4 §4): each connects to one stack (SSH, forwards,
the Master), runs one use-case of `ops`, prints what happened and exits with a code a script can
act on:

    0  ok
    1  validation or verification failed (or: drift found, refused by the Master's state)
    2  connection or usage error
    3  another Apply holds the stack's lock

`--json` prints one JSON object on stdout (progress lines then go to stderr); `--yes` answers
every confirmation (without it and without a terminal, a command that changes something refuses).
Secrets come from the OS keyring, or are asked with hidden input on a terminal; never from the
command line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from .cli import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    _find,
    _host_key_confirm,
    _keyring,
    _profile_store,
    _secrets_for_test,
)
from .core.findings import Finding, has_errors
from .core.items import Flag, item_label
from .remote.errors import RemoteError

if TYPE_CHECKING:
    from .ops.apply import ApplyResult, Step
    from .ops.apply_outcome import ApplyAttempt
    from .ops.drift import DriftReport
    from .ops.stack_connection import StackConnection
    from .remote.profiles import SecretKind, StackProfile

EXIT_LOCKED = 3


# --- output ------------------------------------------------------------------------------------

StackCommand = Callable[[argparse.Namespace, "Output"], int]
"""A stack command: `run(args, out)` returns the exit code (through `out.finish`)."""


@dataclass
class Output:
    """Where a command's lines go: stdout for people, stderr when stdout carries JSON."""

    json_mode: bool
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def lines(self) -> TextIO:
        return sys.stderr if self.json_mode else sys.stdout

    def say(self, text: str = "") -> None:
        print(text, file=self.lines, flush=True)

    def note(self, text: str) -> None:
        print(f"note: {text}", file=sys.stderr, flush=True)

    def finish(self, code: int) -> int:
        if self.json_mode:
            self.payload.setdefault("ok", code == EXIT_OK)
            self.payload["exit_code"] = code
            print(json.dumps(self.payload, indent=2, sort_keys=True, default=str))
        return code


def finding_json(finding: Finding) -> dict[str, str]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "path": finding.path,
        "message": finding.message,
    }


# --- parser ------------------------------------------------------------------------------------


class StackCommands:
    """Registers stack commands: each gets `--stack`, `--json` and `--accept-host-key`, and runs
    through `_run` (one line and an exit code for every expected failure). Other modules add
    their commands with `add` and `group` (e.g. `keys list|create|...`)."""

    def __init__(self, commands: Any) -> None:
        self._commands = commands
        self._common = argparse.ArgumentParser(add_help=False)
        # SUPPRESS: `--stack` and `--json` may come before the command or after it.
        self._common.add_argument(
            "--stack", metavar="NAME", default=argparse.SUPPRESS, help="the stack"
        )
        self._common.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object"
        )
        self._common.add_argument(
            "--accept-host-key",
            metavar="SHA256:...",
            help="trust an unknown host key with exactly this fingerprint",
        )

    def add(
        self, name: str, text: str, run: StackCommand, *, confirmable: bool = False
    ) -> argparse.ArgumentParser:
        """A command `name` that runs `run(args, out)`; `confirmable` adds `--yes`."""
        parser: argparse.ArgumentParser = self._commands.add_parser(
            name, help=text, parents=[self._common]
        )
        if confirmable:
            parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.set_defaults(run=lambda args: _run(args, run))
        return parser

    def group(self, name: str, text: str, actions: str) -> StackCommands:
        """A command with sub-commands (`name ACTION ...`); `actions` is the metavar."""
        parser = self._commands.add_parser(name, help=text)
        nested = StackCommands.__new__(StackCommands)
        nested._common = self._common
        nested._commands = parser.add_subparsers(
            dest=f"{name}_command", metavar=actions, parser_class=type(parser), required=True
        )
        return nested


def add_stack_commands(commands: Any) -> None:
    """Register the stack commands on the top-level subparsers."""
    registry = StackCommands(commands)

    def command(name: str, text: str, run: StackCommand, confirmable: bool = False) -> Any:
        return registry.add(name, text, run, confirmable=confirmable)

    command("status", "the stack's state: Master, config.yaml drift, LiteLLM", cmd_status)
    command("diff", "what an Apply would change (secrets as ***)", cmd_diff)
    apply = command("apply", "render, write, restart and verify the stack", cmd_apply, True)
    _add_apply_options(apply)
    command("discard", "discard every staged change", cmd_discard, True)
    drift = command("drift", "compare the server's config.yaml with the Master", cmd_drift)
    action = drift.add_mutually_exclusive_group()
    action.add_argument("--rerender", action="store_true", help="overwrite it: a normal Apply")
    action.add_argument(
        "--finish",
        action="store_true",
        help="record the revision an interrupted Apply left, then restart LiteLLM and verify",
    )
    drift.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_apply_options(drift)
    history = command("history", "the applied revisions, newest first", cmd_history)
    history.add_argument("--limit", type=int, default=20, metavar="N", help="(20)")
    restore = command("restore", "stage what turns the Master into revision N", cmd_restore)
    restore.add_argument("revision", type=int, metavar="N")
    restore.add_argument(
        "--discard-staged", action="store_true", help="discard staged changes first"
    )
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    command("init", "first boot: import the server's config.yaml into an empty Master", cmd_init)
    # Imported here: these modules import this one.
    from .cli_housekeeping import add_commands as add_housekeeping_commands
    from .cli_keys import add_commands as add_key_commands
    from .cli_usage import add_commands as add_usage_commands

    add_key_commands(registry)
    add_usage_commands(registry)
    add_housekeeping_commands(registry)
    from .cli_deploy import add_commands as add_deploy_commands

    add_deploy_commands(registry)


def _add_apply_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another admin's Apply to finish (default: fail at once)",
    )
    parser.add_argument(
        "--verify-timeout",
        type=float,
        default=90.0,
        metavar="SECONDS",
        help="how long LiteLLM may take to become ready (90)",
    )


# --- running one command ------------------------------------------------------------------------


def _run(args: argparse.Namespace, command: Callable[[argparse.Namespace, Output], int]) -> int:
    """Check the options, run `command`, and turn every expected failure into a line + code."""
    from .ops.apply_lock import ApplyLocked
    from .store import StoreError
    from .store.vault import VaultError

    out = Output(json_mode=bool(getattr(args, "json", False)))
    if not getattr(args, "stack", None):
        return _failed(out, f"{args.command} needs --stack NAME", EXIT_USAGE)
    try:
        return command(args, out)
    except ApplyLocked as error:
        return _failed(out, f"{error.args[0]}; try again later, or pass --wait-lock", EXIT_LOCKED)
    except CliError as error:
        return _failed(out, str(error), error.code)
    except RemoteError as error:
        return _failed(out, str(error), EXIT_USAGE)
    except (StoreError, VaultError) as error:
        return _failed(out, " ".join(str(error).split()), EXIT_FINDINGS)


def _failed(out: Output, message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    out.payload.update(ok=False, error=message)
    return out.finish(code)


@contextmanager
def connected(args: argparse.Namespace, out: Output) -> Iterator[StackConnection]:
    """Connect to the stack of `--stack`, unlock the vault when its passphrase is at hand."""
    from sqlalchemy.exc import SQLAlchemyError

    from .ops.stack_connection import connect_stack
    from .remote.errors import HostKeyUnknown
    from .remote.host_keys import HostKeyStore

    profile = _find(_profile_store(), args.stack)
    interactive = sys.stdin.isatty()
    host_key_confirm = _host_key_confirm(args.accept_host_key, interactive)
    secrets = _secrets_for_test(profile, interactive)
    out.say(f"connecting to {profile.name} ...")
    try:
        connection = connect_stack(
            profile, secrets, host_keys=HostKeyStore(), confirm=host_key_confirm
        )
    except HostKeyUnknown as error:
        raise CliError(
            f"{profile.name}: {error} To trust it: --accept-host-key {error.fingerprint}",
            EXIT_USAGE,
        ) from None
    except RemoteError as error:
        raise CliError(f"{profile.name}: {error}", EXIT_USAGE) from None
    with connection:
        try:
            _unlock_vault(connection, profile, secrets, interactive, out)
            yield connection
        except SQLAlchemyError as error:
            # The tunnel or the database went away mid-command.
            cause = getattr(error, "orig", None) or error
            raise CliError(
                f"{profile.name}: the Master's database failed: {' '.join(str(cause).split())}",
                EXIT_USAGE,
            ) from None


def _unlock_vault(
    connection: StackConnection,
    profile: StackProfile,
    secrets: dict[SecretKind, str],
    interactive: bool,
    out: Output,
) -> None:
    """Unlock with the saved passphrase, else ask on a terminal; stay locked otherwise (commands
    that need secrets then say "the credential vault is locked")."""
    from .remote.profiles import SecretKind
    from .store.vault import WrongPassphrase

    master = connection.master
    if not master.has_vault():
        return
    passphrase = secrets.get(SecretKind.VAULT_PASSPHRASE)
    if passphrase is None and interactive:
        passphrase = getpass.getpass(f"vault passphrase for {profile.name} (empty: skip): ")
    if not passphrase:
        return
    try:
        master.unlock_vault(passphrase)
    except WrongPassphrase:
        raise CliError(
            f"{profile.name}: the vault passphrase is wrong (fix the saved one with "
            f"`stacks edit {profile.name} --save-secrets`)",
            EXIT_USAGE,
        ) from None


def confirm(args: argparse.Namespace, question: str) -> bool:
    """--yes, or a terminal's answer; without either, refuse (a script must say --yes)."""
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        raise CliError("no terminal to confirm on: pass --yes", EXIT_USAGE)
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _drift(connection: StackConnection) -> DriftReport | None:
    """The drift report, or None when it needs the vault and the vault is locked."""
    from .ops.drift import check_drift
    from .store import VaultLocked

    try:
        return check_drift(connection.master, connection.config_file)
    except VaultLocked:
        return None


def _drift_note(connection: StackConnection, out: Output) -> DriftReport | None:
    """Drift on connect: say when the server's file is not what the Master last applied."""
    from .ops.drift import DriftState

    report = _drift(connection)
    if report is None:
        out.note("config.yaml could not be compared (the credential vault is locked)")
    elif report.state is not DriftState.IN_SYNC:
        out.note(report.sentence())
    return report


# --- status ------------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, out: Output) -> int:
    """The Master's counts, the last Apply, config.yaml's drift state and LiteLLM's health."""
    from .ops.apply_outcome import latest_attempt

    with connected(args, out) as connection:
        master = connection.master
        revisions = master.revisions(1)
        staged = master.staged_count()
        report = _drift(connection)
        litellm = _litellm_status(connection)
        container = _container_status(connection)
        vault = "none" if not master.has_vault() else "unlocked" if master.vault else "locked"
        initialised = master.initialised()
        attempt = latest_attempt(master)
    last = revisions[0] if revisions else None
    drift_text = report.sentence() if report else "cannot compare: the credential vault is locked"
    out.payload.update(
        stack=connection.profile.name,
        initialised=initialised is not None,
        staged=staged,
        vault=vault,
        last_revision=_revision_json(last) if last else None,
        drift=report.state.value if report else None,
        drift_sentence=drift_text,
        litellm=litellm,
        container=container,
        last_attempt=None if attempt is None else _attempt_json(attempt),
    )
    out.say(f"stack:        {connection.profile.name}")
    if initialised is None:
        out.say(f"master:       empty; run `--stack {connection.profile.name} init` first")
    out.say(f"staged:       {staged} change(s)")
    out.say(f"vault:        {vault}")
    if last is not None:
        out.say(
            f"last apply:   revision {last.id}, {last.summary}, by {last.created_by} "
            f"at {last.created_at:%Y-%m-%d %H:%M:%S %Z}"
        )
    else:
        out.say("last apply:   none yet")
    if attempt is not None and not attempt.ok:
        out.say(
            f"last attempt: FAILED at {attempt.failed_step}, by {attempt.by} at "
            f"{attempt.at:%Y-%m-%d %H:%M:%S %Z}: {attempt.detail}"
        )
    out.say(f"config.yaml:  {drift_text}")
    out.say(f"LiteLLM:      {litellm}")
    out.say(f"container:    {container}")
    return out.finish(EXIT_OK)


def _litellm_status(connection: StackConnection) -> str:
    client = connection.target.litellm
    try:
        readiness = client.readiness()
        if not readiness.ready:
            return f"not ready (HTTP {readiness.http_status}, status {readiness.status!r})"
        return f"ready; {len(client.models())} model group(s) served"
    except RemoteError as error:
        return f"unreachable: {error}"


def _container_status(connection: StackConnection) -> str:
    try:
        state = connection.target.docker.litellm_state()
    except RemoteError as error:
        return f"unknown: {error}"
    health = "" if state.health.value == "none" else f" ({state.health.value})"
    since = f", started {state.started_at:%Y-%m-%d %H:%M:%S %Z}" if state.started_at else ""
    return f"{state.status.value}{health}{since}"


def _attempt_json(attempt: ApplyAttempt) -> dict[str, Any]:
    return {
        "ok": attempt.ok,
        "failed_step": attempt.failed_step,
        "detail": attempt.detail,
        "revision": attempt.revision_id,
        "by": str(attempt.by),
        "at": attempt.at.isoformat(),
    }


def _revision_json(revision: Any) -> dict[str, Any]:
    return {
        "id": revision.id,
        "created_at": revision.created_at.isoformat(),
        "created_by": str(revision.created_by),
        "summary": revision.summary,
        "sha256": revision.rendered_sha256,
        "items": revision.item_count,
    }


# --- diff --------------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace, out: Output) -> int:
    """Per staged item what changes, then the rendered YAML's unified diff (secrets as ***)."""
    from .core.diff import diff_items, unified_config_diff
    from .core.validate import render_checked

    with connected(args, out) as connection:
        _drift_note(connection, out)
        master = connection.master
        effective = master.effective()
        applied = master.applied()
    changes = diff_items(applied, effective)
    _text, findings = render_checked(effective)
    unified = unified_config_diff(applied, effective)
    out.payload.update(
        changes=[
            {
                "item": str(change.key),
                "flag": change.flag.value,
                "fields": [
                    {"path": f.path, "before": f.before, "after": f.after} for f in change.fields
                ],
            }
            for change in changes
        ],
        unified_diff=unified,
        findings=[finding_json(f) for f in findings],
    )
    if not changes:
        out.say("nothing staged")
    labels = {e.item.key: item_label(e.item) for e in effective}
    for change in changes:
        out.say(f"{change.flag.value:<8} {labels.get(change.key, str(change.key))}")
        if change.flag is Flag.CHANGED:
            for f in change.fields:
                out.say(f"    {f.path}: {_short(f.before)} -> {_short(f.after)}")
    if unified:
        out.say()
        out.lines.write(unified if unified.endswith("\n") else unified + "\n")
    for finding in findings:
        out.say(finding.line())
    return out.finish(EXIT_FINDINGS if has_errors(findings) else EXIT_OK)


def _short(value: object) -> str:
    text = "(none)" if value is None else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# --- apply -------------------------------------------------------------------------------------


class _ProgressLines:
    """Prints a line when a step starts waiting and one when it completes."""

    def __init__(self, out: Output) -> None:
        from .ops.apply import Step

        self._out = out
        self._steps = tuple(Step)
        self.printed: set[Step] = set()

    def __call__(self, step: Step, fraction: float, message: str) -> None:
        index = self._steps.index(step)
        position = f"[{index + 1}/{len(self._steps)}]"
        if abs(fraction - (index + 1) / len(self._steps)) < 1e-9:
            return  # completion: printed by `completed` with its outcome and timing
        self._out.say(f"{position} {step.value}: {message}")

    def completed(self, result: ApplyResult) -> None:
        for number, step_result in enumerate(result.steps, start=1):
            self._out.say(
                f"[{number}/{len(self._steps)}] {step_result.step.value}: "
                f"{step_result.outcome.value} ({step_result.seconds:.2f} s) {step_result.detail}"
            )


@contextmanager
def cancel_on_interrupt(out: Output, note: str) -> Iterator[threading.Event]:
    """Ctrl-C sets the operation's cancel token (and says `note`) instead of killing it in the
    middle of a write: the operation decides where stopping is safe."""
    cancel = threading.Event()

    def interrupted(_signum: int, _frame: object) -> None:
        cancel.set()
        out.note(note)

    if threading.current_thread() is not threading.main_thread():
        yield cancel  # signals reach the main thread only
        return
    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_apply(args: argparse.Namespace, out: Output) -> int:
    """Confirm, then run the Apply pipeline with progress lines; the code says how it ended."""
    with connected(args, out) as connection:
        report = _drift_note(connection, out)
        staged = connection.master.staged_count()
        drifted = report is not None and report.state.value != "in sync"
        what = f"{staged} staged change(s)" if staged else "no staged changes"
        question = f"Apply {what} to {connection.profile.name}"
        if drifted:
            question += " (overwriting the server's config.yaml)"
        if not confirm(args, question + "?"):
            out.say("not applied")
            return out.finish(EXIT_OK)
        return _apply(connection, args, out)


def _apply(
    connection: StackConnection,
    args: argparse.Namespace,
    out: Output,
    *,
    force_restart: bool = False,
) -> int:
    from .ops.apply import apply

    progress = _ProgressLines(out)
    # Honoured before the commit point only; after it the Apply completes and reports.
    with cancel_on_interrupt(
        out, "cancelling: honoured before config.yaml is replaced, not after"
    ) as cancel:
        result = apply(
            connection.master,
            connection.target,
            progress=progress,
            cancel=cancel,
            actor=connection.actor,
            verify_timeout=args.verify_timeout,
            lock_wait=args.wait_lock,
            force_restart=force_restart,
        )
    progress.completed(result)
    return _report_apply(result, out)


def _report_apply(result: ApplyResult, out: Output) -> int:
    from .ops.apply import Outcome, Step

    for finding in result.findings:
        out.say(finding.line())
    if result.ok:
        out.say("no-op: config.yaml already held this render" if result.noop else "applied")
    if result.advice:
        out.say(result.advice)
    out.payload.update(
        ok=result.ok,
        committed=result.committed,
        noop=result.noop,
        cancelled=result.cancelled,
        revision_id=result.revision_id,
        missing_groups=list(result.missing_groups),
        unexpected_groups=list(result.unexpected_groups),
        advice=result.advice,
        findings=[finding_json(f) for f in result.findings],
        steps=[
            {
                "step": s.step.name.lower(),
                "title": s.step.value,
                "outcome": s.outcome.value,
                "detail": s.detail,
                "seconds": round(s.seconds, 3),
            }
            for s in result.steps
        ],
    )
    if result.ok:
        return out.finish(EXIT_OK)
    if result.cancelled:
        return out.finish(130)
    failed: Step = next(s.step for s in result.steps if s.outcome is Outcome.FAILED)
    verdict = EXIT_FINDINGS if failed in (Step.RENDER, Step.VERIFY) else EXIT_USAGE
    return out.finish(verdict)


# --- discard -----------------------------------------------------------------------------------


def cmd_discard(args: argparse.Namespace, out: Output) -> int:
    """Discard every staged change, after confirmation."""
    with connected(args, out) as connection:
        staged = connection.master.staged_count()
        if not staged:
            out.say("nothing staged")
            out.payload.update(discarded=0)
            return out.finish(EXIT_OK)
        if not confirm(args, f"Discard {staged} staged change(s) of {connection.profile.name}?"):
            out.say("nothing discarded")
            out.payload.update(discarded=0)
            return out.finish(EXIT_OK)
        discarded = connection.master.discard_all(connection.actor)
    out.say(f"discarded {discarded} staged change(s)")
    out.payload.update(discarded=discarded)
    return out.finish(EXIT_OK)


# --- drift -------------------------------------------------------------------------------------


def cmd_drift(args: argparse.Namespace, out: Output) -> int:
    """The drift report with its diff; `--rerender` / `--finish` resolve it. Exit 1 when the file
    is not in sync and nothing was done about it."""
    from .ops.drift import DriftAction, DriftState, finish_pending_apply

    with connected(args, out) as connection:
        report = _drift(connection)
        if report is None:
            raise CliError(
                "config.yaml differs from the last revision; unlock the credential vault to "
                "classify it (save its passphrase or run on a terminal)",
                EXIT_USAGE,
            )
        _show_drift(report, out)
        if args.finish:
            if DriftAction.FINISH not in report.offers:
                raise CliError(f"nothing to finish: {report.sentence()}", EXIT_USAGE)
            if not confirm(args, "Record this file as a revision and restart LiteLLM on it?"):
                out.say("not finished")
                return out.finish(EXIT_FINDINGS)
            revision = finish_pending_apply(
                connection.master,
                connection.config_file,
                connection.actor,
                lock_engine=connection.target.master_engine,
            )
            out.say(f"recorded revision {revision}; restarting LiteLLM on it")
            out.payload.update(finished_revision=revision)
            # The interrupted Apply never restarted LiteLLM: do it now, and verify.
            return _apply(connection, args, out, force_restart=True)
        if args.rerender:
            if report.state is DriftState.IN_SYNC:
                out.say("in sync: nothing to re-render")
                return out.finish(EXIT_OK)
            question = f"Overwrite {report.location} with the Master's configuration"
            if report.staged_count:
                question += f" (dispatching {report.staged_count} staged change(s) with it)"
            if not confirm(args, question + "?"):
                out.say("not re-rendered")
                return out.finish(EXIT_FINDINGS)
            return _apply(connection, args, out)
    return out.finish(EXIT_OK if report.state is DriftState.IN_SYNC else EXIT_FINDINGS)


def _show_drift(report: DriftReport, out: Output) -> None:
    out.payload.update(
        state=report.state.value,
        sentence=report.sentence(),
        location=report.location,
        file_sha256=report.file_sha256,
        last_revision=report.last_revision.id if report.last_revision else None,
        matched_revision=report.matched_revision.id if report.matched_revision else None,
        staged=report.staged_count,
        offers=[offer.value for offer in report.offers],
        diff=report.diff,
    )
    out.say(f"{report.state.value}: {report.sentence()}")
    if report.diff:
        out.lines.write(report.diff if report.diff.endswith("\n") else report.diff + "\n")
    if report.offers:
        flags = {"finish": "--finish", "re-render": "--rerender"}
        out.say("to resolve: " + " or ".join(f"drift {flags[o.value]}" for o in report.offers))


# --- history and restore -----------------------------------------------------------------------


def cmd_history(args: argparse.Namespace, out: Output) -> int:
    """The applied revisions, newest first; `*` marks the one config.yaml holds."""
    import hashlib

    from .ops.history import history

    if args.limit < 1:
        raise CliError("--limit must be at least 1", EXIT_USAGE)
    with connected(args, out) as connection:
        revisions = history(connection.master, args.limit)
        data = connection.config_file.read()
    current = hashlib.sha256(data).hexdigest() if data is not None else None
    out.payload.update(
        revisions=[
            {**_revision_json(r), "current": r.rendered_sha256 == current} for r in revisions
        ]
    )
    if not revisions:
        out.say("no revisions yet")
    for revision in revisions:
        mark = "*" if revision.rendered_sha256 == current else " "
        out.say(
            f"{mark} {revision.id:>5}  {revision.created_at:%Y-%m-%d %H:%M:%S}  "
            f"{revision.created_by!s:<28} {revision.summary}"
        )
    return out.finish(EXIT_OK)


def cmd_restore(args: argparse.Namespace, out: Output) -> int:
    """Stage the difference between now and revision N (Apply then dispatches it)."""
    from .ops.history import StagedChangesPending, restore_revision
    from .store import RevisionNotFound

    with connected(args, out) as connection:
        name = connection.profile.name
        if args.discard_staged and connection.master.staged_count():
            staged = connection.master.staged_count()
            if not confirm(args, f"Discard {staged} staged change(s) of {name} first?"):
                out.say("nothing restored")
                return out.finish(EXIT_OK)
        try:
            count = restore_revision(
                connection.master,
                args.revision,
                connection.actor,
                discard_first=args.discard_staged,
            )
        except RevisionNotFound:
            raise CliError(f"{name} has no revision {args.revision} (see `history`)") from None
        except StagedChangesPending as error:
            raise CliError(f"{error} (or pass --discard-staged)", EXIT_USAGE) from None
    out.payload.update(revision=args.revision, staged=count)
    if count:
        out.say(
            f"staged {count} change(s) that restore revision {args.revision}; review them with "
            f"`--stack {name} diff`, dispatch them with `--stack {name} apply`"
        )
    else:
        out.say(f"the Master already is revision {args.revision}: nothing staged")
    return out.finish(EXIT_OK)


# --- init --------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, out: Output) -> int:
    """First boot: import the server's config.yaml as the applied configuration; literal
    credentials go into the vault (created with a new passphrase when there is none)."""
    from .ops.first_boot import FirstBootFailed, FirstBootProblem, first_boot_import

    with connected(args, out) as connection:
        profile = connection.profile

        def passphrase() -> str | None:
            return _keyring_passphrase(profile) or _new_passphrase(profile)

        try:
            result = first_boot_import(connection, passphrase)
        except FirstBootFailed as error:
            for finding in error.findings:
                out.say(finding.line())
            out.payload.update(findings=[finding_json(f) for f in error.findings])
            content = error.problem in (
                FirstBootProblem.FILE_ERRORS,
                FirstBootProblem.SERVED_MISSING,
            )
            raise CliError(str(error), EXIT_FINDINGS if content else EXIT_USAGE) from None
    for finding in result.findings:
        out.say(finding.line())
    if result.created_vault:
        out.say("created the credential vault")
    out.payload.update(findings=[finding_json(f) for f in result.findings])
    out.say(f"imported {result.imported} item(s) from {result.location}")
    out.payload.update(imported=result.imported)
    return out.finish(EXIT_OK)


def _keyring_passphrase(profile: StackProfile) -> str | None:
    from .remote.keyring_secrets import KeyringError
    from .remote.profiles import SecretKind

    try:
        return _keyring().get(profile.name, SecretKind.VAULT_PASSPHRASE) or None
    except KeyringError:
        return None


def _new_passphrase(profile: StackProfile) -> str:
    if not sys.stdin.isatty():
        raise CliError(
            "the file holds credentials: a vault passphrase is needed; save one with "
            f"`stacks edit {profile.name} --save-secrets` or run on a terminal"
        )
    first = getpass.getpass("new vault passphrase (12+ characters): ")
    if len(first) < 12:
        raise CliError("the vault passphrase must have at least 12 characters")
    if getpass.getpass("repeat it: ") != first:
        raise CliError("the passphrases differ; nothing was imported")
    return first
