"""Organisation tree (分局 → 派出所 → 社区/村 → 网格) with jurisdiction polygons."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geography, Geometry
from sqlalchemy.dialects.postgresql import UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

org_units = sa.Table(
    "org_units",
    metadata,
    id_column(),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    # Denormalised ancestors so scope filters are a plain equality, not a tree walk.
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column(
        "boundary",
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
        nullable=False,
    ),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("level IN ('district', 'station', 'community', 'grid')", name="level"),
    sa.CheckConstraint("(level = 'district') = (parent_id IS NULL)", name="parent_by_level"),
    sa.Index("ix_org_units_boundary", "boundary", postgresql_using="gist"),
    sa.Index(None, "parent_id"),
    sa.Index(None, "level", "station_id"),
)

# 守望点: a watched place with a geofence and a printable QR code, routed to the station,
# community and grid covering its location when created or moved.
watch_points = sa.Table(
    "watch_points",
    metadata,
    id_column(),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    sa.Column("radius_m", sa.Integer, nullable=False),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("community_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("grid_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("qr_token", sa.Text, nullable=False, unique=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", UUID(as_uuid=True)),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("radius_m BETWEEN 10 AND 2000", name="radius_m"),
    sa.Index("ix_watch_points_location", "location", postgresql_using="gist"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "grid_id"),
)
