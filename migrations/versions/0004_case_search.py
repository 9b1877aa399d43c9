"""case search: any part of the applicant's name, the ID number exactly

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _name_grams(name):
    """As models.case.name_grams at the time of writing (a migration does not import the app)."""
    text = (name or "").strip().lower()
    return set(text) | {text[i:i + 2] for i in range(len(text) - 1)}


def upgrade():
    gram_table = op.create_table('case_name_gram',
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('center_id', 'gram', 'case_id')
    )
    with op.batch_alter_table('case_name_gram', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_name_gram_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('service_case', schema=None) as batch_op:
        batch_op.create_index('ix_case_center_idno', ['center_id', 'applicant_id_no'], unique=False)

    # Every case already on file gets its name pieces, a batch at a time.
    bind = op.get_bind()
    last_id = 0
    while True:
        cases = bind.execute(sa.text("SELECT id, center_id, applicant_name FROM service_case WHERE id > :last "
                                     "ORDER BY id LIMIT 5000"), {"last": last_id}).all()
        if not cases:
            break
        rows = [{"center_id": center_id, "gram": gram, "case_id": case_id}
                for case_id, center_id, name in cases for gram in _name_grams(name)]
        if rows:
            op.bulk_insert(gram_table, rows)
        last_id = cases[-1][0]


def downgrade():
    with op.batch_alter_table('service_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_center_idno')

    with op.batch_alter_table('case_name_gram', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_name_gram_case_id'))

    op.drop_table('case_name_gram')
