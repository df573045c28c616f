"""Crypto payments at a processor (services/cashier/crypto): a deposit address per player and asset, rate
quotes with an expiry, and the on-chain transfers behind crypto payments.

The money itself moves as any payment's does (models/payments.py, services/wallet.py): a crypto deposit is a
`payments` row (method `crypto`, PSP `cryptopay`) credited once its transfer has its confirmations; a crypto
withdrawal is a `payments` row paid by the processor. These tables hold what a card payment has no place
for. Invariants the database enforces: one address per player and asset, an address belongs to one player,
a processor's transaction is recorded once, a transfer belongs to at most one payment, rates are positive.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Numeric, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class CryptoAddress(SQLModel, table=True):
    """A player's deposit address for one asset at the processor; what arrives there is credited to
    `credit_currency` (the asset itself, or a fiat wallet at a locked rate)."""

    __tablename__ = "crypto_addresses"
    __table_args__ = (
        UniqueConstraint("player_id", "asset", name="uq_crypto_addresses_player_asset"),
        UniqueConstraint("processor", "asset", "address", name="uq_crypto_addresses_address"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    processor: str = Field(max_length=32)
    asset: str = Field(foreign_key="currencies.code", max_length=8)
    network: str = Field(max_length=16)
    address: str = Field(max_length=128)
    credit_currency: str = Field(foreign_key="currencies.code", max_length=8)
    processor_ref: str = Field(max_length=100)  # the processor's id of the address
    created_at: datetime = created_at_field()


class CryptoQuote(SQLModel, table=True):
    """A rate locked for a while: `rate` is the value of one unit of `asset` in `currency`. A deposit quote
    prices what arrives at the player's address while it is valid; a withdrawal quote fixes both amounts of
    one withdrawal (`withdrawal_key`: the idempotency key of the withdrawal that took it)."""

    __tablename__ = "crypto_quotes"
    __table_args__ = (
        CheckConstraint("rate > 0", name="ck_crypto_quotes_rate_positive"),
        CheckConstraint("direction IN ('deposit', 'withdrawal')", name="ck_crypto_quotes_direction"),
        CheckConstraint("source IN ('player', 'first_seen', 'confirmed')", name="ck_crypto_quotes_source"),
        Index("ix_crypto_quotes_player", "player_id", "asset", "currency", "expires_at"),
        Index(
            "uq_crypto_quotes_withdrawal_key",
            "player_id",
            "withdrawal_key",
            unique=True,
            postgresql_where="withdrawal_key IS NOT NULL",
        ),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    asset: str = Field(foreign_key="currencies.code", max_length=8)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    direction: str = Field(max_length=16)
    source: str = Field(default="player", max_length=16)  # first_seen: locked when a transfer was first seen
    rate: Decimal = Field(sa_column=Column(Numeric(36, 18), nullable=False))
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # minor units of currency
    asset_amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # of the asset
    expires_at: datetime = timestamp_field(nullable=False)
    withdrawal_key: str | None = Field(default=None, max_length=200)
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payments.id")
    created_at: datetime = created_at_field()


class CryptoTransfer(SQLModel, table=True):
    """An on-chain transfer behind a crypto payment. Deposits: seen → confirming → credited (its payment
    succeeded), or cancelled (dropped from the chain before its confirmations), or too_small (worth less
    than one minor unit: no payment); confirmed but refused by a deposit gate: held (in the brand's suspense
    account, `held_reason` the gate's code) → credited once released, or refunding → refunded to its sender
    (services/cashier/crypto/holds.py), held again should the processor fail the refund's payout (refunds.py,
    models/crypto_refunds.py). Withdrawals: recorded with their payment (whose status is theirs)."""

    __tablename__ = "crypto_transfers"
    __table_args__ = (
        UniqueConstraint("processor", "processor_tx_id", name="uq_crypto_transfers_processor_tx"),
        UniqueConstraint("payment_id", name="uq_crypto_transfers_payment"),
        CheckConstraint("direction IN ('deposit', 'withdrawal')", name="ck_crypto_transfers_direction"),
        CheckConstraint(
            "status IN ('confirming', 'held', 'credited', 'refunding', 'refunded', 'cancelled', 'too_small',"
            " 'requested')",
            name="ck_crypto_transfers_status",
        ),
        CheckConstraint("asset_amount >= 0 AND confirmations >= 0", name="ck_crypto_transfers_amounts"),
        Index("ix_crypto_transfers_brand_created", "brand_id", "created_at", "id"),
        Index("ix_crypto_transfers_player", "player_id", "created_at"),
        Index("ix_crypto_transfers_held", "player_id", postgresql_where=text("status IN ('held', 'refunding')")),
    )

    id: uuid.UUID = id_field()
    direction: str = Field(max_length=16)
    processor: str = Field(max_length=32)
    processor_tx_id: str | None = Field(default=None, max_length=100)
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    address_id: uuid.UUID | None = Field(default=None, foreign_key="crypto_addresses.id")
    asset: str = Field(foreign_key="currencies.code", max_length=8)
    network: str = Field(max_length=16)
    address: str = Field(max_length=128)
    # The chain's amount exactly (ETH to 18 places); `asset_amount` is it in the ledger's minor units of the
    # asset and `dust` what the ledger's exponent cannot hold (ETH below 10^-8: never credited).
    chain_amount: Decimal = Field(sa_column=Column(Numeric(38, 18), nullable=False))
    asset_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    dust: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(38, 18), nullable=False, server_default="0"))
    txid: str | None = Field(default=None, max_length=128)
    confirmations: int = 0
    required_confirmations: int = 0
    status: str = Field(max_length=16)
    credit_currency: str = Field(foreign_key="currencies.code", max_length=8)
    quote_id: uuid.UUID | None = Field(default=None, foreign_key="crypto_quotes.id")
    rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(36, 18), nullable=True))
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payments.id")
    screening: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    # Deposits: the address the coins came from (as the processor reports it), where a refund goes.
    sender_address: str | None = Field(default=None, max_length=128)
    held_reason: str | None = Field(default=None, max_length=64)  # the refusing gate's error code
    # Withdrawals and refunds: the processor's fee in the asset (booked to the brand's PSP fees account).
    fee: Decimal | None = Field(default=None, sa_column=Column(Numeric(38, 18), nullable=True))
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
