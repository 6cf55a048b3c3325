"""Suite-wide test set-up: Qt runs offscreen, and Qt warnings fail the test that caused them.

Must not import Qt: most of the suite (core, store, CLI) has nothing to do with it.
"""

from __future__ import annotations

import os

# First of all, before anything can import Qt: without a display and without this, pytest-qt's
# qapp fixture aborts the whole run (exit 134) with a misleading message about xcb-cursor0.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

# Qt messages at WARNING or above fail the test (as qutebrowser does), except these, which
# Qt prints for reasons outside the app's control.
QT_LOG_LEVEL_FAIL = "WARNING"
QT_LOG_IGNORE = (
    # The offscreen platform plugin says this once per shown window.
    r"This plugin does not support propagateSizeHints\(\)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Apply the Qt log policy to every test that does not set its own.

    pytest-qt reads the policy from ini options or from markers; markers keep it here instead of
    in pyproject.toml. A test may still override it with its own ``qt_log_level_fail`` or
    ``qt_log_ignore`` marker, which takes precedence over these.
    """
    for item in items:
        if item.get_closest_marker("qt_log_level_fail") is None:
            item.add_marker(pytest.mark.qt_log_level_fail(QT_LOG_LEVEL_FAIL))
        if item.get_closest_marker("qt_log_ignore") is None:
            item.add_marker(pytest.mark.qt_log_ignore(*QT_LOG_IGNORE))
