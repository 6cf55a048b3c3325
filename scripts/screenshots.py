"""Render the app offscreen into docs/screenshots/*.png, in light and dark.

Usage: .venv/bin/python scripts/screenshots.py [--out DIR] [--scale N] [--only NAME ...]

Uses Qt's offscreen platform (no display needed) and QWidget.grab(), so the images are the
widgets' own pixels at a fixed size, without window-manager decorations.

Every shot builds the real window: `MainWindow` plus the `StackWorkspace` that registers the
pages, over a scratch ProfileStore holding two stacks. Nothing connects (`start()` is never
called); instead the workspace is fed one synthetic but realistic `StackStatus`, the snapshot a
refresh of a connected stack hands every page. Shots: ``welcome`` (no stack yet), one per page
key, ``apply-progress`` (a finished Apply) and ``review`` (Review Changes); the two sheets are
grabbed on their own.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Qt and the app are imported only after the environment is set up
    from PySide6.QtWidgets import QWidget

    from llmproxy_desktop.core.items import EffectiveItem, Item
    from llmproxy_desktop.ops.apply import ApplyResult
    from llmproxy_desktop.ops.stack_status import StackStatus

REPO_ROOT = Path(__file__).resolve().parents[1]
STACKS = ("prod", "staging")
PAGE_KEYS = ("dashboard", "models", "keys", "routing", "caching", "advanced", "rendered")
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


def main(argv: list[str]) -> int:
    """Write one PNG per shot and colour scheme; print each path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (e.g. 2)")
    parser.add_argument("--only", nargs="*", help="shot names (welcome, page keys, sheets)")
    args = parser.parse_args(argv)

    # Before Qt is imported: offscreen rendering, and settings, stacks and known hosts that never
    # touch the user's own (QSettings and ProfileStore both follow XDG_CONFIG_HOME on Linux).
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
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
    status = _status(datetime.now(UTC))
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
        shown._feed(status)  # what a refresh of a connected stack hands the pages
        return shown

    def welcome() -> QWidget:
        return window(empty_store)

    def page(key: str) -> Callable[[], QWidget]:
        def make() -> QWidget:
            shown = workspace()
            shown.window.show_page(key)
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
