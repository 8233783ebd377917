"""Emergency incidents (急、难、险), the responses of alerted members and the event log.

``emergency_incident_events`` is the incident's timeline and, by its ``seq`` (a global
identity), the realtime feed clients resume from: a reconnecting client asks for events
after the last ``seq`` it saw. Every insert into it also sends a ``pg_notify`` on the
``shouwang_emergency`` channel in the same transaction, so listeners in every API process
hear of committed events only, in commit order.

``next_check_at`` (incidents) and ``next_channel_at`` (responses) drive the dispatch
worker: the next ring decision and the next escalation channel (push, SMS) are due then.
Both have partial indexes holding only the rows with something due.
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

INCIDENT_TYPES = "'fight', 'fire', 'drowning', 'lost_child', 'medical', 'crowd', 'other'"
SEVERITIES = "'low', 'medium', 'high', 'critical'"
RAISERS = "'officer', 'command_centre', 'volunteer'"
INCIDENT_STATUSES = "'open', 'dispatching', 'resolved', 'cancelled'"
RESPONSE_STATUSES = "'alerted', 'accepted', 'declined', 'on_my_way', 'on_scene', 'stood_down'"

emergency_incidents = sa.Table(
    "emergency_incidents",
    metadata,
    id_column(),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("raised_by", sa.Text, nullable=False),
    sa.Column("raised_by_id", UUID(as_uuid=True), nullable=True),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=True),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("drill", sa.Boolean, nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("media_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    sa.Column("status", sa.Text, nullable=False),
    # The ring policy in force when raised (a district changing it later changes nothing).
    sa.Column("policy", JSONB, nullable=False),
    sa.Column("ring_index", sa.Integer, nullable=True),
    sa.Column("ring_started_at", sa.DateTime(timezone=True), nullable=True),
    # [{"ring": n, "started": RFC 3339}]
    sa.Column("rings", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("stood_down_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("stood_down_by", UUID(as_uuid=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_by", UUID(as_uuid=True), nullable=True),
    sa.Column("close_note", sa.Text, nullable=True),
    sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"type IN ({INCIDENT_TYPES})", name="type"),
    sa.CheckConstraint(f"severity IN ({SEVERITIES})", name="severity"),
    sa.CheckConstraint(f"raised_by IN ({RAISERS})", name="raised_by"),
    sa.CheckConstraint(f"status IN ({INCIDENT_STATUSES})", name="status"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "id"),
    sa.Index(None, "district_id", "drill", "raised_at"),
    sa.Index(
        "ix_emergency_incidents_due",
        "next_check_at",
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    ),
)

emergency_responses = sa.Table(
    "emergency_responses",
    metadata,
    sa.Column(
        "incident_id",
        UUID(as_uuid=True),
        sa.ForeignKey("emergency_incidents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "member_id",
        UUID(as_uuid=True),
        sa.ForeignKey("volunteers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "unit_id",
        UUID(as_uuid=True),
        sa.ForeignKey("emergency_units.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("ring", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    # [{"status": s, "at": RFC 3339, "by_officer": bool}]
    sa.Column("steps", JSONB, nullable=False),
    sa.Column("drill", sa.Boolean, nullable=False),
    sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=False),
    # When a realtime connection of the member took the alert (NULL: not connected).
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("channels_sent", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("next_channel_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("incident_id", "member_id"),
    sa.CheckConstraint(f"status IN ({RESPONSE_STATUSES})", name="status"),
    sa.Index(None, "member_id", "alerted_at"),
    sa.Index(
        "ix_emergency_responses_due",
        "next_channel_at",
        postgresql_where=sa.text("next_channel_at IS NOT NULL"),
    ),
)

emergency_incident_events = sa.Table(
    "emergency_incident_events",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column(
        "incident_id",
        UUID(as_uuid=True),
        sa.ForeignKey("emergency_incidents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("drill", sa.Boolean, nullable=False),
    sa.Column("by_id", UUID(as_uuid=True), nullable=True),
    sa.Column("member_id", UUID(as_uuid=True), nullable=True),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("station_id", UUID(as_uuid=True), nullable=True),
    sa.Column("district_id", UUID(as_uuid=True), nullable=False),
    sa.Index(None, "incident_id", "seq"),
    sa.Index(None, "member_id", "seq", postgresql_where=sa.text("member_id IS NOT NULL")),
    sa.Index(None, "station_id", "seq"),
    sa.Index(None, "district_id", "seq"),
)

# A district's ring policy per incident type (the defaults apply where none is stored).
emergency_dispatch_policies = sa.Table(
    "emergency_dispatch_policies",
    metadata,
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("incident_type", sa.Text, nullable=False),
    sa.Column("policy", JSONB, nullable=False),
    sa.Column("updated_by", UUID(as_uuid=True), nullable=True),
    updated_at_column(),
    sa.PrimaryKeyConstraint("district_id", "incident_type"),
    sa.CheckConstraint(f"incident_type IN ({INCIDENT_TYPES})", name="incident_type"),
)

# Drills planned ahead (计划演练): raised by the worker at ``scheduled_at``.
emergency_drill_schedules = sa.Table(
    "emergency_drill_schedules",
    metadata,
    id_column(),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=True),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", UUID(as_uuid=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column(
        "incident_id",
        UUID(as_uuid=True),
        sa.ForeignKey("emergency_incidents.id", ondelete="SET NULL"),
        nullable=True,
    ),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"type IN ({INCIDENT_TYPES})", name="type"),
    sa.CheckConstraint(f"severity IN ({SEVERITIES})", name="severity"),
    sa.CheckConstraint("status IN ('scheduled', 'raised', 'cancelled')", name="status"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "id"),
    sa.Index(
        "ix_emergency_drill_schedules_due",
        "scheduled_at",
        postgresql_where=sa.text("status = 'scheduled'"),
    ),
)
