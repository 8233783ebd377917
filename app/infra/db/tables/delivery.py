"""Which handler has already done its work for which outbox event (idempotent delivery)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from app.infra.db.metadata import metadata

outbox_deliveries = sa.Table(
    "outbox_deliveries",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("handler", sa.Text, primary_key=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
)
