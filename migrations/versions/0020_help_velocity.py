"""help requests count in the submission log (per-account and per-device hourly limits)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-22 17:50:00

Residents ask for help (群众求助) under the same velocity limits as hazards and tips.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "'hazard', 'tip'"
NEW = f"{OLD}, 'help_request'"


def _check(record_types: str) -> None:
    op.drop_constraint(op.f("ck_submission_log_record_type"), "submission_log", type_="check")
    op.create_check_constraint(
        op.f("ck_submission_log_record_type"), "submission_log", f"record_type IN ({record_types})"
    )


def upgrade() -> None:
    _check(NEW)


def downgrade() -> None:
    # The log only feeds hourly limits: entries of help requests can go.
    op.execute("DELETE FROM submission_log WHERE record_type = 'help_request'")
    _check(OLD)
