"""Affiliate commission runs (migration 0046; services/affiliates/runs/ holds the maths and the states).

A run covers one brand and one period. It holds, per deal and currency, the deal's sums (NGR, carry-over
in and out, the tier and rate reached, the revenue share), one line per player per deal with the figures
behind it, the second-tier lines of parent partners, and once booked one payout per partner and currency.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Date, Identity, Numeric
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class RunState(StrEnum):
    DRAFT = "draft"  # computed; may be recomputed (discarded and made again) until approved
    APPROVED = "approved"  # by finance (two people above the threshold)
    BOOKED = "booked"  # in the ledger: commission cost → each partner's affiliate payable
    PAID = "paid"  # every partner's payable paid out through the PSP
    DISCARDED = "discarded"  # a draft thrown away: its lines are gone, its CPAs payable again


class PayoutStatus(StrEnum):
    BOOKED = "booked"  # owed (on the payable), not yet sent
    SENDING = "sending"  # asked of the PSP; its answer decides
    PAID = "paid"
    FAILED = "failed"  # the PSP declined: may be sent again


class AffiliateRun(SQLModel, table=True):
    __tablename__ = "affiliate_runs"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    state: str = Field(default=RunState.DRAFT.value, max_length=16)
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    approved_at: datetime | None = timestamp_field()
    booked_at: datetime | None = timestamp_field()
    paid_at: datetime | None = timestamp_field()


class AffiliateRunApproval(SQLModel, table=True):
    __tablename__ = "affiliate_run_approvals"

    run_id: uuid.UUID = Field(foreign_key="affiliate_runs.id", primary_key=True)
    staff_id: uuid.UUID = Field(primary_key=True)
    approved_at: datetime = created_at_field()


class AffiliateRunDeal(SQLModel, table=True):
    __tablename__ = "affiliate_run_deals"

    run_id: uuid.UUID = Field(foreign_key="affiliate_runs.id", primary_key=True)
    deal_id: uuid.UUID = Field(foreign_key="affiliate_deals.id", primary_key=True)
    currency: str = Field(foreign_key="currencies.code", primary_key=True, max_length=8)
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    plan_id: uuid.UUID = Field(foreign_key="affiliate_plans.id")
    negative_carry_over: bool
    ngr: int = Field(sa_column=Column(BigInteger, nullable=False))
    carry_in: int = Field(sa_column=Column(BigInteger, nullable=False))
    base: int = Field(sa_column=Column(BigInteger, nullable=False))
    revshare: int = Field(sa_column=Column(BigInteger, nullable=False))
    carry_out: int = Field(sa_column=Column(BigInteger, nullable=False))
    tier: int | None = None
    rate_ppm: int | None = None


class AffiliateRunLine(SQLModel, table=True):
    __tablename__ = "affiliate_run_lines"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    run_id: uuid.UUID = Field(foreign_key="affiliate_runs.id")
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    kind: str = Field(max_length=16)  # player | second_tier
    player_id: uuid.UUID | None = Field(default=None, foreign_key="players.id")
    sub_affiliate_id: uuid.UUID | None = Field(default=None, foreign_key="affiliates.id")
    deal_id: uuid.UUID | None = Field(default=None, foreign_key="affiliate_deals.id")
    plan_id: uuid.UUID | None = Field(default=None, foreign_key="affiliate_plans.id")
    sub_id: str | None = Field(default=None, max_length=100)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    first_day: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    last_day: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    stakes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    wins: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    bonus_cost: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    ngr: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revshare: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cpa_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    second_tier_base: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    second_tier: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    tier: int | None = None
    rate_ppm: int | None = None
    cpa: bool = False
    # Converted (migration 0059): stakes, wins and bonus cost are in the player's currency, `ngr` and after in
    # `currency` (the plan's), converted at `fx_rate` (units of `currency` per unit of `player_currency`).
    player_currency: str | None = Field(default=None, foreign_key="currencies.code", max_length=8)
    fx_rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 10), nullable=True))

    @property
    def total(self) -> int:
        return self.revshare + self.cpa_amount + self.second_tier


class AffiliatePayout(SQLModel, table=True):
    __tablename__ = "affiliate_payouts"

    id: uuid.UUID = id_field()
    run_id: uuid.UUID = Field(foreign_key="affiliate_runs.id")
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=PayoutStatus.BOOKED.value, max_length=16)
    commission_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    attempt: int = 1  # a new one after each decline: the PSP reference is `<payout id>.<attempt>`
    psp: str | None = Field(default=None, max_length=32)
    psp_reference: str | None = Field(default=None, max_length=200)
    failure: str | None = Field(default=None, max_length=500)
    payout_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    paid_at: datetime | None = timestamp_field()
