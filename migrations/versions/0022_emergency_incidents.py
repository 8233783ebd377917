"""emergency incidents (急、难、险), responses of alerted members, the event log (timeline
and realtime feed, resumed by ``seq``) and districts' ring policies

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-22 20:01:37

The dispatch worker finds due work through two partial indexes (``next_check_at`` on
incidents, ``next_channel_at`` on responses) holding only rows with something due.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NOTIFY_FUNCTION = """
CREATE FUNCTION emergency_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('shouwang_emergency', json_build_object(
        'seq', NEW.seq, 'incident', NEW.incident_id, 'kind', NEW.kind,
        'member', NEW.member_id, 'station', NEW.station_id,
        'district', NEW.district_id, 'drill', NEW.drill)::text);
    RETURN NULL;
END $$
"""
NOTIFY_TRIGGER = (
    "CREATE TRIGGER emergency_event_notify AFTER INSERT ON emergency_incident_events "
    "FOR EACH ROW EXECUTE FUNCTION emergency_event_notify()"
)


def upgrade() -> None:
    op.create_table(
        "emergency_dispatch_policies",
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("incident_type", sa.Text(), nullable=False),
        sa.Column("policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "incident_type IN ('fight', 'fire', 'drowning', 'lost_child', 'medical', 'crowd', "
            "'other')",
            name=op.f("ck_emergency_dispatch_policies_incident_type"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["org_units.id"],
            name=op.f("fk_emergency_dispatch_policies_district_id_org_units"),
        ),
        sa.PrimaryKeyConstraint(
            "district_id", "incident_type", name=op.f("pk_emergency_dispatch_policies")
        ),
    )
    op.create_table(
        "emergency_incidents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
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
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.Text(), nullable=False),
        sa.Column("raised_by_id", sa.UUID(), nullable=True),
        sa.Column("station_id", sa.UUID(), nullable=True),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("media_ids", postgresql.ARRAY(sa.UUID()), server_default="{}", nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ring_index", sa.Integer(), nullable=True),
        sa.Column("ring_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "rings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stood_down_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stood_down_by", sa.UUID(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.UUID(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
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
            "raised_by IN ('officer', 'command_centre', 'volunteer')",
            name=op.f("ck_emergency_incidents_raised_by"),
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_emergency_incidents_severity"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'dispatching', 'resolved', 'cancelled')",
            name=op.f("ck_emergency_incidents_status"),
        ),
        sa.CheckConstraint(
            "type IN ('fight', 'fire', 'drowning', 'lost_child', 'medical', 'crowd', 'other')",
            name=op.f("ck_emergency_incidents_type"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["org_units.id"],
            name=op.f("fk_emergency_incidents_district_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["org_units.id"],
            name=op.f("fk_emergency_incidents_station_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_incidents")),
    )
    op.create_index(
        op.f("ix_emergency_incidents_district_id_drill_raised_at"),
        "emergency_incidents",
        ["district_id", "drill", "raised_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_emergency_incidents_district_id_id"),
        "emergency_incidents",
        ["district_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_emergency_incidents_due",
        "emergency_incidents",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_emergency_incidents_station_id_id"),
        "emergency_incidents",
        ["station_id", "id"],
        unique=False,
    )
    op.create_table(
        "emergency_incident_events",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("by_id", sa.UUID(), nullable=True),
        sa.Column("member_id", sa.UUID(), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("station_id", sa.UUID(), nullable=True),
        sa.Column("district_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["emergency_incidents.id"],
            name=op.f("fk_emergency_incident_events_incident_id_emergency_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_emergency_incident_events")),
        sa.UniqueConstraint("id", name=op.f("uq_emergency_incident_events_id")),
    )
    op.create_index(
        op.f("ix_emergency_incident_events_district_id_seq"),
        "emergency_incident_events",
        ["district_id", "seq"],
        unique=False,
    )
    op.create_index(
        op.f("ix_emergency_incident_events_incident_id_seq"),
        "emergency_incident_events",
        ["incident_id", "seq"],
        unique=False,
    )
    op.create_index(
        op.f("ix_emergency_incident_events_member_id_seq"),
        "emergency_incident_events",
        ["member_id", "seq"],
        unique=False,
        postgresql_where=sa.text("member_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_emergency_incident_events_station_id_seq"),
        "emergency_incident_events",
        ["station_id", "seq"],
        unique=False,
    )
    op.create_table(
        "emergency_responses",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("ring", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "channels_sent", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("next_channel_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('alerted', 'accepted', 'declined', 'on_my_way', 'on_scene', 'stood_down')",
            name=op.f("ck_emergency_responses_status"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["emergency_incidents.id"],
            name=op.f("fk_emergency_responses_incident_id_emergency_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["volunteers.id"],
            name=op.f("fk_emergency_responses_member_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["emergency_units.id"],
            name=op.f("fk_emergency_responses_unit_id_emergency_units"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("incident_id", "member_id", name=op.f("pk_emergency_responses")),
    )
    op.create_index(
        "ix_emergency_responses_due",
        "emergency_responses",
        ["next_channel_at"],
        unique=False,
        postgresql_where=sa.text("next_channel_at IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_emergency_responses_member_id_alerted_at"),
        "emergency_responses",
        ["member_id", "alerted_at"],
        unique=False,
    )

    # Every committed event is heard by the listeners of every API process.
    op.execute(NOTIFY_FUNCTION)
    op.execute(NOTIFY_TRIGGER)

def downgrade() -> None:
    op.execute("DROP TRIGGER emergency_event_notify ON emergency_incident_events")
    op.execute("DROP FUNCTION emergency_event_notify()")
    op.drop_index(
        op.f("ix_emergency_responses_member_id_alerted_at"), table_name="emergency_responses"
    )
    op.drop_index(
        "ix_emergency_responses_due",
        table_name="emergency_responses",
        postgresql_where=sa.text("next_channel_at IS NOT NULL"),
    )
    op.drop_table("emergency_responses")
    op.drop_index(
        op.f("ix_emergency_incident_events_station_id_seq"), table_name="emergency_incident_events"
    )
    op.drop_index(
        op.f("ix_emergency_incident_events_member_id_seq"),
        table_name="emergency_incident_events",
        postgresql_where=sa.text("member_id IS NOT NULL"),
    )
    op.drop_index(
        op.f("ix_emergency_incident_events_incident_id_seq"), table_name="emergency_incident_events"
    )
    op.drop_index(
        op.f("ix_emergency_incident_events_district_id_seq"), table_name="emergency_incident_events"
    )
    op.drop_table("emergency_incident_events")
    op.drop_index(op.f("ix_emergency_incidents_station_id_id"), table_name="emergency_incidents")
    op.drop_index(
        "ix_emergency_incidents_due",
        table_name="emergency_incidents",
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_emergency_incidents_district_id_id"), table_name="emergency_incidents")
    op.drop_index(
        op.f("ix_emergency_incidents_district_id_drill_raised_at"), table_name="emergency_incidents"
    )
    op.drop_table("emergency_incidents")
    op.drop_table("emergency_dispatch_policies")
