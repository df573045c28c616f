"""Tournaments: definitions (as data), entries with their standing, and the rounds behind the scores.

A tournament's rules live in `definition` (JSONB, validated by services/tournaments/definitions.py); the
columns beside it are the ones queries filter or order on. An entry's `score` and `reached_seq` are a
projection of its `tournament_rounds` (the `tournaments` consumer keeps both in one transaction with the
ids of the events it applied), so standings can always be recomputed from the rounds
(`croupier tournaments verify`).

Ranking: `score DESC, reached_seq ASC NULLS LAST, player_id ASC` — the higher score first; on equal
scores whoever reached it first (the outbox id of the event that completed it); then the player id, so the
order is total. Money is never here: buy-ins sit in the tournament's `tournament_pool` ledger account.

Invariants the database enforces: one entry per player and tournament; one round row per (tournament,
player, provider, round); a state among the five; a tournament ends after it starts; a settled tournament
has its results hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class TournamentState(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FINISHED = "finished"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class ScoringKind(StrEnum):
    POINTS_PER_WAGER = "points_per_wager"  # points per unit staked
    BIGGEST_MULTIPLIER = "biggest_multiplier"  # the best single round's win / stake
    SUM_OF_MULTIPLIERS = "sum_of_multipliers"  # the sum of every winning round's win / stake
    CONSECUTIVE_WINS = "consecutive_wins"  # the longest run of winning rounds


class EntryMode(StrEnum):
    OPT_IN = "opt_in"
    AUTOMATIC = "automatic"


class EntryStatus(StrEnum):
    ACTIVE = "active"
    REFUNDED = "refunded"  # the tournament was cancelled and the buy-ins went back


class Tournament(SQLModel, table=True):
    __tablename__ = "tournaments"
    __table_args__ = (
        CheckConstraint(
            "state IN ('scheduled', 'running', 'finished', 'settled', 'cancelled')", name="ck_tournaments_state"
        ),
        CheckConstraint(
            "scoring IN ('points_per_wager', 'biggest_multiplier', 'sum_of_multipliers', 'consecutive_wins')",
            name="ck_tournaments_scoring",
        ),
        CheckConstraint("entry_mode IN ('opt_in', 'automatic')", name="ck_tournaments_entry_mode"),
        CheckConstraint("ends_at > starts_at", name="ck_tournaments_window"),
        CheckConstraint("buy_in >= 0", name="ck_tournaments_buy_in"),
        CheckConstraint("state <> 'settled' OR results_hash IS NOT NULL", name="ck_tournaments_settled_hash"),
        Index("ix_tournaments_brand_state", "brand_id", "state", "starts_at"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    name: str = Field(max_length=120)
    state: str = Field(default=TournamentState.SCHEDULED.value, max_length=16)
    scoring: str = Field(max_length=32)
    entry_mode: str = Field(max_length=16)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    buy_in: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    starts_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The whole validated definition (eligibility, scoring parameters, caps, re-buys, prizes, jurisdictions).
    definition: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    results_hash: str | None = Field(default=None, max_length=64)
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field()
    finished_at: datetime | None = timestamp_field()
    settled_at: datetime | None = timestamp_field()
    cancelled_at: datetime | None = timestamp_field()


class TournamentEntry(SQLModel, table=True):
    """A player in a tournament, with their standing (a projection of their rounds)."""

    __tablename__ = "tournament_entries"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'refunded')", name="ck_tournament_entries_status"),
        CheckConstraint("buy_ins >= 0 AND rebuys >= 0", name="ck_tournament_entries_counts"),
        Index(
            "ix_tournament_entries_rank",
            "tournament_id",
            text("score DESC"),
            text("reached_seq ASC NULLS LAST"),
            "player_id",
        ),
        Index("ix_tournament_entries_player", "player_id"),
    )

    tournament_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True)
    )
    player_id: uuid.UUID = Field(sa_column=Column(ForeignKey("players.id"), primary_key=True))
    status: str = Field(default=EntryStatus.ACTIVE.value, max_length=16)
    score: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    # The outbox id of the event that brought the score to its value (NULL: no score yet): the tie-break.
    reached_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reached_at: datetime | None = timestamp_field()
    rounds_counted: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    buy_ins: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    rebuys: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    final_rank: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class TournamentRound(SQLModel, table=True):
    """One game round of an entrant while the tournament ran: its net stake and win after rollbacks, and
    the outbox ids of the first and last events that touched it (sums, min and max: any order of
    events, and any redelivery the framework filters out, gives the same row)."""

    __tablename__ = "tournament_rounds"
    __table_args__ = (
        CheckConstraint("first_seq <= last_seq", name="ck_tournament_rounds_seq"),
        Index("ix_tournament_rounds_player", "tournament_id", "player_id", "first_seq"),
    )

    tournament_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True)
    )
    player_id: uuid.UUID = Field(primary_key=True)
    provider: str = Field(primary_key=True, max_length=32)
    round_ref: str = Field(primary_key=True, max_length=200)
    game: str | None = Field(default=None, max_length=200)
    stake: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    win: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    first_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    first_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The round's last bet or bet rollback (its outbox id and time): when its points per wager last changed.
    stake_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    stake_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class PrizeStatus(StrEnum):
    PAID = "paid"
    REFUSED = "refused"  # the bonus engine refused it (the code says why); staff settle it by hand


class TournamentPrize(SQLModel, table=True):
    """A prize paid at settlement: one per (tournament, rank), with what paid it."""

    __tablename__ = "tournament_prizes"
    __table_args__ = (
        CheckConstraint("kind IN ('cash', 'bonus', 'free_spins')", name="ck_tournament_prizes_kind"),
        CheckConstraint("status IN ('paid', 'refused')", name="ck_tournament_prizes_status"),
        CheckConstraint("amount >= 0", name="ck_tournament_prizes_amount"),
    )

    tournament_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True)
    )
    rank: int = Field(sa_column=Column(Integer, primary_key=True))
    player_id: uuid.UUID = Field(foreign_key="players.id")
    kind: str = Field(max_length=16)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # minor units; free spins: the count
    currency: str = Field(max_length=8)
    status: str = Field(max_length=16)
    refusal_code: str | None = Field(default=None, max_length=32)
    ledger_transaction_id: uuid.UUID | None = None
    bonus_id: uuid.UUID | None = None
    created_at: datetime = created_at_field()
