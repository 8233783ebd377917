"""hazards (隐患): departments and members, sub-categories, hazards, reporters, links, history

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 18:00:00

``hazards.location`` has a GiST index (the duplicate check asks ST_DWithin on geography).
The ``department`` role is allowed on ``account_roles`` (not staff, bound to no unit), and
the change log accepts ``hazard`` records (the reporters' sync feed).
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOP_CATEGORIES = (
    "'public_order', 'traffic', 'fire', 'housing_construction', 'health', 'dogs', 'other'"
)
STATUSES = "'reported', 'verified', 'assigned', 'rectifying', 'rectified', 'closed'"
OUTCOMES = "'real', 'not_hazard', 'duplicate'"
DEPARTMENT_KINDS = (
    "'fire', 'housing', 'urban_management', 'health', 'traffic', 'property_company', "
    "'shop', 'other'"
)
EVENT_KINDS = (
    "'reported', 'verified', 'merged', 'absorbed', 'assigned', 'started', 'rectified', "
    "'reinspected', 'closed', 'reopened', 'escalated'"
)
ROLES = (
    "'resident', 'volunteer', 'team_leader', 'officer', 'station_admin', 'district_admin', "
    "'auditor'"
)
RECORD_TYPES = "'tip', 'notification'"


def _now(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _unit_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["org_units.id"], name=op.f(f"fk_{table}_{column}_org_units")
    )


def upgrade() -> None:
    op.drop_constraint(op.f("ck_account_roles_role"), "account_roles", type_="check")
    op.create_check_constraint(
        op.f("ck_account_roles_role"), "account_roles", f"role IN ({ROLES}, 'department')"
    )
    op.drop_constraint(op.f("ck_change_log_record_type"), "change_log", type_="check")
    op.create_check_constraint(
        op.f("ck_change_log_record_type"),
        "change_log",
        f"record_type IN ({RECORD_TYPES}, 'hazard')",
    )

    op.create_table(
        "hazard_departments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        _now("created_at"),
        sa.CheckConstraint(
            f"kind IN ({DEPARTMENT_KINDS})", name=op.f("ck_hazard_departments_kind")
        ),
        _unit_fk("hazard_departments", "district_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_departments")),
    )
    op.create_index(
        op.f("ix_hazard_departments_district_id"), "hazard_departments", ["district_id"]
    )

    op.create_table(
        "hazard_department_members",
        sa.Column("department_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_hazard_department_members_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["hazard_departments.id"],
            name=op.f("fk_hazard_department_members_department_id_hazard_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "account_id", name=op.f("pk_hazard_department_members")
        ),
    )
    op.create_index(
        op.f("ix_hazard_department_members_account_id"),
        "hazard_department_members",
        ["account_id"],
    )

    op.create_table(
        "hazard_categories",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("top", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("department_id", sa.UUID(), nullable=True),
        sa.Column("rectification_days", sa.Integer(), nullable=False),
        sa.Column("duplicate_radius_m", sa.Integer(), nullable=False),
        sa.Column("duplicate_window_days", sa.Integer(), nullable=False),
        _now("created_at"),
        sa.CheckConstraint(f"top IN ({TOP_CATEGORIES})", name=op.f("ck_hazard_categories_top")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["hazard_departments.id"],
            name=op.f("fk_hazard_categories_department_id_hazard_departments"),
        ),
        _unit_fk("hazard_categories", "district_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_categories")),
        sa.UniqueConstraint(
            "district_id", "code", name=op.f("uq_hazard_categories_district_id_code")
        ),
    )

    op.create_table(
        "hazards",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("subcategory_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column(
            "location",
            geoalchemy2.types.Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=True),
        sa.Column("community_id", sa.UUID(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("media_ids", postgresql.ARRAY(sa.UUID()), server_default="{}", nullable=False),
        sa.Column(
            "after_media_ids", postgresql.ARRAY(sa.UUID()), server_default="{}", nullable=False
        ),
        sa.Column("reporter_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.UUID(), nullable=True),
        sa.Column("department_id", sa.UUID(), nullable=True),
        sa.Column("assignee_account_id", sa.UUID(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("rectification_note", sa.Text(), nullable=True),
        sa.Column("rectified_by", sa.UUID(), nullable=True),
        sa.Column("escalation", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint(f"category IN ({TOP_CATEGORIES})", name=op.f("ck_hazards_category")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_hazards_status")),
        sa.CheckConstraint(
            f"outcome IS NULL OR outcome IN ({OUTCOMES})", name=op.f("ck_hazards_outcome")
        ),
        sa.CheckConstraint("escalation BETWEEN 0 AND 2", name=op.f("ck_hazards_escalation")),
        sa.ForeignKeyConstraint(
            ["assignee_account_id"],
            ["accounts.id"],
            name=op.f("fk_hazards_assignee_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["hazard_departments.id"],
            name=op.f("fk_hazards_department_id_hazard_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["hazards.id"], name=op.f("fk_hazards_duplicate_of_hazards")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["accounts.id"], name=op.f("fk_hazards_reporter_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["subcategory_id"],
            ["hazard_categories.id"],
            name=op.f("fk_hazards_subcategory_id_hazard_categories"),
        ),
        _unit_fk("hazards", "community_id"),
        _unit_fk("hazards", "district_id"),
        _unit_fk("hazards", "grid_id"),
        _unit_fk("hazards", "station_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazards")),
    )
    op.create_index("ix_hazards_location", "hazards", ["location"], postgresql_using="gist")
    op.create_index(op.f("ix_hazards_station_id_id"), "hazards", ["station_id", "id"])
    op.create_index(
        op.f("ix_hazards_district_id_status_id"), "hazards", ["district_id", "status", "id"]
    )
    op.create_index(op.f("ix_hazards_department_id_id"), "hazards", ["department_id", "id"])
    op.create_index(op.f("ix_hazards_status_deadline"), "hazards", ["status", "deadline"])

    op.create_table(
        "hazard_reporters",
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("reporter_bidx", postgresql.BYTEA(), nullable=False),
        sa.Column("via_hazard_id", sa.UUID(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_hazard_reporters_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_reporters_hazard_id_hazards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hazard_id", "account_id", name=op.f("pk_hazard_reporters")),
    )
    op.create_index(
        op.f("ix_hazard_reporters_account_id_hazard_id"),
        "hazard_reporters",
        ["account_id", "hazard_id"],
    )

    op.create_table(
        "hazard_links",
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("linked_id", sa.UUID(), nullable=False),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_links_hazard_id_hazards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_links_linked_id_hazards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hazard_id", "linked_id", name=op.f("pk_hazard_links")),
    )

    op.create_table(
        "hazard_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("by_account", sa.UUID(), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name=op.f("ck_hazard_events_kind")),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_events_hazard_id_hazards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_events")),
    )
    op.create_index(op.f("ix_hazard_events_hazard_id_id"), "hazard_events", ["hazard_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hazard_events_hazard_id_id"), table_name="hazard_events")
    op.drop_table("hazard_events")
    op.drop_table("hazard_links")
    op.drop_index(op.f("ix_hazard_reporters_account_id_hazard_id"), table_name="hazard_reporters")
    op.drop_table("hazard_reporters")
    op.drop_index(op.f("ix_hazards_status_deadline"), table_name="hazards")
    op.drop_index(op.f("ix_hazards_department_id_id"), table_name="hazards")
    op.drop_index(op.f("ix_hazards_district_id_status_id"), table_name="hazards")
    op.drop_index(op.f("ix_hazards_station_id_id"), table_name="hazards")
    op.drop_index("ix_hazards_location", table_name="hazards", postgresql_using="gist")
    op.drop_table("hazards")
    op.drop_table("hazard_categories")
    op.drop_index(
        op.f("ix_hazard_department_members_account_id"), table_name="hazard_department_members"
    )
    op.drop_table("hazard_department_members")
    op.drop_index(op.f("ix_hazard_departments_district_id"), table_name="hazard_departments")
    op.drop_table("hazard_departments")
    # Rows that only the new values allow go first, or the old checks cannot come back.
    op.execute("DELETE FROM change_log WHERE record_type = 'hazard'")
    op.execute("DELETE FROM account_roles WHERE role = 'department'")
    op.drop_constraint(op.f("ck_change_log_record_type"), "change_log", type_="check")
    op.create_check_constraint(
        op.f("ck_change_log_record_type"), "change_log", f"record_type IN ({RECORD_TYPES})"
    )
    op.drop_constraint(op.f("ck_account_roles_role"), "account_roles", type_="check")
    op.create_check_constraint(op.f("ck_account_roles_role"), "account_roles", f"role IN ({ROLES})")
