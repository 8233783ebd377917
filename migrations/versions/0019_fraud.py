"""fraud controls: perceptual hashes of photos, the submission log behind velocity limits,
and the review-flag queue

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-22 17:30:00

``hamming64(a, b)`` counts the differing bits of two 64-bit hashes (PostgreSQL 15 has no
``bit_count`` for bigint): the XOR cast to ``bit(64)``, its ones counted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("media_objects", sa.Column("phash", sa.BigInteger(), nullable=True))
    op.create_index("ix_media_objects_phash", "media_objects", ["phash"], unique=False)
    op.execute(
        """
        CREATE FUNCTION hamming64(a bigint, b bigint) RETURNS integer
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN length(replace(((a # b)::bit(64))::text, '0', ''))
        """
    )
    op.create_table(
        "submission_log",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=True),
        sa.Column("account_bidx", postgresql.BYTEA(), nullable=True),
        sa.Column("device_bidx", postgresql.BYTEA(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "record_type IN ('hazard', 'tip')", name=op.f("ck_submission_log_record_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_log")),
    )
    op.create_index(
        op.f("ix_submission_log_account_bidx_at"), "submission_log", ["account_bidx", "at"]
    )
    op.create_index(
        op.f("ix_submission_log_device_bidx_at"), "submission_log", ["device_bidx", "at"]
    )
    op.create_index(op.f("ix_submission_log_record_id"), "submission_log", ["record_id"])
    op.create_index(op.f("ix_submission_log_at"), "submission_log", ["at"])
    op.create_table(
        "review_flags",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=True),
        sa.Column("district_id", sa.UUID(), nullable=True),
        sa.Column(
            "evidence",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
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
            "record_type IN ('hazard', 'tip')", name=op.f("ck_review_flags_record_type")
        ),
        sa.CheckConstraint(
            "kind IN ('photo_reused', 'device_velocity')", name=op.f("ck_review_flags_kind")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'dismissed', 'confirmed_fraud')",
            name=op.f("ck_review_flags_status"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_review_flags_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["accounts.id"], name=op.f("fk_review_flags_resolved_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_review_flags_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_flags")),
        sa.UniqueConstraint(
            "record_type",
            "record_id",
            "kind",
            name=op.f("uq_review_flags_record_type_record_id_kind"),
        ),
    )
    op.create_index(op.f("ix_review_flags_station_id_id"), "review_flags", ["station_id", "id"])
    op.create_index(op.f("ix_review_flags_district_id_id"), "review_flags", ["district_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_flags_district_id_id"), table_name="review_flags")
    op.drop_index(op.f("ix_review_flags_station_id_id"), table_name="review_flags")
    op.drop_table("review_flags")
    op.drop_index(op.f("ix_submission_log_at"), table_name="submission_log")
    op.drop_index(op.f("ix_submission_log_record_id"), table_name="submission_log")
    op.drop_index(op.f("ix_submission_log_device_bidx_at"), table_name="submission_log")
    op.drop_index(op.f("ix_submission_log_account_bidx_at"), table_name="submission_log")
    op.drop_table("submission_log")
    op.execute("DROP FUNCTION hamming64(bigint, bigint)")
    op.drop_index("ix_media_objects_phash", table_name="media_objects")
    op.drop_column("media_objects", "phash")
