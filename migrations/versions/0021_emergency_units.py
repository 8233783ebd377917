"""emergency units (最小应急单元): units, equipment, members' claims and duty, last known
locations and location history

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-22 19:05:46

Dispatch (a later step) runs KNN over ``emergency_last_locations.location`` (one row per
volunteer, 1,000,000 of them) and ``emergency_units.base``. The GiST index on last known
locations is partial (``on_duty_until IS NOT NULL``): members known off duty never enter
the index walk, and the query's ``on_duty_until > now()`` implies the index predicate.
History rows are purged past the retention setting (index on ``at``).
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EQUIPMENT_KINDS = (
    "'aed', 'extinguisher', 'first_aid_kit', 'life_buoy', 'stretcher', 'megaphone', 'other'"
)


def upgrade() -> None:
    op.create_table(
        "emergency_last_locations",
        sa.Column("volunteer_id", sa.UUID(), nullable=False),
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
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("on_duty_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_emergency_last_locations_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volunteer_id", name=op.f("pk_emergency_last_locations")),
    )
    op.create_index(
        op.f("ix_emergency_last_locations_at"), "emergency_last_locations", ["at"], unique=False
    )
    op.create_index(
        "ix_emergency_last_locations_on_duty",
        "emergency_last_locations",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("on_duty_until IS NOT NULL"),
    )
    op.create_table(
        "emergency_location_samples",
        sa.Column("volunteer_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
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
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_emergency_location_samples_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "at", name=op.f("pk_emergency_location_samples")),
    )
    op.create_index(
        op.f("ix_emergency_location_samples_at"), "emergency_location_samples", ["at"], unique=False
    )
    op.create_table(
        "emergency_units",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column(
            "base",
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
        sa.Column(
            "offers", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
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
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_emergency_units_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["teams.id"], name=op.f("fk_emergency_units_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_emergency_units_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_units")),
    )
    op.create_index(
        "ix_emergency_units_base",
        "emergency_units",
        ["base"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        op.f("ix_emergency_units_station_id_id"),
        "emergency_units",
        ["station_id", "id"],
        unique=False,
    )
    op.create_table(
        "emergency_equipment",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
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
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("service_due", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"kind IN ({EQUIPMENT_KINDS})",
            name=op.f("ck_emergency_equipment_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["emergency_units.id"],
            name=op.f("fk_emergency_equipment_unit_id_emergency_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_equipment")),
    )
    op.create_index(
        "ix_emergency_equipment_location",
        "emergency_equipment",
        ["location"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        op.f("ix_emergency_equipment_unit_id_id"),
        "emergency_equipment",
        ["unit_id", "id"],
        unique=False,
    )
    op.create_table(
        "emergency_unit_members",
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("volunteer_id", sa.UUID(), nullable=False),
        sa.Column(
            "capabilities",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "roster",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "shifts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("available_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("available_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("off_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["emergency_units.id"],
            name=op.f("fk_emergency_unit_members_unit_id_emergency_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_emergency_unit_members_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", "volunteer_id", name=op.f("pk_emergency_unit_members")),
    )
    op.create_index(
        op.f("ix_emergency_unit_members_volunteer_id"),
        "emergency_unit_members",
        ["volunteer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_emergency_unit_members_volunteer_id"), table_name="emergency_unit_members"
    )
    op.drop_table("emergency_unit_members")
    op.drop_index(op.f("ix_emergency_equipment_unit_id_id"), table_name="emergency_equipment")
    op.drop_index(
        "ix_emergency_equipment_location", table_name="emergency_equipment", postgresql_using="gist"
    )
    op.drop_table("emergency_equipment")
    op.drop_index(op.f("ix_emergency_units_station_id_id"), table_name="emergency_units")
    op.drop_index("ix_emergency_units_base", table_name="emergency_units", postgresql_using="gist")
    op.drop_table("emergency_units")
    op.drop_index(op.f("ix_emergency_location_samples_at"), table_name="emergency_location_samples")
    op.drop_table("emergency_location_samples")
    op.drop_index(
        "ix_emergency_last_locations_on_duty",
        table_name="emergency_last_locations",
        postgresql_using="gist",
        postgresql_where=sa.text("on_duty_until IS NOT NULL"),
    )
    op.drop_index(op.f("ix_emergency_last_locations_at"), table_name="emergency_last_locations")
    op.drop_table("emergency_last_locations")
