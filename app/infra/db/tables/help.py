"""Help requests (群众求助): the requests, volunteers' offers of help and the history."""

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

KINDS = "'lost_item', 'looking_for_person', 'other'"
STATUSES = "'open', 'in_progress', 'resolved', 'closed', 'cancelled'"
OUTCOMES = "'found', 'not_found', 'withdrawn_by_requester', 'referred'"
OFFER_STATUSES = "'active', 'withdrawn', 'accepted', 'declined'"
EVENT_KINDS = (
    "'requested', 'offered', 'offer_withdrawn', 'offer_accepted', 'resolved', 'closed', 'cancelled'"
)


def _unit_fk(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=nullable)


help_requests = sa.Table(
    "help_requests",
    metadata,
    id_column(),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    # Routing: the district is always known; no station means the district queue.
    _unit_fk("district_id", nullable=False),
    _unit_fk("station_id"),
    _unit_fk("community_id"),
    _unit_fk("grid_id"),
    sa.Column("media_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    sa.Column("requester_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("resolution_note", sa.Text),
    # The accepted offer (help_offers.id); no FK: offers reference the request.
    sa.Column("accepted_offer_id", UUID(as_uuid=True)),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"kind IN ({KINDS})", name="kind"),
    sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
    sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({OUTCOMES})", name="outcome"),
    sa.Index("ix_help_requests_location", "location", postgresql_using="gist"),
    sa.Index(None, "station_id", "id"),
    sa.Index(None, "station_id", "status", "id"),
    sa.Index(None, "district_id", "status", "id"),
    sa.Index(None, "requester_id", "id"),
)

help_offers = sa.Table(
    "help_offers",
    metadata,
    id_column(),
    sa.Column(
        "request_id",
        UUID(as_uuid=True),
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("volunteer_id", UUID(as_uuid=True), sa.ForeignKey("volunteers.id"), nullable=False),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint(f"status IN ({OFFER_STATUSES})", name="status"),
    # At most one active offer per volunteer and request.
    sa.Index(
        "uq_help_offers_active",
        "request_id",
        "volunteer_id",
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    ),
    sa.Index(None, "request_id", "id"),
    sa.Index(None, "account_id", "status"),
)

help_events = sa.Table(
    "help_events",
    metadata,
    id_column(),
    sa.Column(
        "request_id",
        UUID(as_uuid=True),
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    # Who acted; NULL for the requester's own actions.
    sa.Column("by_account", UUID(as_uuid=True)),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name="kind"),
    sa.Index(None, "request_id", "id"),
)
