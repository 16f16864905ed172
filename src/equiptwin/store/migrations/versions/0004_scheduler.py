"""serve: job-run attempts, the scheduler lease and APScheduler's job store

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduler_lock',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=160), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_apscheduler_jobs_next_run_time', ['next_run_time'], unique=False)
    # job_runs was never written before this revision: one row per attempt from now on.
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('holder', sa.String(length=160), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=True))
        batch_op.drop_constraint('uq_job_runs_job_run_key', type_='unique')
        batch_op.create_unique_constraint('uq_job_runs_job_key_attempt', ['job', 'run_key', 'attempt'])
        batch_op.create_index('ix_job_runs_started_at', ['started_at'], unique=False)
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.alter_column('attempt', server_default=None, existing_type=sa.Integer(), existing_nullable=False)
        batch_op.alter_column('holder', server_default=None, existing_type=sa.String(length=160), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_started_at')
        batch_op.drop_constraint('uq_job_runs_job_key_attempt', type_='unique')
        batch_op.create_unique_constraint('uq_job_runs_job_run_key', ['job', 'run_key'])
        batch_op.drop_column('summary')
        batch_op.drop_column('holder')
        batch_op.drop_column('attempt')
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_apscheduler_jobs_next_run_time')
    op.drop_table('apscheduler_jobs')
    op.drop_table('scheduler_lock')
