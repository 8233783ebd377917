"""shouwang_refuse(reason): abort the statement that calls it (SQLSTATE SW409)

A write done as one statement (a hazard report with its photos) checks its conditions
against the statement's snapshot; a concurrent change found only while writing (a photo
attached meanwhile by another report) must undo the whole statement, which plain SQL can
only do by raising an error.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-22 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION shouwang_refuse(reason text) RETURNS boolean
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'statement refused: %', reason USING ERRCODE = 'SW409';
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION shouwang_refuse(text)")
