"""Wake the delivery worker when outbox rows commit; tip history records referrals.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 16:30:00

A statement-level AFTER INSERT trigger on ``outbox`` sends ``NOTIFY outbox_new`` (no
payload: the worker only needs to know that something is there; it claims rows as it
always does). Postgres delivers notifications at commit, after the rows are visible, and
folds identical notifications of one transaction into one, so a transaction writing
several events wakes the worker once. The worker's poll interval stays as the fallback
(a listener lost across a database restart, rows whose retry time has come).

``tip_events.kind`` also accepts ``referred``: a tip referred to another station's queue.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'submitted', 'assigned', 'verifying', 'outcome', 'closed', 'disputed'"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION outbox_notify_new() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox_new', '');
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify_new AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_new()"
    )
    op.drop_constraint(op.f("ck_tip_events_kind"), "tip_events", type_="check")
    op.create_check_constraint(
        op.f("ck_tip_events_kind"), "tip_events", f"kind IN ({KINDS}, 'referred')"
    )


def downgrade() -> None:
    # NOT VALID: history already holding referrals is kept, new rows are checked.
    op.drop_constraint(op.f("ck_tip_events_kind"), "tip_events", type_="check")
    op.execute(
        f"ALTER TABLE tip_events ADD CONSTRAINT ck_tip_events_kind CHECK (kind IN ({KINDS})) "
        "NOT VALID"
    )
    op.execute("DROP TRIGGER outbox_notify_new ON outbox")
    op.execute("DROP FUNCTION outbox_notify_new()")
