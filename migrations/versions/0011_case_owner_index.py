"""a clerk's own open cases from one index: (responsible_id, state, created_by_id) replaces (responsible_id)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # The worklist's "my cases" read every case a clerk ever owned (17,000 in five years) to find the few
    # hundred open ones; with the state second in the index they are found directly (15 ms → 0.7 ms).
    op.create_index('ix_case_owner_state', 'service_case', ['responsible_id', 'state', 'created_by_id'], unique=False)
    op.drop_index('ix_service_case_responsible_id', table_name='service_case')


def downgrade():
    op.create_index('ix_service_case_responsible_id', 'service_case', ['responsible_id'], unique=False)
    op.drop_index('ix_case_owner_state', table_name='service_case')
