"""`llmproxy-desktop --stack NAME usage summary|breakdown|logs` (issue 6 §5).

The Usage page's figures, headless: the same `ops.usage` functions over the same range rules, so
`--json`/`--csv` print exactly what the page shows for the same range and zone.

    usage summary   [--range 30d | --from DAY [--to DAY]] [--tz ZONE]
    usage breakdown --by model|key|user|team [--sort COLUMN] [--limit N]
    usage logs      [--by DIMENSION --id VALUE] [--failures] [--limit N] [--after CURSOR]

`--range` is today, month, 7d, 30d or any Nd (N local days ending now; default 30d); `--from`/`--to`
are local days (both included). `--tz` is UTC (the default, so scripts agree across machines),
local, or an IANA zone. `--csv` prints CSV on stdout (progress lines go to stderr).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from .cli import EXIT_OK, EXIT_USAGE, CliError
from .cli_stack import Output, StackCommands, connected

if TYPE_CHECKING:
    from .ops.usage import BreakdownRow, LogCursor, RequestLogRow, UsageRange, UsageTotals

__all__ = ["add_commands"]

_DIMENSIONS = ("model", "key", "user", "team")
_SORTS = (
    "spend",
    "requests",
    "tokens_in",
    "tokens_out",
    "errors",
    "error_rate",
    "cache_hits",
    "name",
)


def add_commands(registry: StackCommands) -> None:
    """Register `usage summary|breakdown|logs` on the stack commands."""
    usage = registry.group(
        "usage", "usage and spend from LiteLLM's request log", "summary|breakdown|logs"
    )
    summary = usage.add("summary", "totals and spend per day for a range", cmd_summary)
    _range_options(summary)
    table = usage.add("breakdown", "figures per model, key, user or team", cmd_breakdown)
    _range_options(table)
    table.add_argument("--by", choices=_DIMENSIONS, default="model", help="(model)")
    table.add_argument("--sort", choices=_SORTS, default="spend", help="(spend)")
    table.add_argument("--limit", type=int, default=10, metavar="N", help="rows; 0: all (10)")
    logs = usage.add("logs", "the requests of a range, newest first", cmd_logs)
    _range_options(logs)
    logs.add_argument("--by", choices=_DIMENSIONS, help="only the requests of one breakdown row")
    logs.add_argument("--id", dest="value", metavar="VALUE", help="that row's id (see breakdown)")
    logs.add_argument("--failures", action="store_true", help="only failed requests")
    logs.add_argument("--limit", type=int, default=50, metavar="N", help="rows per page (50)")
    logs.add_argument("--after", metavar="CURSOR", help="the next_cursor a previous page printed")


def _range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--range", dest="range_spec", metavar="SPEC", help="today|month|7d|30d|Nd")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first local day")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last local day (today)")
    parser.add_argument("--tz", default="UTC", metavar="ZONE", help="UTC, local or IANA (UTC)")
    parser.add_argument("--csv", action="store_true", help="print CSV on stdout")


# --- options -> values ---------------------------------------------------------------------------


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} wants a day as YYYY-MM-DD, not {text!r}", EXIT_USAGE) from None


def usage_range(args: argparse.Namespace, now: datetime | None = None) -> UsageRange:
    """The range the options name, cut in their zone (also for tests)."""
    from .ops.usage import UsageRange, zone_named

    now = now or datetime.now(UTC)
    try:
        zone = zone_named(args.tz)
        if args.first or args.last:
            if args.range_spec:
                raise CliError("give --range or --from/--to, not both", EXIT_USAGE)
            today = now.astimezone(zone).date()
            last = _day(args.last, "--to") if args.last else today
            first = _day(args.first, "--from") if args.first else last
            return UsageRange.of_days(first, last, zone)
        return UsageRange.parse(args.range_spec or "30d", now, zone)
    except ValueError as error:
        raise CliError(str(error), EXIT_USAGE) from None


def _csv_mode(args: argparse.Namespace, out: Output) -> bool:
    """With --csv, stdout carries only the CSV: send progress lines to stderr."""
    if args.csv and out.json_mode:
        raise CliError("give --json or --csv, not both", EXIT_USAGE)
    if args.csv:
        out.json_mode = True  # Output's switch for "lines go to stderr"; finish() is not called
    return bool(args.csv)


def _emit_csv(text: str) -> int:
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_OK


def _range_json(window: UsageRange) -> dict[str, str]:
    return {
        "from": window.start.isoformat(),
        "to": window.end.isoformat(),
        "zone": window.zone_name,
    }


def _totals_json(totals: UsageTotals) -> dict[str, Any]:
    return {
        "requests": totals.requests,
        "spend": totals.spend,
        "tokens_in": totals.tokens_in,
        "tokens_out": totals.tokens_out,
        "errors": totals.errors,
        "error_rate": totals.error_rate,
        "cache_hits": totals.cache_hits,
        "p50_ms": totals.p50_ms,
        "p95_ms": totals.p95_ms,
        "latency_approximate": totals.latency_approximate,
    }


def _row_json(row: BreakdownRow) -> dict[str, Any]:
    return {
        "name": row.label,
        "id": row.key,
        "requests": row.requests,
        "spend": row.spend,
        "tokens_in": row.tokens_in,
        "tokens_out": row.tokens_out,
        "errors": row.errors,
        "error_rate": row.error_rate,
        "cache_hits": row.cache_hits,
    }


def _log_json(row: RequestLogRow) -> dict[str, Any]:
    return {
        "start": row.start.isoformat(),
        "request_id": row.request_id,
        "model": row.model,
        "key": row.key_label,
        "user": row.user,
        "team": row.team,
        "spend": row.spend,
        "tokens_in": row.tokens_in,
        "tokens_out": row.tokens_out,
        "latency_ms": row.latency_ms,
        "failed": row.failed,
        "cache_hit": row.cache_hit,
    }


def cursor_text(cursor: LogCursor) -> str:
    """A cursor as one shell-safe token: `<startTime ISO>|<request_id>`."""
    return f"{cursor.start_time.isoformat()}|{cursor.request_id}"


def _cursor(text: str) -> LogCursor:
    from .ops.usage import LogCursor

    moment, sep, request_id = text.partition("|")
    try:
        start = datetime.fromisoformat(moment)
    except ValueError:
        start = None
    if not sep or not request_id or start is None or start.tzinfo is not None:
        raise CliError(f"--after wants a cursor printed by a previous page, not {text!r}", 2)
    return LogCursor(start, request_id)


# --- the commands ---------------------------------------------------------------------------------


def cmd_summary(args: argparse.Namespace, out: Output) -> int:
    """Totals (spend, requests, tokens, errors, cache hits, p50/p95) and spend per day."""
    from .ops.usage import totals_csv, usage_report

    window = usage_range(args)
    as_csv = _csv_mode(args, out)
    with connected(args, out) as connection:
        report = usage_report(
            connection.target.master_engine,
            window,
            top=0,
            rollup_schema=connection.master.schema,
        )
    totals = report.totals
    if as_csv:
        return _emit_csv(totals_csv(totals, window))
    per_day = report.spend_per_day
    out.payload.update(
        range=_range_json(window),
        totals=_totals_json(totals),
        spend_per_day=[
            {
                "day": day.isoformat(),
                "spend": per_day.day_total(i),
                "by_model": {s.model: s.spend[i] for s in per_day.series if s.spend[i]},
            }
            for i, day in enumerate(per_day.days)
        ],
    )
    out.say(window.describe())
    out.say(
        f"spend {totals.spend:.4f}  requests {totals.requests}  "
        f"tokens in {totals.tokens_in} / out {totals.tokens_out}"
    )
    about = "~" if totals.latency_approximate else ""  # within 1 %, from the rollup
    latency = (
        f"p50 {about}{totals.p50_ms:.0f} ms  p95 {about}{totals.p95_ms:.0f} ms"
        if totals.p50_ms is not None and totals.p95_ms is not None
        else "latency -"
    )
    out.say(
        f"errors {totals.errors} ({totals.error_rate:.2%})  cache hits {totals.cache_hits}  "
        f"{latency}"
    )
    for i, day in enumerate(per_day.days):
        out.say(f"  {day.isoformat()}  {per_day.day_total(i):.4f}")
    return out.finish(EXIT_OK)


def cmd_breakdown(args: argparse.Namespace, out: Output) -> int:
    """One breakdown table, sorted, top N."""
    from .ops.usage import Dimension, SortBy, breakdown, breakdown_csv

    window = usage_range(args)
    as_csv = _csv_mode(args, out)
    if args.limit < 0:
        raise CliError("--limit must be 0 (all) or more", EXIT_USAGE)
    by = Dimension(args.by)
    with connected(args, out) as connection:
        rows = breakdown(
            connection.target.master_engine,
            window,
            by,
            sort=SortBy(args.sort),
            limit=args.limit or None,
            rollup_schema=connection.master.schema,
        )
    if as_csv:
        return _emit_csv(breakdown_csv(rows))
    out.payload.update(range=_range_json(window), by=by.value, rows=[_row_json(r) for r in rows])
    out.say(f"{window.describe()}, by {by.value}, sorted by {args.sort}")
    for row in rows:
        out.say(
            f"  {row.label:<32} {row.spend:>12.4f}  {row.requests:>8} req  "
            f"{row.error_rate:>6.1%} err  {row.cache_hits:>6} hits"
        )
    return out.finish(EXIT_OK)


def cmd_logs(args: argparse.Namespace, out: Output) -> int:
    """One page of the request log (keyset paging: pass --after NEXT_CURSOR for the next)."""
    from .ops.usage import Dimension, LogFilter, request_log, request_log_csv

    window = usage_range(args)
    as_csv = _csv_mode(args, out)
    if (args.by is None) != (args.value is None):
        raise CliError("--by and --id go together", EXIT_USAGE)
    if args.limit < 1:
        raise CliError("--limit must be 1 or more", EXIT_USAGE)
    filters = LogFilter(
        Dimension(args.by) if args.by else None, args.value, failures_only=args.failures
    )
    after = _cursor(args.after) if args.after else None
    with connected(args, out) as connection:
        page = request_log(
            connection.target.master_engine, window, filters, after=after, limit=args.limit
        )
    next_cursor = cursor_text(page.next_cursor) if page.next_cursor else None
    if as_csv:
        if next_cursor:
            print(f"next page: --after '{next_cursor}'", file=sys.stderr, flush=True)
        return _emit_csv(request_log_csv(page.rows))
    out.payload.update(
        range=_range_json(window),
        rows=[_log_json(r) for r in page.rows],
        next_cursor=next_cursor,
    )
    out.say(window.describe())
    for r in page.rows:
        state = "FAIL" if r.failed else ("hit " if r.cache_hit else "ok  ")
        out.say(
            f"  {r.start:%Y-%m-%d %H:%M:%S}Z {state} {r.model:<24} {r.key_label:<20} "
            f"{r.spend:>10.5f}  {r.request_id}"
        )
    if next_cursor:
        out.say(f"more: --after '{next_cursor}'")
    return out.finish(EXIT_OK)
