"""Bringing the Master schema up to date, safely, every time the app connects.

Alembic is driven programmatically (no alembic.ini for users). The whole upgrade runs in one
transaction under a Postgres advisory lock, so two desktops connecting at once never race: the
second waits, then finds the schema current and does nothing. A schema migrated by a newer app is
refused instead of being touched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import BigInteger, Connection, Engine, cast, func, literal, select
from sqlalchemy.schema import CreateSchema

from .errors import SchemaTooNew
from .models import DEFAULT_SCHEMA, validate_schema_name

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def advisory_lock_key(purpose: str, schema: str) -> int:
    """A stable signed 64-bit advisory-lock key for `purpose` in `schema`.

    Derived from the schema name so Masters in different schemas of one database never block
    each other, and from the purpose so migrations and writes use different locks.
    """
    digest = hashlib.sha256(f"llmproxy-desktop/{purpose}/{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def migration_lock_key(schema: str) -> int:
    """The advisory-lock key held while migrating `schema`."""
    return advisory_lock_key("migrate", schema)


def _config(schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["schema"] = schema
    return config


def head_revision() -> str:
    """The newest schema revision this version of the app knows."""
    head = ScriptDirectory.from_config(_config(DEFAULT_SCHEMA)).get_current_head()
    assert head is not None, "the Master has at least one migration"
    return head


def current_revisions(connection: Connection, schema: str) -> tuple[str, ...]:
    """The revision(s) recorded in `schema`'s version table; empty when never migrated."""
    context = MigrationContext.configure(
        connection, opts={"version_table_schema": validate_schema_name(schema)}
    )
    return tuple(context.get_current_heads())


def migrate(engine: Engine, schema: str = DEFAULT_SCHEMA) -> str:
    """Create and upgrade the Master schema to the newest revision; return that revision.

    Idempotent and safe to call from several clients at once (advisory lock, one transaction).
    Raises InvalidSchemaName for an unusable schema name and SchemaTooNew, without changing
    anything, when the schema carries a revision this app does not know.
    """
    validate_schema_name(schema)
    config = _config(schema)
    script = ScriptDirectory.from_config(config)
    known = {rev.revision for rev in script.walk_revisions()}
    head = script.get_current_head()
    with engine.connect() as connection, connection.begin():
        # Transaction-scoped: released by commit/rollback even if this process dies mid-way.
        connection.execute(
            select(
                func.pg_advisory_xact_lock(cast(literal(migration_lock_key(schema)), BigInteger))
            )
        )
        connection.execute(CreateSchema(schema, if_not_exists=True))
        current = current_revisions(connection, schema)
        unknown = [rev for rev in current if rev not in known]
        if unknown:
            raise SchemaTooNew(schema, unknown, head)
        if current != (head,):
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    assert head is not None
    return head
