"""The points ledger (积分): versioned district rules, the append-only ledger with its
per-account running balance, and the station catalogues with their redemptions.

``points_entries`` is append-only (triggers refuse UPDATE, DELETE and TRUNCATE, see
migration 0017); ``points_balances`` is maintained by an AFTER INSERT trigger on it, in
the same transaction as the entry, and doubles as the per-account lock row.
"""

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


def _org(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("org_units.id"), nullable=nullable)


# One row per (district, code, version): editing a rule adds a version, never changes one.
points_rules = sa.Table(
    "points_rules",
    metadata,
    id_column(),
    _org("district_id", nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    # Per value grade ("A": 50, ...); empty when the rule has one amount.
    sa.Column("grade_amounts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    # Who earns when duplicate reports were merged (hazards): first_verified, ...
    sa.Column("merge_policy", sa.Text),
    sa.Column("created_by", UUID(as_uuid=True)),
    created_at_column(),
    sa.UniqueConstraint("district_id", "code", "version"),
    sa.CheckConstraint("amount >= 0", name="amount"),
    sa.CheckConstraint("version >= 1", name="version"),
)

points_entries = sa.Table(
    "points_entries",
    metadata,
    id_column(),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # credit / debit / reversal
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source_type", sa.Text, nullable=False),
    sa.Column("source_id", UUID(as_uuid=True), nullable=False),
    sa.Column("rule_id", UUID(as_uuid=True), sa.ForeignKey("points_rules.id")),
    sa.Column("rule_version", sa.Integer),
    sa.Column("reverses_id", UUID(as_uuid=True), sa.ForeignKey("points_entries.id"), unique=True),
    _org("station_id"),
    _org("district_id"),
    sa.Column("note", sa.Text),
    sa.Column("created_by", UUID(as_uuid=True)),
    created_at_column(),
    sa.CheckConstraint("kind IN ('credit', 'debit', 'reversal')", name="kind"),
    sa.CheckConstraint(
        "(kind = 'credit' AND amount > 0) OR (kind = 'debit' AND amount < 0)"
        " OR (kind = 'reversal' AND amount <> 0)",
        name="amount_sign",
    ),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_ref"),
    # The same source never credits (or debits) the same account twice for one reason.
    sa.Index(
        "uq_points_entries_source",
        "source_type",
        "source_id",
        "account_id",
        "reason",
        unique=True,
        postgresql_where=sa.text("kind IN ('credit', 'debit')"),
    ),
    # History pages (keyset on id) and an index-only SUM for audits of the balance.
    sa.Index("ix_points_entries_account_id_id", "account_id", "id", postgresql_include=["amount"]),
    sa.Index(None, "station_id", "id"),
)

points_balances = sa.Table(
    "points_balances",
    metadata,
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("balance", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("entries", sa.Integer, nullable=False, server_default=sa.text("0")),
    updated_at_column(),
)

points_items = sa.Table(
    "points_items",
    metadata,
    id_column(),
    _org("station_id", nullable=False),
    _org("district_id", nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("price", sa.Integer, nullable=False),
    sa.Column("stock", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("price > 0", name="price"),
    sa.CheckConstraint("stock >= 0", name="stock"),
    sa.Index(None, "station_id", "id"),
)

points_redemptions = sa.Table(
    "points_redemptions",
    metadata,
    id_column(),
    sa.Column("item_id", UUID(as_uuid=True), sa.ForeignKey("points_items.id"), nullable=False),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id"), nullable=False),
    _org("station_id", nullable=False),
    _org("district_id", nullable=False),
    sa.Column("price", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column(
        "debit_entry_id",
        UUID(as_uuid=True),
        sa.ForeignKey("points_entries.id"),
        nullable=False,
    ),
    sa.Column("handled_by", UUID(as_uuid=True)),
    sa.Column("handled_at", sa.DateTime(timezone=True)),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("status IN ('reserved', 'fulfilled', 'cancelled')", name="status"),
    sa.Index(None, "account_id", "id"),
    sa.Index(None, "station_id", "status", "id"),
)
