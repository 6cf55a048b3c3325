"""The Master's first schema: applied, staged, item versions, revisions, audit, vault, meta.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _who(prefix: str) -> list[sa.Column[str]]:
    return [
        sa.Column(f"{prefix}_user", sa.Text(), nullable=False),
        sa.Column(f"{prefix}_host", sa.Text(), nullable=False),
    ]


def _at(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
    )


def upgrade() -> None:
    # The configured schema, created by migrate() before alembic runs.
    schema = context.config.attributes["schema"]

    op.execute(sa.schema.CreateSequence(sa.Sequence("item_version_seq", schema=schema)))

    op.create_table(
        "applied_items",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        _at("updated_at"),
        *_who("updated_by"),
        sa.PrimaryKeyConstraint("kind", "name", name="applied_items_pkey"),
        schema=schema,
    )
    op.create_table(
        "staged_items",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("flag", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        _at("staged_at"),
        *_who("staged_by"),
        sa.PrimaryKeyConstraint("kind", "name", name="staged_items_pkey"),
        sa.CheckConstraint("flag IN ('new', 'changed', 'deleted')", name="staged_items_flag_valid"),
        sa.CheckConstraint(
            "(flag = 'deleted') = (data IS NULL)", name="staged_items_data_unless_deleted"
        ),
        schema=schema,
    )
    op.create_table(
        "item_versions",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        _at("changed_at"),
        *_who("changed_by"),
        sa.PrimaryKeyConstraint("kind", "name", name="item_versions_pkey"),
        schema=schema,
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        _at("created_at"),
        *_who("created_by"),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("rendered_yaml_redacted", sa.Text(), nullable=False),
        sa.Column("rendered_sha256", sa.Text(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="revisions_pkey"),
        sa.CheckConstraint(
            "rendered_sha256 ~ '^[0-9a-f]{64}$'", name="revisions_rendered_sha256_hex"
        ),
        schema=schema,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        _at("at"),
        *_who("actor"),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="audit_log_pkey"),
        schema=schema,
    )
    op.create_table(
        "vault",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("time_cost", sa.Integer(), nullable=False),
        sa.Column("memory_cost", sa.Integer(), nullable=False),
        sa.Column("parallelism", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        _at("updated_at"),
        *_who("updated_by"),
        sa.PrimaryKeyConstraint("id", name="vault_pkey"),
        sa.CheckConstraint("id = 1", name="vault_single_row"),
        schema=schema,
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        _at("set_at"),
        *_who("set_by"),
        sa.PrimaryKeyConstraint("key", name="meta_pkey"),
        schema=schema,
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    for table in (
        "meta",
        "vault",
        "audit_log",
        "revisions",
        "item_versions",
        "staged_items",
        "applied_items",
    ):
        op.drop_table(table, schema=schema)
    op.execute(sa.schema.DropSequence(sa.Sequence("item_version_seq", schema=schema)))
