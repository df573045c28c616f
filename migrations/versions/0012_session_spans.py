"""session spans: when each login session was in use

Revision ID: 0012
Revises: 0011

Time played (session-time limits, the RG view, long-session flags) was counted from a session's start
to the expiry of its last access token, so a player who left and came back hours later on the refresh
token had the whole gap counted. A span is an unbroken run of access tokens; the gap between two is not
time in use. Existing sessions get one span, from their start to their last refresh plus the default
access-token lifetime (15 minutes): what the old count assumed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('session_spans',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['auth_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_session_spans_session', 'session_spans', ['session_id', 'ends_at'], unique=False)
    op.execute("""
        INSERT INTO session_spans (id, session_id, started_at, ends_at)
        SELECT gen_random_uuid(), id, created_at, coalesce(last_seen_at, created_at) + interval '15 minutes'
        FROM auth_sessions
    """)


def downgrade() -> None:
    op.drop_index('ix_session_spans_session', table_name='session_spans')
    op.drop_table('session_spans')
