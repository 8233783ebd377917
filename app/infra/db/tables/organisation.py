"""Organisation tree (分局 → 派出所 → 社区/村 → 网格) with jurisdiction polygons."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
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
