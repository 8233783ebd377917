"""tip-offs: tips, sealed informants, history, submission log, station feedback templates

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 16:00:00

Tips (情报线索) routed to station, community and grid; the named informant kept apart and
sealed in tip_informants; tip_events for the handling history and the feedback sent to
the reporter; tip_submissions (not linked to tips) for the per-account rate limit;
tip_feedback_templates for stations' own wording of the feedback.
"""
from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tip_submissions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('submitter_bidx', postgresql.BYTEA(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_submissions'))
    )
    op.create_index(op.f('ix_tip_submissions_submitter_bidx_at'), 'tip_submissions', ['submitter_bidx', 'at'], unique=False)
    op.create_table('tip_feedback_templates',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('station_id', sa.UUID(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("outcome IN ('valid', 'unfounded', 'duplicate', 'referred')", name=op.f('ck_tip_feedback_templates_outcome')),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_tip_feedback_templates_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_feedback_templates')),
    sa.UniqueConstraint('station_id', 'code', name=op.f('uq_tip_feedback_templates_station_id_code'))
    )
    op.create_table('tips',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', geoalchemy2.types.Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('urgency', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('district_id', sa.UUID(), nullable=False),
    sa.Column('station_id', sa.UUID(), nullable=True),
    sa.Column('community_id', sa.UUID(), nullable=True),
    sa.Column('grid_id', sa.UUID(), nullable=True),
    sa.Column('media_ids', postgresql.ARRAY(sa.UUID()), server_default='{}', nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('assignee_id', sa.UUID(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('duplicate_of', sa.UUID(), nullable=True),
    sa.Column('referred_to', sa.Text(), nullable=True),
    sa.Column('disputes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('submitter_digest', postgresql.BYTEA(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(outcome = 'duplicate') = (duplicate_of IS NOT NULL)", name=op.f('ck_tips_duplicate')),
    sa.CheckConstraint("category IN ('suspicious_person', 'suspicious_vehicle', 'suspicious_object', 'theft', 'fraud', 'drugs', 'gambling', 'public_order', 'missing_person', 'other')", name=op.f('ck_tips_category')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('valid', 'unfounded', 'duplicate', 'referred')", name=op.f('ck_tips_outcome')),
    sa.CheckConstraint("status IN ('submitted', 'triaged', 'verifying', 'valid', 'unfounded', 'duplicate', 'referred', 'closed')", name=op.f('ck_tips_status')),
    sa.CheckConstraint("urgency IN ('low', 'normal', 'high', 'urgent')", name=op.f('ck_tips_urgency')),
    sa.ForeignKeyConstraint(['assignee_id'], ['accounts.id'], name=op.f('fk_tips_assignee_id_accounts')),
    sa.ForeignKeyConstraint(['community_id'], ['org_units.id'], name=op.f('fk_tips_community_id_org_units')),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_tips_district_id_org_units')),
    sa.ForeignKeyConstraint(['duplicate_of'], ['tips.id'], name=op.f('fk_tips_duplicate_of_tips')),
    sa.ForeignKeyConstraint(['grid_id'], ['org_units.id'], name=op.f('fk_tips_grid_id_org_units')),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_tips_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tips'))
    )
    op.create_index(op.f('ix_tips_assignee_id'), 'tips', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_tips_district_id_status_id'), 'tips', ['district_id', 'status', 'id'], unique=False)
    op.create_index(op.f('ix_tips_grid_id'), 'tips', ['grid_id'], unique=False)
    op.create_index('ix_tips_location', 'tips', ['location'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_tips_station_id_status_id'), 'tips', ['station_id', 'status', 'id'], unique=False)
    op.create_table('tip_events',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('tip_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=False),
    sa.Column('by_account', sa.UUID(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('feedback_zh', sa.Text(), nullable=True),
    sa.Column('feedback_en', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('submitted', 'assigned', 'verifying', 'outcome', 'closed', 'disputed')", name=op.f('ck_tip_events_kind')),
    sa.ForeignKeyConstraint(['tip_id'], ['tips.id'], name=op.f('fk_tip_events_tip_id_tips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_events'))
    )
    op.create_index(op.f('ix_tip_events_tip_id_id'), 'tip_events', ['tip_id', 'id'], unique=False)
    op.create_table('tip_informants',
    sa.Column('tip_id', sa.UUID(), nullable=False),
    sa.Column('reporter_bidx', postgresql.BYTEA(), nullable=False),
    sa.Column('account_key_id', sa.Text(), nullable=False),
    sa.Column('account_sealed', postgresql.BYTEA(), nullable=False),
    sa.Column('contact_key_id', sa.Text(), nullable=True),
    sa.Column('contact_sealed', postgresql.BYTEA(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('(contact_key_id IS NULL) = (contact_sealed IS NULL)', name=op.f('ck_tip_informants_contact_pair')),
    sa.ForeignKeyConstraint(['tip_id'], ['tips.id'], name=op.f('fk_tip_informants_tip_id_tips'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tip_id', name=op.f('pk_tip_informants'))
    )
    op.create_index(op.f('ix_tip_informants_reporter_bidx_tip_id'), 'tip_informants', ['reporter_bidx', 'tip_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tip_informants_reporter_bidx_tip_id'), table_name='tip_informants')
    op.drop_table('tip_informants')
    op.drop_index(op.f('ix_tip_events_tip_id_id'), table_name='tip_events')
    op.drop_table('tip_events')
    op.drop_index(op.f('ix_tips_station_id_status_id'), table_name='tips')
    op.drop_index('ix_tips_location', table_name='tips', postgresql_using='gist')
    op.drop_index(op.f('ix_tips_grid_id'), table_name='tips')
    op.drop_index(op.f('ix_tips_district_id_status_id'), table_name='tips')
    op.drop_index(op.f('ix_tips_assignee_id'), table_name='tips')
    op.drop_table('tips')
    op.drop_table('tip_feedback_templates')
    op.drop_index(op.f('ix_tip_submissions_submitter_bidx_at'), table_name='tip_submissions')
    op.drop_table('tip_submissions')
