"""The sidebar: only registered pages, sections in a fixed order, titles skipped by the keyboard."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from llmproxy_desktop.ui.sidebar import Sidebar


def _sidebar(qtbot: QtBot) -> Sidebar:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(220, 400)
    sidebar.show()
    qtbot.waitExposed(sidebar)
    return sidebar


def test_only_sections_with_pages_are_shown_in_their_fixed_order(qtbot: QtBot) -> None:
    sidebar = _sidebar(qtbot)
    assert sidebar.sections() == []

    # Registered out of order: Configuration first, then Overview; Operations never.
    sidebar.add_page("Configuration", "models", "Models")
    sidebar.add_page("Overview", "dashboard", "Dashboard")
    sidebar.add_page("Configuration", "keys", "Provider Keys")

    assert sidebar.sections() == ["Overview", "Configuration"]
    assert sidebar.page_keys() == ["dashboard", "models", "keys"]
    assert sidebar.page_keys("Configuration") == ["models", "keys"]


def test_an_unknown_section_comes_after_the_known_ones(qtbot: QtBot) -> None:
    sidebar = _sidebar(qtbot)
    sidebar.add_page("Labs", "labs", "Labs")
    sidebar.add_page("Operations", "logs", "Logs")

    assert sidebar.sections() == ["Operations", "Labs"]


def test_a_page_key_can_be_registered_only_once(qtbot: QtBot) -> None:
    sidebar = _sidebar(qtbot)
    sidebar.add_page("Configuration", "models", "Models")

    with pytest.raises(ValueError, match="models"):
        sidebar.add_page("Overview", "models", "Models again")


def test_selecting_a_page_emits_its_key_and_titles_cannot_be_selected(qtbot: QtBot) -> None:
    sidebar = _sidebar(qtbot)
    sidebar.add_page("Overview", "dashboard", "Dashboard")
    sidebar.add_page("Configuration", "models", "Models")

    with qtbot.waitSignal(sidebar.page_selected) as blocker:
        sidebar.select("models")
    assert blocker.args == ["models"]
    assert sidebar.current_key() == "models"

    title = sidebar.model().index(0, 0)
    assert not title.flags() & Qt.ItemFlag.ItemIsSelectable
    assert not title.flags() & Qt.ItemFlag.ItemIsEnabled


def test_arrow_keys_move_between_pages_and_skip_section_titles(qtbot: QtBot) -> None:
    sidebar = _sidebar(qtbot)
    sidebar.add_page("Overview", "dashboard", "Dashboard")
    sidebar.add_page("Configuration", "models", "Models")
    sidebar.add_page("Configuration", "keys", "Provider Keys")
    sidebar.select("dashboard")
    sidebar.setFocus()

    qtbot.keyClick(sidebar, Qt.Key.Key_Down)
    assert sidebar.current_key() == "models"  # over the "Configuration" title
    qtbot.keyClick(sidebar, Qt.Key.Key_Down)
    assert sidebar.current_key() == "keys"
    qtbot.keyClick(sidebar, Qt.Key.Key_Up)
    qtbot.keyClick(sidebar, Qt.Key.Key_Up)
    assert sidebar.current_key() == "dashboard"
    qtbot.keyClick(sidebar, Qt.Key.Key_End)
    assert sidebar.current_key() == "keys"
    qtbot.keyClick(sidebar, Qt.Key.Key_Home)
    assert sidebar.current_key() == "dashboard"  # not the "Overview" title above it


def test_selecting_an_unknown_page_is_a_key_error(qtbot: QtBot) -> None:
    sidebar = _sidebar(qtbot)

    with pytest.raises(KeyError):
        sidebar.select("nowhere")
