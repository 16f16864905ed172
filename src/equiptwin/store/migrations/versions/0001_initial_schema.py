"""registry, service history, schedule and ingest bookkeeping

Revision ID: 0001
Revises: 
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_runs',
    sa.Column('run_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('data_dir', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('run_key', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job', 'run_key', name='uq_job_runs_job_run_key')
    )
    op.create_table('systems',
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('modality', sa.String(length=8), nullable=False),
    sa.Column('manufacturer', sa.String(length=128), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('installed_on', sa.Date(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('system_id')
    )
    op.create_table('appointments',
    sa.Column('appointment_id', sa.String(length=64), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('modality', sa.String(length=8), nullable=False),
    sa.Column('start', sa.DateTime(), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('exam_code', sa.String(length=32), nullable=False),
    sa.Column('patient_ref', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['system_id'], ['systems.system_id'], ),
    sa.PrimaryKeyConstraint('appointment_id')
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_system_start', ['system_id', 'start'], unique=False)

    op.create_table('component_lives',
    sa.Column('life_id', sa.String(length=128), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('component_model', sa.String(length=128), nullable=True),
    sa.Column('installed_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.Column('end_work_order', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['system_id'], ['systems.system_id'], ),
    sa.PrimaryKeyConstraint('life_id')
    )
    with op.batch_alter_table('component_lives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_component_lives_system_id'), ['system_id'], unique=False)

    op.create_table('ingest_manifest',
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('prefix_sha256', sa.String(length=64), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('duplicate_of', sa.String(length=512), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.run_id'], ),
    sa.PrimaryKeyConstraint('path')
    )
    with op.batch_alter_table('ingest_manifest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_manifest_identity'), ['identity'], unique=False)

    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.run_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_run_id'), ['run_id'], unique=False)

    op.create_table('service_records',
    sa.Column('work_order', sa.String(length=64), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('failure', sa.Boolean(), nullable=False),
    sa.Column('downtime_h', sa.Float(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['system_id'], ['systems.system_id'], ),
    sa.PrimaryKeyConstraint('work_order')
    )
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_records_system_id'), ['system_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_records_system_id'))

    op.drop_table('service_records')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_run_id'))

    op.drop_table('quarantine')
    with op.batch_alter_table('ingest_manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_manifest_identity'))

    op.drop_table('ingest_manifest')
    with op.batch_alter_table('component_lives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_component_lives_system_id'))

    op.drop_table('component_lives')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_system_start')

    op.drop_table('appointments')
    op.drop_table('systems')
    op.drop_table('job_runs')
    op.drop_table('ingest_runs')
