"""CRM journeys (migration 0055): a journey as versioned data, each player's runs and their step log.

- `crm_journeys`: one row per version of a journey. `key` is the journey across its versions; a version is
  a draft (editable), then active (players enter it), paused (no entries, runs wait) or archived. An
  active or paused version is never edited: a change is a new draft version, and activating it archives
  the one before (`superseded_by`), whose runs in flight go on under the definition they started with.
  `trigger_kind` repeats the definition's trigger so the consumer finds its journeys by index.
- `crm_journey_runs`: a player's run through one version, or a trigger decided against (status `skipped`
  with its reason: a frequency cap, outside the entry segment, already running). Unique per journey and
  trigger (`trigger_key`: the event's id, or a time trigger's anchor), so a redelivered event or a
  repeated sweep decides once. `step` is the next step; an active run is due at `due_at`.
- `crm_journey_steps`: what each step did (done, waiting, deferred for quiet hours, skipped, suppressed,
  exited), with its reason code and the message or bonus it made.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class JourneyStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class RunStatus(StrEnum):
    ACTIVE = "active"  # steps left; due at `due_at`
    COMPLETED = "completed"
    EXITED = "exited"  # a condition failed, the player became unreachable for good, the journey was archived
    SKIPPED = "skipped"  # the trigger fired but the player did not enter (reason)


class StepOutcome(StrEnum):
    DONE = "done"
    WAITING = "waiting"  # a delay: the run is due again at `until`
    DEFERRED = "deferred"  # quiet hours: the same step again at `until`
    SKIPPED = "skipped"  # a frequency cap, an A/B holdout, an offer the player may not have
    SUPPRESSED = "suppressed"  # suppression refused it (reason: its code)
    EXITED = "exited"  # a condition did not hold: the run ends
    FAILED = "failed"


class CrmJourney(SQLModel, table=True):
    __tablename__ = "crm_journeys"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    key: uuid.UUID
    version: int = 1
    name: str = Field(max_length=120)
    status: str = Field(default=JourneyStatus.DRAFT.value, max_length=16)
    trigger_kind: str = Field(max_length=24)
    definition: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    superseded_by: uuid.UUID | None = Field(default=None, foreign_key="crm_journeys.id")
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    activated_at: datetime | None = timestamp_field()


class CrmJourneyRun(SQLModel, table=True):
    __tablename__ = "crm_journey_runs"

    id: uuid.UUID = id_field()
    journey_id: uuid.UUID = Field(foreign_key="crm_journeys.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    trigger_key: str = Field(max_length=120)
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    event_at: datetime | None = timestamp_field()
    status: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=40)
    step: int = 0
    due_at: datetime | None = timestamp_field()
    variant: str | None = Field(default=None, max_length=40)
    decided_at: datetime = created_at_field()
    ended_at: datetime | None = timestamp_field()


class CrmJourneyStep(SQLModel, table=True):
    __tablename__ = "crm_journey_steps"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    run_id: uuid.UUID = Field(foreign_key="crm_journey_runs.id")
    step: int
    kind: str = Field(max_length=24)
    outcome: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=40)
    message_id: uuid.UUID | None = None
    bonus_id: uuid.UUID | None = None
    until: datetime | None = timestamp_field()
    at: datetime = created_at_field()
