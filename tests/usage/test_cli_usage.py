"""`usage summary|breakdown|logs` end to end: a LOCAL-transport profile whose Postgres is the
throwaway test database (no SSH, no docker needed), secrets in an in-memory keyring."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring.core
import pytest
from sqlalchemy import Engine

from llmproxy_desktop.cli import main
from llmproxy_desktop.ops.usage import Dimension, UsageRange, breakdown, usage_totals
from llmproxy_desktop.remote.keyring_secrets import SERVICE
from llmproxy_desktop.remote.profiles import StackProfile, Transport
from llmproxy_desktop.remote.profiles_store import ProfileStore
from tests.profiles.fake_keyrings import MemoryKeyring

from .spend_rows import Req, add_key, insert

pytestmark = pytest.mark.integration

STACK = "here"
TODAY = datetime.now(UTC).date()


@pytest.fixture
def local_stack(
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


@pytest.fixture
def traffic(engine: Engine) -> None:
    noon = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
    add_key(engine, "a" * 64, "=evil,alias")
    insert(
        engine,
        [Req(noon, spend=1.5, model="big", key="a" * 64)] * 2
        + [Req(noon - timedelta(days=1), spend=0.25, model="small", failed=True)]
        + [Req(noon - timedelta(days=40), spend=100.0, model="old")],
    )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--stack", STACK, "usage", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_json_has_the_figures_the_page_shows(
    local_stack: StackProfile, traffic: None, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "summary", "--range", "7d", "--json")
    assert code == 0, err
    payload = json.loads(out)
    window = UsageRange.parse("7d", datetime.now(UTC), UTC)
    totals = usage_totals(engine, window)
    assert payload["totals"]["spend"] == totals.spend == 3.25
    assert payload["totals"]["requests"] == 3 and payload["totals"]["errors"] == 1
    assert payload["range"]["zone"] == "UTC"
    assert payload["spend_per_day"][-1] == {
        "day": TODAY.isoformat(),
        "spend": 3.0,
        "by_model": {"big": 3.0},
    }


def test_breakdown_csv_goes_alone_to_stdout_and_is_defused(
    local_stack: StackProfile, traffic: None, capsys: pytest.CaptureFixture[str]
) -> None:
    first = (TODAY - timedelta(days=60)).isoformat()
    code, out, err = run(capsys, "breakdown", "--by", "key", "--from", first, "--csv")
    assert code == 0, err
    assert "connecting" in err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:4] == ["name", "id", "requests", "spend"]
    assert rows[1][:4] == ["key …kkkkkkkk", "k" * 64, "2", "100.25"]
    assert rows[2][:4] == ["'=evil,alias", "a" * 64, "2", "3.0"]
    assert sum(float(r[3]) for r in rows[1:]) == 103.25


def test_breakdown_text_sorted_by_requests_in_a_named_zone(
    local_stack: StackProfile, traffic: None, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "breakdown", "--by", "model", "--sort", "requests", "--tz", "Asia/Tokyo"
    )
    assert code == 0, err
    assert "(Asia/Tokyo)" in out and "sorted by requests" in out
    names = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert names == ["big", "small"]


def test_logs_page_through_with_the_printed_cursor(
    local_stack: StackProfile, traffic: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "logs", "--limit", "2", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert [r["model"] for r in first["rows"]] == ["big", "big"]
    assert first["next_cursor"]
    code, out, err = run(capsys, "logs", "--limit", "2", "--json", "--after", first["next_cursor"])
    second = json.loads(out)
    assert [r["model"] for r in second["rows"]] == ["small"]
    assert second["next_cursor"] is None
    code, out, err = run(capsys, "logs", "--by", "key", "--id", "a" * 64, "--csv")
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("summary", "--range", "fortnight"), "unknown range"),
        (("summary", "--tz", "Mars/Olympus"), "unknown time zone"),
        (("summary", "--from", "2026-13-01"), "YYYY-MM-DD"),
        (("summary", "--range", "7d", "--from", "2026-01-01"), "not both"),
        (("summary", "--json", "--csv"), "not both"),
        (("logs", "--by", "key"), "go together"),
        (("logs", "--after", "yesterday"), "cursor"),
    ],
)
def test_bad_options_fail_with_a_usage_error(
    local_stack: StackProfile,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    code, _out, err = run(capsys, *args)
    assert code == 2
    assert message in err


def test_breakdown_matches_ops_exactly(
    local_stack: StackProfile, traffic: None, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "breakdown", "--by", "user", "--range", "30d", "--json")
    assert code == 0
    window = UsageRange.of_days(TODAY - timedelta(days=29), TODAY, UTC)
    expected = breakdown(engine, window, Dimension.USER)
    assert [(r["id"], r["spend"]) for r in json.loads(out)["rows"]] == [
        (r.key, r.spend) for r in expected
    ]
    assert date.fromisoformat(json.loads(out)["range"]["from"][:10]) == window.start.date()
