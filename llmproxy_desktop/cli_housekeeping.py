"""`llmproxy-desktop --stack NAME housekeeping stats|trim --older-than DAYS [--yes]` (issue #6 §5).

`stats` prints the database's size, its largest tables and the spend logs' date span. `trim`
counts the spend-log rows older than DAYS, asks (naming the count), then deletes them in short
batches with progress lines; Ctrl-C stops it between batches, keeping what was deleted. Every
trim, finished or not, lands in the audit log with its count. Expired virtual keys are deleted
through LiteLLM's API by `keys delete-expired` (and the Housekeeping page), not here.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .cli import EXIT_OK, EXIT_USAGE, CliError
from .cli_stack import Output, cancel_on_interrupt, confirm, connected

if TYPE_CHECKING:
    from .cli_stack import StackCommands

__all__ = ["add_commands", "cmd_stats", "cmd_trim"]


def add_commands(registry: StackCommands) -> None:
    """Register `housekeeping stats|trim` on the stack commands."""
    group = registry.group(
        "housekeeping",
        "database size and spend-log trimming (expired keys: `keys delete-expired`)",
        "stats|trim",
    )
    stats = group.add("stats", "database size, largest tables, spend-log date span", cmd_stats)
    stats.add_argument("--tables", type=int, default=10, metavar="N", help="(10)")
    trim = group.add(
        "trim", "delete spend logs older than DAYS, in short batches", cmd_trim, confirmable=True
    )
    trim.add_argument(
        "--older-than", type=int, required=True, metavar="DAYS", help="age in whole days (>= 1)"
    )


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns at GB


def cmd_stats(args: argparse.Namespace, out: Output) -> int:
    """The database's size, its largest tables and the spend logs' span."""
    from .ops.housekeeping import database_stats

    with connected(args, out) as connection:
        stats = database_stats(connection.target.master_engine, largest=max(1, args.tables))
    out.payload.update(
        database=stats.database,
        database_bytes=stats.database_bytes,
        tables=[
            {
                "schema": t.schema,
                "table": t.name,
                "bytes": t.total_bytes,
                "rows_estimate": t.row_estimate,
            }
            for t in stats.tables
        ],
        spend_logs_oldest=stats.spend_logs_oldest.isoformat() if stats.spend_logs_oldest else None,
        spend_logs_newest=stats.spend_logs_newest.isoformat() if stats.spend_logs_newest else None,
    )
    out.say(f"database:     {stats.database}, {_size(stats.database_bytes)}")
    if stats.spend_logs_oldest and stats.spend_logs_newest:
        out.say(
            f"spend logs:   {stats.spend_logs_oldest:%Y-%m-%d %H:%M} to "
            f"{stats.spend_logs_newest:%Y-%m-%d %H:%M} UTC"
        )
    else:
        out.say("spend logs:   none")
    out.say("largest tables (with indexes; rows estimated):")
    for table in stats.tables:
        rows = "?" if table.row_estimate is None else f"{table.row_estimate:,}"
        name = table.name if table.schema == "public" else f"{table.schema}.{table.name}"
        out.say(f"  {_size(table.total_bytes):>10}  {rows:>14}  {name}")
    return out.finish(EXIT_OK)


def cmd_trim(args: argparse.Namespace, out: Output) -> int:
    """Preview, confirm naming the count, then delete in batches (Ctrl-C: stop between them)."""
    from .ops.housekeeping import trim_preview, trim_spend_logs

    days = int(args.older_than)
    if days < 1:
        raise CliError("--older-than needs a whole number of days, 1 or more", EXIT_USAGE)
    with connected(args, out) as connection:
        engine = connection.target.master_engine
        preview = trim_preview(engine, days, datetime.now(UTC))
        counted = "" if preview.exact else " (estimated: counting took too long)"
        out.payload.update(
            cutoff=preview.cutoff.isoformat(), rows=preview.rows, exact=preview.exact
        )
        out.say(
            f"{preview.rows:,} spend-log row(s) older than {days} day(s) "
            f"(before {preview.cutoff:%Y-%m-%d %H:%M} UTC){counted}"
        )
        if preview.rows == 0:
            out.payload.update(deleted=0, cancelled=False)
            return out.finish(EXIT_OK)
        question = (
            f"Delete {preview.rows:,} spend-log row(s) from {connection.profile.name}? "
            "This cannot be undone"
        )
        if not confirm(args, question):
            out.say("nothing deleted")
            out.payload.update(deleted=0, cancelled=False)
            return out.finish(EXIT_OK)
        with cancel_on_interrupt(out, "stopping after the current batch") as cancel:
            result = trim_spend_logs(
                engine,
                preview.cutoff,
                _Progress(out),
                cancel,
                connection.actor,
                connection.master,
                expected_rows=preview.rows,
            )
    out.payload.update(
        deleted=result.deleted,
        cancelled=result.cancelled,
        seconds=round(result.seconds, 3),
        batches=result.batches,
    )
    how = "cancelled after deleting" if result.cancelled else "deleted"
    out.say(f"{how} {result.deleted:,} row(s) in {result.seconds:.1f} s ({result.batches} batches)")
    return out.finish(EXIT_OK)


class _Progress:
    """A progress line at most every 10 % (a trim of millions has thousands of batches)."""

    def __init__(self, out: Output) -> None:
        self._out = out
        self._next = 0.1

    def __call__(self, step: str, fraction: float, message: str) -> None:
        if fraction >= self._next:
            self._out.say(f"  {step.lower()} {fraction:4.0%}  {message}")
            while self._next <= fraction:
                self._next += 0.1
