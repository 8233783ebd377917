"""Hazards (隐患): departments and their member accounts, per-district sub-categories,
the hazards with their reporters, duplicate links and history."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

TOP_CATEGORIES = (
    "'public_order', 'traffic', 'fire', 'housing_construction', 'health', 'dogs', 'other'"
)
STATUSES = "'reported', 'verified', 'assigned', 'rectifying', 'rectified', 'closed'"
OUTCOMES = "'real', 'not_hazard', 'duplicate'"
DEPARTMENT_KINDS = (
    "'fire', 'housing', 'urban_management', 'health', 'traffic', 'property_company', "
    "'shop', 'other'"
)
EVENT_KINDS = (
    "'reported', 'verified', 'merged', 'absorbed', 'assigned', 'started', 'rectified', "
    "'reinspected', 'closed', 'reopened', 'escalated'"
)


def _unit_fk(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=nullable)


def _hazard_fk(name: str) -> sa.Column[object]:
    return sa.Column(
        name, UUID(as_uuid=True), sa.ForeignKey("hazards.id", ondelete="CASCADE"), nullable=False
    )


hazard_departments = sa.Table(
    "hazard_departments",
    metadata,
    id_column(),
    _unit_fk("district_id", nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    created_at_column(),
    sa.CheckConstraint(f"kind IN ({DEPARTMENT_KINDS})", name="kind"),
    sa.Index(None, "district_id"),
)

hazard_department_members = sa.Table(
    "hazard_department_members",
    metadata,
    sa.Column(
        "department_id",
        UUID(as_uuid=True),
        sa.ForeignKey("hazard_departments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    created_at_column(),
    sa.Index(None, "account_id"),
)

hazard_categories = sa.Table(
    "hazard_categories",
    metadata,
    id_column(),
    _unit_fk("district_id", nullable=False),
    sa.Column("top", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name_zh", sa.Text, nullable=False),
    sa.Column("name_en", sa.Text, nullable=False),
    sa.Column("department_id", UUID(as_uuid=True), sa.ForeignKey("hazard_departments.id")),
    sa.Column("rectification_days", sa.Integer, nullable=False),
    sa.Column("duplicate_radius_m", sa.Integer, nullable=False),
    sa.Column("duplicate_window_days", sa.Integer, nullable=False),
    created_at_column(),
    sa.CheckConstraint(f"top IN ({TOP_CATEGORIES})", name="top"),
    sa.UniqueConstraint("district_id", "code"),
)

hazards = sa.Table(
    "hazards",
    metadata,
    id_column(),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("subcategory_id", UUID(as_uuid=True), sa.ForeignKey("hazard_categories.id")),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("place", sa.Text),
    sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    # Routing: the district is always known; no station means the district queue.
    _unit_fk("district_id", nullable=False),
    _unit_fk("station_id"),
    _unit_fk("community_id"),
    _unit_fk("grid_id"),
    sa.Column("media_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    sa.Column("after_media_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    # The first reporter (every reporter, merged ones too, is in hazard_reporters).
    sa.Column("reporter_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("duplicate_of", UUID(as_uuid=True), sa.ForeignKey("hazards.id")),
    sa.Column("department_id", UUID(as_uuid=True), sa.ForeignKey("hazard_departments.id")),
    sa.Column("assignee_account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id")),
    sa.Column("deadline", sa.Date),
    sa.Column("rectification_note", sa.Text),
    sa.Column("rectified_by", UUID(as_uuid=True)),
    sa.Column("escalation", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("verified_at", sa.DateTime(timezone=True)),
    sa.Column("assigned_at", sa.DateTime(timezone=True)),
    sa.Column("rectified_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"category IN ({TOP_CATEGORIES})", name="category"),
    sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
    sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({OUTCOMES})", name="outcome"),
    sa.CheckConstraint("escalation BETWEEN 0 AND 2", name="escalation"),
    # The duplicate check (ST_DWithin on geography) uses this GiST index.
    sa.Index("ix_hazards_location", "location", postgresql_using="gist"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "status", "id"),
    sa.Index(None, "department_id", "id"),
    sa.Index(None, "status", "deadline"),
)

hazard_reporters = sa.Table(
    "hazard_reporters",
    metadata,
    sa.Column(
        "hazard_id",
        UUID(as_uuid=True),
        sa.ForeignKey("hazards.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), primary_key=True),
    # The reporter's blind index: the change-log feed key of their hazards (sync).
    sa.Column("reporter_bidx", BYTEA, nullable=False),
    # The hazard they reported (this one, or a duplicate merged into it).
    sa.Column("via_hazard_id", UUID(as_uuid=True), nullable=False),
    sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "account_id", "hazard_id"),
)

hazard_links = sa.Table(
    "hazard_links",
    metadata,
    _hazard_fk("hazard_id"),
    _hazard_fk("linked_id"),
    created_at_column(),
    sa.PrimaryKeyConstraint("hazard_id", "linked_id"),
)

hazard_events = sa.Table(
    "hazard_events",
    metadata,
    id_column(),
    _hazard_fk("hazard_id"),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("by_account", UUID(as_uuid=True)),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name="kind"),
    sa.Index(None, "hazard_id", "id"),
)
