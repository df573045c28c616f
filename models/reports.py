"""Report projections: daily figures built from the event stream by one consumer
(services/reports/projection.py), and the reference exchange rates the reports convert with.

The same consumer keeps rollups of them (players by the gap since their previous active or paying day,
registration cohorts by day), so a report over a month reads a few thousand rows whatever the number of
players (services/reports/rollups.py says how each is kept and checks it against the player days).

Only the `reports` consumer writes the projection tables (`report_*`); a rebuild truncates them and
replays the outbox. A row's day is the UTC day of its events' `time`. Amounts are BIGINT minor units of
the row's `currency`; the definitions of every figure are in docs/reports.md.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, DateTime, Index, Numeric, String, func
from sqlmodel import Field, SQLModel


def _sum() -> Any:
    """A running total (minor units or a count), added to by each batch of events."""
    return Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


def _day(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(Date, nullable=nullable))


class ReportGameDay(SQLModel, table=True):
    """Play per day, brand, currency, provider and game. Stakes and wins are the house's side of the
    ledger (GGR = stakes - wins = the house_revenue movement), net of rollbacks; the cash/bonus split
    says which of the player's balances the money came from or went to."""

    __tablename__ = "report_game_days"

    day: date = Field(sa_column=Column(Date, primary_key=True))  # first: every report reads a range of days
    brand_id: uuid.UUID = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=8)
    provider: str = Field(sa_column=Column(String(200), primary_key=True))  # '' when the event names none
    game: str = Field(sa_column=Column(String(200), primary_key=True))
    # The rules the players play under (players.jurisdiction; '' if unknown): regulatory returns by licence.
    jurisdiction: str = Field(sa_column=Column(String(16), primary_key=True))
    stakes_cash: int = _sum()
    stakes_bonus: int = _sum()
    wins_cash: int = _sum()
    wins_bonus: int = _sum()
    bet_count: int = _sum()
    win_count: int = _sum()
    rollback_count: int = _sum()
    stakes_rolled_back: int = _sum()  # already netted out of the stakes; shown for the record
    wins_rolled_back: int = _sum()


class ReportPlayerDay(SQLModel, table=True):
    """One player's day in one currency: the basis of active and paying players, ARPPU, retention, LTV."""

    __tablename__ = "report_player_days"
    __table_args__ = (Index("ix_report_player_days_day", "day", "brand_id"),)  # the PK serves one player

    player_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    currency: str = Field(primary_key=True, max_length=8)
    brand_id: uuid.UUID
    stakes: int = _sum()
    wins: int = _sum()
    bonus_cost: int = _sum()
    deposits: int = _sum()
    deposit_count: int = _sum()
    withdrawals: int = _sum()
    withdrawal_count: int = _sum()
    bet_count: int = _sum()


class ReportCashierDay(SQLModel, table=True):
    """Money in and out per day, brand and currency: deposits and withdrawals paid (from the ledger's
    events), the payments' pipeline (from the payment states) and the bonus cost by kind."""

    __tablename__ = "report_cashier_days"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    brand_id: uuid.UUID = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=8)
    deposits: int = _sum()
    deposit_count: int = _sum()
    withdrawals: int = _sum()
    withdrawal_count: int = _sum()
    adjustments: int = _sum()  # net staff corrections of cash (not revenue)
    deposit_attempts: int = _sum()
    deposits_failed: int = _sum()
    withdrawal_requests: int = _sum()
    withdrawals_requested: int = _sum()
    withdrawals_rejected: int = _sum()
    withdrawals_cancelled: int = _sum()
    payouts_failed: int = _sum()
    bonus_granted: int = _sum()  # bonus cost -> bonus balance
    bonus_cash: int = _sum()  # bonus cost -> cash (cashback, no-wagering rewards)
    bonus_game: int = _sum()  # bonus cost paid out through play (free-round wins), net of their rollbacks
    bonus_converted: int = _sum()  # bonus balance -> cash at conversion (no cost: granted already)
    bonus_capped: int = _sum()  # bonus balance -> bonus cost above a conversion cap
    bonus_forfeited: int = _sum()  # bonus balance -> bonus cost
    bonus_expired: int = _sum()
    bonus_cancelled: int = _sum()
    # First deposits made this day in this currency (of the players of this brand): their number and sum.
    ftd_count: int = _sum()
    ftd_amount: int = _sum()
    # Money PSPs took back (chargebacks, cash and debt parts together), gave back after a won dispute, and
    # paid withdrawals the bank returned (services/cashier/chargebacks.py).
    chargebacks: int = _sum()
    chargeback_count: int = _sum()
    chargebacks_reversed: int = _sum()
    payouts_returned: int = _sum()


class ReportPlayer(SQLModel, table=True):
    """A player as the reports see them: registration (cohorts) and first successful deposit (FTD)."""

    __tablename__ = "report_players"
    __table_args__ = (
        Index("ix_report_players_registered", "registered_on", "brand_id"),
        Index("ix_report_players_first_deposit", "first_deposit_on", "brand_id"),
    )

    player_id: uuid.UUID = Field(primary_key=True)
    brand_id: uuid.UUID
    currency: str | None = Field(default=None, max_length=8)
    jurisdiction: str | None = Field(default=None, max_length=16)
    registered_on: date | None = _day(nullable=True)
    first_deposit_on: date | None = _day(nullable=True)
    first_deposit_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    first_deposit_event: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    first_deposit_amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    first_deposit_currency: str | None = Field(default=None, max_length=8)


class ReportPlayerGap(SQLModel, table=True):
    """Players per day, brand and currency ('' : any) by the day they were last so before (`previous`):
    `active` of them bet on `day` and last bet on `previous`; `paying` deposited on `day` and last
    deposited on `previous` (a first time, or one after more than a report's longest range: '-infinity').
    The players active in a range [a, b] are those of its rows with `previous` before a, each once: a
    range of any length reads its days' rows, never the player days (services/reports/rollups.py)."""

    __tablename__ = "report_player_gaps"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    brand_id: uuid.UUID = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=8)  # '' : in any currency
    previous: date = Field(sa_column=Column(Date, primary_key=True))
    active: int = _sum()
    paying: int = _sum()


class ReportCohortDay(SQLModel, table=True):
    """A registration cohort (the players of a brand registered on one UTC day) on one day: how many
    registered (on the registration day's own row), were active (bet) on `day`, and made their first
    deposit on `day`. Retention Dn reads the row of day registered_on + n; conversion the first deposits
    up to a day."""

    __tablename__ = "report_cohort_days"

    registered_on: date = Field(sa_column=Column(Date, primary_key=True))
    brand_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    registered: int = _sum()
    active: int = _sum()
    depositors: int = _sum()


class ReportCohortNgr(SQLModel, table=True):
    """The NGR (stakes - wins - bonus cost) of a registration cohort's players on one day in one currency:
    lifetime value is its running sum per registered player."""

    __tablename__ = "report_cohort_ngr"

    registered_on: date = Field(sa_column=Column(Date, primary_key=True))
    brand_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    currency: str = Field(primary_key=True, max_length=8)
    ngr: int = _sum()


class FxRate(SQLModel, table=True):
    """A reference rate: units of `currency` per 1 EUR on `day` (the ECB's convention), exact."""

    __tablename__ = "fx_rates"
    __table_args__ = (CheckConstraint("rate > 0", name="ck_fx_rates_positive"),)

    currency: str = Field(primary_key=True, max_length=8)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    rate: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    imported_at: datetime = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
