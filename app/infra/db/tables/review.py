"""Fraud review: the submission log behind velocity limits and the review-flag queue."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, JSONB, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

# Who submitted what, under keyed digests only (never the account or device id itself),
# for the hourly velocity limits and the 24-hour device rule; purged after a day. Entries
# of anonymous tips carry neither the tip nor the account.
submission_log = sa.Table(
    "submission_log",
    metadata,
    id_column(),
    sa.Column("record_type", sa.Text, nullable=False),
    sa.Column("record_id", UUID(as_uuid=True)),
    sa.Column("account_bidx", BYTEA),
    sa.Column("device_bidx", BYTEA),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("record_type IN ('hazard', 'tip', 'help_request')", name="record_type"),
    sa.Index(None, "account_bidx", "at"),
    sa.Index(None, "device_bidx", "at"),
    sa.Index(None, "record_id"),
    sa.Index(None, "at"),
)

review_flags = sa.Table(
    "review_flags",
    metadata,
    id_column(),
    sa.Column("record_type", sa.Text, nullable=False),
    sa.Column("record_id", UUID(as_uuid=True), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    # Record ids and counts only: never accounts, devices or people.
    sa.Column("evidence", JSONB, nullable=False, server_default="{}"),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_by", UUID(as_uuid=True), sa.ForeignKey("accounts.id")),
    sa.Column("note", sa.Text),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("record_type IN ('hazard', 'tip', 'help_request')", name="record_type"),
    sa.CheckConstraint("kind IN ('photo_reused', 'device_velocity')", name="kind"),
    sa.CheckConstraint("status IN ('open', 'dismissed', 'confirmed_fraud')", name="status"),
    sa.UniqueConstraint("record_type", "record_id", "kind"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "id"),
)
