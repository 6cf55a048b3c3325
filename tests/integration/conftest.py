"""Integration harness: a throwaway PostgreSQL 15 cluster holding LiteLLM's real schema.

Session scope: one cluster in a private temp dir on a free loopback port (a default cluster may
already own 5432), scram password auth for the role `llmproxy`, and a TEMPLATE database with
LiteLLM's own migrations applied from the installed `litellm_proxy_extras`. Function scope: each
test gets a fresh database cloned from that template, i.e. what a real LiteLLM database looks
like before the Master moves in.

Nothing is skipped: missing PostgreSQL binaries fail the tests with a message saying what to
install. At the end exactly the postmaster this harness started is stopped.

The benchmarks import these fixtures (bench/conftest.py), so keep them free of test-only state.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine

from llmproxy_desktop.store import Actor, Master, create_master_engine

PG_BIN = Path(os.environ.get("LLMPROXY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROLE = "llmproxy"
TEMPLATE_DB = "litellm_template"
SUPERUSER = "postgres"
_START_ATTEMPTS = 3  # a free port can be taken between probing and binding; retry on a new one


@dataclass(frozen=True)
class PgCluster:
    """A running throwaway cluster and how to reach it."""

    port: int
    socket_dir: Path
    password: str  # of ROLE; generated per run
    template: str
    litellm_tables: frozenset[str]  # tables LiteLLM's migrations create in `public`

    def url(self, database: str) -> str:
        """SQLAlchemy URL for `database` as the app role, over TCP with scram auth."""
        return f"postgresql+psycopg://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str) -> str:
        """libpq conninfo for `database` as the app role (plain psycopg)."""
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={ROLE} "
            f"password={self.password}"
        )

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """Superuser connection over the private Unix socket (trust), autocommit."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_cluster_owner(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; as root we act as `postgres`, otherwise as ourselves.
    return ["runuser", "-u", SUPERUSER, "--", *cmd] if _is_root() else cmd


def _give_to_cluster_owner(path: Path) -> None:
    if _is_root():
        owner = pwd.getpwnam(SUPERUSER)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {result.returncode}):\n{result.stdout[-2000:]}\n"
            f"{result.stderr[-4000:]}",
            pytrace=False,
        )


def _require_binaries() -> None:
    missing = [b for b in ("initdb", "pg_ctl", "psql") if not (PG_BIN / b).is_file()]
    if missing:
        pytest.fail(
            f"PostgreSQL 15 server binaries are missing from {PG_BIN} ({', '.join(missing)}). "
            "The integration tests need a real PostgreSQL: install it (Debian: apt-get install "
            "postgresql-15, as CI does) or point LLMPROXY_TEST_PG_BIN at its bin directory.",
            pytrace=False,
        )
    if _is_root():
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            pytest.fail(
                f"Running as root, but there is no '{SUPERUSER}' OS user to own the cluster "
                "(initdb refuses root). Install the postgresql package, which creates it.",
                pytrace=False,
            )


def _litellm_migrations() -> list[Path]:
    import litellm_proxy_extras

    root = Path(litellm_proxy_extras.__file__).parent / "migrations"
    # C-sorted directory names = timestamp order, the order LiteLLM applies them in.
    files = sorted(root.glob("*/migration.sql"), key=lambda p: p.parent.name.encode())
    if not files:
        pytest.fail(f"No LiteLLM migrations found under {root}", pytrace=False)
    return files


def _psql_quote(path: Path) -> str:
    # psql's single-quoted backslash-command argument: '' is a quote, \\ a backslash.
    return "'" + str(path).replace("\\", "\\\\").replace("'", "''") + "'"


