"""channels: WeChat access token cache, subscribe grants and sends; push devices and sends

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-22 15:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_access_tokens",
        sa.Column("appid", sa.Text(), nullable=False),
        sa.Column("token_key_id", sa.Text(), nullable=False),
        sa.Column("token_sealed", postgresql.BYTEA(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("appid", name=op.f("pk_wechat_access_tokens")),
    )
    op.create_table(
        "wechat_subscription_grants",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("remaining", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("remaining >= 0", name=op.f("ck_wechat_subscription_grants_remaining")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_wechat_subscription_grants_account_id_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "template_id", name=op.f("pk_wechat_subscription_grants")),
    )
    op.create_table(
        "wechat_sends",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("outcome IN ('sent', 'skipped', 'failed')", name=op.f("ck_wechat_sends_outcome")),
        sa.PrimaryKeyConstraint("key", "template_id", name=op.f("pk_wechat_sends")),
    )
    op.create_table(
        "push_devices",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("registration_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("platform IN ('android', 'ios')", name=op.f("ck_push_devices_platform")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_push_devices_account_id_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_devices")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_push_devices_registration_id")),
    )
    op.create_index(op.f("ix_push_devices_account_id"), "push_devices", ["account_id"], unique=False)
    op.create_table(
        "push_sends",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("outcome IN ('sent', 'skipped', 'failed')", name=op.f("ck_push_sends_outcome")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_push_sends")),
    )


def downgrade() -> None:
    op.drop_table("push_sends")
    op.drop_index(op.f("ix_push_devices_account_id"), table_name="push_devices")
    op.drop_table("push_devices")
    op.drop_table("wechat_sends")
    op.drop_table("wechat_subscription_grants")
    op.drop_table("wechat_access_tokens")
