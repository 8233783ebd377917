"""identity: officer credentials, login phones, WeChat identities, OTP challenges and
sends, login attempts, sessions and refresh tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:00:00

The accounts and account_roles tables themselves are part of 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username_index", postgresql.BYTEA(), nullable=False),
        sa.Column("ip_index", postgresql.BYTEA(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(op.f("ix_login_attempts_at"), "login_attempts", ["at"], unique=False)
    op.create_index(
        op.f("ix_login_attempts_ip_index_at"), "login_attempts", ["ip_index", "at"], unique=False
    )
    op.create_index(
        op.f("ix_login_attempts_username_index_at"),
        "login_attempts",
        ["username_index", "at"],
        unique=False,
    )
    op.create_table(
        "otp_challenges",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("phone_index", postgresql.BYTEA(), nullable=False),
        sa.Column("code_digest", postgresql.BYTEA(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "closed_reason IN ('used', 'superseded', 'exhausted')",
            name=op.f("ck_otp_challenges_closed_reason"),
        ),
        sa.CheckConstraint(
            "(closed_at IS NULL) = (closed_reason IS NULL)",
            name=op.f("ck_otp_challenges_closed_pair"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_challenges")),
    )
    op.create_index(
        op.f("ix_otp_challenges_expires_at"), "otp_challenges", ["expires_at"], unique=False
    )
    op.create_index(
        "ix_otp_challenges_open",
        "otp_challenges",
        ["phone_index", "created_at"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "otp_sends",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("phone_index", postgresql.BYTEA(), nullable=False),
        sa.Column("ip_index", postgresql.BYTEA(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_sends")),
    )
    op.create_index(
        op.f("ix_otp_sends_ip_index_sent_at"), "otp_sends", ["ip_index", "sent_at"], unique=False
    )
    op.create_index(
        op.f("ix_otp_sends_phone_index_sent_at"),
        "otp_sends",
        ["phone_index", "sent_at"],
        unique=False,
    )
    op.create_index(op.f("ix_otp_sends_sent_at"), "otp_sends", ["sent_at"], unique=False)
    op.create_table(
        "account_phones",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("phone_index", postgresql.BYTEA(), nullable=False),
        sa.Column("phone_key_id", sa.Text(), nullable=False),
        sa.Column("phone_ciphertext", postgresql.BYTEA(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_phones_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_phones")),
        sa.UniqueConstraint("phone_index", name=op.f("uq_account_phones_phone_index")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "method IN ('otp', 'wechat', 'password')", name=op.f("ck_auth_sessions_method")
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoke_reason IS NULL)",
            name=op.f("ck_auth_sessions_revoked_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_auth_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(
        op.f("ix_auth_sessions_account_id"), "auth_sessions", ["account_id"], unique=False
    )
    op.create_table(
        "officer_credentials",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "username = lower(username)", name=op.f("ck_officer_credentials_username_lower")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_officer_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_officer_credentials")),
        sa.UniqueConstraint("username", name=op.f("uq_officer_credentials_username")),
    )
    op.create_table(
        "wechat_identities",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("appid", sa.Text(), nullable=False),
        sa.Column("openid", sa.Text(), nullable=False),
        sa.Column("unionid", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wechat_identities_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_identities")),
        sa.UniqueConstraint("appid", "openid", name=op.f("uq_wechat_identities_appid_openid")),
    )
    op.create_index(
        op.f("ix_wechat_identities_account_id"), "wechat_identities", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_wechat_identities_unionid"), "wechat_identities", ["unionid"], unique=False
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", postgresql.BYTEA(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_refresh_tokens_expires_at"), "refresh_tokens", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_refresh_tokens_session_id"), table_name="refresh_tokens")
    op.drop_index(op.f("ix_refresh_tokens_expires_at"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(op.f("ix_wechat_identities_unionid"), table_name="wechat_identities")
    op.drop_index(op.f("ix_wechat_identities_account_id"), table_name="wechat_identities")
    op.drop_table("wechat_identities")
    op.drop_table("officer_credentials")
    op.drop_index(op.f("ix_auth_sessions_account_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_table("account_phones")
    op.drop_index(op.f("ix_otp_sends_sent_at"), table_name="otp_sends")
    op.drop_index(op.f("ix_otp_sends_phone_index_sent_at"), table_name="otp_sends")
    op.drop_index(op.f("ix_otp_sends_ip_index_sent_at"), table_name="otp_sends")
    op.drop_table("otp_sends")
    op.drop_index(
        "ix_otp_challenges_open",
        table_name="otp_challenges",
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.drop_index(op.f("ix_otp_challenges_expires_at"), table_name="otp_challenges")
    op.drop_table("otp_challenges")
    op.drop_index(op.f("ix_login_attempts_username_index_at"), table_name="login_attempts")
    op.drop_index(op.f("ix_login_attempts_ip_index_at"), table_name="login_attempts")
    op.drop_index(op.f("ix_login_attempts_at"), table_name="login_attempts")
    op.drop_table("login_attempts")
