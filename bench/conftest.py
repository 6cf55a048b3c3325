"""Benchmarks reuse the integration harness: the same throwaway PostgreSQL with LiteLLM's schema.

Loaded by file path: bench/ and tests/integration/ are not importable packages of each other,
and `pytest bench/...` does not put the repository root on sys.path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_HARNESS_PATH = Path(__file__).resolve().parents[1] / "tests" / "integration" / "conftest.py"
_spec = importlib.util.spec_from_file_location("llmproxy_integration_harness", _HARNESS_PATH)
assert _spec is not None and _spec.loader is not None
_harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _harness
_spec.loader.exec_module(_harness)

# Re-exported so pytest registers them as fixtures of bench/.
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine
