"""Values JSONB cannot hold are refused before any write, with a typed error and no secret."""

from __future__ import annotations

import pytest

from llmproxy_desktop.core.items import Item, ItemKind
from llmproxy_desktop.store import Actor, Master, UnstorableValue

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "value",
    [{"rpm": float("inf")}, {"api_key": "sk-leak\x00me"}, {"timeout": float("nan")}],
)
def test_staging_an_unstorable_value_is_refused_and_writes_nothing(
    master: Master, alice: Actor, value: dict[str, object]
) -> None:
    item = Item(ItemKind.ROUTER_SETTING, "odd", value)
    with pytest.raises(UnstorableValue) as caught:
        master.stage(item, 0, alice)
    assert "sk-leak" not in str(caught.value)
    assert master.staged_count() == 0 and master.effective() == []
