"""ingest: daily event counts, archive parts, manifest mtime and 64-bit offsets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_counts_daily',
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('system_id', 'day', 'code')
    )
    op.create_table('archive_parts',
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('dataset', sa.String(length=16), nullable=False),
    sa.Column('system_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.run_id'], ),
    sa.PrimaryKeyConstraint('path')
    )
    with op.batch_alter_table('archive_parts', schema=None) as batch_op:
        batch_op.create_index('ix_archive_parts_dataset_system', ['dataset', 'system_id', 'month'], unique=False)
    with op.batch_alter_table('ingest_manifest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mtime_ns', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.alter_column('size', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
        batch_op.alter_column('offset', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table('ingest_manifest', schema=None) as batch_op:
        batch_op.alter_column('mtime_ns', server_default=None, existing_type=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('ingest_manifest', schema=None) as batch_op:
        batch_op.alter_column('offset', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
        batch_op.alter_column('size', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
        batch_op.drop_column('mtime_ns')
    with op.batch_alter_table('archive_parts', schema=None) as batch_op:
        batch_op.drop_index('ix_archive_parts_dataset_system')
    op.drop_table('archive_parts')
    op.drop_table('event_counts_daily')
