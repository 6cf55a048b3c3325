"""Benchmarks reuse the test fixtures: the same throwaway PostgreSQL with LiteLLM's schema, sshd
and the loopback stack."""

from __future__ import annotations

import sys
from pathlib import Path

# `pytest bench/...` does not put the repository root on sys.path: add it for `tests.*`.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.fixtures.postgres_harness import integration_harness  # noqa: E402

_harness = integration_harness()

# Re-exported so pytest registers them as fixtures of bench/.
pg_cluster = _harness.pg_cluster
master_db = _harness.master_db
master_db_url = _harness.master_db_url
engine = _harness.engine

# SSH fixtures for bench_remote.py (tests/fixtures/sshd.py).
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
