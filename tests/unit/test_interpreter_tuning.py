"""The interpreter settings that keep the window responsive (ui/interpreter_tuning.py)."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

from llmproxy_desktop.ui import interpreter_tuning
from llmproxy_desktop.ui.interpreter_tuning import (
    GUI_SWITCH_INTERVAL_S,
    collections_held,
    freeze_heap_once,
    tune_for_the_gui,
)


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Whatever a test does to the collector and the switch interval is undone after it."""
    enabled, interval = gc.isenabled(), sys.getswitchinterval()
    yield
    gc.enable() if enabled else gc.disable()
    sys.setswitchinterval(interval)
    gc.unfreeze()


def test_the_gui_gets_a_short_switch_interval(collector_restored: None) -> None:
    sys.setswitchinterval(0.005)
    tune_for_the_gui()
    assert sys.getswitchinterval() == pytest.approx(GUI_SWITCH_INTERVAL_S)
    assert GUI_SWITCH_INTERVAL_S < 0.005


def test_collections_are_held_inside_and_restored_after(collector_restored: None) -> None:
    gc.enable()
    with collections_held():
        assert not gc.isenabled()
        with collections_held():  # nested (two checks at once)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer holder is still inside
    assert gc.isenabled()


def test_a_collector_disabled_by_someone_else_stays_disabled(collector_restored: None) -> None:
    gc.disable()
    with collections_held():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_collections_are_restored_when_the_work_raises(collector_restored: None) -> None:
    gc.enable()
    with pytest.raises(ValueError), collections_held():
        raise ValueError("the check failed")
    assert gc.isenabled()


def test_overlapping_holders_on_two_threads_restore_once_both_left(
    collector_restored: None,
) -> None:
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collections_held():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    with collections_held():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread is still inside
    leave.set()
    thread.join(10)
    assert gc.isenabled()


def test_the_heap_is_frozen_once_per_process(
    collector_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interpreter_tuning, "_frozen", False)
    gc.unfreeze()
    survivor = [object() for _ in range(1000)]
    assert freeze_heap_once() is True
    frozen = gc.get_freeze_count()
    assert frozen >= len(survivor)
    assert freeze_heap_once() is False
    assert gc.get_freeze_count() == frozen
