"""Cross-cutting tables: outbox, audit log, idempotency keys, and the monotonic change
sequence used by mobile sync."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from app.infra.db.metadata import metadata

# Transactional outbox: written in the same transaction as the change that raised the
# event. Delivery (a later worker) reads in `seq` order per aggregate.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("aggregate_type", sa.Text, nullable=False),
    sa.Column("aggregate_id", UUID(as_uuid=True), nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("request_id", sa.Text),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    sa.Index("ix_outbox_pending", "seq", postgresql_where=sa.text("status = 'pending'")),
    sa.Index(None, "aggregate_type", "aggregate_id", "seq"),
)

# Append-only audit log of privileged reads and every write. The migration revokes
# UPDATE/DELETE and installs a trigger refusing them.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor_id", UUID(as_uuid=True), nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("record_type", sa.Text, nullable=False),
    sa.Column("record_id", UUID(as_uuid=True)),
    sa.Column("request_id", sa.Text),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Index(None, "record_type", "record_id"),
    sa.Index(None, "actor_id", "at"),
)

# Idempotency-Key (IETF draft): the first response is stored and replayed.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("principal", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("request_hash", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_headers", JSONB),
    sa.Column("response_body", sa.LargeBinary),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('in_flight', 'completed')", name="state"),
    sa.Index(None, "expires_at"),
)
