"""Tip-offs (情报线索): the tips, their informants (sealed, in a table of their own), their
history, and the submission log behind the per-account rate limit."""

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

CATEGORIES = (
    "'suspicious_person', 'suspicious_vehicle', 'suspicious_object', 'theft', 'fraud',"
    " 'drugs', 'gambling', 'public_order', 'missing_person', 'other'"
)
STATUSES = (
    "'submitted', 'triaged', 'verifying', 'valid', 'unfounded', 'duplicate', 'referred', 'closed'"
)


def _unit_fk(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=nullable)


tips = sa.Table(
    "tips",
    metadata,
    id_column(),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    sa.Column("urgency", sa.Text, nullable=False),
    sa.Column("anonymous", sa.Boolean, nullable=False),
    # Routing: the district is always known; no station means the district queue.
    _unit_fk("district_id", nullable=False),
    _unit_fk("station_id"),
    _unit_fk("community_id"),
    _unit_fk("grid_id"),
    sa.Column("media_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("assignee_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id")),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("outcome", sa.Text),
    sa.Column("duplicate_of", UUID(as_uuid=True), sa.ForeignKey("tips.id")),
    sa.Column("referred_to", sa.Text),
    sa.Column("disputes", sa.Integer, nullable=False, server_default=sa.text("0")),
    # HMAC of (account, tip id): recognises a retry by the same sender, names nobody.
    sa.Column("submitter_digest", BYTEA, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"category IN ({CATEGORIES})", name="category"),
    sa.CheckConstraint("urgency IN ('low', 'normal', 'high', 'urgent')", name="urgency"),
    sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
    sa.CheckConstraint(
        "outcome IS NULL OR outcome IN ('valid', 'unfounded', 'duplicate', 'referred')",
        name="outcome",
    ),
    sa.CheckConstraint("(outcome = 'duplicate') = (duplicate_of IS NOT NULL)", name="duplicate"),
    sa.Index("ix_tips_location", "location", postgresql_using="gist"),
    sa.Index(None, "station_id", "status", "id"),
    # The unfiltered queue page: newest first within a station, without sorting them all.
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "district_id", "status", "id"),
    sa.Index(None, "grid_id"),
    sa.Index(None, "assignee_id"),
)

# The named informant, sealed (AES-GCM) and looked up only through a blind index of the
# account; anonymous tips have no row here at all.
tip_informants = sa.Table(
    "tip_informants",
    metadata,
    sa.Column(
        "tip_id",
        UUID(as_uuid=True),
        sa.ForeignKey("tips.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("reporter_bidx", BYTEA, nullable=False),
    sa.Column("account_key_id", sa.Text, nullable=False),
    sa.Column("account_sealed", BYTEA, nullable=False),
    sa.Column("contact_key_id", sa.Text),
    sa.Column("contact_sealed", BYTEA),
    created_at_column(),
    sa.CheckConstraint("(contact_key_id IS NULL) = (contact_sealed IS NULL)", name="contact_pair"),
    sa.Index(None, "reporter_bidx", "tip_id"),
)

tip_events = sa.Table(
    "tip_events",
    metadata,
    id_column(),
    sa.Column(
        "tip_id", UUID(as_uuid=True), sa.ForeignKey("tips.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    # Staff member who acted; NULL for the reporter's own actions (never named here).
    sa.Column("by_account", UUID(as_uuid=True)),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    # The feedback sent to the reporter: template code and the texts as sent.
    sa.Column("feedback", sa.Text),
    sa.Column("feedback_zh", sa.Text),
    sa.Column("feedback_en", sa.Text),
    sa.CheckConstraint(
        "kind IN ('submitted', 'assigned', 'verifying', 'outcome', 'closed', 'disputed',"
        " 'referred')",
        name="kind",
    ),
    sa.Index(None, "tip_id", "id"),
)

# Not linked to any tip, so the rate limit of anonymous senders does not identify them.
tip_submissions = sa.Table(
    "tip_submissions",
    metadata,
    id_column(),
    sa.Column("submitter_bidx", BYTEA, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "submitter_bidx", "at"),
)

# A station's own wording of feedback templates (overrides of defaults, or new variants).
tip_feedback_templates = sa.Table(
    "tip_feedback_templates",
    metadata,
    id_column(),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("text_zh", sa.Text, nullable=False),
    sa.Column("text_en", sa.Text, nullable=False),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(
        "outcome IN ('valid', 'unfounded', 'duplicate', 'referred')", name="outcome"
    ),
    sa.UniqueConstraint("station_id", "code"),
)
