"""Volunteers, their lifecycle history and background checks, volunteer number counters,
teams with memberships, training courses and records (the "five unifieds")."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

STATUSES = (
    "'applied', 'vetted', 'rejected', 'training', 'probation', 'active', 'suspended',"
    " 'retired', 'expelled'"
)
# Final statuses close a record; one *open* record per resident ID number and per account.
OPEN_RECORD = sa.text("status NOT IN ('rejected', 'retired', 'expelled')")


def _unit_fk(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=nullable)


def _volunteer_fk(*, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        "volunteer_id",
        UUID(as_uuid=True),
        sa.ForeignKey("volunteers.id", ondelete="CASCADE"),
        nullable=nullable,
    )


volunteers = sa.Table(
    "volunteers",
    metadata,
    id_column(),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id")),
    _unit_fk("station_id"),
    _unit_fk("district_id"),
    _unit_fk("community_id", nullable=True),
    # Kept in clear for search and sorting; masked in outputs.
    sa.Column("name", sa.Text, nullable=False),
    # Personal data sealed with AES-GCM (key id alongside); lookups via blind indexes.
    sa.Column("resident_id_key_id", sa.Text, nullable=False),
    sa.Column("resident_id_sealed", BYTEA, nullable=False),
    sa.Column("resident_id_bidx", BYTEA, nullable=False),
    sa.Column("phone_key_id", sa.Text, nullable=False),
    sa.Column("phone_sealed", BYTEA, nullable=False),
    sa.Column("phone_bidx", BYTEA, nullable=False),
    sa.Column("address_key_id", sa.Text, nullable=False),
    sa.Column("address_sealed", BYTEA, nullable=False),
    sa.Column("source_category", sa.Text, nullable=False),
    sa.Column("skills", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("preferred_roles", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("has_photo", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_before_suspension", sa.Text),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("consent_notice_version", sa.Text),
    sa.Column("consent_at", sa.DateTime(timezone=True)),
    sa.Column("volunteer_number", sa.Text, unique=True),
    sa.Column("badge_token", sa.Text, unique=True),
    sa.Column("activated_at", sa.DateTime(timezone=True)),
    sa.Column("next_recheck_on", sa.Date),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
    sa.CheckConstraint("origin IN ('application', 'registration', 'import')", name="origin"),
    sa.CheckConstraint(
        "(volunteer_number IS NULL) = (badge_token IS NULL)", name="identification_pair"
    ),
    sa.CheckConstraint(
        "(consent_notice_version IS NULL) = (consent_at IS NULL)", name="consent_pair"
    ),
    sa.CheckConstraint(
        "origin <> 'application' OR consent_notice_version IS NOT NULL",
        name="application_has_consent",
    ),
    sa.Index(
        "uq_volunteers_open_resident_id",
        "resident_id_bidx",
        unique=True,
        postgresql_where=OPEN_RECORD,
    ),
    sa.Index(
        "uq_volunteers_open_account",
        "account_id",
        unique=True,
        postgresql_where=sa.text(
            "account_id IS NOT NULL AND status NOT IN ('rejected', 'retired', 'expelled')"
        ),
    ),
    sa.Index(None, "phone_bidx"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "id"),
    sa.Index(None, "account_id"),
    sa.Index("ix_volunteers_name_prefix", "name", postgresql_ops={"name": "text_pattern_ops"}),
    sa.Index(
        "ix_volunteers_recheck_due",
        "next_recheck_on",
        "id",
        postgresql_where=sa.text("next_recheck_on IS NOT NULL"),
    ),
)

# Every status change, append-only: from (NULL for creation), to, reason, by, at.
volunteer_status_history = sa.Table(
    "volunteer_status_history",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    _volunteer_fk(),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("by_account_id", UUID(as_uuid=True), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "volunteer_id", "seq"),
)

background_checks = sa.Table(
    "background_checks",
    metadata,
    id_column(),
    _volunteer_fk(),
    sa.Column("checked_by", UUID(as_uuid=True), nullable=False),
    sa.Column("checked_on", sa.Date, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("next_recheck_on", sa.Date),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("result IN ('passed', 'failed')", name="result"),
    sa.Index(None, "volunteer_id", "checked_on"),
)

# Per-district, per-year sequence of volunteer numbers. Incremented with an upsert that
# keeps the row locked until commit, so concurrent activations never share a number and
# a rolled-back activation gives its number back.
volunteer_number_counters = sa.Table(
    "volunteer_number_counters",
    metadata,
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last_value", sa.Integer, nullable=False),
)

teams = sa.Table(
    "teams",
    metadata,
    id_column(),
    _unit_fk("station_id"),
    _unit_fk("district_id"),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("leader_id", UUID(as_uuid=True), sa.ForeignKey("volunteers.id")),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(
        "type IN ('patrol', 'prevention_publicity', 'mediation', 'emergency_unit', 'event_joint')",
        name="type",
    ),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "id"),
    sa.Index(None, "leader_id"),
)

team_memberships = sa.Table(
    "team_memberships",
    metadata,
    id_column(),
    sa.Column(
        "team_id", UUID(as_uuid=True), sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False
    ),
    _volunteer_fk(),
    sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("left_at", sa.DateTime(timezone=True)),
    sa.Column("added_by", UUID(as_uuid=True)),
    sa.Column("removed_by", UUID(as_uuid=True)),
    sa.CheckConstraint("left_at IS NULL OR left_at >= joined_at", name="left_after_joined"),
    # One current membership per team and volunteer; past ones stay as history.
    sa.Index(
        "uq_team_memberships_current",
        "team_id",
        "volunteer_id",
        unique=True,
        postgresql_where=sa.text("left_at IS NULL"),
    ),
    sa.Index(None, "volunteer_id", "left_at"),
)

courses = sa.Table(
    "courses",
    metadata,
    id_column(),
    _unit_fk("district_id"),
    # NULL: a district-wide course.
    _unit_fk("station_id", nullable=True),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("capability", sa.Text),
    sa.Column("validity_months", sa.Integer),
    created_at_column(),
    sa.CheckConstraint(
        "validity_months IS NULL OR validity_months BETWEEN 1 AND 120", name="validity"
    ),
    sa.UniqueConstraint("district_id", "code"),
    sa.Index(None, "station_id", "id"),
)

training_records = sa.Table(
    "training_records",
    metadata,
    id_column(),
    _volunteer_fk(),
    sa.Column("course_id", UUID(as_uuid=True), sa.ForeignKey("courses.id"), nullable=False),
    sa.Column("completed_on", sa.Date, nullable=False),
    sa.Column("certificate_expires_on", sa.Date),
    sa.Column("recorded_by", UUID(as_uuid=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "certificate_expires_on IS NULL OR certificate_expires_on > completed_on",
        name="expiry_after_completion",
    ),
    sa.Index(None, "volunteer_id", "completed_on"),
    sa.Index(None, "course_id"),
)
