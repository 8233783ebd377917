"""emergency drill schedules: drills planned ahead (计划演练), raised by the worker at
their time through the same dispatch path

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-22 21:35:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('emergency_drill_schedules',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('location', geoalchemy2.types.Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('station_id', sa.UUID(), nullable=True),
    sa.Column('district_id', sa.UUID(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('incident_id', sa.UUID(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("severity IN ('low', 'medium', 'high', 'critical')", name=op.f('ck_emergency_drill_schedules_severity')),
    sa.CheckConstraint("status IN ('scheduled', 'raised', 'cancelled')", name=op.f('ck_emergency_drill_schedules_status')),
    sa.CheckConstraint("type IN ('fight', 'fire', 'drowning', 'lost_child', 'medical', 'crowd', 'other')", name=op.f('ck_emergency_drill_schedules_type')),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_emergency_drill_schedules_district_id_org_units')),
    sa.ForeignKeyConstraint(['incident_id'], ['emergency_incidents.id'], name=op.f('fk_emergency_drill_schedules_incident_id_emergency_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_emergency_drill_schedules_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_drill_schedules'))
    )
    op.create_index(op.f('ix_emergency_drill_schedules_district_id_id'), 'emergency_drill_schedules', ['district_id', 'id'], unique=False)
    op.create_index('ix_emergency_drill_schedules_due', 'emergency_drill_schedules', ['scheduled_at'], unique=False, postgresql_where=sa.text("status = 'scheduled'"))
    op.create_index(op.f('ix_emergency_drill_schedules_station_id_id'), 'emergency_drill_schedules', ['station_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_emergency_drill_schedules_station_id_id'), table_name='emergency_drill_schedules')
    op.drop_index('ix_emergency_drill_schedules_due', table_name='emergency_drill_schedules', postgresql_where=sa.text("status = 'scheduled'"))
    op.drop_index(op.f('ix_emergency_drill_schedules_district_id_id'), table_name='emergency_drill_schedules')
    op.drop_table('emergency_drill_schedules')
