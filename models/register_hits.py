"""Register hits (migration 0053): a national self-exclusion register (GAMSTOP, Spelpaus, ROFUS) answered
"excluded" about an existing account at login. One row per player: open (`cleared_at` null) until a later
check answers "not registered" or "previously excluded". Marketing reads it (services/crm/suppression.py:
REGISTER_HIT); play is refused by the register check itself at every login."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import created_at_field, timestamp_field


class RgRegisterHit(SQLModel, table=True):
    __tablename__ = "rg_register_hits"

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    register_name: str = Field(max_length=32)
    hit_at: datetime = created_at_field()
    cleared_at: datetime | None = timestamp_field()
