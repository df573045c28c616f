"""Free rounds granted through a game provider's own API (Hub88's Freebets API: `freebet/rewards/create`).

One row per free-spins bonus whose games belong to a provider with a free-rounds API: the bonus engine asks for
it in the bonus's own transaction (status `pending`), a sender delivers it after the commit (`granted`, with the
provider's `reward_uuid`, which then names the bonus too), and staff may cancel it (`cancelled`, at the provider
first). The database holds: one grant per bonus; a provider's reward uuid names one grant.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class FreeRoundsStatus(StrEnum):
    PENDING = "pending"  # recorded with its bonus; not yet acknowledged by the provider
    GRANTED = "granted"  # the provider holds the reward (`reward_uuid`)
    FAILED = "failed"  # the provider refused it, or never answered after every attempt: the bonus is cancelled
    CANCELLED = "cancelled"  # staff cancelled it at the provider, and its bonus with it


class FreeRoundsGrant(SQLModel, table=True):
    __tablename__ = "free_rounds_grants"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'granted', 'failed', 'cancelled')", name="ck_free_rounds_grants_status"),
        CheckConstraint("rounds > 0 AND bet > 0", name="ck_free_rounds_grants_rounds"),
        Index("uq_free_rounds_grants_bonus", "bonus_id", unique=True),
        Index(
            "uq_free_rounds_grants_reward",
            "provider_id",
            "reward_uuid",
            unique=True,
            postgresql_where="reward_uuid IS NOT NULL",
        ),
        Index("ix_free_rounds_grants_player", "player_id", "created_at"),
        Index("ix_free_rounds_grants_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        # The bonus worker's look for rewards whose bonus the engine ended (services/free_rounds/grants.py).
        Index("ix_free_rounds_grants_granted", "bonus_id", postgresql_where="status = 'granted'"),
    )

    id: uuid.UUID = id_field()
    bonus_id: uuid.UUID = Field(foreign_key="player_bonuses.id")
    provider_id: uuid.UUID = Field(foreign_key="game_providers.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    games: list[str] = Field(sa_column=Column(JSONB, nullable=False))  # the provider's game codes
    rounds: int
    bet: int = Field(sa_column=Column(BigInteger, nullable=False))  # per round, minor units of `currency`
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    expires_at: datetime | None = timestamp_field()
    status: str = Field(default=FreeRoundsStatus.PENDING.value, max_length=16)
    reward_uuid: str | None = Field(default=None, max_length=64)  # the provider's id of the reward
    attempts: int = 0
    next_attempt_at: datetime | None = timestamp_field()
    last_error: str | None = Field(default=None, max_length=300)
    provider_answer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))  # the last, for support
    cancel_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = created_at_field()
    granted_at: datetime | None = timestamp_field()
    ended_at: datetime | None = timestamp_field()
