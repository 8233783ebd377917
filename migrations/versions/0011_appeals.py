"""appeals: police appeals (协查通报 / 寻人) and the tips submitted as clues to them

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 12:00:00

``appeals.target_area`` is what volunteers are matched against (the drawn polygon or the
union of the target units' boundaries), with a GiST index; ``appeal_clues`` links a tip
to the appeal it answers.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _multipolygon(nullable: bool) -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(
        geometry_type="MULTIPOLYGON",
        srid=4326,
        dimension=2,
        spatial_index=False,
        from_text="ST_GeomFromEWKT",
        name="geometry",
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=True),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("media_ids", postgresql.ARRAY(sa.UUID()), server_default="{}", nullable=False),
        sa.Column(
            "target_unit_ids", postgresql.ARRAY(sa.UUID()), server_default="{}", nullable=False
        ),
        sa.Column("target_polygon", _multipolygon(True), nullable=True),
        sa.Column("target_area", _multipolygon(False), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
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
        sa.CheckConstraint("kind IN ('appeal', 'missing_person')", name=op.f("ck_appeals_kind")),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'withdrawn')", name=op.f("ck_appeals_status")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_appeals_created_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_appeals_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_appeals_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    op.create_index("ix_appeals_target_area", "appeals", ["target_area"], postgresql_using="gist")
    op.create_index(
        op.f("ix_appeals_station_id_status_id"), "appeals", ["station_id", "status", "id"]
    )
    op.create_index(
        op.f("ix_appeals_district_id_status_id"), "appeals", ["district_id", "status", "id"]
    )
    op.create_index(op.f("ix_appeals_status_expires_at"), "appeals", ["status", "expires_at"])
    op.create_table(
        "appeal_clues",
        sa.Column("tip_id", sa.UUID(), nullable=False),
        sa.Column("appeal_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_clues_appeal_id_appeals")
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["tips.id"],
            name=op.f("fk_appeal_clues_tip_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tip_id", name=op.f("pk_appeal_clues")),
    )
    op.create_index(
        op.f("ix_appeal_clues_appeal_id_tip_id"), "appeal_clues", ["appeal_id", "tip_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_appeal_clues_appeal_id_tip_id"), table_name="appeal_clues")
    op.drop_table("appeal_clues")
    op.drop_index(op.f("ix_appeals_status_expires_at"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_district_id_status_id"), table_name="appeals")
    op.drop_index(op.f("ix_appeals_station_id_status_id"), table_name="appeals")
    op.drop_index("ix_appeals_target_area", table_name="appeals", postgresql_using="gist")
    op.drop_table("appeals")
