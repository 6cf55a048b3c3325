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

# SSH fixtures for bench_remote.py. They live in the `tests` package (tests/fixtures/sshd.py),
# importable once the repository root is on sys.path.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.fixtures import sshd as _sshd  # noqa: E402 - needs the path set just above

client_keys = _sshd.client_keys
openssh_root = _sshd.openssh_root
password_user = _sshd.password_user
restartable_sshd = _sshd.restartable_sshd
sshd_target = _sshd.sshd_target

# Apply fixtures for bench_apply.py: the loopback stack, its sshd and a seeded Master, exactly
# as the apply tests build them (tests/apply/conftest.py reuses the harness loaded above).
from tests.apply import conftest as _apply  # noqa: E402 - needs the path set above

docker_stack = _apply.docker_stack
stack_host_sshd = _apply.stack_host_sshd
ssh_session = _apply.ssh_session
stack_restored = _apply.stack_restored
master = _apply.master
target = _apply.target
