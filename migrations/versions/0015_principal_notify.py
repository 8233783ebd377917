"""Announce changes to what the authenticator loads, so API processes can cache principals

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 17:30:00

AFTER triggers send ``NOTIFY shouwang_principals`` with the account id whenever an
account (status), one of its sessions (revocation) or one of its roles changes; a change
to ``org_units`` (the stations of a district) sends ``*``. Postgres delivers them at
commit, so every process evicts the cached principal as soon as the change is visible.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (trigger name, table, events, level)
TRIGGERS = (
    ("accounts_principal_changed", "accounts", "UPDATE OR DELETE", "ROW"),
    ("auth_sessions_principal_changed", "auth_sessions", "UPDATE OR DELETE", "ROW"),
    ("account_roles_principal_changed", "account_roles", "INSERT OR UPDATE OR DELETE", "ROW"),
    ("org_units_principal_changed", "org_units", "INSERT OR UPDATE OR DELETE", "STATEMENT"),
)


def upgrade() -> None:
    # accounts carry their id in ``id``, the other account tables in ``account_id``; an
    # UPDATE moving a role to another account announces both.
    op.execute(
        """
        CREATE FUNCTION shouwang_principal_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('shouwang_principals', '*');
            ELSIF TG_TABLE_NAME = 'accounts' THEN
                PERFORM pg_notify('shouwang_principals', OLD.id::text);
            ELSE
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    PERFORM pg_notify('shouwang_principals', OLD.account_id::text);
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    PERFORM pg_notify('shouwang_principals', NEW.account_id::text);
                END IF;
            END IF;
            RETURN NULL;
        END;
        $$
        """
    )
    for name, table, events, level in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} "
            f"FOR EACH {level} EXECUTE FUNCTION shouwang_principal_changed()"
        )


def downgrade() -> None:
    for name, table, _events, _level in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION shouwang_principal_changed()")
