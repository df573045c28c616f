"""Jackpots (services/jackpots): definitions, their pools (one per level), the commitments of their drop
points, the stakes that contributed, contributions by day, wins and reseeds.

- `jackpots`: a definition. `kind` local (one brand) or network (several brands, one pool in `currency`,
  the base currency: stakes in other currencies are converted at contribution time and the rate recorded);
  `type` fixed (the prize is the seed, nothing is contributed) or progressive (a share of eligible stakes
  grows the pot). Eligible games and providers are data (empty list: every one).
- `jackpot_pools`: one per level (mini / major / grand, or any single level). `amount` is the pot now, and
  always equals the balance of the pool's ledger account (`croupier ledger verify` checks it). The
  contribution rate is in parts per million of the stake (`contribution_ppm`, 1% = 10000); what a stake
  adds below one minor unit is carried in `remainder` (millionths of a minor unit, 0 ≤ remainder < 10⁶),
  so nothing is ever lost to rounding. `trigger`: `amount` (must drop by `cap_amount`), `time` (must drop
  within `drop_window_seconds` of its seeding) or `provider` (the game provider reports the win).
  `generation` counts the pots: it grows by one at every drop, the reseed starts the next pot.
  Written only by services/jackpots (the consumer and the win path), under a row lock.
- `jackpot_commitments`: per pool and generation of an amount or time pool, SHA-256 of the drop point
  and a secret salt (services/jackpots/commitment.py gives the byte format), published when the pot is
  seeded; the point and salt are revealed (`revealed_at`) when it drops.
- `jackpot_stakes`: one row per jackpot and eligible bet (its provider reference), with what it put into
  each pot (`given`: pool → [generation, minor units]), so a rollback takes back exactly that from the same
  pot, whatever the rate or the rules say by then, and what it could not (`forgone`: the pot had dropped);
  a rollback that came first leaves a `rolled_back` row that keeps its late bet out.
- `jackpot_days`: contributions by pool and UTC day (what was added, what rollbacks took back, what they
  could not take back because the pot had dropped: `forgone`, the house's).
- `jackpot_wins`: one per pool and generation (a unique key: concurrent triggers pay one winner).
- `jackpot_seeds`: each pot's seed (the first, and every reseed after a win), from the seed account.
- `jackpot_refunds`: when a jackpot is closed, each pool's pot back to the seed account (its commitment
  revealed as void: `jackpot_commitments.voided_at`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Index, Integer, SmallInteger, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class JackpotKind(StrEnum):
    LOCAL = "local"
    NETWORK = "network"


class JackpotType(StrEnum):
    FIXED = "fixed"
    PROGRESSIVE = "progressive"


class JackpotStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # no contributions, no drops
    CLOSED = "closed"


class DropTrigger(StrEnum):
    AMOUNT = "amount"  # must drop by `cap_amount`, at a committed amount
    TIME = "time"  # must drop within `drop_window_seconds`, at a committed instant
    PROVIDER = "provider"  # the provider reports the win (no commitment)


PPM = 1_000_000  # contribution rates are in parts per million of the stake


class Jackpot(SQLModel, table=True):
    __tablename__ = "jackpots"

    id: uuid.UUID = id_field()
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    type: str = Field(max_length=16)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")  # local: its brand
    brand_ids: list[str] = Field(sa_column=Column(JSONB, nullable=False))  # every brand that plays it
    games: list[str] = Field(sa_column=Column(JSONB, nullable=False))  # eligible game codes; [] = all
    providers: list[str] = Field(sa_column=Column(JSONB, nullable=False))  # eligible provider codes; [] = all
    min_bet: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # in the base currency
    status: str = Field(default=JackpotStatus.ACTIVE.value, max_length=16)
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()


class JackpotPool(SQLModel, table=True):
    __tablename__ = "jackpot_pools"
    __table_args__ = (UniqueConstraint("jackpot_id", "level", name="uq_jackpot_pools_level"),)

    id: uuid.UUID = id_field()
    jackpot_id: uuid.UUID = Field(foreign_key="jackpots.id", index=True)
    level: str = Field(max_length=32)
    position: int = Field(sa_column=Column(SmallInteger, nullable=False))
    currency: str = Field(max_length=8)
    seed_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    contribution_ppm: int = Field(sa_column=Column(Integer, nullable=False))
    trigger: str = Field(max_length=16)
    cap_amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    drop_window_seconds: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    remainder: int = Field(sa_column=Column(BigInteger, nullable=False))
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    seeded_at: datetime | None = timestamp_field()
    account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id")
    seed_account_id: uuid.UUID = Field(foreign_key="ledger_accounts.id")
    contributed_total: int = Field(sa_column=Column(BigInteger, nullable=False))
    won_total: int = Field(sa_column=Column(BigInteger, nullable=False))
    closed_at: datetime | None = timestamp_field()  # its jackpot was closed, the pot refunded
    updated_at: datetime = created_at_field()


class JackpotCommitment(SQLModel, table=True):
    __tablename__ = "jackpot_commitments"
    __table_args__ = (UniqueConstraint("pool_id", "generation", name="uq_jackpot_commitments_generation"),)

    id: uuid.UUID = id_field()
    pool_id: uuid.UUID = Field(foreign_key="jackpot_pools.id", index=True)
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    trigger: str = Field(max_length=16)
    commitment: str = Field(max_length=64)  # hex SHA-256
    drop_point: int = Field(sa_column=Column(BigInteger, nullable=False))  # secret until revealed
    salt: str = Field(max_length=64)  # hex, 32 bytes; secret until revealed
    published_at: datetime = created_at_field()
    revealed_at: datetime | None = timestamp_field()
    voided_at: datetime | None = timestamp_field()  # revealed without a drop: its jackpot was closed


class JackpotStake(SQLModel, table=True):
    __tablename__ = "jackpot_stakes"

    jackpot_id: uuid.UUID = Field(foreign_key="jackpots.id", primary_key=True)
    reference: str = Field(max_length=200, primary_key=True)  # the bet's ledger reference (provider:uuid)
    player_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    currency: str = Field(max_length=8)
    stake: int = Field(sa_column=Column(BigInteger, nullable=False))  # in the bet's currency
    stake_base: int = Field(sa_column=Column(BigInteger, nullable=False))  # converted, rounded down
    fx_rate: str = Field(max_length=80)  # base units per unit of the bet's currency, as an exact fraction
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    rolled_back: bool = False
    # per pool fed: [generation, minor units put in] (after the cap's clip; NULL: a row from before 0050)
    given: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    forgone: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    created_at: datetime = created_at_field()


class JackpotDay(SQLModel, table=True):
    __tablename__ = "jackpot_days"

    pool_id: uuid.UUID = Field(foreign_key="jackpot_pools.id", primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    contributed: int = Field(sa_column=Column(BigInteger, nullable=False))
    taken_back: int = Field(sa_column=Column(BigInteger, nullable=False))
    bets: int = Field(sa_column=Column(BigInteger, nullable=False))
    rollbacks: int = Field(sa_column=Column(BigInteger, nullable=False))
    forgone: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class JackpotWin(SQLModel, table=True):
    __tablename__ = "jackpot_wins"
    __table_args__ = (
        UniqueConstraint("pool_id", "generation", name="uq_jackpot_wins_generation"),
        # a provider's win reference pays once, whichever pool a report names
        Index("uq_jackpot_wins_provider_reference", "reference", unique=True,
              postgresql_where=text("trigger = 'provider'")),
    )  # fmt: skip

    id: uuid.UUID = id_field()
    pool_id: uuid.UUID = Field(foreign_key="jackpot_pools.id", index=True)
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    trigger: str = Field(max_length=16)
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # from the pot, base currency
    amount_before: int = Field(sa_column=Column(BigInteger, nullable=False))  # the pot before the winning bet
    amount_after: int = Field(sa_column=Column(BigInteger, nullable=False))  # and after its contribution
    drop_point: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    paid_amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # to the player, their currency
    paid_currency: str = Field(max_length=8)
    fx_rate: str = Field(max_length=80)
    reference: str = Field(max_length=200)  # the winning bet, or the provider's win reference
    ledger_transaction_id: uuid.UUID = Field(foreign_key="ledger_transactions.id")
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    won_at: datetime = created_at_field()


class JackpotSeed(SQLModel, table=True):
    __tablename__ = "jackpot_seeds"
    __table_args__ = (UniqueConstraint("pool_id", "generation", name="uq_jackpot_seeds_generation"),)

    id: uuid.UUID = id_field()
    pool_id: uuid.UUID = Field(foreign_key="jackpot_pools.id", index=True)
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # from the seed account
    ledger_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    seeded_at: datetime = created_at_field()


class JackpotRefund(SQLModel, table=True):
    """A closed jackpot's pot, back to its seed account (one per pool: a jackpot closes once)."""

    __tablename__ = "jackpot_refunds"
    __table_args__ = (UniqueConstraint("pool_id", name="uq_jackpot_refunds_pool"),)

    id: uuid.UUID = id_field()
    pool_id: uuid.UUID = Field(foreign_key="jackpot_pools.id")
    generation: int = Field(sa_column=Column(Integer, nullable=False))  # the pot it ended
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # what went back (0: an empty pot)
    ledger_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    reason: str = Field(max_length=500)
    refunded_at: datetime = created_at_field()
