"""Small pure parts of the store: actor, schema names, audit scrubbing, error sentences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmproxy_desktop.core.items import ItemKey, ItemKind, Secret
from llmproxy_desktop.store import actor as actor_module
from llmproxy_desktop.store.actor import Actor, current_actor
from llmproxy_desktop.store.audit import scrub_detail
from llmproxy_desktop.store.errors import (
    Conflict,
    InvalidSchemaName,
    MasterWasInitialised,
    ServedModelsMissing,
    StagingConflict,
)
from llmproxy_desktop.store.models import schema_translation, validate_schema_name
from llmproxy_desktop.store.records import ItemChange

WHEN = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
BOB = Actor("bob", "bob-desktop")


def test_current_actor_is_the_os_user_on_this_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actor_module.getpass, "getuser", lambda: "carol")
    monkeypatch.setattr(actor_module.socket, "gethostname", lambda: "carol-mac")
    assert current_actor() == Actor("carol", "carol-mac")
    assert str(current_actor()) == "carol@carol-mac"


def test_current_actor_survives_a_missing_user(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise OSError("no USER and no passwd entry")

    monkeypatch.setattr(actor_module.getpass, "getuser", no_user)
    assert current_actor().user == "unknown"


@pytest.mark.parametrize("name", ["llmproxy", "desk_admin", "_x", "a" * 63])
def test_own_schema_names_are_accepted(name: str) -> None:
    assert validate_schema_name(name) == name
    assert schema_translation(name) == {"llmproxy": name}


@pytest.mark.parametrize("name", ["public", "pg_temp", "Caps", "a" * 64, "x;drop", ""])
def test_public_and_unsafe_schema_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidSchemaName):
        validate_schema_name(name)


def test_public_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidSchemaName, match="LiteLLM's migrations drop unknown tables"):
        validate_schema_name("public")


def test_audit_scrub_replaces_secret_values_and_keeps_the_rest() -> None:
    detail = {
        "items": ["model:1"],
        "client_secret": "literal",
        "api_key": "os.environ/KEY",
        "list": [Secret("s"), {"password": "p"}],
    }
    assert scrub_detail(detail) == {
        "items": ["model:1"],
        "client_secret": "***",
        "api_key": "os.environ/KEY",
        "list": ["***", {"password": "***"}],
    }


def test_staging_conflict_names_who_and_when() -> None:
    key = ItemKey(ItemKind.MODEL, "m1")
    change = ItemChange(key, 7, "staged as changed", WHEN, BOB)

    error = StagingConflict([Conflict(key, 3, 7, change)])

    assert str(error).startswith(
        "Someone changed this since you loaded it: model:m1 was staged as changed by "
        "bob@bob-desktop at 2026-11-27 10:00:00 UTC."
    )


def test_staging_conflict_summarises_long_lists() -> None:
    conflicts = [Conflict(ItemKey(ItemKind.MODEL, f"m{i}"), 1, 2, None) for i in range(8)]
    assert "and 3 more" in str(StagingConflict(conflicts, during="apply"))


def test_import_refusals_explain_what_to_do() -> None:
    assert "Restore the configuration from History" in str(
        MasterWasInitialised(WHEN, BOB, "import")
    )
    missing = ServedModelsMissing({f"g{i}" for i in range(7)})
    assert "g0, g1, g2, g3, g4 and 2 more" in str(missing)
