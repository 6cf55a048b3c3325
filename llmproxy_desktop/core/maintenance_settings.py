"""The two LiteLLM settings the Housekeeping and Logs pages stage (LiteLLM 1.108.7).

- `general_settings.maximum_spend_logs_retention_period` ("30d"): LiteLLM's own scheduled cleanup
  deletes spend logs older than this (read at start-up; an int is taken as days, with a warning).
- `litellm_settings.set_verbose` (bool): LiteLLM's debug logging; the proxy sets every
  litellm_settings key on the `litellm` module at start-up. Deprecated upstream, but it is the
  reference admin UI's "debug logging" switch. Debug output may include request content.

Both are read at start-up only, so applying either restarts the proxy. Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final

from .items import Item, ItemKey, ItemKind

__all__ = [
    "DEBUG_LOGGING",
    "DEBUG_LOGGING_KEY",
    "RETENTION",
    "RETENTION_KEY",
    "debug_logging_item",
    "retention_days",
    "retention_setting_item",
]

RETENTION_KEY: Final = "maximum_spend_logs_retention_period"
RETENTION: Final = ItemKey(ItemKind.GENERAL_SETTING, RETENTION_KEY)
DEBUG_LOGGING_KEY: Final = "set_verbose"
DEBUG_LOGGING: Final = ItemKey(ItemKind.LITELLM_SETTING, DEBUG_LOGGING_KEY)

_DAYS = re.compile(r"^\s*(\d+)\s*d\s*$")


def retention_setting_item(days: int) -> Item:
    """`general_settings.maximum_spend_logs_retention_period: "<days>d"`."""
    if days < 1:
        raise ValueError("a retention period is at least one day")
    return Item(ItemKind.GENERAL_SETTING, RETENTION_KEY, f"{days}d")


def retention_days(value: object) -> int | None:
    """The whole days of a retention value as LiteLLM reads it ("30d", or an int meaning days),
    or None when unset or not in days (e.g. "12h": shown as written, not editable as days)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and (match := _DAYS.match(value)):
        days = int(match.group(1))
        return days if days > 0 else None
    return None


def debug_logging_item(on: bool) -> Item:
    """`litellm_settings.set_verbose: <on>`."""
    return Item(ItemKind.LITELLM_SETTING, DEBUG_LOGGING_KEY, on)
