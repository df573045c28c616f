"""crypto payments: deposit addresses per player and asset, rate quotes, on-chain transfers

Revision ID: 0061
Revises: 0060

A crypto deposit or withdrawal is a `payments` row (method `crypto`, PSP `cryptopay`); these tables hold the
processor's side of it (docs/crypto.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0061"
down_revision: str | None = "0060"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.Column[sa.DateTime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "crypto_addresses",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("processor", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("credit_currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("processor_ref", sa.String(100), nullable=False),
        _now(),
        sa.UniqueConstraint("player_id", "asset", name="uq_crypto_addresses_player_asset"),
        sa.UniqueConstraint("processor", "asset", "address", name="uq_crypto_addresses_address"),
    )
    op.create_table(
        "crypto_quotes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("asset", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False, server_default="player"),
        sa.Column("rate", sa.Numeric(36, 18), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("asset_amount", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawal_key", sa.String(200), nullable=True),
        sa.Column("payment_id", sa.Uuid(), sa.ForeignKey("payments.id"), nullable=True),
        _now(),
        sa.CheckConstraint("rate > 0", name="ck_crypto_quotes_rate_positive"),
        sa.CheckConstraint("direction IN ('deposit', 'withdrawal')", name="ck_crypto_quotes_direction"),
        sa.CheckConstraint("source IN ('player', 'first_seen')", name="ck_crypto_quotes_source"),
    )
    op.create_index("ix_crypto_quotes_player", "crypto_quotes", ["player_id", "asset", "currency", "expires_at"])
    op.create_index(
        "uq_crypto_quotes_withdrawal_key",
        "crypto_quotes",
        ["player_id", "withdrawal_key"],
        unique=True,
        postgresql_where=sa.text("withdrawal_key IS NOT NULL"),
    )
    op.create_table(
        "crypto_transfers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("processor", sa.String(32), nullable=False),
        sa.Column("processor_tx_id", sa.String(100), nullable=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("address_id", sa.Uuid(), sa.ForeignKey("crypto_addresses.id"), nullable=True),
        sa.Column("asset", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("chain_amount", sa.Numeric(38, 18), nullable=False),
        sa.Column("asset_amount", sa.BigInteger(), nullable=False),
        sa.Column("dust", sa.Numeric(38, 18), nullable=False, server_default="0"),
        sa.Column("txid", sa.String(128), nullable=True),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("required_confirmations", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("credit_currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("quote_id", sa.Uuid(), sa.ForeignKey("crypto_quotes.id"), nullable=True),
        sa.Column("rate", sa.Numeric(36, 18), nullable=True),
        sa.Column("payment_id", sa.Uuid(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("screening", postgresql.JSONB(), nullable=True),
        _now(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("processor", "processor_tx_id", name="uq_crypto_transfers_processor_tx"),
        sa.UniqueConstraint("payment_id", name="uq_crypto_transfers_payment"),
        sa.CheckConstraint("direction IN ('deposit', 'withdrawal')", name="ck_crypto_transfers_direction"),
        sa.CheckConstraint(
            "status IN ('confirming', 'credited', 'cancelled', 'too_small', 'requested')",
            name="ck_crypto_transfers_status",
        ),
        sa.CheckConstraint("asset_amount >= 0 AND confirmations >= 0", name="ck_crypto_transfers_amounts"),
    )
    op.create_index("ix_crypto_transfers_brand_created", "crypto_transfers", ["brand_id", "created_at", "id"])
    op.create_index("ix_crypto_transfers_player", "crypto_transfers", ["player_id", "created_at"])


def downgrade() -> None:
    op.drop_table("crypto_transfers")
    op.drop_table("crypto_quotes")
    op.drop_table("crypto_addresses")
