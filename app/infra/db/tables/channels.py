"""Outbound notification channels: the cached WeChat access token, subscribe-message
grants per account and template, pushed devices, and per-key send records that stop a
redelivered notification from going out twice."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID

from app.infra.db.metadata import created_at_column, id_column, metadata, updated_at_column

# One row per mini-program; the token is sealed (it lets anyone message our users).
wechat_access_tokens = sa.Table(
    "wechat_access_tokens",
    metadata,
    sa.Column("appid", sa.Text, primary_key=True),
    sa.Column("token_key_id", sa.Text, nullable=False),
    sa.Column("token_sealed", BYTEA, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    updated_at_column(),
)

# One-time subscribe messages: each "accept" the mini-program reports allows one send.
wechat_subscription_grants = sa.Table(
    "wechat_subscription_grants",
    metadata,
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("template_id", sa.Text, primary_key=True),
    sa.Column("remaining", sa.Integer, nullable=False, server_default=sa.text("0")),
    updated_at_column(),
    sa.CheckConstraint("remaining >= 0", name="remaining"),
)

# The outcome per notification key and template; its primary key is the dedup.
wechat_sends = sa.Table(
    "wechat_sends",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("template_id", sa.Text, primary_key=True),
    sa.Column("outcome", sa.Text, nullable=False),
    created_at_column(),
    sa.CheckConstraint("outcome IN ('sent', 'skipped', 'failed')", name="outcome"),
)

push_devices = sa.Table(
    "push_devices",
    metadata,
    id_column(),
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("platform", sa.Text, nullable=False),
    # A vendor device handle, not personal data by itself; never logged.
    sa.Column("registration_id", sa.Text, nullable=False, unique=True),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("platform IN ('android', 'ios')", name="platform"),
    sa.Index(None, "account_id"),
)

push_sends = sa.Table(
    "push_sends",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("outcome", sa.Text, nullable=False),
    created_at_column(),
    sa.CheckConstraint("outcome IN ('sent', 'skipped', 'failed')", name="outcome"),
)
