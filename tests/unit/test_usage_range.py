"""Usage ranges (ops/usage.py): presets cut at local midnights, also at the edge of a day."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from llmproxy_desktop.ops.usage import Preset, UsageRange


def test_today_at_exactly_local_midnight_is_an_empty_range_not_an_error() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    midnight = datetime(2026, 11, 27, 0, 0, tzinfo=berlin)

    today = UsageRange.of_preset(Preset.TODAY, midnight, berlin)

    assert today.start == midnight
    assert (today.end - today.start).total_seconds() < 0.001


def test_last_7_days_starts_at_the_local_midnight_six_days_before_today() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 08:30 in Kolkata

    week = UsageRange.of_preset(Preset.LAST_7D, now, kolkata)

    assert week.start == datetime(2026, 11, 21, 0, 0, tzinfo=kolkata)
    assert week.end == now
