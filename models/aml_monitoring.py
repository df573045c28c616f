"""Transaction monitoring (services/aml/monitoring): rule versions, the per-player windows the rules read,
the alerts they raise, and backtests of a version over the stored history.

Only the `aml_monitoring` consumer writes `aml_monitoring_players`, `aml_monitoring_deposits` and
`aml_alerts` (in the transaction that records the event it processed, so a redelivery changes nothing);
a rebuild deletes them and replays the outbox. A version's rules and scenario never change once stored:
a change is a new version. Amounts are BIGINT minor units; `base` amounts are in the monitoring's base
currency (EUR, converted at the ECB rate in force on the event's day).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, SmallInteger, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class AmlMonitoringVersion(SQLModel, table=True):
    """One version of the rules and their scenario (score → outcome ladder); exactly one is live."""

    __tablename__ = "aml_monitoring_versions"
    __table_args__ = (Index("uq_aml_monitoring_versions_live", "live", unique=True, postgresql_where="live"),)

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    rules: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    scenario: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    note: str = Field(default="", max_length=500)
    live: bool = Field(default=False)
    created_at: datetime = created_at_field()
    activated_at: datetime | None = timestamp_field()


class AmlMonitoringPlayer(SQLModel, table=True):
    """A player's running figures: money wagered so far (base minor units) and when each rule last fired."""

    __tablename__ = "aml_monitoring_players"

    player_id: uuid.UUID = Field(primary_key=True)
    wagered: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    fired: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))


class AmlMonitoringDeposit(SQLModel, table=True):
    """A deposit inside the longest window any rule may read (older ones are pruned)."""

    __tablename__ = "aml_monitoring_deposits"

    player_id: uuid.UUID = Field(primary_key=True)
    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    base: int = Field(sa_column=Column(BigInteger, nullable=False))
    instrument: str = Field(max_length=200)
    wagered_before: int = Field(sa_column=Column(BigInteger, nullable=False))


class AmlAlert(SQLModel, table=True):
    """An alert the live version raised on one event, with its explanation (`hits`) and the events behind it."""

    __tablename__ = "aml_alerts"
    __table_args__ = (
        UniqueConstraint("event_id", name="uq_aml_alerts_event"),
        Index("ix_aml_alerts_queue", "status", "raised_at"),
        Index("ix_aml_alerts_player", "player_id", "raised_at"),
    )

    id: uuid.UUID = id_field()
    version: int = Field(sa_column=Column(Integer, nullable=False))
    player_id: uuid.UUID
    brand_id: uuid.UUID | None = None
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    score: int = Field(sa_column=Column(Integer, nullable=False))
    outcome: str = Field(max_length=24)  # review | block_and_review | decline
    hits: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    event_ids: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="open", max_length=16)  # open | confirmed | dismissed
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = timestamp_field()
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = created_at_field()


class AmlBacktestRun(SQLModel, table=True):
    """A backtest of a version over a range of the outbox, beside the live version over the same range."""

    __tablename__ = "aml_backtest_runs"

    id: uuid.UUID = Field(primary_key=True)  # derived from its inputs: the same inputs are the same run
    version: int = Field(sa_column=Column(Integer, nullable=False))
    baseline: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    first_event: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_event: int = Field(sa_column=Column(BigInteger, nullable=False))
    from_at: datetime | None = timestamp_field()
    to_at: datetime | None = timestamp_field()
    events: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    runs: int = Field(default=1, sa_column=Column(SmallInteger, nullable=False))
    created_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()


class AmlBacktestAlert(SQLModel, table=True):
    """An alert a backtest found: raised by the candidate (`new`, `same`, `changed` against the live
    version) or by the live version only (`removed`). Never a live alert: nothing is decided from it."""

    __tablename__ = "aml_backtest_alerts"

    run_id: uuid.UUID = Field(primary_key=True, foreign_key="aml_backtest_runs.id")
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    player_id: uuid.UUID
    score: int = Field(sa_column=Column(Integer, nullable=False))
    outcome: str = Field(max_length=24)
    hits: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    event_ids: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    change: str = Field(max_length=16)  # new | same | changed | removed
