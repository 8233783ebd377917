"""foundation

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 13:50:57.655315

Extensions, the organisation tree, accounts and roles, outbox, append-only audit log and
idempotency keys.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('accounts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='active', nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('officer', 'resident', 'system')", name=op.f('ck_accounts_kind')),
    sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f('ck_accounts_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=False),
    sa.Column('actor_role', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('record_type', sa.Text(), nullable=False),
    sa.Column('record_id', sa.UUID(), nullable=True),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_actor_id_at'), 'audit_log', ['actor_id', 'at'], unique=False)
    op.create_index(op.f('ix_audit_log_record_type_record_id'), 'audit_log', ['record_type', 'record_id'], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('principal', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('operation', sa.Text(), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('in_flight', 'completed')", name=op.f('ck_idempotency_keys_state')),
    sa.PrimaryKeyConstraint('principal', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_index(op.f('ix_idempotency_keys_expires_at'), 'idempotency_keys', ['expires_at'], unique=False)
    op.create_table('org_units',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('level', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.UUID(), nullable=True),
    sa.Column('district_id', sa.UUID(), nullable=True),
    sa.Column('station_id', sa.UUID(), nullable=True),
    sa.Column('boundary', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(level = 'district') = (parent_id IS NULL)", name=op.f('ck_org_units_parent_by_level')),
    sa.CheckConstraint("level IN ('district', 'station', 'community', 'grid')", name=op.f('ck_org_units_level')),
    sa.ForeignKeyConstraint(['district_id'], ['org_units.id'], name=op.f('fk_org_units_district_id_org_units')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.ForeignKeyConstraint(['station_id'], ['org_units.id'], name=op.f('fk_org_units_station_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('code', name=op.f('uq_org_units_code'))
    )
    op.create_index('ix_org_units_boundary', 'org_units', ['boundary'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_org_units_level_station_id'), 'org_units', ['level', 'station_id'], unique=False)
    op.create_index(op.f('ix_org_units_parent_id'), 'org_units', ['parent_id'], unique=False)
    op.create_table('outbox',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('aggregate_type', sa.Text(), nullable=False),
    sa.Column('aggregate_id', sa.UUID(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name=op.f('ck_outbox_status')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_outbox')),
    sa.UniqueConstraint('id', name=op.f('uq_outbox_id'))
    )
    op.create_index(op.f('ix_outbox_aggregate_type_aggregate_id_seq'), 'outbox', ['aggregate_type', 'aggregate_id', 'seq'], unique=False)
    op.create_index('ix_outbox_pending', 'outbox', ['seq'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('account_roles',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=True),
    sa.Column('granted_by', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(role IN ('officer', 'station_admin', 'district_admin', 'auditor')) = (unit_id IS NOT NULL)", name=op.f('ck_account_roles_unit_by_role')),
    sa.CheckConstraint("role IN ('resident', 'volunteer', 'team_leader', 'officer', 'station_admin', 'district_admin', 'auditor')", name=op.f('ck_account_roles_role')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_roles_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_account_roles_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_roles')),
    sa.UniqueConstraint('account_id', 'role', 'unit_id', name=op.f('uq_account_roles_account_id_role_unit_id'), postgresql_nulls_not_distinct=True)
    )
    # The audit log is append-only: refuse UPDATE, DELETE and TRUNCATE at the database.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.drop_table('account_roles')
    op.drop_index('ix_outbox_pending', table_name='outbox', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f('ix_outbox_aggregate_type_aggregate_id_seq'), table_name='outbox')
    op.drop_table('outbox')
    op.drop_index(op.f('ix_org_units_parent_id'), table_name='org_units')
    op.drop_index(op.f('ix_org_units_level_station_id'), table_name='org_units')
    op.drop_index('ix_org_units_boundary', table_name='org_units', postgresql_using='gist')
    op.drop_table('org_units')
    op.drop_index(op.f('ix_idempotency_keys_expires_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index(op.f('ix_audit_log_record_type_record_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_actor_id_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table('accounts')
