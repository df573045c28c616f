"""crm segments: players whose money moved, waiting for the report projection before their segments are
re-evaluated

Revision ID: 0052
Revises: 0051

The `crm-segments` consumer re-evaluates a player's dynamic segments from the events about them, but RFM
rules read `report_player_days`, which another consumer (`reports`) writes: a ledger event's player waits here
(with the event's id) until the projection has counted it, then the segments' loop re-evaluates them
(services/crm/segments/sweep.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0052"
down_revision: str | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_segment_pending",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )


def downgrade() -> None:
    op.drop_table("crm_segment_pending")
