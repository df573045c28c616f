"""affiliate gaps: a run line's currency conversion (the player's currency and the rate recorded on the line)

Revision ID: 0059
Revises: 0058

A revenue share is earned on NGR in the plan's currency; a line of a player who plays in another currency holds
that currency's stakes, wins and bonus cost, and the reference rate its NGR was converted at
(docs/affiliate-commissions.md).

One click attributes at most one player (docs/affiliates.md): a unique index on the attributions' click. Were
a click found on several attributions already, the first keeps it and the later ones keep their partner but
lose the click (a second registration should never have taken it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0059"
down_revision: str | None = "0058"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
        UPDATE affiliate_attributions t SET click_id = NULL
        WHERE click_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM affiliate_attributions f WHERE f.click_id = t.click_id
              AND (f.attributed_at, f.player_id) < (t.attributed_at, t.player_id))""")
    op.create_index(
        "uq_affiliate_attributions_click",
        "affiliate_attributions",
        ["click_id"],
        unique=True,
        postgresql_where=sa.text("click_id IS NOT NULL"),
    )
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
    op.drop_index("uq_affiliate_attributions_click", "affiliate_attributions")
    op.drop_constraint("ck_affiliate_run_lines_fx", "affiliate_run_lines")
    op.drop_column("affiliate_run_lines", "fx_rate")
    op.drop_column("affiliate_run_lines", "player_currency")
