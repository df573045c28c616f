"""affiliate gaps: a run line's currency conversion (the player's currency and the rate recorded on the line)

Revision ID: 0059
Revises: 0058

A revenue share is earned on NGR in the plan's currency; a line of a player who plays in another currency holds
that currency's stakes, wins and bonus cost, and the reference rate its NGR was converted at
(docs/affiliate-commissions.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0059"
down_revision: str | None = "0051"  # 0058 for the integrator
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "affiliate_run_lines",
        sa.Column("player_currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=True),
    )
    op.add_column("affiliate_run_lines", sa.Column("fx_rate", sa.Numeric(24, 10), nullable=True))
    op.create_check_constraint(
        "ck_affiliate_run_lines_fx",
        "affiliate_run_lines",
        "(player_currency IS NULL) = (fx_rate IS NULL) AND (fx_rate IS NULL OR fx_rate > 0)",
    )


def downgrade() -> None:
    op.drop_constraint("ck_affiliate_run_lines_fx", "affiliate_run_lines")
    op.drop_column("affiliate_run_lines", "fx_rate")
    op.drop_column("affiliate_run_lines", "player_currency")
