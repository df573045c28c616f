"""payments keep the card fingerprint the PSP's vault reports, so the closed loop matches a card under any token;
granted free rounds are indexed for the bonus worker's cancellation of rewards whose bonus ended

Revision ID: 0068
Revises: 0067

A PSP's card fingerprint (as Stripe's `card.fingerprint`, Adyen's card summary hash) is the same for every token of
one card number at one merchant: a re-added card gets a new vault token but keeps its fingerprint. The closed loop
(services/cashier/closed_loop.py) keys card shares by it, falling back to the token where none was reported.
Older payments keep none (their shares stay keyed by token, as are the waivers granted on them).

A free-rounds grant whose bonus the bonus engine cancelled or forfeited is cancelled at its provider by the bonus
worker (services/free_rounds/grants.py `withdraw_ended`), which looks among the granted grants.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0068"
down_revision: str | None = "0067"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("instrument_fingerprint", sa.String(128), nullable=True))
    op.create_index(
        "ix_free_rounds_grants_granted",
        "free_rounds_grants",
        ["bonus_id"],
        postgresql_where=sa.text("status = 'granted'"),
    )


def downgrade() -> None:
    op.drop_index("ix_free_rounds_grants_granted", table_name="free_rounds_grants")
    op.drop_column("payments", "instrument_fingerprint")
