"""The main window on first run (no stack): title, welcome view, theme, geometry, smoke start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.theme import ThemeController, is_dark

Role = QPalette.ColorRole


def _shown_window(qtbot: QtBot, settings: QSettings) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_window_shows_title_and_welcome_text(qtbot: QtBot, settings: QSettings) -> None:
    window = _shown_window(qtbot, settings)

    assert window.windowTitle() == "LLM-Proxy Desktop"
    texts = [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
    assert "LLM-Proxy Desktop" in texts
    assert any("LiteLLM gateways" in text for text in texts)
    assert not window.windowIcon().isNull()


def test_an_unsafe_keyring_is_said_plainly_and_a_safe_one_says_nothing(
    qtbot: QtBot, settings: QSettings
) -> None:
    warned = MainWindow(settings, keyring_warning="only the plaintext backend is available.")
    qtbot.addWidget(warned)
    warned.show()
    qtbot.waitExposed(warned)
    label = warned.welcome_page.keyring_label
    assert label.isVisible()
    assert label.text() == "Secrets will not be saved: only the plaintext backend is available."

    quiet = _shown_window(qtbot, settings)
    assert not quiet.welcome_page.keyring_label.isVisible()


def test_add_stack_from_the_welcome_button_or_the_file_menu_asks_for_the_sheet(
    qtbot: QtBot, settings: QSettings
) -> None:
    window = _shown_window(qtbot, settings)
    button = window.welcome_page.add_stack_button

    assert button.text() == "Add Stack…"
    assert button.isEnabled()
    assert window.add_stack_action.isEnabled()
    with qtbot.waitSignal(window.add_stack_requested):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.add_stack_requested):
        window.add_stack_action.trigger()


def test_without_stacks_the_welcome_view_shows_and_the_toolbar_does_not(
    qtbot: QtBot, settings: QSettings
) -> None:
    window = _shown_window(qtbot, settings)

    assert window.current_stack() is None
    assert window.welcome_page.isVisible()
    assert not window.splitter.isVisible()
    assert not window.toolbar.isVisible()
    assert not window.welcome_page.store_error_label.isVisible()


def test_an_unreadable_stacks_file_is_named_on_the_welcome_view(
    qtbot: QtBot, settings: QSettings, profile_store: ProfileStore
) -> None:
    profile_store.path.parent.mkdir(parents=True)
    profile_store.path.write_text("[]")

    window = MainWindow(settings, profile_store=profile_store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    label = window.welcome_page.store_error_label
    assert label.isVisible()
    assert label.text().startswith("Your stacks could not be read:")
    assert str(profile_store.path) in label.text()


@pytest.mark.parametrize("size", [(960, 640), (640, 420)], ids=["default", "minimum"])
def test_welcome_page_squeezes_nothing(
    qtbot: QtBot, settings: QSettings, size: tuple[int, int]
) -> None:
    window = _shown_window(qtbot, settings)
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)

    for label in window.welcome_page.findChildren(QLabel):
        needed = (
            label.heightForWidth(label.width()) if label.wordWrap() else label.sizeHint().height()
        )
        assert label.height() >= needed, label.text() or "icon"


def test_theme_follows_a_dark_scheme_and_back(
    qapp: QApplication, qtbot: QtBot, settings: QSettings, theme: ThemeController
) -> None:
    window = _shown_window(qtbot, settings)
    hints = qapp.styleHints()

    # What the OS does when the user switches to dark mode (offscreen has no OS setting).
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: is_dark(window.palette()))
    palette = window.palette()
    assert theme.scheme == Qt.ColorScheme.Dark
    assert palette.color(Role.WindowText).lightnessF() > 0.7
    assert palette.color(Role.Base).lightnessF() < 0.3
    secondary = window.welcome_page.description_label
    assert secondary.palette().color(secondary.foregroundRole()).lightnessF() > 0.4

    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: not is_dark(window.palette()))
    assert window.palette().color(Role.WindowText).lightnessF() < 0.3


def test_window_remembers_its_geometry(qtbot: QtBot, settings: QSettings) -> None:
    first = _shown_window(qtbot, settings)
    first.resize(777, 555)
    qtbot.waitUntil(lambda: first.size().width() == 777)
    first.close()

    second = _shown_window(qtbot, settings)

    assert (second.width(), second.height()) == (777, 555)


def _run_app(args: list[str], config_home: Path) -> subprocess.CompletedProcess[str]:
    """Run the real app in a subprocess, offscreen, with settings under ``config_home``."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(config_home)}
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_clean_run(result: subprocess.CompletedProcess[str], config_home: Path) -> None:
    assert result.returncode == 0, result.stderr
    qt_messages = [
        line
        for line in result.stderr.splitlines()
        if line and "does not support propagateSizeHints" not in line
    ]
    assert qt_messages == []
    saved = list(config_home.rglob("*.conf"))
    assert len(saved) == 1
    assert "main_window" in saved[0].read_text()


def test_run_gui_starts_and_quits_after_the_given_time(tmp_path: Path) -> None:
    code = (
        "import sys; from llmproxy_desktop.ui.app import run_gui; sys.exit(run_gui(sys.argv[1:]))"
    )

    result = _run_app(["-c", code, "--quit-after-ms", "50"], tmp_path)

    _assert_clean_run(result, tmp_path)


def test_console_script_without_a_command_opens_the_window(tmp_path: Path) -> None:
    result = _run_app(["-m", "llmproxy_desktop.cli", "--quit-after-ms=50"], tmp_path)

    _assert_clean_run(result, tmp_path)