def _start_postmaster(root: Path, data: Path, sock: Path) -> int:
    """Start the cluster on a free port; return the port."""
    log = root / "log" / "postgres.log"  # in a directory the cluster owner may write
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {sock} "
            # Throwaway data: durability only costs time here.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        result = subprocess.run(
            _as_cluster_owner(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return port
    log_tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
    pytest.fail(f"PostgreSQL did not start:\n{result.stderr}\n{log_tail}", pytrace=False)


def _postmaster_pid(data: Path) -> int:
    # First line of postmaster.pid is the PID of the postmaster that pg_ctl started.
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def _build_template(cluster_port: int, sock: Path, password: str, root: Path) -> frozenset[str]:
    with psycopg.connect(
        host=str(sock), port=cluster_port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(password)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(TEMPLATE_DB), sql.Identifier(ROLE)
            )
        )
    script = root / "litellm_migrations.psql"
    script.write_text(
        "".join(f"\\i {_psql_quote(path)}\n" for path in _litellm_migrations()),
        encoding="utf-8",
    )
    # One psql session for all ~220 files (one process each would take ~10 s), applied as the
    # app role over TCP: this also proves the scram login works before any test relies on it.
    _run(
        [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster_port),
            "-U",
            ROLE,
            "-d",
            TEMPLATE_DB,
            "-f",
            str(script),
        ],
        "Applying LiteLLM's migrations to the template database",
        env={**os.environ, "PGPASSWORD": password},
    )
    with psycopg.connect(
        host="127.0.0.1", port=cluster_port, user=ROLE, password=password, dbname=TEMPLATE_DB
    ) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return frozenset(name for (name,) in rows)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A private PostgreSQL 15 cluster with a LiteLLM template database, for the whole run."""
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="llmproxy-pg-"))
    root.chmod(0o755)  # the cluster owner must traverse it
    data, sock = root / "data", root / "sock"
    pid: int | None = None
    try:
        for path in (data, sock, root / "log"):
            path.mkdir(mode=0o700)
            _give_to_cluster_owner(path)
        pwfile = root / "superuser.pw"
        pwfile.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        _give_to_cluster_owner(pwfile)
        _run(
            _as_cluster_owner(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--no-sync",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            ),
            "initdb",
        )
        pwfile.unlink()
        port = _start_postmaster(root, data, sock)
        pid = _postmaster_pid(data)
        password = secrets.token_urlsafe(16)
        tables = _build_template(port, sock, password, root)
        yield PgCluster(
            port=port,
            socket_dir=sock,
            password=password,
            template=TEMPLATE_DB,
            litellm_tables=tables,
        )
    finally:
        if pid is not None:
            stopped = subprocess.run(
                _as_cluster_owner(
                    [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
            )
            if stopped.returncode != 0:
                # Only the postmaster we started: SIGQUIT = immediate shutdown.
                os.kill(pid, signal.SIGQUIT)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def master_db(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh database cloned from the LiteLLM template; yields its name, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with pg_cluster.admin() as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(pg_cluster.template), sql.Identifier(ROLE)
            )
        )
    try:
        yield name
    finally:
        with pg_cluster.admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def master_db_url(pg_cluster: PgCluster, master_db: str) -> str:
    """SQLAlchemy URL (postgresql+psycopg) of this test's fresh database."""
    return pg_cluster.url(master_db)


@pytest.fixture
def engine(master_db_url: str) -> Iterator[Engine]:
    """An engine on this test's database, disposed afterwards."""
    eng = create_master_engine(master_db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def other_engine(master_db_url: str) -> Iterator[Engine]:
    """A second, independent engine on the same database: another admin's desktop."""
    eng = create_master_engine(master_db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def alice() -> Actor:
    """One admin."""
    return Actor(user="alice", host="alice-laptop")


@pytest.fixture
def bob() -> Actor:
    """Another admin, on another machine."""
    return Actor(user="bob", host="bob-desktop")


@pytest.fixture
def master(engine: Engine) -> Master:
    """Alice's Master on this test's database (migrated)."""
    return Master.open(engine)


@pytest.fixture
def other_master(other_engine: Engine, master: Master) -> Master:
    """Bob's Master: the same database through its own engine (after `master` migrated it)."""
    return Master.open(other_engine)
