"""Render the app under Xvfb into docs/screenshots/*.png, in light and dark.

Usage: .venv/bin/python scripts/screenshots.py [--out DIR] [--scale N] [--only NAME ...]
                                               [--platform xvfb|offscreen]

Starts a private Xvfb server and shows real X11 windows through Qt's xcb platform (as on a
Linux desktop); `--platform offscreen` uses Qt's offscreen platform instead, with no X server.
QWidget.grab() takes the widgets' own pixels at a fixed size, without window-manager
decorations.

Every shot builds the real window: `MainWindow` plus the `StackWorkspace` that registers the
pages, over a scratch ProfileStore holding two stacks. Nothing connects (`start()` is never
called); instead the workspace is fed one synthetic but realistic `StackStatus`, the snapshot a
refresh of a connected stack hands every page. The Operations pages (and the Dashboard's usage
cards) read through services that need a connection; here the workspace's services are swapped
for small fakes answering at once with synthetic data: 30 days of traffic over six model groups,
12 virtual keys (some blocked or expired), a ~3 GB database and a tail of LiteLLM's log.
Shots: ``welcome`` (no stack yet), one per page key, ``apply-progress`` (a finished Apply) and
``review`` (Review Changes); the two sheets are grabbed on their own.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Qt and the app are imported only after the environment is set up
    from PySide6.QtWidgets import QWidget

    from llmproxy_desktop.core.items import EffectiveItem, Item
    from llmproxy_desktop.core.virtual_keys import KeyPage, VirtualKey
    from llmproxy_desktop.ops.apply import ApplyResult
    from llmproxy_desktop.ops.housekeeping import DatabaseStats, TrimPreview
    from llmproxy_desktop.ops.stack_status import StackStatus
    from llmproxy_desktop.ops.usage import (
        BreakdownRow,
        DashboardUsage,
        LogCursor,
        LogFilter,
        LogPage,
        UsageRange,
        UsageReport,
        UsageTotals,
    )

REPO_ROOT = Path(__file__).resolve().parents[1]
STACKS = ("prod", "staging")
PAGE_KEYS = (
    "dashboard",
    "models",
    "keys",
    "routing",
    "caching",
    "advanced",
    "rendered",
    "virtual-keys",
    "usage",
    "housekeeping",
    "logs",
)
SHEETS = ("apply-progress", "review")
SETTLE_SECONDS = 0.6
CONFIG_LOCATION = "/srv/llmproxy/config/config.yaml"

# (model group, provider model, how it authenticates, extra litellm_params)
_Deployment = tuple[str, str, str, dict[str, Any]]
DEPLOYMENTS: tuple[_Deployment, ...] = (
    ("gpt-4o", "openai/gpt-4o", "cred:openai-prod", {"rpm": 500}),
    ("gpt-4o", "azure/gpt-4o-eu", "cred:azure-westeurope", {"rpm": 300}),
    ("gpt-4o", "azure/gpt-4o-us", "cred:azure-westeurope", {"rpm": 300}),
    ("gpt-4o-mini", "openai/gpt-4o-mini", "cred:openai-prod", {"rpm": 2000}),
    ("gpt-4o-mini", "azure/gpt-4o-mini", "cred:azure-westeurope", {"rpm": 1000}),
    ("o3-mini", "openai/o3-mini", "cred:openai-prod", {}),
    ("claude-sonnet", "anthropic/claude-sonnet-4-20250514", "cred:anthropic-main", {}),
    (
        "claude-sonnet",
        "bedrock/anthropic.claude-sonnet-4-20250514-v1:0",
        "env:AWS",
        {"aws_region_name": "eu-central-1"},
    ),
    ("claude-haiku", "anthropic/claude-3-5-haiku-20241022", "cred:anthropic-main", {}),
    (
        "claude-haiku",
        "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0",
        "env:AWS",
        {"aws_region_name": "us-east-1"},
    ),
    ("text-embedding-3", "openai/text-embedding-3-large", "cred:openai-prod", {}),
    ("text-embedding-3", "azure/text-embedding-3-large", "cred:azure-westeurope", {}),
    ("llama-3.1-70b", "bedrock/meta.llama3-1-70b-instruct-v1:0", "env:AWS", {}),
    ("llama-3.1-70b", "ollama/llama3.1:70b", "none", {"api_base": "http://gpu-1:11434"}),
    ("llama-3.1-8b", "ollama/llama3.1:8b", "none", {"api_base": "http://gpu-1:11434"}),
    ("llama-3.1-8b", "ollama/llama3.1:8b", "none", {"api_base": "http://gpu-2:11434"}),
    ("qwen2.5-coder", "ollama/qwen2.5-coder:32b", "none", {"api_base": "http://gpu-2:11434"}),
    ("nova-pro", "bedrock/amazon.nova-pro-v1:0", "env:AWS", {"aws_region_name": "us-east-1"}),
    ("mistral-large", "bedrock/mistral.mistral-large-2407-v1:0", "env:AWS", {}),
    ("mistral-large", "azure/mistral-large-2411", "env:AZURE_AI_KEY", {}),
    ("gpt-4.1", "openai/gpt-4.1", "cred:openai-prod", {}),
    ("gpt-4.1", "azure/gpt-4.1", "cred:azure-westeurope", {}),
    ("llama2-13b", "ollama/llama2:13b", "none", {"api_base": "http://gpu-1:11434"}),
)
# Staged on top of the applied deployments above.
NEW_DEPLOYMENTS: tuple[_Deployment, ...] = (
    ("o4-mini", "openai/o4-mini", "cred:openai-prod", {}),
    ("o4-mini", "azure/o4-mini", "cred:azure-westeurope", {}),
)
CHANGED_GROUP = "gpt-4o-mini"  # its OpenAI deployment gets a higher rpm
DELETED_GROUP = "llama2-13b"

PASSTHROUGH = """\
# Kept by hand: keys the app does not model. Comments survive every Apply.
environment_variables:
  LANGFUSE_HOST: https://langfuse.example.net
