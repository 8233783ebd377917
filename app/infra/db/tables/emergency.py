"""Emergency units (最小应急单元): the unit (one per team of type emergency unit) with its
base, equipment with locations, members' claims and duty, last known locations and the
location history (kept only for the retention setting).

The dispatch query (nearest on-duty members and units, KNN) runs over
``emergency_last_locations.location`` — one row per volunteer, with the time their duty
ends; a partial GiST index holds only rows with a duty end, so off-duty members (NULL)
never enter the index walk — and over ``emergency_units.base``.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

EQUIPMENT_KINDS = (
    "'aed', 'extinguisher', 'first_aid_kit', 'life_buoy', 'stretcher', 'megaphone', 'other'"
)


def _point(name: str) -> sa.Column[object]:
    return sa.Column(name, Geography("POINT", srid=4326, spatial_index=False), nullable=False)


def _volunteer_fk(name: str = "volunteer_id") -> sa.Column[object]:
    return sa.Column(
        name,
        UUID(as_uuid=True),
        sa.ForeignKey("volunteers.id", ondelete="CASCADE"),
        nullable=False,
    )


def _unit_fk() -> sa.Column[object]:
    return sa.Column(
        "unit_id",
        UUID(as_uuid=True),
        sa.ForeignKey("emergency_units.id", ondelete="CASCADE"),
        nullable=False,
    )


emergency_units = sa.Table(
    "emergency_units",
    metadata,
    sa.Column(
        "id", UUID(as_uuid=True), sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    _point("base"),
    sa.Column("offers", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.Index("ix_emergency_units_base", "base", postgresql_using="gist"),
    sa.Index(None, "station_id", "id"),
)

emergency_equipment = sa.Table(
    "emergency_equipment",
    metadata,
    id_column(),
    _unit_fk(),
    sa.Column("kind", sa.Text, nullable=False),
    _point("location"),
    sa.Column("label", sa.Text, nullable=True),
    sa.Column("service_due", sa.Date, nullable=True),
    created_at_column(),
    sa.CheckConstraint(f"kind IN ({EQUIPMENT_KINDS})", name="kind"),
    sa.Index(None, "unit_id", "id"),
    sa.Index("ix_emergency_equipment_location", "location", postgresql_using="gist"),
)

emergency_unit_members = sa.Table(
    "emergency_unit_members",
    metadata,
    _unit_fk(),
    _volunteer_fk(),
    sa.Column("capabilities", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    # [{"weekday": 0-6, "start": "HH:MM:SS", "end": "HH:MM:SS"}], local China times
    sa.Column("roster", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    # [{"start": RFC 3339, "end": RFC 3339}]
    sa.Column("shifts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("available_from", sa.DateTime(timezone=True), nullable=True),
    sa.Column("available_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("off_until", sa.DateTime(timezone=True), nullable=True),
    updated_at_column(),
    sa.PrimaryKeyConstraint("unit_id", "volunteer_id"),
    sa.Index(None, "volunteer_id"),
)

emergency_last_locations = sa.Table(
    "emergency_last_locations",
    metadata,
    sa.Column(
        "volunteer_id",
        UUID(as_uuid=True),
        sa.ForeignKey("volunteers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _point("location"),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("accuracy_m", sa.Float, nullable=True),
    # When the member's duty ends as last known; NULL: off duty (not in the KNN index).
    sa.Column("on_duty_until", sa.DateTime(timezone=True), nullable=True),
    updated_at_column(),
    sa.Index(
        "ix_emergency_last_locations_on_duty",
        "location",
        postgresql_using="gist",
        postgresql_where=sa.text("on_duty_until IS NOT NULL"),
    ),
    sa.Index(None, "at"),
)

emergency_location_samples = sa.Table(
    "emergency_location_samples",
    metadata,
    _volunteer_fk(),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    _point("location"),
    sa.Column("accuracy_m", sa.Float, nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("volunteer_id", "at"),
    sa.Index(None, "at"),
)
