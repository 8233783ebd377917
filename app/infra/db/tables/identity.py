"""Accounts and the roles that bind them to organisation units."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from app.infra.db.metadata import (
    created_at_column,
    id_column,
    metadata,
    updated_at_column,
    version_column,
)

accounts = sa.Table(
    "accounts",
    metadata,
    id_column(),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    version_column(),
    created_at_column(),
    updated_at_column(),
    sa.CheckConstraint("kind IN ('officer', 'resident', 'system')", name="kind"),
    sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),
)

account_roles = sa.Table(
    "account_roles",
    metadata,
    id_column(),
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("unit_id", UUID(as_uuid=True), sa.ForeignKey("org_units.id")),
    sa.Column("granted_by", UUID(as_uuid=True)),
    created_at_column(),
    sa.CheckConstraint(
        "role IN ('resident', 'volunteer', 'team_leader', 'officer', 'station_admin',"
        " 'district_admin', 'auditor')",
        name="role",
    ),
    # Staff roles are always bound to a unit; resident roles never are.
    sa.CheckConstraint(
        "(role IN ('officer', 'station_admin', 'district_admin', 'auditor'))"
        " = (unit_id IS NOT NULL)",
        name="unit_by_role",
    ),
    sa.UniqueConstraint("account_id", "role", "unit_id", postgresql_nulls_not_distinct=True),
)
