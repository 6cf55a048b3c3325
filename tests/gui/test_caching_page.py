"""The Caching page: cache settings as Apply renders them (secrets as ***, os.environ/ as written)
and LiteLLM's /cache/ping with a coloured status and what to fix."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from llmproxy_desktop.core.items import EffectiveItem, Flag, Item, ItemKind, Secret
from llmproxy_desktop.remote.litellm_client import CacheStatus
from llmproxy_desktop.ui.pages.caching import ENABLE_HINT, NOT_CHECKED_TEXT, CachingPage
from llmproxy_desktop.ui.theme import StatusColour, status_colour

SECRET = "valkey-PASSWORD-THAT-MUST-NEVER-SHOW"


def _settings(
    params: dict[str, object] | None, cache: object = True, flag: Flag | None = None
) -> list[EffectiveItem]:
    items = [EffectiveItem(Item(ItemKind.LITELLM_SETTING, "cache", cache), flag, 1)]
    if params is not None:
        items.append(EffectiveItem(Item(ItemKind.LITELLM_SETTING, "cache_params", params), None, 1))
    return items


REDIS = {
    "type": "redis",
    "host": "valkey",
    "port": 6379,
    "password": Secret(SECRET),
    "ttl": 600,
    "namespace": "litellm.cache",
}


@pytest.fixture
def page(qtbot: QtBot) -> CachingPage:
    page = CachingPage()
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def _all_texts(root: QWidget) -> str:
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        texts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
    return "\n".join(texts)


def test_before_a_refresh_it_says_nothing_was_checked(page: CachingPage) -> None:
    assert page.status_label.text() == NOT_CHECKED_TEXT
    assert page.hint_label.isHidden()


def test_settings_are_shown_as_applied_with_the_password_masked(page: CachingPage) -> None:
    page.set_settings(_settings(REDIS))

    rows = dict(page.settings_rows())
    assert rows["Caching"] == "On"
    assert (rows["Type"], rows["Host"], rows["Port"]) == ("redis", "valkey", "6379")
    assert rows["Password"] == "***"
    assert (rows["Time to live"], rows["Namespace"]) == ("600", "litellm.cache")
    assert page.form.rowCount() == len(rows)


def test_environment_references_are_shown_as_such(page: CachingPage) -> None:
    params = {**REDIS, "host": "os.environ/REDIS_HOST", "password": "os.environ/REDIS_PASSWORD"}
    page.set_settings(_settings(params))

    rows = dict(page.settings_rows())
    assert rows["Host"] == "os.environ/REDIS_HOST"
    assert rows["Password"] == "os.environ/REDIS_PASSWORD"


def test_without_cache_params_litellm_reads_the_redis_variables(page: CachingPage) -> None:
    page.set_settings(_settings(None))

    rows = dict(page.settings_rows())
    assert rows["Type"].startswith("redis")
    assert "REDIS_HOST" in rows["Host"]


def test_the_passthroughs_cache_settings_count_too(page: CachingPage) -> None:
    passthrough = (
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis\n    host: cachebox\n"
    )
    page.set_settings([EffectiveItem(Item(ItemKind.PASSTHROUGH, "_", passthrough))])

    rows = dict(page.settings_rows())
    assert (rows["Caching"], rows["Host"]) == ("On", "cachebox")


def test_a_healthy_cache_reads_good(page: CachingPage) -> None:
    page.set_settings(_settings(REDIS))
    page.set_ping(CacheStatus(True, "redis", "PONG"), None)

    assert page.status_label.text() == "LiteLLM's redis cache answers (PONG)."
    colour = page.status_label.palette().color(page.status_label.foregroundRole())
    assert colour == status_colour(StatusColour.GOOD, page.palette())
    assert page.hint_label.isHidden()


def test_an_unreachable_cache_says_where_and_what_to_check(page: CachingPage) -> None:
    page.set_settings(_settings(REDIS))
    page.set_ping(CacheStatus(False, "redis", "Error 111 connecting to valkey:6379."), None)

    colour = page.status_label.palette().color(page.status_label.foregroundRole())
    assert colour == status_colour(StatusColour.BAD, page.palette())
    hint = page.hint_label.text()
    assert "cannot reach Valkey at valkey:6379" in hint
    assert "REDIS_HOST" in hint and "valkey service is running" in hint


def test_a_refused_password_points_at_redis_password(page: CachingPage) -> None:
    page.set_settings(_settings(REDIS))
    page.set_ping(CacheStatus(False, "redis", "WRONGPASS invalid username-password pair"), None)

    assert "REDIS_PASSWORD" in page.hint_label.text()


def test_caching_off_says_so_and_how_to_turn_it_on(page: CachingPage) -> None:
    page.set_settings(_settings(None, cache=False))
    page.set_ping(CacheStatus(False, None, "Cache not initialized"), None)

    assert page.status_label.text().startswith("Caching is off")
    assert page.hint_label.text() == ENABLE_HINT
    assert "Advanced page" in ENABLE_HINT


def test_caching_on_in_the_config_but_off_in_litellm_asks_to_apply(page: CachingPage) -> None:
    page.set_settings(_settings(REDIS, flag=Flag.CHANGED))
    page.set_ping(CacheStatus(False, None, "Cache not initialized"), None)

    assert "runs without a cache" in page.status_label.text()
    assert "Apply" in page.hint_label.text()
    assert page.staged_label.isVisible()


def test_an_unanswered_ping_says_litellm_could_not_be_asked(page: CachingPage) -> None:
    page.set_ping(None, "LiteLLM at 127.0.0.1:4000 did not answer.")

    assert page.status_label.text() == "Could not ask LiteLLM about its cache."
    assert "did not answer" in page.hint_label.text()


def test_secrets_are_never_shown(page: CachingPage) -> None:
    literal = {**REDIS, "password": "literal-secret-value-123", "redis_url": Secret(SECRET)}
    page.set_settings(_settings(literal))
    detail = f"Error connecting to redis://:{SECRET}@valkey:6379 with literal-secret-value-123"
    page.set_ping(CacheStatus(False, "redis", detail), None)

    shown = _all_texts(page)
    assert SECRET not in shown
    assert "literal-secret-value-123" not in shown
    assert "***" in shown


def test_refresh_asks_for_new_data(qtbot: QtBot, page: CachingPage) -> None:
    with qtbot.waitSignal(page.refresh_requested, timeout=1000):
        page.refresh_button.click()
