"""`llmproxy-desktop --stack NAME housekeeping stats|trim --older-than DAYS [--yes]` end to end:
a LOCAL-transport profile on the throwaway Postgres (LiteLLM's real tables), its password in an
in-memory keyring (tests/profiles/fake_keyrings.py), a throwaway config directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring.core
import pytest
from sqlalchemy import Engine

from llmproxy_desktop.cli import main
from llmproxy_desktop.ops.housekeeping import TRIM_AUDIT_ACTION
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles import StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import ProfileStore
from llmproxy_desktop.store import Master
from tests.fixtures.spend_logs import count_rows, insert_spend_rows
from tests.profiles.fake_keyrings import MemoryKeyring

pytestmark = pytest.mark.integration

STACK = "local-gw"


@pytest.fixture
def profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_cluster: Any, master_db: str
) -> StackProfile:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    profile = StackProfile(
        name=STACK,
        compose_dir=str(tmp_path / "stack"),
        transport=Transport.LOCAL,
        postgres_port=pg_cluster.port,
        db_name=master_db,
        db_user="llmproxy",
    )
    ProfileStore().add(profile)
    backend.set_password(SERVICE, f"{STACK}:db-password", pg_cluster.password)
    return profile


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["--stack", STACK, "--json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def seed(engine: Engine) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    insert_spend_rows(engine, 1200, now - timedelta(days=90), timedelta(hours=1), prefix="old-")
    insert_spend_rows(engine, 30, now - timedelta(days=2), timedelta(minutes=1), prefix="new-")


def test_stats_prints_sizes_and_the_spend_log_span(
    profile: StackProfile, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)

    code = main(["--stack", STACK, "housekeeping", "stats", "--tables", "3"])
    out, _err = capsys.readouterr()
    assert code == 0
    assert "database:" in out and "spend logs:" in out and "LiteLLM_SpendLogs" in out

    code, payload, _err = cli_json(capsys, "housekeeping", "stats")
    assert code == 0 and payload["ok"]
    assert payload["database_bytes"] > 0
    assert any(t["table"] == "LiteLLM_SpendLogs" for t in payload["tables"])
    assert payload["spend_logs_oldest"] < payload["spend_logs_newest"]


def test_trim_without_yes_and_without_a_terminal_refuses_and_deletes_nothing(
    profile: StackProfile, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)

    code, payload, err = cli_json(capsys, "housekeeping", "trim", "--older-than", "30")

    assert code == 2 and not payload["ok"]
    assert "--yes" in err
    assert count_rows(engine) == 1230


def test_trim_with_yes_deletes_the_old_rows_and_audits_the_count(
    profile: StackProfile, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(engine)
    older = count_rows(engine, "\"startTime\" < now() at time zone 'utc' - interval '30 days'")

    code, payload, _err = cli_json(capsys, "housekeeping", "trim", "--older-than", "30", "--yes")

    assert code == 0 and payload["ok"]
    assert payload["rows"] == older == payload["deleted"]
    assert payload["cancelled"] is False
    assert count_rows(engine) == 1230 - older
    entry = Master.open(engine).audit_entries(1)[0]
    assert entry.action == TRIM_AUDIT_ACTION and entry.detail["deleted"] == older


def test_trim_with_nothing_old_enough_says_so(
    profile: StackProfile, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--stack", STACK, "housekeeping", "trim", "--older-than", "7"])
    out, _err = capsys.readouterr()

    assert code == 0
    assert out.splitlines()[-1].startswith("0 spend-log row(s) older than 7 day(s)")


def test_trim_refuses_less_than_a_day(
    profile: StackProfile, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--stack", STACK, "housekeeping", "trim", "--older-than", "0", "--yes"])
    _out, err = capsys.readouterr()

    assert code == 2 and "1 or more" in err
