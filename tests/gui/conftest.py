"""Fixtures for the GUI tests: settings that never touch the user's own, and the theme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from llmproxy_desktop.ui.theme import ThemeController


@pytest.fixture(autouse=True)
def _isolated_default_settings(tmp_path: Path) -> None:
    """Point default-constructed QSettings at a temporary directory for every GUI test."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A settings file of the test's own."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def theme(qapp: QApplication) -> Iterator[ThemeController]:
    """A theme controller that follows the colour scheme during the test, then lets go."""
    controller = ThemeController(qapp)
    yield controller
    controller.stop()
    controller.deleteLater()
