"""crypto gaps: a deposit quote that expired before its transfer's confirmations is replaced by a fresh rate
locked then (`crypto_quotes.source = 'confirmed'`); a confirmed deposit a gate refuses is held, then released or
refunded to its sender (`crypto_transfers` statuses held, refunding, refunded; `sender_address`, `held_reason`);
the processor's fee on a payout (`crypto_transfers.fee`)

Revision ID: 0067
Revises: 0066

docs/crypto.md "Quotes": a transfer is priced at first sight, and credited at that rate only while its quote is
valid; confirmed after the quote expired, it is credited at the processor's rate at the confirmation, locked in a
quote of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0067"
down_revision: str | None = "0066"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STATUSES = "'confirming', 'credited', 'cancelled', 'too_small', 'requested'"


def upgrade() -> None:
    op.add_column("crypto_transfers", sa.Column("sender_address", sa.String(128), nullable=True))
    op.add_column("crypto_transfers", sa.Column("held_reason", sa.String(64), nullable=True))
    op.add_column("crypto_transfers", sa.Column("fee", sa.Numeric(38, 18), nullable=True))
    op.drop_constraint("ck_crypto_transfers_status", "crypto_transfers", type_="check")
    op.create_check_constraint(
        "ck_crypto_transfers_status", "crypto_transfers", f"status IN ({STATUSES}, 'held', 'refunding', 'refunded')"
    )
    op.create_index(
        "ix_crypto_transfers_held",
        "crypto_transfers",
        ["player_id"],
        postgresql_where=sa.text("status IN ('held', 'refunding')"),
    )
    op.drop_constraint("ck_crypto_quotes_source", "crypto_quotes", type_="check")
    op.create_check_constraint(
        "ck_crypto_quotes_source", "crypto_quotes", "source IN ('player', 'first_seen', 'confirmed')"
    )


def downgrade() -> None:
    op.drop_index("ix_crypto_transfers_held", "crypto_transfers")
    op.drop_constraint("ck_crypto_transfers_status", "crypto_transfers", type_="check")
    op.create_check_constraint("ck_crypto_transfers_status", "crypto_transfers", f"status IN ({STATUSES})")
    op.drop_column("crypto_transfers", "fee")
    op.drop_column("crypto_transfers", "held_reason")
    op.drop_column("crypto_transfers", "sender_address")
    op.execute("UPDATE crypto_quotes SET source = 'first_seen' WHERE source = 'confirmed'")
    op.drop_constraint("ck_crypto_quotes_source", "crypto_quotes", type_="check")
    op.create_check_constraint("ck_crypto_quotes_source", "crypto_quotes", "source IN ('player', 'first_seen')")
