"""The Master schema: own schema, versioned migrations, locked, idempotent, refuses the future."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from store_items import count_advisory_waiters, model, wait_until

from llmproxy_desktop.store import (
    DEFAULT_SCHEMA,
    InvalidSchemaName,
    Master,
    SchemaTooNew,
    head_revision,
    migrate,
)
from llmproxy_desktop.store.models import Base
from llmproxy_desktop.store.schema_migration import current_revisions, migration_lock_key

pytestmark = pytest.mark.integration

MASTER_TABLES = {
    "alembic_version",
    "applied_items",
    "staged_items",
    "item_versions",
    "revisions",
    "audit_log",
    "vault",
    "meta",
    "usage_hours",
    "usage_key_days",
    "usage_model_quarters",
    "usage_latency_hours",
    "usage_rollup_state",
}


def _tables(engine: Engine, schema: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        )
        return {name for (name,) in rows}


def _schema_exists(engine: Engine, schema: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :s)"),
                {"s": schema},
            ).scalar_one()
        )


def test_migrate_creates_the_master_in_its_own_schema_and_nothing_in_public(
    engine: Engine, pg_cluster: Any
) -> None:
    public_before = _tables(engine, "public")
    assert not _schema_exists(engine, DEFAULT_SCHEMA)

    assert migrate(engine) == head_revision()

    assert _tables(engine, DEFAULT_SCHEMA) == MASTER_TABLES
    assert _tables(engine, "public") == public_before == pg_cluster.litellm_tables


def test_version_table_lives_in_the_app_schema(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        assert current_revisions(conn, DEFAULT_SCHEMA) == (head_revision(),)
        in_public = conn.execute(
            text("SELECT to_regclass('public.alembic_version') IS NOT NULL")
        ).scalar_one()
    assert not in_public


def test_migrating_again_changes_nothing_and_keeps_data(engine: Engine, alice: Any) -> None:
    master = Master.open(engine)
    master.stage(model("m1"), 0, alice)

    Master.open(engine)
    migrate(engine)

    assert [e.item.name for e in master.effective()] == ["m1"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(f"SELECT count(*) FROM {DEFAULT_SCHEMA}.alembic_version")
            ).scalar_one()
            == 1
        )


def test_concurrent_first_connects_wait_for_the_lock_and_both_succeed(
    engine: Engine, other_engine: Engine, pg_cluster: Any, master_db: str
) -> None:
    key = migration_lock_key(DEFAULT_SCHEMA)
    with psycopg.connect(pg_cluster.conninfo(master_db), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(Master.open, engine)
            second = pool.submit(Master.open, other_engine)
            # Both clients must be queued on the lock before touching anything.
            with psycopg.connect(pg_cluster.conninfo(master_db), autocommit=True) as watcher:
                wait_until(
                    lambda: count_advisory_waiters(watcher) == 2,
                    "both clients wait for the migration lock",
                )
            assert not _schema_exists(engine, DEFAULT_SCHEMA)
            holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
            first.result(timeout=60)
            second.result(timeout=60)
    assert _tables(engine, DEFAULT_SCHEMA) == MASTER_TABLES
    with engine.connect() as conn:
        assert current_revisions(conn, DEFAULT_SCHEMA) == (head_revision(),)


def test_refuses_a_schema_migrated_by_a_newer_app_and_changes_nothing(
    engine: Engine, alice: Any
) -> None:
    master = Master.open(engine)
    master.stage(model("m1"), 0, alice)
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {DEFAULT_SCHEMA}.alembic_version SET version_num = '0099_from_future'")
        )

    with pytest.raises(SchemaTooNew) as caught:
        Master.open(engine)

    message = str(caught.value)
    assert "0099_from_future" in message and head_revision() in message
    assert "update this app" in message
    with engine.connect() as conn:
        assert current_revisions(conn, DEFAULT_SCHEMA) == ("0099_from_future",)
    assert _tables(engine, DEFAULT_SCHEMA) == MASTER_TABLES


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    migrate(engine)

    def ours(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "schema":
            return name == DEFAULT_SCHEMA
        return name != "alembic_version"

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": ours,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_master_lives_in_a_configured_schema(engine: Engine, alice: Any) -> None:
    master = Master.open(engine, schema="desk_admin")
    master.stage(model("m1"), 0, alice)
    master.fold("first", "model_list: []\n", "a" * 64, alice, master.staged_versions())

    assert _tables(engine, "desk_admin") == MASTER_TABLES
    assert not _schema_exists(engine, DEFAULT_SCHEMA)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM desk_admin.applied_items")).scalar_one() == 1
    # The default-schema Master on the same database is a separate, empty Master.
    assert Master.open(engine).effective() == []


@pytest.mark.parametrize(
    "schema", ["public", "information_schema", "pg_catalog", "Upper", "has-dash", "9lives", ""]
)
def test_unusable_schema_names_are_refused_before_touching_the_database(
    engine: Engine, schema: str
) -> None:
    with pytest.raises(InvalidSchemaName) as caught:
        Master.open(engine, schema=schema)
    assert repr(schema) in str(caught.value)
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT to_regclass('public.alembic_version') IS NULL")
        ).scalar_one()
