"""Real plain data for the Apply bar and its sheets' tests: items with vault secrets, their
per-item changes and config diff (core.diff), findings, Apply results, revisions, drift reports.

Everything is built with the same functions and dataclasses the app uses; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from llmproxy_desktop.core.diff import ItemChange, diff_items, unified_config_diff
from llmproxy_desktop.core.findings import Finding, Severity
from llmproxy_desktop.core.items import Flag, Item, ItemKey, ItemKind, Secret, effective_view
from llmproxy_desktop.ops.apply import ApplyResult, Outcome, Step, StepResult
from llmproxy_desktop.store import Actor, RevisionInfo

# Literals that must never reach the screen.
OLD_KEY = "sk-live-OLD-secret-1111"
NEW_KEY = "sk-live-NEW-secret-2222"
CREDENTIAL_KEY = "sk-ant-CRED-secret-3333"
SECRETS = (OLD_KEY, NEW_KEY, CREDENTIAL_KEY)

ALICE = Actor("alice", "laptop")


def _model(name: str, group: str, api_key: object, rpm: int = 10) -> Item:
    return Item(
        ItemKind.MODEL,
        name,
        {
            "model_name": group,
            "litellm_params": {"model": f"openai/{group}", "api_key": api_key, "rpm": rpm},
            "model_info": {"id": name},
        },
    )


APPLIED = (
    _model("id-gpt", "gpt-4o", Secret(OLD_KEY)),
    _model("id-old", "old-model", "os.environ/OLD_KEY"),
    Item(ItemKind.ROUTER_SETTING, "num_retries", 2),
)
STAGED = (
    (_model("id-gpt", "gpt-4o", Secret(NEW_KEY), rpm=20), Flag.CHANGED),
    (_model("id-old", "old-model", "os.environ/OLD_KEY"), Flag.DELETED),
    (
        Item(
            ItemKind.CREDENTIAL,
            "anthropic",
            {"credential_values": {"api_key": Secret(CREDENTIAL_KEY)}, "credential_info": {}},
        ),
        Flag.NEW,
    ),
    (Item(ItemKind.ROUTER_SETTING, "num_retries", 3), Flag.CHANGED),
)
EFFECTIVE = effective_view(APPLIED, STAGED)

GPT = ItemKey(ItemKind.MODEL, "id-gpt")
OLD = ItemKey(ItemKind.MODEL, "id-old")
CREDENTIAL = ItemKey(ItemKind.CREDENTIAL, "anthropic")
RETRIES = ItemKey(ItemKind.ROUTER_SETTING, "num_retries")
LABELS = {GPT: "gpt-4o", OLD: "old-model", CREDENTIAL: "anthropic (provider key)"}


def changes() -> list[ItemChange]:
    """The per-item changes of the staged items above."""
    return diff_items(APPLIED, EFFECTIVE)


def config_diff() -> str:
    """The unified diff of the rendered config (secrets as ***)."""
    return unified_config_diff(APPLIED, EFFECTIVE)


WARNING = Finding("model.no-pricing", Severity.WARNING, "model_list[0]", "No pricing is set.")
ERROR = Finding(
    "routing.strategy-invalid",
    Severity.ERROR,
    "router_settings.routing_strategy",
    "“fastest” is not a routing strategy.",
)


def steps(*outcomes: tuple[Step, Outcome, str]) -> tuple[StepResult, ...]:
    """StepResults for the given steps; every other step skipped."""
    given = {step: (outcome, detail) for step, outcome, detail in outcomes}
    return tuple(
        StepResult(step, *given.get(step, (Outcome.SKIPPED, "not reached")), 0.5) for step in Step
    )


def ok_result() -> ApplyResult:
    """A full Apply: revision 12, two groups served."""
    return ApplyResult(
        steps=steps(
            (Step.LOCK, Outcome.OK, "held by alice@laptop"),
            (Step.RENDER, Outcome.OK, "900 bytes, 0 warning(s)"),
            (Step.UPLOAD, Outcome.OK, "900 bytes read back equal"),
            (Step.COMMIT, Outcome.OK, "config.yaml replaced (mode 0600)"),
            (Step.FOLD, Outcome.OK, "revision 12"),
            (Step.RESTART, Outcome.OK, "restarted"),
            (Step.VERIFY, Outcome.OK, "2 model group(s) served"),
        ),
        committed=True,
        revision_id=12,
    )


def noop_result() -> ApplyResult:
    """An Apply whose render equals the file and nothing was staged."""
    return ApplyResult(
        steps=steps(
            (Step.LOCK, Outcome.OK, "held by alice@laptop"),
            (Step.RENDER, Outcome.OK, "900 bytes, 0 warning(s)"),
            (Step.UPLOAD, Outcome.SKIPPED, "config.yaml already holds this render"),
            (Step.COMMIT, Outcome.SKIPPED, "no-op: config.yaml unchanged"),
            (Step.FOLD, Outcome.SKIPPED, "nothing staged"),
            (Step.RESTART, Outcome.SKIPPED, "no-op: LiteLLM already has this file"),
            (Step.VERIFY, Outcome.OK, "2 model group(s) served"),
        ),
        noop=True,
    )


def verify_failed_result() -> ApplyResult:
    """Committed and recorded, but LiteLLM does not serve what was applied."""
    return ApplyResult(
        steps=steps(
            (Step.LOCK, Outcome.OK, "held by alice@laptop"),
            (Step.RENDER, Outcome.OK, "900 bytes, 0 warning(s)"),
            (Step.UPLOAD, Outcome.OK, "900 bytes read back equal"),
            (Step.COMMIT, Outcome.OK, "config.yaml replaced (mode 0600)"),
            (Step.FOLD, Outcome.OK, "revision 13"),
            (Step.RESTART, Outcome.OK, "restarted"),
            (Step.VERIFY, Outcome.FAILED, "missing: ['claude-3']; unexpected: ['legacy']"),
        ),
        committed=True,
        revision_id=13,
        missing_groups=("claude-3",),
        unexpected_groups=("legacy",),
        advice=(
            "config.yaml and the Master hold revision 13. LiteLLM serves other model groups "
            "than the Master applied. Read its logs; if it was not restarted, restart it; then "
            "fix forward with another Apply."
        ),
    )


def cancelled_result() -> ApplyResult:
    """Cancelled during the upload."""
    return ApplyResult(
        steps=steps(
            (Step.LOCK, Outcome.OK, "held by alice@laptop"),
            (Step.RENDER, Outcome.OK, "900 bytes, 0 warning(s)"),
            (Step.UPLOAD, Outcome.CANCELLED, "cancelled before the commit point"),
        ),
        advice="Cancelled: config.yaml, the applied and the staged items are as they were.",
    )


def validation_failed_result() -> ApplyResult:
    """Stopped at render: one error finding."""
    return ApplyResult(
        steps=steps(
            (Step.LOCK, Outcome.OK, "held by alice@laptop"),
            (Step.RENDER, Outcome.FAILED, "1 validation error(s)"),
        ),
        findings=(ERROR,),
        advice="Fix the findings and apply again; nothing was written, staged items kept.",
    )


def revision(number: int, sha: str, summary: str = "1 new, 2 changed, 0 deleted") -> RevisionInfo:
    """A revision applied by alice on 27 November 2026."""
    return RevisionInfo(
        id=number,
        created_at=datetime(2026, 11, 27, 9, number % 60, tzinfo=UTC),
        created_by=ALICE,
        summary=summary,
        rendered_sha256=sha,
        item_count=5,
    )


# ------------------------------------------------------------------ reading what is on screen


def _tree_texts(item: QTreeWidgetItem) -> Iterable[str]:
    for column in range(item.columnCount()):
        yield item.text(column)
        yield item.toolTip(column)
    for child in range(item.childCount()):
        child_item = item.child(child)
        if child_item is not None:
            yield from _tree_texts(child_item)


def visible_texts(root: QWidget) -> list[str]:
    """Every text a widget tree can show: labels, buttons, editors, tree and table cells,
    tab titles, tooltips and window titles."""
    texts: list[str] = [root.windowTitle(), root.toolTip()]
    for widget in [root, *root.findChildren(QWidget)]:
        texts.append(widget.toolTip())
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QPlainTextEdit):
            texts.append(widget.toPlainText())
        if isinstance(widget, QTextEdit):
            texts.append(widget.toPlainText())
        if isinstance(widget, QTabWidget):
            texts.extend(widget.tabText(i) for i in range(widget.count()))
        if isinstance(widget, QTreeWidget):
            for i in range(widget.topLevelItemCount()):
                top = widget.topLevelItem(i)
                if top is not None:
                    texts.extend(_tree_texts(top))
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            for row in range(model.rowCount()):
                for column in range(model.columnCount()):
                    index = model.index(row, column)
                    texts.append(str(model.data(index) or ""))
                    texts.append(str(model.data(index, 3) or ""))  # ToolTipRole
    return texts
