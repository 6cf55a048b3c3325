"""The usage rollup: hourly and quarter-hourly aggregates of LiteLLM's spend logs, a latency
histogram per hour and the watermark (ops/usage_rollup.py).

Revision ID: 0002_usage_rollup
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0002_usage_rollup"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _figures() -> list[sa.Column[object]]:
    return [
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("cache_hits", sa.BigInteger(), nullable=False),
        sa.Column("spend", sa.Double(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.create_table(
        "usage_hours",
        sa.Column("hour", sa.DateTime(timezone=False), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=False),
        sa.Column("usr", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        *_figures(),
        sa.Column("latency_count", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum_ms", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "model", "api_key", "usr", "team", name="usage_hours_pkey"),
        schema=schema,
    )
    op.create_table(
        "usage_key_days",
        sa.Column("day", sa.DateTime(timezone=False), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=False),
        sa.Column("usr", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("day", "api_key", "usr", "team", name="usage_key_days_pkey"),
        schema=schema,
    )
    op.create_table(
        "usage_model_quarters",
        sa.Column("quarter", sa.DateTime(timezone=False), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("quarter", "model", name="usage_model_quarters_pkey"),
        schema=schema,
    )
    op.create_table(
        "usage_latency_hours",
        sa.Column("hour", sa.DateTime(timezone=False), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "bucket", name="usage_latency_hours_pkey"),
        schema=schema,
    )
    op.create_table(
        "usage_rollup_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=False), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("id", name="usage_rollup_state_pkey"),
        sa.CheckConstraint("id = 1", name="usage_rollup_state_single_row"),
        schema=schema,
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    for table in (
        "usage_rollup_state",
        "usage_latency_hours",
        "usage_model_quarters",
        "usage_key_days",
        "usage_hours",
    ):
        op.drop_table(table, schema=schema)
