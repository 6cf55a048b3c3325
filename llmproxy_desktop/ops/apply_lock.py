"""The stack-wide Apply lock (issue 4 §1 step 1): one Apply at a time per Master, across admins.

A session-level Postgres advisory lock in the Master's database, held on a connection of its own
for the whole Apply (the Master's own per-write transaction lock is taken and released inside
`fold`, so it cannot span the upload and the restart). The holder is made visible without a
table: the lock's connection carries `application_name = "llmproxy-desktop apply by USER@HOST"`,
and a refused Apply reads it back through `pg_locks` + `pg_stat_activity` (application_name is
visible to every role, unlike the query text). If the holder's process dies, Postgres ends its
session and the lock goes with it, so a crashed Apply never leaves a stale lock behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from ..store import Actor
from ..store.schema_migration import advisory_lock_key

APPLICATION_NAME_PREFIX = "llmproxy-desktop apply by "
_UNKNOWN_HOLDER = "another session"


class ApplyLocked(Exception):
    """Another Apply of this stack holds the lock; `holder` is its USER@HOST when known."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"Apply in progress by {holder}")
        self.holder = holder


def apply_lock_key(schema: str) -> int:
    """The advisory-lock key of Apply for the Master in `schema` (distinct from its write lock)."""
    return advisory_lock_key("apply", schema)


@contextmanager
def apply_lock(
    engine: Engine,
    schema: str,
    actor: Actor,
    *,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the Apply lock of `schema` for the body of the `with`.

    `wait_seconds <= 0`: fail fast with ApplyLocked naming the holder. Otherwise `on_wait(holder)`
    is called once (for "Apply in progress by …" in the UI) and the lock is awaited in Postgres
    for at most `wait_seconds`, then ApplyLocked. Database errors propagate as SQLAlchemy's.
    """
    key = apply_lock_key(schema)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        original_name = connection.execute(
            text("SELECT current_setting('application_name')")
        ).scalar_one()
        connection.execute(
            text("SELECT set_config('application_name', :name, false)"),
            {"name": f"{APPLICATION_NAME_PREFIX}{actor}"},
        )
        _acquire(connection, key, wait_seconds, on_wait)
    except BaseException:
        connection.invalidate()  # ends the session: nothing of ours can linger on it
        connection.close()
        raise
    try:
        yield
    finally:
        try:
            connection.execute(
                text("SELECT pg_advisory_unlock(CAST(:key AS bigint))"), {"key": key}
            )
            connection.execute(
                text("SELECT set_config('application_name', :name, false)"),
                {"name": original_name},
            )
        except DBAPIError:
            # The session is gone or broken; closing it releases the lock on the server anyway.
            connection.invalidate()
        connection.close()


def _acquire(
    connection: Connection,
    key: int,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None,
) -> None:
    granted = connection.execute(
        text("SELECT pg_try_advisory_lock(CAST(:key AS bigint))"), {"key": key}
    ).scalar_one()
    if granted:
        return
    holder = lock_holder(connection, key)
    if wait_seconds <= 0:
        raise ApplyLocked(holder)
    if on_wait is not None:
        on_wait(holder)
    # A server-side bounded wait: Postgres wakes us when the holder releases, no polling here.
    connection.execute(
        text("SELECT set_config('lock_timeout', :ms, false)"),
        {"ms": f"{max(1, round(wait_seconds * 1000))}ms"},
    )
    try:
        connection.execute(text("SELECT pg_advisory_lock(CAST(:key AS bigint))"), {"key": key})
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise ApplyLocked(lock_holder(connection, key)) from None
        raise
    finally:
        connection.execute(text("SELECT set_config('lock_timeout', '0', false)"))


def lock_holder(connection: Connection, key: int) -> str:
    """USER@HOST of the session holding the Apply lock `key`, or "another session"."""
    name = connection.execute(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :high AND l.objid::bigint = :low LIMIT 1"
        ),
        # A bigint advisory key is stored as its high and low 32 bits, each unsigned.
        {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
    ).scalar_one_or_none()
    if isinstance(name, str) and name.startswith(APPLICATION_NAME_PREFIX):
        return name.removeprefix(APPLICATION_NAME_PREFIX)
    return _UNKNOWN_HOLDER
