"""Key tests: the ops and the CLI against the double of LiteLLM's /key/* endpoints
(tests/fixtures/litellm_keys_double.py), whose keys are rows of LiteLLM's real
"LiteLLM_VerificationToken" table in the throwaway Postgres of tests/integration/conftest.py
(loaded by path through tests/fixtures/postgres_harness.py, as tests/apply does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmproxy_desktop.remote.litellm_client import LiteLLMClient
from tests.fixtures.litellm_keys_double import (
    LiteLLMKeysDouble,
    SchemaChecks,
    litellm_openapi,
    serving,
)
from tests.fixtures.postgres_harness import integration_harness

_harness = integration_harness()

# Re-exported: pytest finds fixtures by name in this module.
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine
__all__ = ["engine", "master_db", "master_db_url", "pg_cluster"]

MASTER_KEY = "sk-master-test-key-0123456789"
MODEL_GROUPS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "local-llama")


@pytest.fixture(scope="session")
def schema_checks(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> SchemaChecks:
    """Validators built from the OpenAPI schema of the pinned LiteLLM (generated once per
    litellm version, kept in pytest's cache directory)."""
    cache = getattr(pytestconfig, "cache", None)
    directory = Path(cache.mkdir("litellm-openapi")) if cache else tmp_path_factory.mktemp("oa")
    return SchemaChecks(litellm_openapi(directory))


@pytest.fixture
def keys_double(
    schema_checks: SchemaChecks, pg_cluster: Any, master_db: str
) -> Iterator[LiteLLMKeysDouble]:
    """The double, serving this test's fresh LiteLLM database. Fails the test if any request
    broke LiteLLM's schema and the test did not look at (and clear) the violations."""
    double = LiteLLMKeysDouble(schema_checks, pg_cluster.conninfo(master_db), MASTER_KEY)
    with serving(double):
        yield double
    assert double.violations == [], double.violations


@pytest.fixture
def client(keys_double: LiteLLMKeysDouble) -> Iterator[LiteLLMClient]:
    """The app's LiteLLM client, pointed at the double with the master key."""
    with LiteLLMClient(keys_double.url, MASTER_KEY) as litellm:
        yield litellm
