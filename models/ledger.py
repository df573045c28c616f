"""The double-entry ledger: currencies, accounts, transactions, postings, holds.

Invariants the database enforces: every posting is non-zero; for each transaction and currency
the postings sum to zero (a deferred constraint trigger, checked at commit); a tracked account's
balance never goes below zero unless the account allows it (CHECK); an idempotency key is used
once (UNIQUE); transactions and postings are never updated or deleted (triggers).

Only player accounts keep a stored `balance` (each is written only by its own player's money).
House, PSP-clearing and pool accounts have `balance` NULL: their balance is the sum of their
postings, so no single row is written by every bet or deposit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class AccountPurpose(StrEnum):
    # A player's wallet, one of each per currency.
    CASH = "cash"
    BONUS = "bonus"
    WITHDRAWAL_PENDING = "withdrawal_pending"
    # What the player owes the operator (a chargeback larger than their cash): created on first use, its
    # balance is never above zero (the amount owed, negated; a CHECK holds it), so cash never goes negative.
    DEBT = "debt"
    # The operator's side (derived balances).
    PSP_CLEARING = "psp_clearing"  # what a PSP owes us (deposits) or we owe it (withdrawals paid out)
    ADJUSTMENTS = "adjustments"  # the other side of manual corrections
    HOUSE_REVENUE = "house_revenue"  # stakes in, wins out
    BONUS_COST = "bonus_cost"  # bonus money granted out, forfeited and expired back
    JACKPOT_POOL = "jackpot_pool"
    JACKPOT_SEED = "jackpot_seed"  # the operator's side of a pot's seed (services/jackpots)
    JACKPOT_FUNDING = "jackpot_funding"  # a brand's side of its stakes' jackpot contributions (services/jackpots)
    TOURNAMENT_POOL = "tournament_pool"
    # The operator's side of tournaments (services/tournaments/settlement.py): fixed prizes out, what a pool keeps
    # after its prizes (the rake) in. Apart from house_revenue, so GGR stays stakes minus wins (services/reports).
    TOURNAMENT_COST = "tournament_cost"
    # services/affiliates/runs: what a brand pays its partners (the cost side, per brand and currency), and what
    # is owed to each partner until paid out (`system` / `affiliate:<id>`, no brand: per partner and currency).
    AFFILIATE_COMMISSION = "affiliate_commission"
    AFFILIATE_PAYABLE = "affiliate_payable"
    # A game supplier's own promotions (Hub88 `is_supplier_promo` wins: prize drops, tournaments it runs): paid to
    # the player at once, owed back by the supplier (a receivable per brand and currency, settled on its invoice).
    SUPPLIER_PROMO = "supplier_promo"
    # services/cashier/crypto/holds.py: coins that arrived for a player a deposit gate refuses (self-excluded, over
    # a limit, KYC due), owed to the player or to the sender until released or refunded (a liability per brand
    # and currency; each transfer's share is on its `crypto_transfers` row, status held).
    CRYPTO_HELD = "crypto_held"
    # What the processor charges for moving coins (its network fee on a payout or refund): an expense per brand,
    # PSP and currency, so the PSP's clearing account matches the processor's balance.
    PSP_FEES = "psp_fees"


PLAYER_PURPOSES = (AccountPurpose.CASH, AccountPurpose.BONUS, AccountPurpose.WITHDRAWAL_PENDING)


class Currency(SQLModel, table=True):
    __tablename__ = "currencies"
    __table_args__ = (
        CheckConstraint("exponent BETWEEN 0 AND 8", name="ck_currencies_exponent"),
        CheckConstraint("kind IN ('fiat', 'crypto')", name="ck_currencies_kind"),
    )

    code: str = Field(primary_key=True, max_length=8)
    exponent: int = Field(sa_column=Column(SmallInteger, nullable=False))
    kind: str = Field(max_length=8)
    name: str = Field(max_length=64)


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint(
            "brand_id",
            "owner_type",
            "owner_id",
            "purpose",
            "currency",
            name="uq_ledger_accounts_owner",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("balance IS NULL OR allow_negative OR balance >= 0", name="ck_ledger_accounts_not_negative"),
        CheckConstraint("owner_type IN ('player', 'brand', 'psp', 'system')", name="ck_ledger_accounts_owner_type"),
        CheckConstraint("purpose <> 'debt' OR balance <= 0", name="ck_ledger_accounts_debt_owed"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")
    owner_type: str = Field(max_length=16)
    owner_id: str = Field(max_length=64)  # player uuid, brand uuid, PSP code
    purpose: str = Field(max_length=32)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    # Tracked (player) accounts only; NULL means derived from postings.
    balance: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    allow_negative: bool = False
    created_at: datetime = created_at_field()


class TransactionKind(StrEnum):
    """Every kind of ledger transaction; `ledger.record` refuses any other."""

    DEPOSIT = "deposit"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_PAID = "withdrawal_paid"
    WITHDRAWAL_VOID = "withdrawal_void"
    ADJUSTMENT = "adjustment"
    GAME_BET = "game_bet"
    GAME_WIN = "game_win"
    GAME_BET_ROLLBACK = "game_bet_rollback"
    GAME_WIN_ROLLBACK = "game_win_rollback"
    BONUS_GRANT = "bonus_grant"
    BONUS_CASH = "bonus_cash"
    BONUS_CONVERSION = "bonus_conversion"
    BONUS_FORFEIT = "bonus_forfeit"
    BONUS_EXPIRY = "bonus_expiry"
    BONUS_CANCEL = "bonus_cancel"
    # services/cashier/chargebacks.py: a PSP took a deposit back (cash, then debt), gave it back after a won
    # dispute, or a paid withdrawal came back from the bank.
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSAL = "chargeback_reversal"
    PAYOUT_RETURNED = "payout_returned"
    # services/tournaments: a buy-in or re-buy (cash to the tournament's pool), its refund when the tournament is
    # cancelled, a prize (pool or house to cash) and what the pool keeps after the prizes (pool to the house).
    TOURNAMENT_BUY_IN = "tournament_buy_in"
    TOURNAMENT_REFUND = "tournament_refund"
    TOURNAMENT_PRIZE = "tournament_prize"
    TOURNAMENT_RAKE = "tournament_rake"
    # services/jackpots: a pot seeded from its seed account; a consumer batch's net contributions (house → pool,
    # or back when rollbacks outweigh); a drop paid from the pool to the winner.
    JACKPOT_SEED = "jackpot_seed"
    JACKPOT_CONTRIBUTION = "jackpot_contribution"
    JACKPOT_WIN = "jackpot_win"
    # services/affiliates/runs: a booked run's commission (brand cost → partner payable), a payout of it
    # (payable → the PSP's clearing account).
    AFFILIATE_COMMISSION = "affiliate_commission"
    AFFILIATE_PAYOUT = "affiliate_payout"
    JACKPOT_REFUND = "jackpot_refund"  # a closed jackpot's pot back to its seed account
    # services/cashier/crypto/holds.py: a confirmed crypto deposit a gate refused (PSP clearing → suspense), then
    # released to the player (suspense → clearing, and the deposit's own credit) or refunded to its sender
    # (suspense → clearing: the coins leave through the processor). fees.py: a processor's fee (clearing → fees).
    CRYPTO_DEPOSIT_HELD = "crypto_deposit_held"
    CRYPTO_DEPOSIT_RELEASED = "crypto_deposit_released"
    CRYPTO_DEPOSIT_REFUNDED = "crypto_deposit_refunded"
    PSP_FEE = "psp_fee"
    # services/cashier/crypto/refunds.py: a refund the processor or the chain failed after taking it, undone
    # (clearing → suspense: the deposit is held again), and the fee booked for it given back (fees → clearing).
    CRYPTO_REFUND_REVERSED = "crypto_refund_reversed"
    PSP_FEE_REVERSED = "psp_fee_reversed"


class TransactionStatus(StrEnum):
    COMMITTED = "committed"
    REFUSED = "refused"  # remembered, so a retry with the same key is refused the same way


class LedgerTransaction(SQLModel, table=True):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint("status IN ('committed', 'refused')", name="ck_ledger_transactions_status"),
        Index("ix_ledger_transactions_player", "player_id", "created_at", "id"),
        Index("ix_ledger_transactions_reference", "reference_type", "reference_id"),
        Index("ix_ledger_transactions_created", "created_at", "brand_id"),  # live figures (services/dashboard.py)
    )

    id: uuid.UUID = id_field()
    idempotency_key: str = Field(max_length=200, unique=True)
    request_hash: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    status: str = Field(max_length=16)
    refusal_code: str | None = Field(default=None, max_length=32)
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")
    player_id: uuid.UUID | None = None
    reference_type: str | None = Field(default=None, max_length=32)
    reference_id: str | None = Field(default=None, max_length=200)  # `<provider>:<transaction>` (128)
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    created_at: datetime = created_at_field()


class LedgerPosting(SQLModel, table=True):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_ledger_postings_non_zero"),
        Index("ix_ledger_postings_account", "account_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    transaction_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("ledger_transactions.id"), nullable=False, index=True)
    )
    account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id")
    currency: str = Field(max_length=8)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = created_at_field()


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class LedgerHold(SQLModel, table=True):
    """A two-phase transfer: reserved (cash → pending), then posted onward or voided back, once."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'posted', 'voided')", name="ck_ledger_holds_status"),
        CheckConstraint("amount > 0", name="ck_ledger_holds_amount"),
    )

    id: uuid.UUID = id_field()
    source_account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id")
    pending_account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id")
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=8)
    status: str = Field(default=HoldStatus.PENDING.value, max_length=16)
    reserve_transaction_id: uuid.UUID = Field(foreign_key="ledger_transactions.id")
    resolve_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = created_at_field()
    resolved_at: datetime | None = timestamp_field()


class LedgerVerifyCheckpoint(SQLModel, table=True):
    """Where a clean `croupier ledger verify` got to (services/ledger_verify/): every posting up to
    `posting_id` was settled and checked; the newest row is where an incremental run starts."""

    __tablename__ = "ledger_verify_checkpoints"
    __table_args__ = (CheckConstraint("mode IN ('full', 'incremental')", name="ck_ledger_verify_checkpoints_mode"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    mode: str = Field(max_length=16)
    posting_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    settled_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    postings_checked: int = Field(sa_column=Column(BigInteger, nullable=False))
    transactions_checked: int = Field(sa_column=Column(BigInteger, nullable=False))
    seconds: float
    balances: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    created_at: datetime = created_at_field()


class LedgerVerifyBalance(SQLModel, table=True):
    """A tracked account's running balance at the newest clean checkpoint, as that run proved it (migration
    0023): where an incremental run starts the account's running balance."""

    __tablename__ = "ledger_verify_balances"

    account_id: uuid.UUID = Field(primary_key=True)
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    checkpoint_id: int = Field(sa_column=Column(BigInteger, nullable=False))
