"""aml cases: cases with notes, evidence and history, account restrictions, the mlro role

Revision ID: 0028
Revises: 0027

`aml_cases` (unique per (source, source_id): a redelivered alert never opens a second case), its notes,
evidence links and history; `aml_restrictions` (at most one in force per case) is what the cashier, game
launch and bonus claims consult (services/aml/restrictions.py). `mlro` is a new staff role. Downgrading
removes every mlro grant (the old CHECK has no room for them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "support",
    "kyc_officer",
    "risk_analyst",
    "finance",
    "marketing",
    "brand_admin",
    "superadmin",
    "content_manager",
)
NEW_ROLES = (*OLD_ROLES, "mlro")


def _roles_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(NEW_ROLES))
    op.create_table('aml_cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=False),
    sa.Column('player_id', sa.Uuid(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('case_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('assignee_id', sa.Uuid(), nullable=True),
    sa.Column('opened_by', sa.Uuid(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_requested_by', sa.Uuid(), nullable=True),
    sa.Column('outcome_requested', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('closed_by', sa.Uuid(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(state = 'closed') = (outcome IS NOT NULL)", name='ck_aml_cases_closed_outcome'),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('no_action', 'sar_filed', 'account_closed', 'other')", name='ck_aml_cases_outcome'),
    sa.CheckConstraint("state IN ('open', 'investigating', 'escalated', 'closed')", name='ck_aml_cases_state'),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ),
    sa.ForeignKeyConstraint(['close_requested_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['closed_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_id', name='uq_aml_cases_source')
    )
    op.create_index(op.f('ix_aml_cases_player_id'), 'aml_cases', ['player_id'], unique=False)
    op.create_index('ix_aml_cases_queue', 'aml_cases', ['brand_id', 'state', 'due_at', 'id'], unique=False)
    op.create_table('aml_case_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['aml_cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_aml_case_events_case_id'), 'aml_case_events', ['case_id'], unique=False)
    op.create_table('aml_case_evidence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ref_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('added_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('alert', 'payment', 'ledger_transaction', 'document', 'other')", name='ck_aml_case_evidence_kind'),
    sa.ForeignKeyConstraint(['added_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['aml_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'ref_id', name='uq_aml_case_evidence')
    )
    op.create_index(op.f('ix_aml_case_evidence_case_id'), 'aml_case_evidence', ['case_id'], unique=False)
    op.create_table('aml_case_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['aml_cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_aml_case_notes_case_id'), 'aml_case_notes', ['case_id'], unique=False)
    op.create_table('aml_restrictions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('player_id', sa.Uuid(), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=False),
    sa.Column('imposed_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['aml_cases.id'], ),
    sa.ForeignKeyConstraint(['imposed_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['lifted_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_aml_restrictions_player', 'aml_restrictions', ['player_id'], unique=False, postgresql_where='lifted_at IS NULL')
    op.create_index('uq_aml_restrictions_case', 'aml_restrictions', ['case_id'], unique=True, postgresql_where='lifted_at IS NULL')


def downgrade() -> None:
    op.drop_index('uq_aml_restrictions_case', table_name='aml_restrictions', postgresql_where='lifted_at IS NULL')
    op.drop_index('ix_aml_restrictions_player', table_name='aml_restrictions', postgresql_where='lifted_at IS NULL')
    op.drop_table('aml_restrictions')
    op.drop_index(op.f('ix_aml_case_notes_case_id'), table_name='aml_case_notes')
    op.drop_table('aml_case_notes')
    op.drop_index(op.f('ix_aml_case_evidence_case_id'), table_name='aml_case_evidence')
    op.drop_table('aml_case_evidence')
    op.drop_index(op.f('ix_aml_case_events_case_id'), table_name='aml_case_events')
    op.drop_table('aml_case_events')
    op.drop_index('ix_aml_cases_queue', table_name='aml_cases')
    op.drop_index(op.f('ix_aml_cases_player_id'), table_name='aml_cases')
    op.drop_table('aml_cases')
    op.execute("DELETE FROM staff_roles WHERE role = 'mlro'")
    op.drop_constraint("ck_staff_roles_role", "staff_roles", type_="check")
    op.create_check_constraint("ck_staff_roles_role", "staff_roles", _roles_check(OLD_ROLES))
