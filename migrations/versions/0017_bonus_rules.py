"""bonus rules: a deposit offer released by its failed payment; cashback over-payments recovered

Revision ID: 0017
Revises: 0016

`player_bonuses.status` gains `released`: a deposit offer claimed with a deposit that failed or was
abandoned never counted (not a claim, not a bonus in play). `player_bonuses.cashback_recovered` is how
much of a paid cashback period's over-payment (a stake rolled back after the period was paid) has been
subtracted from later payments already, so it is never subtracted twice. Downgrading turns released
offers into cancelled ones (the old CHECK has no room for them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("issued", "active", "completed", "forfeited", "expired", "cancelled")
NEW_STATUSES = (*OLD_STATUSES, "released")


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    op.drop_constraint("ck_player_bonuses_status", "player_bonuses", type_="check")
    op.create_check_constraint("ck_player_bonuses_status", "player_bonuses", _status_check(NEW_STATUSES))
    op.add_column(
        "player_bonuses",
        sa.Column("cashback_recovered", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_check_constraint("ck_player_bonuses_cashback_recovered", "player_bonuses", "cashback_recovered >= 0")


def downgrade() -> None:
    op.drop_constraint("ck_player_bonuses_cashback_recovered", "player_bonuses", type_="check")
    op.drop_column("player_bonuses", "cashback_recovered")
    op.execute("UPDATE player_bonuses SET status = 'cancelled' WHERE status = 'released'")
    op.drop_constraint("ck_player_bonuses_status", "player_bonuses", type_="check")
    op.create_check_constraint("ck_player_bonuses_status", "player_bonuses", _status_check(OLD_STATUSES))
