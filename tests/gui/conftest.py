"""Fixtures for the GUI tests: settings and stacks that are never the user's own; the theme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.ui.theme import ThemeController


@pytest.fixture(autouse=True)
def _isolated_default_settings(tmp_path: Path) -> None:
    """Point default-constructed QSettings at a temporary directory for every GUI test."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture(autouse=True)
def _isolated_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A window built without a ProfileStore reads the default stacks file: make it a temp one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))


@pytest.fixture
def profile_store(tmp_path: Path) -> ProfileStore:
    """An empty stacks file of the test's own."""
    return ProfileStore(tmp_path / "profiles" / "stacks.json")


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
