"""What Review Changes shows, computed off the GUI thread: per-item changes, the rendered YAML's
diff and the findings. With 2,000 models the YAML diff alone takes 0.1 s for one change and
several seconds for hundreds (difflib over two ~14,000-line renders), so the window computes
this on a background thread and opens the sheet when it is ready. Pure; no Qt, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.diff import ItemChange, diff_items, unified_config_diff
from ..core.findings import Finding
from ..core.items import EffectiveItem, Item, ItemKey, item_label
from ..core.validate import validate_items

__all__ = ["ReviewContent", "review_content"]


@dataclass(frozen=True)
class ReviewContent:
    """Everything the Review Changes sheet shows."""

    changes: tuple[ItemChange, ...]
    labels: dict[ItemKey, str]
    config_diff: str
    findings: tuple[Finding, ...]


def review_content(applied: Sequence[Item], effective: Sequence[EffectiveItem]) -> ReviewContent:
    """The review of `effective` (applied overlaid by staged) against `applied`."""
    return ReviewContent(
        changes=tuple(diff_items(applied, effective)),
        labels={e.item.key: item_label(e.item) for e in effective},
        config_diff=unified_config_diff(applied, effective),
        findings=tuple(validate_items(effective)),
    )
