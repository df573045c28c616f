"""tournament_rounds: when a round's stake last changed, the tie-break of points per wager

Revision ID: 0042
Revises: 0041

`last_seq` is a round's last event, a win included; a win changes no points per wager, so ranking equal
scores by it sent a player whose win came late behind one who reached the same score after them.
`stake_seq`/`stake_at` are the outbox id and time of the round's last bet or bet rollback (NULL for a round
with none); services/tournaments/scoring.py ranks points per wager by them. Rows written before this
revision take their last event's, as they were ranked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tournament_rounds", sa.Column("stake_seq", sa.BigInteger(), nullable=True))
    op.add_column("tournament_rounds", sa.Column("stake_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE tournament_rounds SET stake_seq = last_seq, stake_at = last_at")


def downgrade() -> None:
    op.drop_column("tournament_rounds", "stake_at")
    op.drop_column("tournament_rounds", "stake_seq")
