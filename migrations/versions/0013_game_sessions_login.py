"""game sessions end with their login session

Revision ID: 0013
Revises: 0012

Ending a login session (logout, revocation, password change, block) now ends the game sessions launched
from it, found by `auth_session_id` through a partial index of the open ones. Game sessions whose login
session had already ended before this revision end now, at the time their login session did.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_game_sessions_open_by_login',
        'game_sessions',
        ['auth_session_id'],
        unique=False,
        postgresql_where='ended_at IS NULL',
    )
    op.execute("""
        UPDATE game_sessions g SET ended_at = a.revoked_at
        FROM auth_sessions a
        WHERE a.id = g.auth_session_id AND a.revoked_at IS NOT NULL AND g.ended_at IS NULL
    """)


def downgrade() -> None:
    # The game sessions ended by the upgrade stay ended: their login sessions had ended too.
    op.drop_index('ix_game_sessions_open_by_login', table_name='game_sessions', postgresql_where='ended_at IS NULL')
