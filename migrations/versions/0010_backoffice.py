"""back office: player search indexes and staff notes on players

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# services/player_search.py matches these expressions exactly (an expression index serves only a
# query that spells the same expression). text_pattern_ops lets `LIKE 'prefix%'` use a btree
# whatever the database's collation. Phone numbers are free text: the digits are indexed forwards
# (international prefix typed) and reversed (national form typed: the number's tail).
PHONE_DIGITS = "regexp_replace(phone, '[^0-9]', '', 'g')"
SEARCH_INDEXES = {
    "ix_players_email_prefix": "email text_pattern_ops",
    "ix_players_first_name_prefix": "lower(first_name) text_pattern_ops",
    "ix_players_last_name_prefix": "lower(last_name) text_pattern_ops",
    "ix_players_phone_digits": f"({PHONE_DIGITS}) text_pattern_ops",
    "ix_players_phone_digits_reversed": f"reverse({PHONE_DIGITS}) text_pattern_ops",
}


def upgrade() -> None:
    for name, expression in SEARCH_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON players ({expression})")
    op.create_table('player_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('player_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('body', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('length(body) BETWEEN 1 AND 2000', name='ck_player_notes_body'),
    sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['player_id'], ['players.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_player_notes_player', 'player_notes', ['player_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_player_notes_player', table_name='player_notes')
    op.drop_table('player_notes')
    for name in SEARCH_INDEXES:
        op.drop_index(name, table_name='players')
