"""mobile sync of more records: the change log accepts points entries and rewards

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-22 17:30:00

A volunteer's /me/changes also carries their points entries (积分) and cash rewards (奖励);
their change-log rows are keyed by the account id bytes, like notifications.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "'tip', 'notification', 'hazard'"
NEW = f"{OLD}, 'points_entry', 'reward'"


def _check(record_types: str) -> None:
    op.drop_constraint(op.f("ck_change_log_record_type"), "change_log", type_="check")
    op.create_check_constraint(
        op.f("ck_change_log_record_type"), "change_log", f"record_type IN ({record_types})"
    )


def upgrade() -> None:
    _check(NEW)


def downgrade() -> None:
    # Rows that only the new values allow go first, or the old check cannot come back.
    op.execute("DELETE FROM change_log WHERE record_type IN ('points_entry', 'reward')")
    _check(OLD)
