"""volunteers, teams and training

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:00:00

The "five unifieds": the volunteer archive with sealed personal data and blind indexes,
status history, background checks, per-district volunteer number counters, teams with
membership history, training courses and records.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('volunteers',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('station_id', sa.UUID(), nullable=False),
    sa.Column('district_id', sa.UUID(), nullable=False),
    sa.Column('community_id', sa.UUID(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('resident_id_key_id', sa.Text(), nullable=False),
    sa.Column('resident_id_sealed', postgresql.BYTEA(), nullable=False),
    sa.Column('resident_id_bidx', postgresql.BYTEA(), nullable=False),
    sa.Column('phone_key_id', sa.Text(), nullable=False),
    sa.Column('phone_sealed', postgresql.BYTEA(), nullable=False),
    sa.Column('phone_bidx', postgresql.BYTEA(), nullable=False),
    sa.Column('address_key_id', sa.Text(), nullable=False),
    sa.Column('address_sealed', postgresql.BYTEA(), nullable=False),
    sa.Column('source_category', sa.Text(), nullable=False),
    sa.Column('skills', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('preferred_roles', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('has_photo', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('status_before_suspension', sa.Text(), nullable=True),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.Column('consent_notice_version', sa.Text(), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('volunteer_number', sa.Text(), nullable=True),
    sa.Column('badge_token', sa.Text(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_recheck_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("origin <> 'application' OR consent_notice_version IS NOT NULL", name=op.f('ck_volunteers_application_has_consent')),
    sa.CheckConstraint("origin IN ('application', 'registration', 'import')", name=op.f('ck_volunteers_origin')),
    sa.CheckConstraint("status IN ('applied', 'vetted', 'rejected', 'training', 'probation', 'active', 'suspended', 'retired', 'expelled')", name=op.f('ck_volunteers_status')),
    sa.CheckConstraint('(consent_notice_version IS NULL) = (consent_at IS NULL)', name=op.f('ck_volunteers_consent_pair')),
    sa.CheckConstraint('(volunteer_number IS NULL) = (badge_token IS NULL)', name=op.f('ck_volunteers_identification_pair')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_volunteers_account_id_accounts')),
    sa.ForeignKeyConstraint(['community_id'], ['org_units.id'], name=op.f('fk_volunteers_community_id_org_units')),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_volunteers_district_id_org_units')),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_volunteers_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
    sa.UniqueConstraint('badge_token', name=op.f('uq_volunteers_badge_token')),
    sa.UniqueConstraint('volunteer_number', name=op.f('uq_volunteers_volunteer_number'))
    )
    op.create_index(op.f('ix_volunteers_account_id'), 'volunteers', ['account_id'], unique=False)
    op.create_index(op.f('ix_volunteers_district_id_id'), 'volunteers', ['district_id', 'id'], unique=False)
    op.create_index('ix_volunteers_name_prefix', 'volunteers', ['name'], unique=False, postgresql_ops={'name': 'text_pattern_ops'})
    op.create_index(op.f('ix_volunteers_phone_bidx'), 'volunteers', ['phone_bidx'], unique=False)
    op.create_index('ix_volunteers_recheck_due', 'volunteers', ['next_recheck_on', 'id'], unique=False, postgresql_where=sa.text('next_recheck_on IS NOT NULL'))
    op.create_index(op.f('ix_volunteers_station_id_id'), 'volunteers', ['station_id', 'id'], unique=False)
    op.create_index('uq_volunteers_open_account', 'volunteers', ['account_id'], unique=True, postgresql_where=sa.text("account_id IS NOT NULL AND status NOT IN ('rejected', 'retired', 'expelled')"))
    op.create_index('uq_volunteers_open_resident_id', 'volunteers', ['resident_id_bidx'], unique=True, postgresql_where=sa.text("status NOT IN ('rejected', 'retired', 'expelled')"))
    op.create_table('volunteer_status_history',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('volunteer_id', sa.UUID(), nullable=False),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('by_account_id', sa.UUID(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_status_history_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_volunteer_status_history'))
    )
    op.create_index(op.f('ix_volunteer_status_history_volunteer_id_seq'), 'volunteer_status_history', ['volunteer_id', 'seq'], unique=False)
    op.create_table('background_checks',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('volunteer_id', sa.UUID(), nullable=False),
    sa.Column('checked_by', sa.UUID(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('next_recheck_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("result IN ('passed', 'failed')", name=op.f('ck_background_checks_result')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_background_checks_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_checks'))
    )
    op.create_index(op.f('ix_background_checks_volunteer_id_checked_on'), 'background_checks', ['volunteer_id', 'checked_on'], unique=False)
    op.create_table('volunteer_number_counters',
    sa.Column('district_id', sa.UUID(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_volunteer_number_counters_district_id_org_units')),
    sa.PrimaryKeyConstraint('district_id', 'year', name=op.f('pk_volunteer_number_counters'))
    )
    op.create_table('teams',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('station_id', sa.UUID(), nullable=False),
    sa.Column('district_id', sa.UUID(), nullable=False),
    sa.Column('brand', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('leader_id', sa.UUID(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("type IN ('patrol', 'prevention_publicity', 'mediation', 'emergency_unit', 'event_joint')", name=op.f('ck_teams_type')),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_teams_district_id_org_units')),
    sa.ForeignKeyConstraint(['leader_id'], ['volunteers.id'], name=op.f('fk_teams_leader_id_volunteers')),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_teams_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    op.create_index(op.f('ix_teams_district_id_id'), 'teams', ['district_id', 'id'], unique=False)
    op.create_index(op.f('ix_teams_leader_id'), 'teams', ['leader_id'], unique=False)
    op.create_index(op.f('ix_teams_station_id_id'), 'teams', ['station_id', 'id'], unique=False)
    op.create_table('team_memberships',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('team_id', sa.UUID(), nullable=False),
    sa.Column('volunteer_id', sa.UUID(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added_by', sa.UUID(), nullable=True),
    sa.Column('removed_by', sa.UUID(), nullable=True),
    sa.CheckConstraint('left_at IS NULL OR left_at >= joined_at', name=op.f('ck_team_memberships_left_after_joined')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_memberships_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_team_memberships_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_memberships'))
    )
    op.create_index(op.f('ix_team_memberships_volunteer_id_left_at'), 'team_memberships', ['volunteer_id', 'left_at'], unique=False)
    op.create_index('uq_team_memberships_current', 'team_memberships', ['team_id', 'volunteer_id'], unique=True, postgresql_where=sa.text('left_at IS NULL'))
    op.create_table('courses',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('district_id', sa.UUID(), nullable=False),
    sa.Column('station_id', sa.UUID(), nullable=True),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('capability', sa.Text(), nullable=True),
    sa.Column('validity_months', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('validity_months IS NULL OR validity_months BETWEEN 1 AND 120', name=op.f('ck_courses_validity')),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_courses_district_id_org_units')),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_courses_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
    sa.UniqueConstraint('district_id', 'code', name=op.f('uq_courses_district_id_code'))
    )
    op.create_index(op.f('ix_courses_station_id_id'), 'courses', ['station_id', 'id'], unique=False)
    op.create_table('training_records',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('volunteer_id', sa.UUID(), nullable=False),
    sa.Column('course_id', sa.UUID(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('certificate_expires_on', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.UUID(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('certificate_expires_on IS NULL OR certificate_expires_on > completed_on', name=op.f('ck_training_records_expiry_after_completion')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_training_records_course_id_courses')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_training_records_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_records'))
    )
    op.create_index(op.f('ix_training_records_course_id'), 'training_records', ['course_id'], unique=False)
    op.create_index(op.f('ix_training_records_volunteer_id_completed_on'), 'training_records', ['volunteer_id', 'completed_on'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_training_records_course_id'), table_name='training_records')
    op.drop_index(op.f('ix_training_records_volunteer_id_completed_on'), table_name='training_records')
    op.drop_table('training_records')
    op.drop_index(op.f('ix_courses_station_id_id'), table_name='courses')
    op.drop_table('courses')
    op.drop_index(op.f('ix_team_memberships_volunteer_id_left_at'), table_name='team_memberships')
    op.drop_index('uq_team_memberships_current', table_name='team_memberships', postgresql_where=sa.text('left_at IS NULL'))
    op.drop_table('team_memberships')
    op.drop_index(op.f('ix_teams_district_id_id'), table_name='teams')
    op.drop_index(op.f('ix_teams_leader_id'), table_name='teams')
    op.drop_index(op.f('ix_teams_station_id_id'), table_name='teams')
    op.drop_table('teams')
    op.drop_table('volunteer_number_counters')
    op.drop_index(op.f('ix_background_checks_volunteer_id_checked_on'), table_name='background_checks')
    op.drop_table('background_checks')
    op.drop_index(op.f('ix_volunteer_status_history_volunteer_id_seq'), table_name='volunteer_status_history')
    op.drop_table('volunteer_status_history')
    op.drop_index(op.f('ix_volunteers_account_id'), table_name='volunteers')
    op.drop_index(op.f('ix_volunteers_district_id_id'), table_name='volunteers')
    op.drop_index('ix_volunteers_name_prefix', table_name='volunteers', postgresql_ops={'name': 'text_pattern_ops'})
    op.drop_index(op.f('ix_volunteers_phone_bidx'), table_name='volunteers')
    op.drop_index('ix_volunteers_recheck_due', table_name='volunteers', postgresql_where=sa.text('next_recheck_on IS NOT NULL'))
    op.drop_index(op.f('ix_volunteers_station_id_id'), table_name='volunteers')
    op.drop_index('uq_volunteers_open_account', table_name='volunteers', postgresql_where=sa.text("account_id IS NOT NULL AND status NOT IN ('rejected', 'retired', 'expelled')"))
    op.drop_index('uq_volunteers_open_resident_id', table_name='volunteers', postgresql_where=sa.text("status NOT IN ('rejected', 'retired', 'expelled')"))
    op.drop_table('volunteers')
