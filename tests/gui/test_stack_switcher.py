"""The stack switcher: the stacks of a ProfileStore, "Add Stack…" at the end, refresh."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.ui.stack_switcher import ADD_STACK_TEXT, StackSwitcher
from tests.gui.stack_profiles import add_stacks


def _switcher(qtbot: QtBot, store: ProfileStore) -> StackSwitcher:
    switcher = StackSwitcher(store)
    qtbot.addWidget(switcher)
    return switcher


def _texts(switcher: StackSwitcher) -> list[str]:
    return [switcher.itemText(i) for i in range(switcher.count())]


def test_lists_the_stored_stacks_by_name_then_add_stack(
    qtbot: QtBot, profile_store: ProfileStore
) -> None:
    add_stacks(profile_store, "staging", "Prod", "lab")

    switcher = _switcher(qtbot, profile_store)

    assert switcher.stack_names() == ["lab", "Prod", "staging"]  # the store's order
    assert _texts(switcher)[-1] == ADD_STACK_TEXT
    assert switcher.current_stack() == "lab"


def test_without_stacks_there_is_no_current_stack(
    qtbot: QtBot, profile_store: ProfileStore
) -> None:
    switcher = _switcher(qtbot, profile_store)

    assert switcher.stack_names() == []
    assert switcher.current_stack() is None
    assert switcher.load_error is None


def test_picking_a_stack_emits_its_name(qtbot: QtBot, profile_store: ProfileStore) -> None:
    switcher = _switcher(qtbot, add_stacks(profile_store, "prod", "staging"))

    switcher.setFocus()
    with qtbot.waitSignal(switcher.stack_selected) as blocker:
        qtbot.keyClick(switcher, Qt.Key.Key_Down)

    assert blocker.args == ["staging"]
    assert switcher.current_stack() == "staging"
    assert switcher.currentText() == "staging"


def test_picking_add_stack_asks_for_the_sheet_and_keeps_the_current_stack(
    qtbot: QtBot, profile_store: ProfileStore
) -> None:
    switcher = _switcher(qtbot, add_stacks(profile_store, "prod", "staging"))
    switcher.select_stack("staging")

    switcher.setFocus()
    with (
        qtbot.waitSignal(switcher.add_stack_requested),
        qtbot.assertNotEmitted(switcher.stack_selected),
    ):
        qtbot.keyClick(switcher, Qt.Key.Key_Down)  # over the separator, onto "Add Stack…"

    assert switcher.current_stack() == "staging"
    assert switcher.currentText() == "staging"


def test_select_stack_refuses_an_unknown_name(qtbot: QtBot, profile_store: ProfileStore) -> None:
    switcher = _switcher(qtbot, add_stacks(profile_store, "prod"))

    assert not switcher.select_stack("gone")
    assert switcher.current_stack() == "prod"


def test_refresh_picks_up_new_stacks_and_leaves_a_removed_one(
    qtbot: QtBot, profile_store: ProfileStore
) -> None:
    switcher = _switcher(qtbot, add_stacks(profile_store, "prod"))

    add_stacks(profile_store, "staging")
    switcher.refresh()
    assert switcher.stack_names() == ["prod", "staging"]
    assert switcher.current_stack() == "prod"  # a new stack does not steal the selection

    switcher.select_stack("staging")
    profile_store.remove("staging")
    with qtbot.waitSignal(switcher.stack_selected) as blocker:
        switcher.refresh()
    assert blocker.args == ["prod"]


def test_an_unreadable_stacks_file_lists_nothing_and_says_why(
    qtbot: QtBot, profile_store: ProfileStore
) -> None:
    profile_store.path.parent.mkdir(parents=True)
    profile_store.path.write_text("{not json")

    switcher = _switcher(qtbot, profile_store)

    assert switcher.stack_names() == []
    assert switcher.load_error is not None
    assert str(profile_store.path) in switcher.load_error
