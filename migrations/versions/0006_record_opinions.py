"""opinions and decisions given at the steps of approval chains

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'record_opinion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('center_id', sa.Integer(), nullable=False),
        sa.Column('record_table', sa.String(length=60), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=60), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['center_id'], ['center.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('record_opinion', schema=None) as batch_op:
        batch_op.create_index('ix_record_opinion_record', ['record_table', 'record_id'], unique=False)


def downgrade():
    with op.batch_alter_table('record_opinion', schema=None) as batch_op:
        batch_op.drop_index('ix_record_opinion_record')
    op.drop_table('record_opinion')
