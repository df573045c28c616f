"""play time: game sessions count as time played; reality checks remember when their interval began

Revision ID: 0015
Revises: 0014

Session-time limits counted login sessions only, so a player whose login lapsed (or who logged out before
logins ended their games) kept betting on a game token with no time counted. A game session span is an
unbroken run of bets: a bet extends it, a bet after an idle gap starts a new one (services/rg/activity.py).
A reality check's `interval_started_at` is when its current interval began (login, or the last answer),
so changing the interval keeps the time already played: existing rows get `next_due_at - interval`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "game_session_spans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("game_session_id", sa.Uuid(), nullable=False),
        sa.Column("player_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["game_session_id"], ["game_sessions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["player_id"], ["players.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_game_session_spans_session", "game_session_spans", ["game_session_id", "ends_at"])
    op.create_index("ix_game_session_spans_player", "game_session_spans", ["player_id", "ends_at"])
    op.add_column("rg_reality_checks", sa.Column("interval_started_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE rg_reality_checks SET interval_started_at = next_due_at - make_interval(secs => interval_seconds)"
    )
    op.alter_column("rg_reality_checks", "interval_started_at", nullable=False)


def downgrade() -> None:
    op.drop_column("rg_reality_checks", "interval_started_at")
    op.drop_index("ix_game_session_spans_player", table_name="game_session_spans")
    op.drop_index("ix_game_session_spans_session", table_name="game_session_spans")
    op.drop_table("game_session_spans")
