"""points and rewards: the append-only points ledger (积分) with rules, balances and
redemption catalogues, and cash rewards (奖励) with their payouts

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22 16:37:37

``points_entries`` is append-only: triggers refuse UPDATE, DELETE and TRUNCATE (like the
audit log in 0001); a correction is a reversal entry. ``points_balances`` keeps each
account's running balance, maintained by an AFTER INSERT trigger in the same transaction
as the entry, so a balance read is one primary-key lookup and its row is the per-account
lock a redemption takes before debiting.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "points_balances",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("entries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_points_balances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_points_balances")),
    )
    op.create_table(
        "points_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
        sa.CheckConstraint("price > 0", name=op.f("ck_points_items_price")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_points_items_stock")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_points_items_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_points_items_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_items")),
    )
    op.create_index(
        op.f("ix_points_items_station_id_id"), "points_items", ["station_id", "id"], unique=False
    )
    op.create_table(
        "points_rules",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column(
            "grade_amounts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("merge_policy", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_points_rules_amount")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_points_rules_version")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_points_rules_district_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rules")),
        sa.UniqueConstraint(
            "district_id", "code", "version", name=op.f("uq_points_rules_district_id_code_version")
        ),
    )
    op.create_table(
        "reward_rules",
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("amounts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("monthly_budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("second_approval_above_fen", sa.Integer(), nullable=False),
        sa.Column("max_fen", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("monthly_budget_fen >= 0", name=op.f("ck_reward_rules_budget")),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_reward_rules_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_reward_rules")),
    )
    op.create_table(
        "rewards",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("source_type", sa.Text(), nullable=False),
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.UUID(), nullable=False),
        sa.Column("first_approved_by", sa.UUID(), nullable=True),
        sa.Column("second_approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("out_batch_no", sa.Text(), nullable=False),
        sa.Column("out_detail_no", sa.Text(), nullable=False),
        sa.Column("payout_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_ref", sa.Text(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("cancelled_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
            "status IN ('proposed', 'approved', 'paying', 'paid', 'failed', 'unknown',"
            " 'cancelled')",
            name=op.f("ck_rewards_status"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_rewards_amount")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_rewards_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_rewards_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_rewards_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
        sa.UniqueConstraint("out_batch_no", name=op.f("uq_rewards_out_batch_no")),
        sa.UniqueConstraint("out_detail_no", name=op.f("uq_rewards_out_detail_no")),
    )
    op.create_index(op.f("ix_rewards_account_id_id"), "rewards", ["account_id", "id"], unique=False)
    op.create_index(
        op.f("ix_rewards_station_id_approved_at"),
        "rewards",
        ["station_id", "approved_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_rewards_station_id_status_id"),
        "rewards",
        ["station_id", "status", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_rewards_status_updated_at"), "rewards", ["status", "updated_at"], unique=False
    )
    op.create_index(
        "uq_rewards_source",
        "rewards",
        ["source_type", "source_id", "account_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_table(
        "points_entries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_type", sa.Text(), nullable=False),
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.UUID(), nullable=True),
        sa.Column("station_id", sa.UUID(), nullable=True),
        sa.Column("district_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'credit' AND amount > 0) OR (kind = 'debit' AND amount < 0)"
            " OR (kind = 'reversal' AND amount <> 0)",
            name=op.f("ck_points_entries_amount_sign"),
        ),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)",
            name=op.f("ck_points_entries_reversal_ref"),
        ),
        sa.CheckConstraint(
            "kind IN ('credit', 'debit', 'reversal')", name=op.f("ck_points_entries_kind")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_points_entries_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_points_entries_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["points_entries.id"],
            name=op.f("fk_points_entries_reverses_id_points_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["points_rules.id"], name=op.f("fk_points_entries_rule_id_points_rules")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_points_entries_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_points_entries_reverses_id")),
    )
    op.create_index(
        "ix_points_entries_account_id_id",
        "points_entries",
        ["account_id", "id"],
        unique=False,
        postgresql_include=["amount"],
    )
    op.create_index(
        op.f("ix_points_entries_station_id_id"),
        "points_entries",
        ["station_id", "id"],
        unique=False,
    )
    op.create_index(
        "uq_points_entries_source",
        "points_entries",
        ["source_type", "source_id", "account_id", "reason"],
        unique=True,
        postgresql_where=sa.text("kind IN ('credit', 'debit')"),
    )
    op.create_table(
        "points_redemptions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("debit_entry_id", sa.UUID(), nullable=False),
        sa.Column("handled_by", sa.UUID(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
            "status IN ('reserved', 'fulfilled', 'cancelled')",
            name=op.f("ck_points_redemptions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_points_redemptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["debit_entry_id"],
            ["points_entries.id"],
            name=op.f("fk_points_redemptions_debit_entry_id_points_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["org_units.id"],
            name=op.f("fk_points_redemptions_district_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["points_items.id"],
            name=op.f("fk_points_redemptions_item_id_points_items"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["org_units.id"],
            name=op.f("fk_points_redemptions_station_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_redemptions")),
    )
    op.create_index(
        op.f("ix_points_redemptions_account_id_id"),
        "points_redemptions",
        ["account_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_points_redemptions_station_id_status_id"),
        "points_redemptions",
        ["station_id", "status", "id"],
        unique=False,
    )

    # The ledger is append-only: refuse UPDATE, DELETE and TRUNCATE at the database.
    op.execute(
        """
        CREATE FUNCTION points_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'points_entries is append-only'
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER points_entries_no_update BEFORE UPDATE OR DELETE ON points_entries"
        " FOR EACH ROW EXECUTE FUNCTION points_entries_append_only()"
    )
    op.execute(
        "CREATE TRIGGER points_entries_no_truncate BEFORE TRUNCATE ON points_entries"
        " FOR EACH STATEMENT EXECUTE FUNCTION points_entries_append_only()"
    )
    # The running balance moves with every entry, in the entry's own transaction.
    op.execute(
        """
        CREATE FUNCTION points_balance_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO points_balances (account_id, balance, entries, updated_at)
            VALUES (NEW.account_id, NEW.amount, 1, now())
            ON CONFLICT (account_id) DO UPDATE
                SET balance = points_balances.balance + EXCLUDED.balance,
                    entries = points_balances.entries + 1,
                    updated_at = now();
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER points_entries_balance AFTER INSERT ON points_entries"
        " FOR EACH ROW EXECUTE FUNCTION points_balance_add()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER points_entries_balance ON points_entries")
    op.execute("DROP TRIGGER points_entries_no_truncate ON points_entries")
    op.execute("DROP TRIGGER points_entries_no_update ON points_entries")
    op.execute("DROP FUNCTION points_balance_add()")
    op.execute("DROP FUNCTION points_entries_append_only()")
    op.drop_index(
        op.f("ix_points_redemptions_station_id_status_id"), table_name="points_redemptions"
    )
    op.drop_index(op.f("ix_points_redemptions_account_id_id"), table_name="points_redemptions")
    op.drop_table("points_redemptions")
    op.drop_index(
        "uq_points_entries_source",
        table_name="points_entries",
        postgresql_where=sa.text("kind IN ('credit', 'debit')"),
    )
    op.drop_index(op.f("ix_points_entries_station_id_id"), table_name="points_entries")
    op.drop_index(
        "ix_points_entries_account_id_id",
        table_name="points_entries",
        postgresql_include=["amount"],
    )
    op.drop_table("points_entries")
    op.drop_index(
        "uq_rewards_source", table_name="rewards", postgresql_where=sa.text("status <> 'cancelled'")
    )
    op.drop_index(op.f("ix_rewards_status_updated_at"), table_name="rewards")
    op.drop_index(op.f("ix_rewards_station_id_status_id"), table_name="rewards")
    op.drop_index(op.f("ix_rewards_station_id_approved_at"), table_name="rewards")
    op.drop_index(op.f("ix_rewards_account_id_id"), table_name="rewards")
    op.drop_table("rewards")
    op.drop_table("reward_rules")
    op.drop_table("points_rules")
    op.drop_index(op.f("ix_points_items_station_id_id"), table_name="points_items")
    op.drop_table("points_items")
    op.drop_table("points_balances")
