"""The in-app inbox. Rows hold a kind and a deep link only; text comes from templates."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from app.infra.db.metadata import created_at_column, id_column, metadata

notifications = sa.Table(
    "notifications",
    metadata,
    id_column(),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    # Idempotency key of the creating handler ("<event id>:<handler>").
    sa.Column("key", sa.Text, nullable=False, unique=True),
    created_at_column(),
    sa.Column("read_at", sa.DateTime(timezone=True)),
    sa.Index(None, "account_id", "id"),
    sa.Index("ix_notifications_unread", "account_id", postgresql_where=sa.text("read_at IS NULL")),
)
