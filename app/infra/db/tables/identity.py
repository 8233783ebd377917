"""Accounts, the roles that bind them to organisation units, and how people sign in:
officer credentials, login phones, WeChat identities, one-time codes, sessions with
rotating refresh tokens, and the rows that rate limits count."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

accounts = sa.Table(
    "accounts",
    metadata,
    id_column(),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("kind IN ('officer', 'resident', 'system')", name="kind"),
    sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),
)

account_roles = sa.Table(
    "account_roles",
    metadata,
    id_column(),
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("unit_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("granted_by", UUID(as_uuid=True)),
    created_at_column(),
    sa.CheckConstraint(
        "role IN ('resident', 'volunteer', 'team_leader', 'officer', 'station_admin',"
        " 'district_admin', 'auditor', 'department')",
        name="role",
    ),
    # Staff roles are always bound to a unit; resident roles never are.
    sa.CheckConstraint(
        "(role IN ('officer', 'station_admin', 'district_admin', 'auditor'))"
        " = (unit_id IS NOT NULL)",
        name="unit_by_role",
    ),
    sa.UniqueConstraint("account_id", "role", "unit_id", postgresql_nulls_not_distinct=True),
)


def _account_fk() -> sa.Column[object]:
    return sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    )


# Officers sign in with a username and an Argon2id password hash.
officer_credentials = sa.Table(
    "officer_credentials",
    metadata,
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("username", sa.Text, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("username = lower(username)", name="username_lower"),
)

# The login phone of an account: AES-GCM sealed (key id alongside), found by blind index.
account_phones = sa.Table(
    "account_phones",
    metadata,
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("phone_index", BYTEA, nullable=False, unique=True),
    sa.Column("phone_key_id", sa.Text, nullable=False),
    sa.Column("phone_ciphertext", BYTEA, nullable=False),
    created_at_column(),
)

# WeChat mini-program identities (openid per appid). The session_key is never stored.
wechat_identities = sa.Table(
    "wechat_identities",
    metadata,
    id_column(),
    _account_fk(),
    sa.Column("appid", sa.Text, nullable=False),
    sa.Column("openid", sa.Text, nullable=False),
    sa.Column("unionid", sa.Text),
    created_at_column(),
    sa.UniqueConstraint("appid", "openid"),
    sa.Index(None, "account_id"),
    sa.Index(None, "unionid"),
)

# SMS one-time codes: only a keyed digest of the code is kept.
otp_challenges = sa.Table(
    "otp_challenges",
    metadata,
    id_column(),
    sa.Column("phone_index", BYTEA, nullable=False),
    sa.Column("code_digest", BYTEA, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_reason", sa.Text),
    sa.CheckConstraint(
        "closed_reason IN ('used', 'superseded', 'exhausted')", name="closed_reason"
    ),
    sa.CheckConstraint("(closed_at IS NULL) = (closed_reason IS NULL)", name="closed_pair"),
    sa.Index(
        "ix_otp_challenges_open",
        "phone_index",
        "created_at",
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
    sa.Index(None, "expires_at"),
)

# One row per code sent, counted by the per-phone and per-IP limits (both blind-indexed).
otp_sends = sa.Table(
    "otp_sends",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("phone_index", BYTEA, nullable=False),
    sa.Column("ip_index", BYTEA, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "phone_index", "sent_at"),
    sa.Index(None, "ip_index", "sent_at"),
    sa.Index(None, "sent_at"),
)

# Failed (and in-flight) password sign-ins, counted per username and per IP.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    id_column(),
    sa.Column("username_index", BYTEA, nullable=False),
    sa.Column("ip_index", BYTEA, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "username_index", "at"),
    sa.Index(None, "ip_index", "at"),
    sa.Index(None, "at"),
)

# A session is a refresh-token family: the `sid` of every access token issued for it.
auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    id_column(),
    _account_fk(),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("user_agent", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revoke_reason", sa.Text),
    sa.CheckConstraint("method IN ('otp', 'wechat', 'password')", name="method"),
    sa.CheckConstraint("(revoked_at IS NULL) = (revoke_reason IS NULL)", name="revoked_pair"),
    sa.Index(None, "account_id"),
)

# Refresh tokens, stored only as SHA-256; a rotated token stays to detect its reuse.
refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    id_column(),
    sa.Column(
        "session_id",
        UUID(as_uuid=True),
        sa.ForeignKey("auth_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("token_hash", BYTEA, nullable=False, unique=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rotated_at", sa.DateTime(timezone=True)),
    sa.Index(None, "session_id"),
    sa.Index(None, "expires_at"),
)
