"""forecasts, tickets with their outbox, and schedule changes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecasts',
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('life_id', sa.String(length=128), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('p_fail_7d', sa.Float(), nullable=False),
    sa.Column('p_fail_14d', sa.Float(), nullable=False),
    sa.Column('p_fail_30d', sa.Float(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=True),
    sa.Column('window_end', sa.Date(), nullable=True),
    sa.Column('median_days_left', sa.Float(), nullable=True),
    sa.Column('alert', sa.Boolean(), nullable=False),
    sa.Column('drivers', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['life_id'], ['component_lives.life_id'], ),
    sa.ForeignKeyConstraint(['system_id'], ['systems.system_id'], ),
    sa.PrimaryKeyConstraint('as_of', 'life_id', 'model_version')
    )
    op.create_table('schedule_changes',
    sa.Column('appointment_id', sa.String(length=64), nullable=False),
    sa.Column('plan_version', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('old_system_id', sa.String(length=64), nullable=False),
    sa.Column('old_start', sa.DateTime(), nullable=False),
    sa.Column('new_system_id', sa.String(length=64), nullable=True),
    sa.Column('new_start', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.appointment_id'], ),
    sa.PrimaryKeyConstraint('appointment_id', 'plan_version')
    )
    op.create_table('tickets',
    sa.Column('dedup_key', sa.String(length=160), nullable=False),
    sa.Column('life_id', sa.String(length=128), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('opened_as_of', sa.Date(), nullable=False),
    sa.Column('updated_as_of', sa.Date(), nullable=False),
    sa.Column('closed_as_of', sa.Date(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['life_id'], ['component_lives.life_id'], ),
    sa.ForeignKeyConstraint(['system_id'], ['systems.system_id'], ),
    sa.PrimaryKeyConstraint('dedup_key')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dedup_key', sa.String(length=160), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('sink', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dedup_key'], ['tickets.dedup_key'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key', 'revision', 'sink', name='uq_outbox_key_rev_sink')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status')

    op.drop_table('outbox')
    op.drop_table('tickets')
    op.drop_table('schedule_changes')
    op.drop_table('forecasts')
