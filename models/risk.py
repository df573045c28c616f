"""Risk (services/risk): what requests said about players, the signals and linked-account clusters made
from it, block and watch lists, and the flags staff review.

- `risk_observations`: one row per registration, login, deposit and withdrawal (keyed by its session or
  payment id), written in the flow's own transaction: only what the request alone knows (device id, IP,
  user agent, the card's BIN and fingerprint from the PSP's vault). Never in an event.
- `risk_signals`, `risk_clusters`: written only by the `risk-signals` consumer, in the transaction that
  records the event it processed (so a redelivery changes nothing). A player's cluster id is the
  smallest player id of its cluster; merging two clusters rewrites the larger id to the smaller one, so
  membership is one indexed lookup and no row points at another (union-find with full path compression).
- `risk_list_entries`: block and watch lists; an entry is active until removed or expired, never deleted
  (who added and removed it, and why, stay). IP entries keep their range in `network` (cidr).
- `risk_flags`: watch hits, blocks (a refused registration has no player) and rule flags, for review: the
  risk queue. At most one open flag per player and rule.
- `risk_rules`: the rules as data (services/risk/rules.py), edited by staff, versioned, audited.
- `risk_score_items`: a player's score contributions, at most one per rule (a new hit refreshes it); the
  score is their sum, capped at 100, of the unexpired ones (services/risk/score.py).
- `risk_actions`: restrictions in force (services/risk/actions.py), at most one of each kind per player,
  imposed by a rule or by staff, lifted by staff; read by the cashier, the bonus engine and KYC in the
  transaction of their own decision.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import CIDR, JSONB
from sqlmodel import Field, SQLModel

from models.base import timestamp_field


class RiskListEntry(SQLModel, table=True):
    __tablename__ = "risk_list_entries"

    id: uuid.UUID = Field(primary_key=True)
    list: str = Field(max_length=8)  # block | watch
    kind: str = Field(max_length=24)  # email | email_domain | ip | device | card_bin | card_fingerprint | country
    value: str = Field(max_length=320)  # normalised (an IP entry: its range as written by PostgreSQL)
    network: str | None = Field(default=None, sa_column=Column(CIDR, nullable=True))
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")  # None: every brand
    reason: str = Field(max_length=500)
    added_by: uuid.UUID | None = None
    added_at: datetime = timestamp_field(nullable=False)
    expires_at: datetime | None = timestamp_field(nullable=True)
    removed_by: uuid.UUID | None = None
    removed_at: datetime | None = timestamp_field(nullable=True)


class RiskFlag(SQLModel, table=True):
    __tablename__ = "risk_flags"

    id: uuid.UUID = Field(primary_key=True)
    player_id: uuid.UUID | None = Field(default=None, foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    source: str = Field(max_length=24)  # list | disposable_email | rule
    entry_id: uuid.UUID | None = Field(default=None, foreign_key="risk_list_entries.id")
    occasion: str = Field(max_length=16)
    outcome: str = Field(max_length=8)  # block | watch | review (a rule's flag)
    detail: str = Field(max_length=320)
    raised_at: datetime = timestamp_field(nullable=False)
    status: str = Field(default="open", max_length=16)  # open | confirmed | dismissed
    rule_code: str | None = Field(default=None, max_length=64)
    reviewed_by: uuid.UUID | None = None
    reviewed_at: datetime | None = timestamp_field(nullable=True)
    review_note: str | None = Field(default=None, max_length=500)


class RiskRule(SQLModel, table=True):
    __tablename__ = "risk_rules"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=32)
    params: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    points: int
    actions: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")  # None: every brand
    enabled: bool = True
    version: int = 1
    updated_at: datetime = timestamp_field(nullable=False)
    updated_by: uuid.UUID | None = None


class RiskScoreItem(SQLModel, table=True):
    __tablename__ = "risk_score_items"

    player_id: uuid.UUID = Field(primary_key=True, foreign_key="players.id")
    rule_code: str = Field(primary_key=True, max_length=64)
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    points: int
    reason: str = Field(max_length=320)
    details: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    hits: int
    first_hit_at: datetime = timestamp_field(nullable=False)
    last_hit_at: datetime = timestamp_field(nullable=False)
    expires_at: datetime = timestamp_field(nullable=False)


class RiskAction(SQLModel, table=True):
    __tablename__ = "risk_actions"

    id: uuid.UUID = Field(primary_key=True)
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    kind: str = Field(max_length=24)
    params: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    rule_code: str | None = Field(default=None, max_length=64)  # None: imposed by staff
    reason: str = Field(max_length=500)
    imposed_at: datetime = timestamp_field(nullable=False)
    imposed_by: uuid.UUID | None = None
    expires_at: datetime | None = timestamp_field(nullable=True)
    lifted_at: datetime | None = timestamp_field(nullable=True)
    lifted_by: uuid.UUID | None = None
    lift_reason: str | None = Field(default=None, max_length=500)
