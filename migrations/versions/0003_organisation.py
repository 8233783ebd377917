"""organisation: watch points (守望点)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 15:00:00

The organisation tree itself (org_units) is part of 0001; this adds watch points with
their geofence centre (geography) and QR token.
"""
from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_points",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("community_id", sa.UUID(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("qr_token", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("radius_m BETWEEN 10 AND 2000", name=op.f("ck_watch_points_radius_m")),
        sa.ForeignKeyConstraint(["community_id"], ["org_units.id"], name=op.f("fk_watch_points_community_id_org_units")),
        sa.ForeignKeyConstraint(["district_id"], ["org_units.id"], name=op.f("fk_watch_points_district_id_org_units")),
        sa.ForeignKeyConstraint(["grid_id"], ["org_units.id"], name=op.f("fk_watch_points_grid_id_org_units")),
        sa.ForeignKeyConstraint(["station_id"], ["org_units.id"], name=op.f("fk_watch_points_station_id_org_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_points")),
        sa.UniqueConstraint("code", name=op.f("uq_watch_points_code")),
        sa.UniqueConstraint("qr_token", name=op.f("uq_watch_points_qr_token")),
    )
    op.create_index("ix_watch_points_location", "watch_points", ["location"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_watch_points_station_id_id"), "watch_points", ["station_id", "id"], unique=False)
    op.create_index(op.f("ix_watch_points_grid_id"), "watch_points", ["grid_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_watch_points_grid_id"), table_name="watch_points")
    op.drop_index(op.f("ix_watch_points_station_id_id"), table_name="watch_points")
    op.drop_index("ix_watch_points_location", table_name="watch_points", postgresql_using="gist")
    op.drop_table("watch_points")
