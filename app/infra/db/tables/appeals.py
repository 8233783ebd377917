"""Police appeals (协查通报 / 寻人) and the tips submitted as clues to them."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

appeals = sa.Table(
    "appeals",
    metadata,
    id_column(),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("media_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    sa.Column("target_unit_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    # The polygon as drawn (NULL for unit targets).
    sa.Column("target_polygon", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
    # What volunteers are matched against: the polygon, or the union of the target units.
    sa.Column(
        "target_area", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    ),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("kind IN ('appeal', 'missing_person')", name="kind"),
    sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="status"),
    sa.Index("ix_appeals_target_area", "target_area", postgresql_using="gist"),
    sa.Index(None, "station_id", "status", "id"),
    sa.Index(None, "district_id", "status", "id"),
    sa.Index(None, "status", "expires_at"),
)

# A tip submitted as a clue to an appeal (one appeal per tip).
appeal_clues = sa.Table(
    "appeal_clues",
    metadata,
    sa.Column(
        "tip_id",
        UUID(as_uuid=True),
        sa.ForeignKey("tips.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("appeal_id", UUID(as_uuid=True), sa.ForeignKey("appeals.id"), nullable=False),
    sa.Index(None, "appeal_id", "tip_id"),
)
