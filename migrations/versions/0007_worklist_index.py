"""worklist indexes: open cases and handover legs counted and paged from the index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_case', schema=None) as batch_op:
        batch_op.create_index('ix_case_worklist', ['center_id', 'voided', 'state', 'overdue', 'warned',
                                                   'handover_late', 'responsible_id', 'created_by_id'], unique=False)
    with op.batch_alter_table('case_handover', schema=None) as batch_op:
        batch_op.create_index('ix_case_handover_worklist', ['center_id', 'voided', 'state', 'created_by_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('case_handover', schema=None) as batch_op:
        batch_op.drop_index('ix_case_handover_worklist')
    with op.batch_alter_table('service_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_worklist')
