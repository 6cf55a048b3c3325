"""Usage tests: LiteLLM's real `"LiteLLM_SpendLogs"` in the throwaway Postgres of
tests/fixtures/postgres_harness.py (a fresh database per test, cloned from LiteLLM's migrations),
filled with crafted rows by parameterised inserts (`spend_rows.py`)."""

from __future__ import annotations

from tests.fixtures.postgres_harness import integration_harness

_harness = integration_harness()

# Re-exported: pytest finds fixtures by name in this module.
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine
__all__ = ["engine", "master_db", "master_db_url", "pg_cluster"]
