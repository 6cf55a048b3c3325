"""Alembic environment of the Master schema.

Run only through `llmproxy_desktop.store.schema_migration.migrate`, which opens the connection,
takes the advisory lock, creates the schema and passes both connection and schema name in
`config.attributes`. There is no alembic.ini and no offline (--sql) mode.
"""

from __future__ import annotations

from alembic import context

from llmproxy_desktop.store.models import Base

config = context.config
connection = config.attributes.get("connection")
schema = config.attributes.get("schema")
if context.is_offline_mode() or connection is None or schema is None:
    raise RuntimeError(
        "The Master's migrations run only through "
        "llmproxy_desktop.store.schema_migration.migrate()."
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # The version table lives beside the Master's tables, never in LiteLLM's `public`.
    version_table_schema=schema,
)
# The caller's connection is already in a transaction (holding the advisory lock), so this does
# not commit on its own: the whole upgrade commits or rolls back with the caller.
with context.begin_transaction():
    context.run_migrations()
