"""The Usage page's service on a stack: read-only aggregate SQL on LiteLLM's tables, run as jobs
of the stack (`StackController.run`), answered on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from llmproxy_desktop.ui.job_runner import JobProgress
from llmproxy_desktop.ui.maintenance_services import StackRunner

if TYPE_CHECKING:
    from llmproxy_desktop.ops.stack_connection import StackConnection
    from llmproxy_desktop.ops.usage import (
        DashboardUsage,
        LogCursor,
        LogFilter,
        LogPage,
        UsageRange,
        UsageReport,
    )

__all__ = ["StackUsageService"]

OnError = Callable[[str], None]


class StackUsageService:
    """`UsageService` (ui/pages/usage.py) on whichever stack `runner` reaches."""

    def __init__(self, runner: StackRunner) -> None:
        self._runner = runner

    def load_report(
        self,
        usage_range: UsageRange,
        top: int,
        on_result: Callable[[UsageReport], None],
        on_error: OnError,
    ) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.usage import usage_report

            return usage_report(
                connection.target.master_engine,
                usage_range,
                top=top,
                rollup_schema=connection.master.schema,
            )

        self._runner.run("Read usage", run, _as(on_result), on_error)

    def load_log(
        self,
        usage_range: UsageRange,
        filters: LogFilter,
        after: LogCursor | None,
        limit: int,
        on_result: Callable[[LogPage], None],
        on_error: OnError,
    ) -> None:
        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.usage import request_log

            engine = connection.target.master_engine
            return request_log(engine, usage_range, filters, after=after, limit=limit)

        self._runner.run("Read request log", run, _as(on_result), on_error)

    def load_dashboard(
        self, now: datetime, on_result: Callable[[DashboardUsage], None], on_error: OnError
    ) -> None:
        """The Dashboard's usage cards (spend today / 7 d / 30 d, 24 h requests, top models)."""

        def run(connection: StackConnection, _p: JobProgress, _c: threading.Event) -> object:
            from llmproxy_desktop.ops.usage import dashboard_usage

            return dashboard_usage(
                connection.target.master_engine, now, rollup_schema=connection.master.schema
            )

        self._runner.run("Read usage summary", run, _as(on_result), on_error)


def _as(done: Callable[[Any], None]) -> Callable[[object], None]:
    """The runner hands results as `object`; the page's callback knows their type."""
    return done
