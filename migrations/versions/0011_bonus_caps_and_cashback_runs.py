"""bonus conversion caps kept exact, cashback periods paid

Revision ID: 0011
Revises: 0010

- player_bonuses.capped: bonus money of the bonus that its conversion cap withheld (at conversion, and
  from wins and refunded stakes that came after it), so a later reversal knows what the cap kept.
- bonus_wagers.converted / withheld: of a win that came after its bonus converted, the bonus side paid
  into cash within the cap (part of cash_amount) and the part the cap withheld.
- bonus_campaigns.cashback_paid_until: the end (exclusive, a date) of the last cashback period paid in
  full, so the bonus worker pays each closed period once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('player_bonuses', sa.Column('capped', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('bonus_wagers', sa.Column('converted', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('bonus_wagers', sa.Column('withheld', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('bonus_campaigns', sa.Column('cashback_paid_until', sa.Date(), nullable=True))
    op.create_check_constraint('ck_player_bonuses_converted', 'player_bonuses', 'converted >= 0 AND capped >= 0')


def downgrade() -> None:
    op.drop_constraint('ck_player_bonuses_converted', 'player_bonuses', type_='check')
    op.drop_column('bonus_campaigns', 'cashback_paid_until')
    op.drop_column('bonus_wagers', 'withheld')
    op.drop_column('bonus_wagers', 'converted')
    op.drop_column('player_bonuses', 'capped')
