"""Bonuses: campaigns (rules as data), the bonuses players hold, their history, and how bets split.

Invariants the database enforces: a player holds at most one bonus in play (issued or active) per
currency (partial unique index), so the bet path never has to choose between two; a campaign's
claims per player are numbered, and (campaign, player, claim number) is unique, so racing claims of
a once-per-player offer cannot both succeed; a free-spins grant's `reward_uuid` is unique; a bet's
split is recorded once per ledger transaction.

Money is never here: the bonus money a player holds is their `bonus` ledger account; these rows
say which campaign it belongs to and how much must still be wagered.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class CampaignKind(StrEnum):
    DEPOSIT_MATCH = "deposit_match"
    RELOAD = "reload"  # a deposit match for a later deposit
    NO_DEPOSIT = "no_deposit"
    FREE_SPINS = "free_spins"
    CASHBACK = "cashback"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"


class BonusStatus(StrEnum):
    ISSUED = "issued"  # claimed, waiting for its qualifying deposit
    ACTIVE = "active"  # bonus money credited (or spins to play), wagering in progress
    COMPLETED = "completed"  # wagering met: converted to cash (up to the cap)
    FORFEITED = "forfeited"  # the player gave it up (e.g. to withdraw)
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # staff took it back
    RELEASED = "released"  # a deposit offer whose deposit failed or was abandoned: it never counted

    @property
    def in_play(self) -> bool:
        return self in (BonusStatus.ISSUED, BonusStatus.ACTIVE)


class BonusCampaign(SQLModel, table=True):
    __tablename__ = "bonus_campaigns"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('deposit_match', 'reload', 'no_deposit', 'free_spins', 'cashback')",
            name="ck_bonus_campaigns_kind",
        ),
        CheckConstraint("status IN ('draft', 'active', 'paused')", name="ck_bonus_campaigns_status"),
        Index(
            "uq_bonus_campaigns_promo_code",
            "brand_id",
            "promo_code",
            unique=True,
            postgresql_where="promo_code IS NOT NULL",
        ),
        Index("ix_bonus_campaigns_brand_status", "brand_id", "status", "created_at"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    status: str = Field(default=CampaignStatus.DRAFT.value, max_length=8)
    promo_code: str | None = Field(default=None, max_length=40)  # upper case; claims must quote it
    # services/bonuses/rules.py `CampaignRules`, validated on every write.
    rules: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    starts_at: datetime | None = timestamp_field()
    ends_at: datetime | None = timestamp_field()
    cashback_paid_until: date | None = None  # cashback: the end (exclusive) of the last period paid in full
    created_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class PlayerBonus(SQLModel, table=True):
    """One bonus of one player: the campaign's rules as they were when it was issued (a later change to
    the campaign never changes a bonus already held) and its wagering progress."""

    __tablename__ = "player_bonuses"
    __table_args__ = (
        CheckConstraint(
            "status IN ('issued', 'active', 'completed', 'forfeited', 'expired', 'cancelled', 'released')",
            name="ck_player_bonuses_status",
        ),
        CheckConstraint("wagering_done >= 0 AND wagering_required >= 0", name="ck_player_bonuses_wagering"),
        CheckConstraint("spins_left >= 0", name="ck_player_bonuses_spins"),
        CheckConstraint("converted >= 0 AND capped >= 0", name="ck_player_bonuses_converted"),
        CheckConstraint("cashback_recovered >= 0", name="ck_player_bonuses_cashback_recovered"),
        UniqueConstraint("campaign_id", "player_id", "claim_number", name="uq_player_bonuses_claim"),
        Index(
            "uq_player_bonuses_in_play",
            "player_id",
            "currency",
            unique=True,
            postgresql_where="status IN ('issued', 'active')",
        ),
        Index("ix_player_bonuses_player", "player_id", "issued_at"),
        Index("ix_player_bonuses_expiry", "expires_at", postgresql_where="status IN ('issued', 'active')"),
        Index("uq_player_bonuses_reward", "reward_uuid", unique=True, postgresql_where="reward_uuid IS NOT NULL"),
        Index(
            "uq_player_bonuses_cashback",
            "campaign_id",
            "player_id",
            "period_key",
            unique=True,
            postgresql_where="period_key IS NOT NULL",
        ),
    )

    id: uuid.UUID = id_field()
    campaign_id: uuid.UUID = Field(foreign_key="bonus_campaigns.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    claim_number: int = 1  # the player's n-th bonus of this campaign
    period_key: str | None = Field(default=None, max_length=32)  # cashback: the period it pays for
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # bonus money credited so far
    deposit_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payments.id")
    wagering_required: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    wagering_done: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    max_bet: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    max_conversion: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    converted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # paid into cash
    # Bonus money the conversion cap withheld (at conversion and from wins after it): converted + capped
    # is all the bonus money that reached the conversion, so a reversal can take back exactly its share.
    capped: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # A cashback payout: how much of its period's over-payment (a stake rolled back after the period was
    # paid) later payouts have already subtracted (services/bonuses/cashback.py), so never twice.
    cashback_recovered: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # Snapshot of the rules that matter in the bet path: spend order, contributions, wagering multiplier.
    terms: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    reward_uuid: str | None = Field(default=None, max_length=64)  # free spins: the grant the provider names
    spins_total: int = 0
    spins_left: int = 0
    spin_bet: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    issued_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")  # manual grants
    issued_at: datetime = created_at_field()
    activated_at: datetime | None = timestamp_field()
    expires_at: datetime | None = timestamp_field()
    ended_at: datetime | None = timestamp_field()


class BonusEvent(SQLModel, table=True):
    """The history of a bonus: issued, activated, wagered, converted, forfeited, expired, refused bets."""

    __tablename__ = "bonus_events"
    __table_args__ = (Index("ix_bonus_events_bonus", "bonus_id", "at", "id"),)

    id: uuid.UUID = id_field()
    bonus_id: uuid.UUID = Field(foreign_key="player_bonuses.id")
    kind: str = Field(max_length=32)
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    ledger_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    at: datetime = created_at_field()


class BonusWager(SQLModel, table=True):
    """How one provider bet or win of a bonus holder split between cash and bonus money, and the
    wagering it added: a rollback reverses exactly this, a win follows its bet's split."""

    __tablename__ = "bonus_wagers"
    __table_args__ = (
        CheckConstraint("kind IN ('bet', 'win', 'free_bet', 'free_win')", name="ck_bonus_wagers_kind"),
        Index("ix_bonus_wagers_round", "round_id"),
    )

    # The provider transaction, as the ledger names it (`{provider code}:{transaction_uuid}`): free
    # bets have no ledger transaction, and a win or rollback finds its bet by this key.
    reference: str = Field(primary_key=True, max_length=200)
    ledger_transaction_id: uuid.UUID | None = None
    bonus_id: uuid.UUID = Field(foreign_key="player_bonuses.id", index=True)
    kind: str = Field(max_length=8)
    round_id: uuid.UUID | None = None
    cash_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    bonus_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    contributed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # A win after its bonus converted: its bonus side paid into cash within the cap (part of cash_amount),
    # and the part the cap withheld.
    converted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    withheld: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    created_at: datetime = created_at_field()