callback_settings:
  otel:
    message_logging: false
"""


def _uuid(index: int) -> str:
    return f"7c0f{index:04x}-3b1e-4a52-9d6c-{index * 7919:012x}"


def _model(index: int, deployment: _Deployment) -> Item:
    from llmproxy_desktop.core.items import Item, ItemKind

    group, model, auth, extra = deployment
    params: dict[str, Any] = {"model": model, **extra}
    kind, _, value = auth.partition(":")
    if kind == "cred":
        params["litellm_credential_name"] = value
    elif value == "AWS":
        params["aws_access_key_id"] = "os.environ/AWS_ACCESS_KEY_ID"
        params["aws_secret_access_key"] = "os.environ/AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a reference
    elif kind == "env":
        params["api_key"] = f"os.environ/{value}"
        params["api_base"] = "https://mistral-large.westeurope.models.ai.azure.com"
    info = {"id": _uuid(index), "mode": "embedding" if "embedding" in model else "chat"}
    return Item(
        ItemKind.MODEL,
        _uuid(index),
        {"model_name": group, "litellm_params": params, "model_info": info},
    )


def _applied_items() -> list[Item]:
    from llmproxy_desktop.core.items import Item, ItemKind, Secret

    def credential(name: str, provider: str, values: dict[str, Any]) -> Item:
        data = {"credential_values": values, "credential_info": {"custom_llm_provider": provider}}
        return Item(ItemKind.CREDENTIAL, name, data)

    items = [_model(i, d) for i, d in enumerate(DEPLOYMENTS)]
    items += [
        credential("openai-prod", "openai", {"api_key": Secret("sk-proj-screenshot-0001")}),
        credential("anthropic-main", "anthropic", {"api_key": Secret("sk-ant-screenshot-0002")}),
        credential(
            "azure-westeurope",
            "azure",
            {
                "api_key": Secret("azure-screenshot-0003"),
                "api_base": "https://acme-westeurope.openai.azure.com",
                "api_version": "2025-01-01-preview",
            },
        ),
    ]
    router: dict[str, Any] = {
        "routing_strategy": "latency-based-routing",
        "num_retries": 2,
        "timeout": 120,
        "allowed_fails": 3,
        "cooldown_time": 30,
        "fallbacks": [
            {"gpt-4o": ["claude-sonnet", "gpt-4.1"]},
            {"claude-sonnet": ["gpt-4o"]},
            {"llama-3.1-70b": ["llama-3.1-8b"]},
        ],
        "context_window_fallbacks": [{"gpt-4o-mini": ["gpt-4.1"]}],
        "model_group_alias": {"gpt-4": "gpt-4o", "claude": "claude-sonnet"},
    }
    items += [Item(ItemKind.ROUTER_SETTING, k, v) for k, v in router.items()]
    litellm: dict[str, Any] = {
        "drop_params": True,
        "cache": True,
        "cache_params": {
            "type": "redis",
            "host": "os.environ/REDIS_HOST",
            "port": "os.environ/REDIS_PORT",
            "password": "os.environ/REDIS_PASSWORD",
            "ttl": 600,
        },
    }
    items += [Item(ItemKind.LITELLM_SETTING, k, v) for k, v in litellm.items()]
    general: dict[str, Any] = {
        "master_key": "os.environ/LITELLM_MASTER_KEY",
        "database_url": "os.environ/DATABASE_URL",
        "store_model_in_db": False,
    }
    items += [Item(ItemKind.GENERAL_SETTING, k, v) for k, v in general.items()]
    items.append(Item(ItemKind.PASSTHROUGH, "_", PASSTHROUGH))
    return items


def _effective(applied: list[Item]) -> list[EffectiveItem]:
    from llmproxy_desktop.core.items import Flag, Item, ItemKind, effective_view, model_group

    staged: list[tuple[Item, Flag]] = [
        (_model(len(DEPLOYMENTS) + i, d), Flag.NEW) for i, d in enumerate(NEW_DEPLOYMENTS)
    ]
    for item in applied:
        if item.kind is not ItemKind.MODEL:
            continue
        if model_group(item) == DELETED_GROUP:
            staged.append((item, Flag.DELETED))
        elif model_group(item) == CHANGED_GROUP and item.data["litellm_params"].get("rpm") == 2000:
            params = {**item.data["litellm_params"], "rpm": 5000, "tpm": 2_000_000}
            staged.append(
                (Item(item.kind, item.name, {**item.data, "litellm_params": params}), Flag.CHANGED)
            )
    staged.append((Item(ItemKind.ROUTER_SETTING, "num_retries", 3), Flag.CHANGED))
    return effective_view(applied, staged)


def _status(now: datetime) -> StackStatus:
    from llmproxy_desktop.core.items import live_items, model_group
    from llmproxy_desktop.core.render import render
    from llmproxy_desktop.ops.drift_report import DriftReport, DriftState
    from llmproxy_desktop.ops.stack_status import StackStatus, VaultState
    from llmproxy_desktop.remote.container_state import (
        ContainerState,
        ContainerStatus,
        HealthStatus,
    )
    from llmproxy_desktop.remote.litellm_client import CacheStatus, Readiness
    from llmproxy_desktop.store import Actor, RevisionInfo

    applied = _applied_items()
    effective = _effective(applied)
    applied_text = render(applied, redact=True)
    # A hand edit on the server: someone raised the retries and left a note.
    remote = applied_text.replace("num_retries: 2", "num_retries: 5  # raised during incident")
    assert remote != applied_text
    diff = "".join(
        difflib.unified_diff(
            applied_text.splitlines(keepends=True),
            remote.splitlines(keepends=True),
            "revision 41",
            CONFIG_LOCATION,
        )
    )
    revision = RevisionInfo(
        id=41,
        created_at=now - timedelta(days=3, minutes=2),
        created_by=Actor("alice", "alice-mbp"),
        summary="3 models changed, fallbacks for llama-3.1-70b",
        rendered_sha256="9f2c4e1d7a3b" * 5 + "0a1b",
        item_count=len(applied),
    )
    drift = DriftReport(
        state=DriftState.EDITED_BY_HAND,
        location=CONFIG_LOCATION,
        file_sha256="4be1a0c95d2f" * 5 + "77e3",
        last_revision=revision,
        diff=diff,
        staged_count=sum(1 for e in effective if e.flag is not None),
    )
    served = sorted({g for i in applied if (g := model_group(i)) is not None})
    return StackStatus(
        stack=STACKS[0],
        effective=tuple(effective),
        applied=tuple(applied),
        staged_count=drift.staged_count,
        vault=VaultState.UNLOCKED,
        initialised=True,
        last_revision=revision,
        drift=drift,
        drift_error=None,
        readiness=Readiness(ready=True, status="healthy", db="connected", http_status=200),
        served_models=tuple(served),
        litellm_error=None,
        container=ContainerState(
            name="llmproxy-litellm-1",
            status=ContainerStatus.RUNNING,
            health=HealthStatus.HEALTHY,
            started_at=now - timedelta(days=3, hours=1),
            restart_count=0,
            exit_code=None,
            image="ghcr.io/berriai/litellm:main-v1.74.9-stable",
        ),
        container_error=None,
        cache=CacheStatus(healthy=True, cache_type="redis", detail="PONG"),
        cache_error=None,
        rendered_redacted=render(live_items(effective), redact=True),
        remote_redacted=remote,
        remote_error=None,
    )


def _apply_result(status: StackStatus) -> ApplyResult:
    from llmproxy_desktop.ops.apply import ApplyResult, Outcome, Step, StepResult

    served = len(status.served_models or ())
    details = {
        Step.LOCK: ("held by alice@alice-mbp", 0.04),
        Step.RENDER: ("29 items, no errors", 0.12),
        Step.UPLOAD: ("14 312 bytes read back equal", 0.38),
        Step.COMMIT: ("config.yaml replaced (mode 0600)", 0.06),
        Step.FOLD: ("revision 42", 0.09),
        Step.RESTART: ("restarted", 2.71),
        Step.VERIFY: (f"{served} model group(s) served", 6.48),
    }
    steps = tuple(StepResult(step, Outcome.OK, *details[step]) for step in Step)
    return ApplyResult(steps=steps, committed=True, revision_id=42)


# --- the Operations pages: synthetic usage, keys, database and log -----------------------------

# (model group, share of requests, dollars per request, tokens in, tokens out, share trend over
# the 30 days: gpt-4.1 is being adopted, gpt-4o slowly replaced)
_UsageModel = tuple[str, float, float, int, int, float]
USAGE_MODELS: tuple[_UsageModel, ...] = (
    ("gpt-4o", 0.22, 0.0112, 1850, 420, -0.35),
    ("claude-sonnet", 0.17, 0.0138, 2100, 510, 0.0),
    ("gpt-4o-mini", 0.29, 0.00071, 1400, 260, 0.0),
    ("gpt-4.1", 0.08, 0.0094, 1900, 380, 1.2),
    ("claude-haiku", 0.13, 0.0019, 1300, 240, 0.0),
    ("llama-3.1-70b", 0.11, 0.00082, 1600, 300, 0.0),
)
INCIDENT_DAYS_AGO = 9  # an Azure rate-limit afternoon: the error spike in the hour chart
CACHE_HIT_SHARE = 0.064

# (alias, models, spend, max budget, budget period, expires in days (None: never, < 0: expired),
# rpm, tpm, blocked, last active minutes ago (None: never), user, team)
_KeyRow = tuple[
    str,
    tuple[str, ...],
    float,
    float | None,
    str | None,
    int | None,
    int | None,
    int | None,
    bool,
    int | None,
    str,
    str,
]
KEYS: tuple[_KeyRow, ...] = (
    (
        "support-bot-prod",
        ("gpt-4o-mini", "claude-haiku"),
        412.37,
        1000.0,
        "30d",
        None,
        600,
        400_000,
        False,
        1,
        "svc-support-bot",
        "support",
    ),
    (
        "ci-evals",
        ("gpt-4o", "claude-sonnet", "gpt-4.1"),
        188.02,
        250.0,
        "7d",
        60,
        120,
        None,
        False,
        42,
        "svc-ci",
        "platform",
    ),
    (
        "data-science",
        (),
        1284.55,
        2500.0,
        "30d",
        None,
        None,
        None,
        False,
        3,
        "maria@acme.example",
        "data-science",
    ),
    (
        "mobile-app-ios",
        ("gpt-4o-mini",),
        96.40,
        300.0,
        "30d",
        180,
        1000,
        1_000_000,
        False,
        2,
        "svc-mobile",
        "mobile",
    ),
    (
        "qa-loadtest",
        ("gpt-4o-mini", "llama-3.1-8b"),
        19.75,
        20.0,
        "1d",
        14,
        3000,
        None,
        True,
        2900,
        "svc-qa",
        "platform",
    ),
    (
        "search-reranker",
        ("text-embedding-3", "llama-3.1-8b"),
        12.88,
        None,
        None,
        None,
        2000,
        None,
        False,
        1,
        "svc-search",
        "platform",
    ),
    (
        "marketing-copy",
        ("claude-sonnet", "gpt-4o"),
        233.71,
        400.0,
        "30d",
        None,
        60,
        None,
        False,
        95,
        "jonas@acme.example",
        "marketing",
    ),
    (
        "hackathon-2026",
        ("gpt-4o", "claude-sonnet"),
        41.23,
        50.0,
        None,
        -12,
        30,
        None,
        False,
        17_500,
        "tom@acme.example",
        "platform",
    ),
    (
        "contractor-acme",
        ("gpt-4o",),
        74.10,
        100.0,
        "30d",
        30,
        60,
        None,
        True,
        8_700,
        "ext-acme",
        "",
    ),
    (
        "analytics-etl",
        ("gpt-4o-mini", "llama-3.1-70b"),
        57.90,
        None,
        None,
        None,
        300,
        2_000_000,
        False,
        7,
        "svc-etl",
        "data-science",
    ),
    ("alice-dev", (), 8.42, 25.0, "7d", 90, 20, None, False, 180, "alice@acme.example", "platform"),
    (
        "legacy-crm-integration",
        ("gpt-4",),
        302.11,
        None,
        None,
        -40,
        None,
        None,
        False,
        58_000,
        "svc-crm",
        "sales",
    ),
)


def _rng(seed: int) -> random.Random:
    """Seeded, so every run draws the same figures (never used for anything secret)."""
    return random.Random(seed)  # noqa: S311


def _token(alias: str) -> str:
    return hashlib.sha256(alias.encode()).hexdigest()


def _key_page(now: datetime) -> KeyPage:
    from llmproxy_desktop.core.virtual_keys import KeyPage, VirtualKey

    keys: list[VirtualKey] = []
    for index, row in enumerate(KEYS):
        alias, models, spend, budget, period, expires, rpm, tpm, blocked, active, user, team = row
        token = _token(alias)
        created = now - timedelta(days=3 + index * 11, hours=index * 5)
        keys.append(
            VirtualKey(
                token=token,
                key_name=f"sk-...{token[-4:]}",
                alias=alias,
                models=models,
                spend=spend,
                max_budget=budget,
                budget_duration=period,
                budget_reset_at=None if period is None else now + timedelta(days=2 + index % 5),
                expires=None if expires is None else now + timedelta(days=expires),
                rpm_limit=rpm,
                tpm_limit=tpm,
                blocked=blocked,
                last_active=None if active is None else now - timedelta(minutes=active),
                created_at=created,
                user_id=user,
                team_id=team or None,
            )
        )
    return KeyPage(keys=tuple(keys), total_count=len(keys), page=1, total_pages=1)


class _Traffic:
    """Requests of the last 30 local days by hour and model, with a weekday rhythm, a slow shift
    from gpt-4o to gpt-4.1 and one incident afternoon; deterministic."""

    def __init__(self, now: datetime, zone: tzinfo) -> None:
        from llmproxy_desktop.ops.usage import Preset, UsageRange

        self.range = UsageRange.of_preset(Preset.LAST_30D, now, zone)
        rng = _rng(4711)
        hours = self.range.hours()
        first_day = self.range.days()[0]
        self.hours = hours
        self.requests: list[int] = []
        self.errors: list[int] = []
        # per hour: model -> (requests, spend, tokens in, tokens out)
        self.by_model: list[dict[str, tuple[int, float, int, int]]] = []
        day_noise = {(d, m[0]): rng.uniform(0.8, 1.2) for d in range(31) for m in USAGE_MODELS}
        incident = now.astimezone(zone).date() - timedelta(days=INCIDENT_DAYS_AGO)
        for hour in hours:
            local = hour.astimezone(zone)
            day = (local.date() - first_day).days
            office = 1.0 if 8 <= local.hour < 18 else 0.55 if 18 <= local.hour < 22 else 0.12
            weekday = 1.0 if local.weekday() < 5 else 0.3
            total = max(5, round(820 * office * weekday * rng.uniform(0.85, 1.15)))
            failing = 0.17 if local.date() == incident and 13 <= local.hour < 16 else 0.011
            self.requests.append(total)
            self.errors.append(round(total * failing * rng.uniform(0.6, 1.4)))
            shares = [m[1] * (1 + m[5] * (day / 30 - 0.5)) for m in USAGE_MODELS]
            whole = sum(shares)
            cells: dict[str, tuple[int, float, int, int]] = {}
            for (name, _share, cost, t_in, t_out, _trend), share in zip(
                USAGE_MODELS, shares, strict=True
            ):
                count = round(total * share / whole)
                noise = day_noise[(day, name)]
                cells[name] = (count, count * cost * noise, count * t_in, count * t_out)
            self.by_model.append(cells)

    def model_rows(self, since: datetime) -> list[BreakdownRow]:
        from llmproxy_desktop.ops.usage import BreakdownRow

        rows = []
        for name, *_rest in USAGE_MODELS:
            requests = spend = tokens_in = tokens_out = errors = 0.0
            for hour, cells, total, failed in zip(
                self.hours, self.by_model, self.requests, self.errors, strict=True
            ):
                if hour >= since:
                    count, dollars, t_in, t_out = cells[name]
                    requests += count
                    spend += dollars
                    tokens_in += t_in
                    tokens_out += t_out
                    errors += failed * count / total
            rows.append(
                BreakdownRow(
                    name,
                    name,
                    int(requests),
                    spend,
                    int(tokens_in),
                    int(tokens_out),
                    round(errors),
                    round(requests * CACHE_HIT_SHARE),
                )
            )
        return sorted(rows, key=lambda r: -r.spend)

    def report(self) -> UsageReport:
        from llmproxy_desktop.ops.usage import (
            Dimension,
            ModelSeries,
            RequestsPerHour,
            SpendPerDay,
            UsageReport,
            UsageTotals,
        )

        models = self.model_rows(self.range.start)
        days = self.range.days()
        series = []
        for row in models:
            per_day = dict.fromkeys(days, 0.0)
            for hour, cells in zip(self.hours, self.by_model, strict=True):
                per_day[hour.astimezone(self.range.zone).date()] += cells[row.key][1]
            series.append(ModelSeries(row.key, tuple(per_day[d] for d in days)))
        totals = UsageTotals(
            requests=sum(r.requests for r in models),
            spend=sum(r.spend for r in models),
            tokens_in=sum(r.tokens_in for r in models),
            tokens_out=sum(r.tokens_out for r in models),
            errors=sum(r.errors for r in models),
            cache_hits=sum(r.cache_hits for r in models),
            p50_ms=1240.0,
            p95_ms=6850.0,
        )
        return UsageReport(
            range=self.range,
            totals=totals,
            spend_per_day=SpendPerDay(tuple(days), tuple(series)),
            per_hour=RequestsPerHour(tuple(self.hours), tuple(self.requests), tuple(self.errors)),
            breakdowns={
                Dimension.MODEL: tuple(models),
                Dimension.KEY: _split(totals, [(_token(k[0]), k[0], k[2]) for k in KEYS]),
                Dimension.USER: _split(totals, _people(10)),
                Dimension.TEAM: _split(totals, _people(11)),
            },
        )

    def dashboard(self, now: datetime) -> DashboardUsage:
        from llmproxy_desktop.ops.usage import DashboardUsage

        local = now.astimezone(self.range.zone)
        today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week = self.model_rows(today - timedelta(days=6))
        since_24h = now - timedelta(hours=24)
        recent = [i for i, h in enumerate(self.hours) if h >= since_24h]
        return DashboardUsage(
            spend_today=sum(r.spend for r in self.model_rows(today)),
            spend_7d=sum(r.spend for r in week),
            spend_30d=sum(r.spend for r in self.model_rows(self.range.start)),
            requests_24h=sum(self.requests[i] for i in recent),
            errors_24h=sum(self.errors[i] for i in recent),
            top_models=tuple(week[:5]),
            zone_name=self.range.zone_name,
        )


def _people(column: int) -> list[tuple[str, str, float]]:
    """(key, label, weight) per user (column 10 of KEYS) or team (column 11), weighted by the
    spend of their keys."""
    weights: dict[str, float] = {}
    for row in KEYS:
        name = str(row[column])
        weights[name] = weights.get(name, 0.0) + float(row[2])
    return [(name, name or "(no team)", weight) for name, weight in weights.items()]


def _split(totals: UsageTotals, parts: list[tuple[str, str, float]]) -> tuple[BreakdownRow, ...]:
    """`totals` shared out over `parts` by weight (with some noise), largest spend first."""
    from llmproxy_desktop.ops.usage import BreakdownRow

    rng = _rng(len(parts))
    whole = sum(weight for _key, _label, weight in parts)
    rows = []
    for key, label, weight in parts:
        share = weight / whole
        tilt = rng.uniform(0.7, 1.4)  # cheap and expensive callers
        requests = round(totals.requests * share * tilt)
        rows.append(
            BreakdownRow(
                key,
                label,
                requests,
                totals.spend * share,
                round(totals.tokens_in * share * tilt),
                round(totals.tokens_out * share * tilt),
                round(totals.errors * share * rng.uniform(0.3, 2.0)),
                round(requests * CACHE_HIT_SHARE * rng.uniform(0.2, 2.5)),
            )
        )
    return tuple(sorted(rows, key=lambda r: -r.spend))


def _request_log(now: datetime, filters: LogFilter) -> LogPage:
    """The newest 50 requests (under a breakdown row's filter), one every few seconds."""
    from llmproxy_desktop.ops.usage import Dimension, LogCursor, LogPage, RequestLogRow

    rng = _rng(99)
    rows: list[RequestLogRow] = []
    moment = now - timedelta(seconds=4)
    weights = [m[1] for m in USAGE_MODELS]
    keys = [k for k in KEYS if not k[8] and (k[5] is None or k[5] > 0)]
    while len(rows) < 50:
        moment -= timedelta(seconds=rng.uniform(0.2, 9.0))
        name, _share, cost, t_in, t_out, _trend = rng.choices(USAGE_MODELS, weights)[0]
        key = rng.choice(keys)
        wanted = {
            None: True,
            Dimension.MODEL: name == filters.key,
            Dimension.KEY: _token(key[0]) == filters.key,
            Dimension.USER: key[10] == filters.key,
            Dimension.TEAM: key[11] == filters.key,
        }[filters.dimension]
        if not wanted:
            continue
        failed = rng.random() < 0.02
        hit = not failed and rng.random() < CACHE_HIT_SHARE
        tokens_in = round(t_in * rng.uniform(0.2, 2.2))
        tokens_out = 0 if failed else round(t_out * rng.uniform(0.1, 2.5))
        rows.append(
            RequestLogRow(
                request_id=f"chatcmpl-{rng.getrandbits(96):024x}",
                start=moment.astimezone(UTC),
                model=name,
                key_label=key[0],
                user=key[10],
                team=key[11],
                spend=0.0 if failed or hit else cost * rng.uniform(0.3, 2.0),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                latency_ms=None if failed else (12.0 if hit else rng.lognormvariate(7.1, 0.6)),
                failed=failed,
                cache_hit=hit,
            )
        )
    last = rows[-1]
    cursor = LogCursor(last.start.replace(tzinfo=None), last.request_id)
    return LogPage(tuple(rows), cursor)


_GB = 1024**3
_MB = 1024**2
# (schema, table, bytes, estimated rows): LiteLLM's database a year and a bit in.
TABLES: tuple[tuple[str, str, int, int | None], ...] = (
    ("public", "LiteLLM_SpendLogs", int(2.41 * _GB), 4_182_355),
    ("public", "LiteLLM_ErrorLogs", 214 * _MB, 61_904),
    ("llmproxy", "usage_hours", 118 * _MB, 402_118),
    ("public", "LiteLLM_DailyUserSpend", 96 * _MB, 288_410),
    ("public", "LiteLLM_DailyTeamSpend", 41 * _MB, 96_220),
    ("public", "LiteLLM_AuditLog", 23 * _MB, 18_771),
    ("public", "LiteLLM_DailyTagSpend", 17 * _MB, 40_315),
    ("llmproxy", "revisions", 6 * _MB, 412),
    ("public", "LiteLLM_VerificationToken", 1 * _MB, 214),
    ("public", "LiteLLM_UserTable", 344 * 1024, 87),
)


def _database_stats(now: datetime) -> DatabaseStats:
    from llmproxy_desktop.ops.housekeeping import DatabaseStats, TableSize

    tables = tuple(TableSize(schema, name, size, rows) for schema, name, size, rows in TABLES)
    naive = now.astimezone(UTC).replace(tzinfo=None)
    return DatabaseStats(
        database="litellm",
        database_bytes=sum(t.total_bytes for t in tables) + 312 * _MB,
        tables=tables,
        spend_logs_oldest=naive - timedelta(days=431, hours=7, minutes=13),
        spend_logs_newest=naive - timedelta(seconds=2),
    )


LOG_TAIL = """\
INFO:     Started server process [1]
INFO:     Waiting for application startup.
{t0} - LiteLLM Proxy:INFO: proxy_server.py:1964 - Loaded config YAML (api_key and environment \
variables are not shown)
{t0} - LiteLLM Router:INFO: router.py:694 - Routing strategy: latency-based-routing
{t0} - LiteLLM Proxy:INFO: proxy_server.py:3561 - Prisma client connected; spend logs enabled
{t0} - LiteLLM:INFO: caching_handler.py:212 - Redis cache enabled (redis:6379)
INFO:     Application startup complete.
INFO:     Uvicorn running on http://0.0.0.0:4000 (Press CTRL+C to quit)
{t1} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=openai/gpt-4o-mini) 200 OK
INFO:     172.19.0.1:50412 - "POST /v1/chat/completions HTTP/1.1" 200 OK
{t1} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=anthropic/\
claude-sonnet-4-20250514) 200 OK
INFO:     172.19.0.1:50418 - "POST /v1/chat/completions HTTP/1.1" 200 OK
{t2} - LiteLLM Router:INFO: router.py:1221 - litellm.aembedding(model=azure/\
text-embedding-3-large) 200 OK
INFO:     172.19.0.1:50420 - "POST /v1/embeddings HTTP/1.1" 200 OK
{t2} - LiteLLM Router:INFO: router.py:1237 - litellm.acompletion(model=azure/gpt-4o-eu) Exception \
litellm.RateLimitError: AzureException RateLimitError - Requests to the ChatCompletions_Create \
Operation under Azure OpenAI API version 2025-01-01-preview have exceeded token rate limit of your \
current OpenAI S0 pricing tier. Please retry after 6 seconds.
{t2} - LiteLLM Router:INFO: cooldown_handlers.py:273 - Deployment azure/gpt-4o-eu put in \
cooldown for 30 s (429 RateLimitError)
{t2} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=openai/gpt-4o) 200 OK
INFO:     172.19.0.1:50424 - "POST /v1/chat/completions HTTP/1.1" 200 OK
INFO:     172.19.0.1:50430 - "GET /health/readiness HTTP/1.1" 200 OK
{t3} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=ollama/llama3.1:70b) 200 OK
INFO:     172.19.0.1:50436 - "POST /v1/chat/completions HTTP/1.1" 200 OK
{t3} - LiteLLM Proxy:WARNING: auth_checks.py:771 - Key=sk-...{qa} has exceeded its budget: \
spend 19.75 > max_budget 20.0
INFO:     172.19.0.1:50440 - "POST /v1/chat/completions HTTP/1.1" 400 Bad Request
{t3} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=bedrock/anthropic.\
claude-3-5-haiku-20241022-v1:0) 200 OK
INFO:     172.19.0.1:50444 - "POST /v1/chat/completions HTTP/1.1" 200 OK
{t4} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=openai/gpt-4.1) 200 OK
INFO:     172.19.0.1:50452 - "POST /v1/chat/completions HTTP/1.1" 200 OK
{t4} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=openai/gpt-4o-mini) 200 OK
INFO:     172.19.0.1:50458 - "POST /v1/chat/completions HTTP/1.1" 200 OK
{t4} - LiteLLM Proxy:INFO: spend_tracking_utils.py:412 - Wrote 128 spend logs in 0.04 s
{t5} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=azure/gpt-4o-us) 200 OK
INFO:     172.19.0.1:50462 - "POST /v1/chat/completions HTTP/1.1" 200 OK
INFO:     172.19.0.1:50466 - "GET /health/liveliness HTTP/1.1" 200 OK
{t5} - LiteLLM Router:INFO: router.py:1221 - litellm.acompletion(model=openai/gpt-4o) 200 OK
INFO:     172.19.0.1:50470 - "POST /v1/chat/completions HTTP/1.1" 200 OK
"""
LOG_SEARCH = "gpt-4o"  # typed into the search field: its matches are highlighted


def _log_lines(now: datetime) -> list[str]:
    stamps = {f"t{n}": f"{now - timedelta(seconds=50 - n * 9):%H:%M:%S}" for n in range(6)}
    return LOG_TAIL.format(qa=_token("qa-loadtest")[-4:], **stamps).splitlines()


class _FakeKeys:
    """The Virtual Keys page's service: the 12 keys, on one page."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def list_page(self, page: int, search: str, done: Any, failed: Any) -> None:
        done(_key_page(self._now))


class _FakeUsage:
    """The Usage page's and the Dashboard cards' service, over one `_Traffic`."""

    def __init__(self, now: datetime) -> None:
        from llmproxy_desktop.ops.usage import local_zone

        self._now = now
        self._traffic = _Traffic(now, local_zone())

    def load_report(self, usage_range: UsageRange, top: int, on_result: Any, on_error: Any) -> None:
        on_result(self._traffic.report())

    def load_log(
        self,
        usage_range: UsageRange,
        filters: LogFilter,
        after: LogCursor | None,
        limit: int,
        on_result: Any,
        on_error: Any,
    ) -> None:
        on_result(_request_log(self._now, filters))

    def load_dashboard(self, now: datetime, on_result: Any, on_error: Any) -> None:
        on_result(self._traffic.dashboard(self._now))


class _FakeHousekeeping:
    """The Housekeeping page's service: the database as read, and a count for 90 days."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def load_stats(self, on_result: Any, on_error: Any) -> None:
        on_result(_database_stats(self._now))

    def preview_trim(self, older_than_days: int, on_result: Any, on_error: Any) -> None:
        from llmproxy_desktop.ops.housekeeping import TrimPreview

        cutoff = self._now.astimezone(UTC).replace(tzinfo=None) - timedelta(days=older_than_days)
        on_result(TrimPreview(older_than_days, cutoff, 3_214_870, True, 0.8))

    def trim(self, preview: TrimPreview, on_progress: Any, on_result: Any, on_error: Any) -> None:
        on_error("screenshots do not trim")

    def cancel_trim(self) -> None:
        pass


class _FakeLogs:
    """The Logs page's service: the tail of a LiteLLM log that then stays quiet."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def start_follow(self, tail: int, on_lines: Any, on_end: Any) -> None:
        on_lines(_log_lines(self._now)[-tail:])

    def stop_follow(self) -> None:
        pass


@contextlib.contextmanager
def _display(platform: str) -> Iterator[None]:
    """Qt's platform for the shots. "xvfb": a private Xvfb server and Qt's xcb platform, so the
    windows are real X11 windows drawn as on a Linux desktop; "offscreen": no X server at all."""
    if platform == "offscreen":
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        yield
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("Xvfb not found: apt-get install xvfb, or use --platform offscreen")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:  # Xvfb writes its display number when ready
            display = announced.readline().strip()
        if not display:
            raise SystemExit(f"Xvfb exited with {server.wait()} before it was ready")
        os.environ["DISPLAY"] = f":{display}"
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        yield
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str]) -> int:
    """Write one PNG per shot and colour scheme; print each path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (e.g. 2)")
    parser.add_argument("--only", nargs="*", help="shot names (welcome, page keys, sheets)")
    parser.add_argument(
        "--platform",
        choices=("xvfb", "offscreen"),
        default="xvfb",
        help="xvfb (default): real X11 windows on a private Xvfb display; offscreen: Qt's "
        "offscreen platform, no X server",
    )
    args = parser.parse_args(argv)
    with _display(args.platform):
        return _render(args)


def _render(args: argparse.Namespace) -> int:
    """The shots, once the platform is set up."""
    # Before Qt is imported: settings, stacks and known hosts that never touch the user's own
    # (QSettings and ProfileStore both follow XDG_CONFIG_HOME on Linux).
    os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    scratch = Path(tempfile.mkdtemp(prefix="llmproxy-screenshots-"))
    os.environ["XDG_CONFIG_HOME"] = str(scratch)

    from PySide6.QtCore import QEventLoop, QSettings, Qt

    from llmproxy_desktop.core.diff import diff_items, unified_config_diff
    from llmproxy_desktop.core.items import item_label
    from llmproxy_desktop.core.validate import validate_items
    from llmproxy_desktop.ops.apply import Step
    from llmproxy_desktop.remote.host_keys import HostKeyStore
    from llmproxy_desktop.remote.profiles import StackProfile
    from llmproxy_desktop.remote.profiles_store import ProfileStore
    from llmproxy_desktop.ui.app import create_application
    from llmproxy_desktop.ui.connection_indicator import ConnectionState
    from llmproxy_desktop.ui.job_runner import JobRunner
    from llmproxy_desktop.ui.main_window import DEFAULT_SIZE, MainWindow
    from llmproxy_desktop.ui.sheets.apply_progress_sheet import ApplyProgressSheet
    from llmproxy_desktop.ui.sheets.review_sheet import ReviewChangesSheet
    from llmproxy_desktop.ui.stack_workspace import StackWorkspace
    from llmproxy_desktop.ui.theme import ThemeController

    app = create_application()
    theme = ThemeController(app)
    runner = JobRunner()
    host_keys = HostKeyStore(scratch / "app_known_hosts", scratch / "user_known_hosts")
    empty_store = ProfileStore(scratch / "empty" / "stacks.json")
    stacks_store = ProfileStore(scratch / "stacks" / "stacks.json")
    for name in STACKS:
        stacks_store.add(StackProfile(name=name, host=f"{name}.example.net", compose_dir="/srv"))
    now = datetime.now(UTC)
    status = _status(now)
    effective = list(status.effective or ())
    applied = list(status.applied or ())

    def window(store: ProfileStore) -> MainWindow:
        settings = QSettings(str(scratch / "screenshots.ini"), QSettings.Format.IniFormat)
        settings.clear()  # every shot starts as a first run: no remembered page or geometry
        return MainWindow(settings, profile_store=store)

    def workspace() -> StackWorkspace:
        shown = StackWorkspace(
            window(stacks_store), runner, profile_store=stacks_store, host_keys=host_keys
        )
        shown.window.connection_indicator.set_state(ConnectionState.CONNECTED)
        # No stack is connected: the pages that read on demand get fakes that answer at once.
        usage = _FakeUsage(now)
        shown.usage_service = usage  # type: ignore[assignment]
        shown.usage_page._service = usage
        shown.virtual_keys_page._service = _FakeKeys(now)  # type: ignore[assignment]
        shown.housekeeping_page._service = _FakeHousekeeping(now)
        shown.logs_page._service = _FakeLogs(now)
        shown._feed(status)  # what a refresh of a connected stack hands the pages
        return shown

    def welcome() -> QWidget:
        return window(empty_store)

    def page(key: str) -> Callable[[], QWidget]:
        def make() -> QWidget:
            shown = workspace()
            shown.window.show_page(key)
            # What showing the page asks of a connected stack (the Logs page follows by itself).
            if key == "virtual-keys":
                shown.virtual_keys_page.reload()
            elif key == "usage":
                shown.usage_page.refresh()
            elif key == "housekeeping":
                shown.housekeeping_page.refresh()
                shown.housekeeping_page.preview()
            elif key == "logs":
                shown.logs_page.search_field.setText(LOG_SEARCH)
            return shown.window

        return make

    def apply_progress() -> QWidget:
        sheet = ApplyProgressSheet(workspace().window)
        for step, fraction, message in (
            (Step.LOCK, 0.0, "taking the stack's Apply lock"),
            (Step.RENDER, 1 / 7, "rendering the effective configuration"),
            (Step.UPLOAD, 2 / 7, f"writing a temp file beside {CONFIG_LOCATION}"),
        ):
            sheet.on_progress(step.value, fraction, message)
        sheet.on_finished(_apply_result(status))
        return sheet

    def review() -> QWidget:
        sheet = ReviewChangesSheet(
            diff_items(applied, effective),
            {e.item.key: item_label(e.item) for e in effective},
            unified_config_diff(applied, effective),
            validate_items(effective),
            workspace().window,
        )
        sheet.changes_tree.expandAll()
        return sheet

    def settle() -> None:
        """Let the palette change, the layouts and the pages' debounced checks (a few hundred
        ms) run before grabbing, as they would have on screen."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    shots: dict[str, Callable[[], QWidget]] = {"welcome": welcome}
    shots.update({key: page(key) for key in PAGE_KEYS})
    shots.update({"apply-progress": apply_progress, "review": review})
    if args.only:
        shots = {name: make for name, make in shots.items() if name in args.only}
    schemes = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}

    args.out.mkdir(parents=True, exist_ok=True)
    if not args.only:  # a shot that no longer exists leaves no stale image behind
        wanted = {f"{name}-{scheme}.png" for name in shots for scheme in schemes}
        for stale in args.out.glob("*.png"):
            if stale.name not in wanted:
                stale.unlink()
    for scheme_name, scheme in schemes.items():
        theme.apply(scheme)
        for shot_name, make_shot in shots.items():
            widget = make_shot()
            if shot_name not in SHEETS:
                widget.resize(*DEFAULT_SIZE)  # what a first run opens with
            widget.show()
            settle()
            path = args.out / f"{shot_name}-{scheme_name}.png"
            if not widget.grab().save(str(path)):
                print(f"error: could not write {path}", file=sys.stderr)
                return 1
            print(path)
            top = widget.window() if widget.parentWidget() is None else widget.parentWidget()
            widget.close()
            if top is not None and top is not widget:
                top.window().close()
                top.window().deleteLater()
            widget.deleteLater()
    theme.stop()
    runner.shutdown(5_000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
