"""Cash rewards (奖励): station rules and budgets, and the rewards with their payouts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

reward_rules = sa.Table(
    "reward_rules",
    metadata,
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), primary_key=True),
    # Amount in fen per outcome ("hazard_verified") or outcome:grade ("tip_valid:A").
    sa.Column("amounts", JSONB, nullable=False),
    sa.Column("monthly_budget_fen", sa.BigInteger, nullable=False),
    sa.Column("second_approval_above_fen", sa.Integer, nullable=False),
    sa.Column("max_fen", sa.Integer, nullable=False),
    sa.Column("updated_by", UUID(as_uuid=True)),
    version_column(),
    updated_at_column(),
    sa.CheckConstraint("monthly_budget_fen >= 0", name="budget"),
)

rewards = sa.Table(
    "rewards",
    metadata,
    id_column(),
    sa.Column("station_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("district_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=False),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("source_type", sa.Text, nullable=False),
    sa.Column("source_id", UUID(as_uuid=True), nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("grade", sa.Text),
    sa.Column("amount_fen", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("proposed_by", UUID(as_uuid=True), nullable=False),
    sa.Column("first_approved_by", UUID(as_uuid=True)),
    sa.Column("second_approved_by", UUID(as_uuid=True)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    # Derived from the id; sent to the provider as its idempotency key.
    sa.Column("out_batch_no", sa.Text, nullable=False, unique=True),
    sa.Column("out_detail_no", sa.Text, nullable=False, unique=True),
    sa.Column("payout_started_at", sa.DateTime(timezone=True)),
    sa.Column("paid_at", sa.DateTime(timezone=True)),
    sa.Column("provider_ref", sa.Text),
    sa.Column("failure", sa.Text),
    sa.Column("cancelled_reason", sa.Text),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("amount_fen > 0", name="amount"),
    sa.CheckConstraint(
        "status IN ('proposed', 'approved', 'paying', 'paid', 'failed', 'unknown', 'cancelled')",
        name="status",
    ),
    # One live reward per source and account: the right person is paid exactly once.
    sa.Index(
        "uq_rewards_source",
        "source_type",
        "source_id",
        "account_id",
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    ),
    sa.Index(None, "account_id", "id"),
    sa.Index(None, "station_id", "status", "id"),
    sa.Index(None, "station_id", "approved_at"),
    sa.Index(None, "status", "updated_at"),
)
