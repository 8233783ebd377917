"""help requests (群众求助): requests, volunteers' offers of help and their history

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 17:00:00

``help_requests.location`` has a GiST index (volunteers ask for open requests near
them); ``uq_help_offers_active`` keeps one active offer per volunteer and request.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'lost_item', 'looking_for_person', 'other'"
STATUSES = "'open', 'in_progress', 'resolved', 'closed', 'cancelled'"
OUTCOMES = "'found', 'not_found', 'withdrawn_by_requester', 'referred'"
OFFER_STATUSES = "'active', 'withdrawn', 'accepted', 'declined'"
EVENT_KINDS = (
    "'requested', 'offered', 'offer_withdrawn', 'offer_accepted', 'resolved', 'closed', 'cancelled'"
)


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
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
        sa.Column("requester_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("accepted_offer_id", sa.UUID(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_help_requests_kind")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_help_requests_status")),
        sa.CheckConstraint(
            f"outcome IS NULL OR outcome IN ({OUTCOMES})", name=op.f("ck_help_requests_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["org_units.id"], name=op.f("fk_help_requests_community_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["org_units.id"], name=op.f("fk_help_requests_district_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["org_units.id"], name=op.f("fk_help_requests_grid_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["accounts.id"], name=op.f("fk_help_requests_requester_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_units.id"], name=op.f("fk_help_requests_station_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
    )
    op.create_index(
        "ix_help_requests_location", "help_requests", ["location"], postgresql_using="gist"
    )
    op.create_index(op.f("ix_help_requests_station_id_id"), "help_requests", ["station_id", "id"])
    op.create_index(
        op.f("ix_help_requests_station_id_status_id"),
        "help_requests",
        ["station_id", "status", "id"],
    )
    op.create_index(
        op.f("ix_help_requests_district_id_status_id"),
        "help_requests",
        ["district_id", "status", "id"],
    )
    op.create_index(
        op.f("ix_help_requests_requester_id_id"), "help_requests", ["requester_id", "id"]
    )

    op.create_table(
        "help_offers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("volunteer_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(f"status IN ({OFFER_STATUSES})", name=op.f("ck_help_offers_status")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_help_offers_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
            name=op.f("fk_help_offers_request_id_help_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_help_offers_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_offers")),
    )
    op.create_index(
        "uq_help_offers_active",
        "help_offers",
        ["request_id", "volunteer_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(op.f("ix_help_offers_request_id_id"), "help_offers", ["request_id", "id"])
    op.create_index(
        op.f("ix_help_offers_account_id_status"), "help_offers", ["account_id", "status"]
    )

    op.create_table(
        "help_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
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
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name=op.f("ck_help_events_kind")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
            name=op.f("fk_help_events_request_id_help_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_events")),
    )
    op.create_index(op.f("ix_help_events_request_id_id"), "help_events", ["request_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_help_events_request_id_id"), table_name="help_events")
    op.drop_table("help_events")
    op.drop_index(op.f("ix_help_offers_account_id_status"), table_name="help_offers")
    op.drop_index(op.f("ix_help_offers_request_id_id"), table_name="help_offers")
    op.drop_index(
        "uq_help_offers_active",
        table_name="help_offers",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_table("help_offers")
    op.drop_index(op.f("ix_help_requests_requester_id_id"), table_name="help_requests")
    op.drop_index(op.f("ix_help_requests_district_id_status_id"), table_name="help_requests")
    op.drop_index(op.f("ix_help_requests_station_id_status_id"), table_name="help_requests")
    op.drop_index(op.f("ix_help_requests_station_id_id"), table_name="help_requests")
    op.drop_index("ix_help_requests_location", table_name="help_requests", postgresql_using="gist")
    op.drop_table("help_requests")
