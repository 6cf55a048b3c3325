"""Housekeeping and logs tests: the throwaway Postgres of tests/integration/conftest.py (loaded by
path, as tests/apply/conftest.py does), whose fresh databases hold LiteLLM's real tables, and the
session's test stack of tests/fixtures/docker_stack.py (dockerd, socket-proxy, LiteLLM)."""

from __future__ import annotations

from tests.fixtures.docker_stack import docker_stack
from tests.fixtures.postgres_harness import integration_harness

_harness = integration_harness()

# Re-exported: pytest finds fixtures by name in this module.
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine
master = _harness.master
alice = _harness.alice
__all__ = ["alice", "docker_stack", "engine", "master", "master_db", "master_db_url", "pg_cluster"]
