"""media objects

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 15:20:00

Photos, short videos and voice notes uploaded by accounts, with their storage keys and
the record (e.g. a tip-off) they are attached to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_objects",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_account_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("thumbnail_key", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("attached_record_type", sa.Text(), nullable=True),
        sa.Column("attached_record_id", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('photo', 'video', 'audio')", name=op.f("ck_media_objects_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'rejected')", name=op.f("ck_media_objects_status")
        ),
        sa.CheckConstraint(
            "(attached_record_type IS NULL) = (attached_record_id IS NULL)",
            name=op.f("ck_media_objects_attachment_pair"),
        ),
        sa.CheckConstraint(
            "attached_record_id IS NULL OR status = 'ready'",
            name=op.f("ck_media_objects_attached_ready"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_account_id"],
            ["accounts.id"],
            name=op.f("fk_media_objects_owner_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_objects")),
    )
    op.create_index(
        "ix_media_objects_owner_account_id", "media_objects", ["owner_account_id"], unique=False
    )
    op.create_index(
        "ix_media_objects_attached_record_type_attached_record_id",
        "media_objects",
        ["attached_record_type", "attached_record_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_media_objects_attached_record_type_attached_record_id", table_name="media_objects"
    )
    op.drop_index("ix_media_objects_owner_account_id", table_name="media_objects")
    op.drop_table("media_objects")
