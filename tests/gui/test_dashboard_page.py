"""The Dashboard page: one card per figure in a grid, large values with captions, unknowns as a
dash with the reason as tooltip, tones as colours, and Refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind
from llmproxy_desktop.ops.dashboard import NOT_READ, UNKNOWN, FigureId, Tone, build_summary
from llmproxy_desktop.remote.container_state import ContainerState, ContainerStatus, HealthStatus
from llmproxy_desktop.remote.litellm_client import Readiness
from llmproxy_desktop.store.actor import Actor
from llmproxy_desktop.store.records import RevisionInfo
from llmproxy_desktop.ui.pages.dashboard import DashboardPage
from llmproxy_desktop.ui.theme import StatusColour, staged_accent, status_colour

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EFFECTIVE = [
    EffectiveItem(Item(ItemKind.MODEL, f"m{i}", {"model_name": f"g{i % 2}"}), flag, 1)
    for i, flag in enumerate([None, None, Flag.NEW])
]
CONTAINER = ContainerState(
    "litellm", ContainerStatus.RUNNING, HealthStatus.HEALTHY, NOW - timedelta(hours=3), 0, None, "x"
)
REVISION = RevisionInfo(4, NOW - timedelta(minutes=20), Actor("bob", "pc"), "1 new", "ab", 3)


@pytest.fixture
def page(qtbot: QtBot) -> DashboardPage:
    page = DashboardPage()
    qtbot.addWidget(page)
    page.resize(900, 500)
    page.show()
    qtbot.waitExposed(page)
    return page


def _cell(grid: QGridLayout, index: int) -> tuple[int, int]:
    # PySide6's stub types the (row, column, row span, column span) tuple as object.
    position = cast(tuple[int, int, int, int], grid.getItemPosition(index))
    return position[0], position[1]


def _value_colour(page: DashboardPage, fid: FigureId) -> object:
    return page.cards[fid].value_label.palette().color(QPalette.ColorRole.WindowText)


def test_cards_sit_in_an_aligned_grid_in_figure_order(page: DashboardPage) -> None:
    grid = page.findChild(QGridLayout)
    assert isinstance(grid, QGridLayout)
    positions = [_cell(grid, grid.indexOf(page.cards[f])) for f in FigureId]
    assert positions == sorted(positions)
    assert len({p[1] for p in positions}) == 4  # four columns
    widths = {page.cards[f].width() for f in FigureId}
    assert len(widths) == 1  # equal columns: the cards line up


def test_a_full_summary_shows_large_values_with_captions(page: DashboardPage) -> None:
    summary = build_summary(
        EFFECTIVE,
        1,
        Readiness(True, "healthy", "connected", 200),
        ["g0", "g1"],
        CONTAINER,
        REVISION,
        True,
        now=NOW,
    )
    page.set_summary(summary)

    texts = page.card_texts()
    assert texts[FigureId.MODELS][:2] == ("3", "Models")
    assert texts[FigureId.MODEL_GROUPS][0] == "2"
    assert texts[FigureId.STAGED][0] == "1"
    assert texts[FigureId.PROXY][0] == "Ready"
    assert texts[FigureId.UPTIME][0] == "3 h"
    assert texts[FigureId.LAST_APPLY] == ("#4", "Last apply", "20 min ago by bob")
    value_font = page.cards[FigureId.MODELS].value_label.font()
    caption_font = page.cards[FigureId.MODELS].caption_label.font()
    assert value_font.pointSizeF() > caption_font.pointSizeF()


def test_tones_colour_the_value(page: DashboardPage) -> None:
    summary = build_summary(
        EFFECTIVE,
        1,
        Readiness(False, "unhealthy", "disconnected", 503),
        None,
        None,
        None,
        None,
        now=NOW,
    )
    page.set_summary(summary)

    assert page.cards[FigureId.STAGED].tone is Tone.STAGED
    assert _value_colour(page, FigureId.STAGED) == staged_accent(page.palette())
    assert _value_colour(page, FigureId.PROXY) == status_colour(StatusColour.BAD, page.palette())
    assert _value_colour(page, FigureId.MODELS) == page.palette().color(
        QPalette.ColorRole.WindowText
    )


def test_unknown_values_show_a_dash_with_the_reason_as_tooltip(page: DashboardPage) -> None:
    summary = build_summary(
        EFFECTIVE,
        0,
        None,
        None,
        None,
        None,
        None,
        now=NOW,
        container_error="Docker is not reachable.",
    )
    page.set_summary(summary)

    container = page.cards[FigureId.CONTAINER]
    assert container.value_label.text() == UNKNOWN
    assert container.toolTip() == "Docker is not reachable."
    assert page.cards[FigureId.PROXY].toolTip() == NOT_READ


def test_refresh_asks_for_a_new_summary(qtbot: QtBot, page: DashboardPage) -> None:
    with qtbot.waitSignal(page.refresh_requested, timeout=1000):
        page.refresh_button.click()
    page.set_busy(True)
    assert not page.refresh_button.isEnabled()
