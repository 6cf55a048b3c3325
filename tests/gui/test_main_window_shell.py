"""The main window with stacks: registered pages in the sidebar, the stack switcher, memory."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.ui.connection_indicator import ConnectionState
from llmproxy_desktop.ui.main_window import MainWindow
from llmproxy_desktop.ui.theme import ThemeController, is_dark, staged_accent
from tests.gui.stack_profiles import add_stacks

PAGES = [
    ("Overview", "dashboard", "Dashboard"),
    ("Configuration", "models", "Models"),
    ("Configuration", "keys", "Provider Keys"),
]


def _window(qtbot: QtBot, settings: QSettings, store: ProfileStore) -> MainWindow:
    window = MainWindow(settings, profile_store=store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _with_pages(window: MainWindow) -> MainWindow:
    for section, key, title in PAGES:
        window.add_page(section, key, title, QLabel(f"{title} page"))
    return window


@pytest.fixture
def stacks(profile_store: ProfileStore) -> ProfileStore:
    return add_stacks(profile_store, "prod", "staging")


def test_with_stacks_the_shell_shows_the_switcher_and_the_indicator(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _window(qtbot, settings, stacks)

    assert window.splitter.isVisible()
    assert not window.welcome_page.isVisible()
    assert window.toolbar.isVisible()
    assert window.stack_switcher.isVisible()
    assert window.connection_indicator.isVisible()
    assert window.stack_switcher.stack_names() == ["prod", "staging"]
    assert window.current_stack() == "prod"


def test_the_sidebar_lists_only_registered_pages_and_their_sections(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _with_pages(_window(qtbot, settings, stacks))

    assert window.sidebar.sections() == ["Overview", "Configuration"]  # no empty "Operations"
    assert window.page_keys() == ["dashboard", "models", "keys"]
    assert window.current_page_key() == "dashboard"  # the first one registered
    assert window.pages.currentWidget() is window.page("dashboard")


def test_show_page_and_a_sidebar_selection_switch_the_page(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _with_pages(_window(qtbot, settings, stacks))

    with qtbot.waitSignal(window.page_changed) as blocker:
        window.show_page("keys")
    assert blocker.args == ["keys"]
    assert window.pages.currentWidget() is window.page("keys")
    assert window.sidebar.current_key() == "keys"

    window.sidebar.select("models")
    assert window.current_page_key() == "models"
    assert window.pages.currentWidget() is window.page("models")

    with pytest.raises(KeyError):
        window.show_page("nowhere")


def test_the_keyboard_walks_the_sidebar_and_jumps_with_shortcuts(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _with_pages(_window(qtbot, settings, stacks))
    # Window shortcuts need the active window; offscreen activates only on request.
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow)
    window.sidebar.setFocus()

    qtbot.keyClick(window.sidebar, Qt.Key.Key_Down)
    assert window.pages.currentWidget() is window.page("models")

    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "keys"
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "dashboard"


def test_a_page_key_is_registered_once(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _with_pages(_window(qtbot, settings, stacks))

    with pytest.raises(ValueError, match="models"):
        window.add_page("Configuration", "models", "Models", QLabel())


def test_the_sidebar_can_be_hidden_from_the_view_menu(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _with_pages(_window(qtbot, settings, stacks))

    window.toggle_sidebar_action.trigger()
    assert not window.sidebar.isVisible()
    assert window.page("dashboard").isVisible()
    window.toggle_sidebar_action.trigger()
    assert window.sidebar.isVisible()


def test_the_last_stack_is_selected_again_in_the_next_window(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    first = _window(qtbot, settings, stacks)
    with qtbot.waitSignal(first.stack_changed) as blocker:
        first.select_stack("staging")
    assert blocker.args == ["staging"]
    first.close()

    second = _window(qtbot, settings, stacks)

    assert second.current_stack() == "staging"
    assert second.stack_switcher.currentText() == "staging"


def test_a_remembered_stack_that_is_gone_falls_back_to_the_first(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    first = _window(qtbot, settings, stacks)
    first.select_stack("staging")
    first.close()
    stacks.remove("staging")

    second = _window(qtbot, settings, stacks)

    assert second.current_stack() == "prod"


def test_the_last_page_is_shown_again_once_it_is_registered(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    first = _with_pages(_window(qtbot, settings, stacks))
    first.show_page("keys")
    first.close()

    second = _with_pages(_window(qtbot, settings, stacks))

    assert second.current_page_key() == "keys"


def test_adding_the_first_stack_leaves_the_welcome_view(
    qtbot: QtBot, settings: QSettings, profile_store: ProfileStore
) -> None:
    window = _window(qtbot, settings, profile_store)
    assert window.welcome_page.isVisible()

    add_stacks(profile_store, "prod")
    with qtbot.waitSignal(window.stack_changed):
        window.refresh_stacks()

    assert window.splitter.isVisible()
    assert window.toolbar.isVisible()
    assert window.current_stack() == "prod"


def test_add_stack_in_the_switcher_asks_the_window_for_the_sheet(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _window(qtbot, settings, stacks)

    with qtbot.waitSignal(window.add_stack_requested):
        window.stack_switcher.add_stack_requested.emit()


def test_the_indicator_in_the_toolbar_shows_a_failure(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _window(qtbot, settings, stacks)

    window.connection_indicator.set_state(ConnectionState.FAILED, "host key changed")

    assert window.connection_indicator.text() == "Connection Failed"
    assert "host key changed" in window.connection_indicator.toolTip()


def test_the_shell_follows_a_dark_scheme_and_back(
    qapp: QApplication,
    qtbot: QtBot,
    settings: QSettings,
    stacks: ProfileStore,
    theme: ThemeController,
) -> None:
    window = _with_pages(_window(qtbot, settings, stacks))
    hints = qapp.styleHints()

    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: is_dark(window.sidebar.palette()))
    dark_accent = staged_accent(window.page("models").palette())

    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: not is_dark(window.sidebar.palette()))
    light_accent = staged_accent(window.page("models").palette())

    assert dark_accent.lightnessF() > light_accent.lightnessF()


def test_the_stack_menu_mirrors_the_switcher(
    qtbot: QtBot, settings: QSettings, stacks: ProfileStore
) -> None:
    window = _window(qtbot, settings, stacks)
    entries = [action for action in window.stack_menu.actions() if action.isCheckable()]
    assert [action.text() for action in entries] == ["prod", "staging"]
    assert [action.isChecked() for action in entries] == [True, False]

    with qtbot.waitSignal(window.stack_changed) as blocker:
        entries[1].trigger()

    assert blocker.args == ["staging"]
    assert window.stack_switcher.currentText() == "staging"
    assert window.add_stack_action in window.stack_menu.actions()

    window.select_stack("prod")
    assert [action.isChecked() for action in entries] == [True, False]
