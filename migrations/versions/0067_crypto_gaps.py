"""crypto gaps: a deposit quote that expired before its transfer's confirmations is replaced by a fresh rate
locked then (`crypto_quotes.source = 'confirmed'`)

Revision ID: 0067
Revises: 0065

docs/crypto.md "Quotes": a transfer is priced at first sight, and credited at that rate only while its quote is
valid; confirmed after the quote expired, it is credited at the processor's rate at the confirmation, locked in a
quote of its own.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0067"
down_revision: str | None = "0065"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("ck_crypto_quotes_source", "crypto_quotes", type_="check")
    op.create_check_constraint(
        "ck_crypto_quotes_source", "crypto_quotes", "source IN ('player', 'first_seen', 'confirmed')"
    )


def downgrade() -> None:
    op.execute("UPDATE crypto_quotes SET source = 'first_seen' WHERE source = 'confirmed'")
    op.drop_constraint("ck_crypto_quotes_source", "crypto_quotes", type_="check")
    op.create_check_constraint("ck_crypto_quotes_source", "crypto_quotes", "source IN ('player', 'first_seen')")
