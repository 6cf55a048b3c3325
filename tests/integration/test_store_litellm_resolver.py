"""The Master survives LiteLLM's v1 migration resolver, which wiped the reference product.

On an image pull, LiteLLM's default (v1) resolver makes `public` match its Prisma schema and
drops every table there that it does not know (2026-08-24: all `ui_*` tables of the reference
web admin were gone). The Master lives in its own schema, so the same drop must leave it intact.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from store_items import FAST_KDF, model, sha

from llmproxy_desktop.core.items import Item, ItemKind, Secret
from llmproxy_desktop.store import Actor, Master, create_master_engine

pytestmark = pytest.mark.integration


def _litellm_v1_resolver_drop(conninfo: str, litellm_tables: frozenset[str]) -> list[str]:
    """Drop every table in `public` that LiteLLM's own migrations did not create."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        present = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        unknown = sorted(set(present) - litellm_tables)
        for table in unknown:
            conn.execute(sql.SQL("DROP TABLE {} CASCADE").format(sql.Identifier("public", table)))
    return unknown


def test_litellm_resolver_drops_foreign_public_tables_but_the_master_survives(
    engine: Engine,
    pg_cluster: Any,
    master_db: str,
    master_db_url: str,
    alice: Actor,
) -> None:
    master = Master.open(engine)
    master.init_vault("passphrase", alice, **FAST_KDF)
    master.seed_from_import(
        [model("m1", api_key=Secret("sk-1")), model("m2", group="claude")], alice, None
    )
    m1 = master.effective()[0]
    master.stage(model("m1", group="gpt-4.1", api_key=Secret("sk-2")), m1.version, alice)
    revision_id = master.fold("edit", "x\n", sha("1"), alice, master.staged_versions())
    master.stage(Item(ItemKind.ROUTER_SETTING, "num_retries", 2), 0, alice)
    expected_view = master.effective()
    expected_audit = master.audit_entries()
    conninfo = pg_cluster.conninfo(master_db)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # What the reference product kept in LiteLLM's schema.
        conn.execute("CREATE TABLE public.ui_config_applied (kind text, name text, data jsonb)")

    dropped = _litellm_v1_resolver_drop(conninfo, pg_cluster.litellm_tables)

    assert dropped == ["ui_config_applied"]
    # A new desktop session (fresh engine, migrate on connect) finds the whole Master.
    fresh_engine = create_master_engine(master_db_url)
    try:
        reopened = Master.open(fresh_engine)
        reopened.unlock_vault("passphrase")
        assert reopened.effective() == expected_view
        assert reopened.staged_count() == 1
        assert [r.id for r in reopened.revisions()] == [revision_id]
        assert reopened.revision_items(revision_id)[0].data["litellm_params"]["api_key"] == (
            Secret("sk-2")
        )
        assert reopened.audit_entries() == expected_audit
        assert reopened.initialised() is not None
    finally:
        fresh_engine.dispose()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        left = {
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    assert left == pg_cluster.litellm_tables
