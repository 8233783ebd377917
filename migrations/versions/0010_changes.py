"""changes: the change log behind mobile sync (/me/changes)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("feed", postgresql.BYTEA(), nullable=False),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "record_type IN ('tip', 'notification')", name=op.f("ck_change_log_record_type")
        ),
        sa.CheckConstraint("op IN ('upsert', 'delete')", name=op.f("ck_change_log_op")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
    )
    # xid8 has no SQLAlchemy type; the writing transaction, for the reader's xmin horizon.
    op.execute("ALTER TABLE change_log ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.create_index(op.f("ix_change_log_feed_seq"), "change_log", ["feed", "seq"])


def downgrade() -> None:
    op.drop_index(op.f("ix_change_log_feed_seq"), table_name="change_log")
    op.drop_table("change_log")
