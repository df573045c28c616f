"""CRM A/B tests (migration 0056, services/crm/experiments).

- An experiment tests variants of one subject (a journey, a bonus campaign or a segment's lobby) in a brand:
  `variants` is a JSON list of `{"key": ..., "weight": ...}` (the first is the control), `holdout_ppm` the share
  of players (parts per million) who get none of them, `metric` the conversion read from the report projections.
  Status: draft → running → stopped (stopped keeps its `winner`, or the control, for everyone).
- An assignment is a player's bucket, recorded on their first exposure while the experiment runs; `variant` is
  NULL for the holdout. The bucket is a pure function of (experiment, player), so the row only records *that*
  and *when* the player was exposed (conversions count from that day).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class CrmExperiment(SQLModel, table=True):
    __tablename__ = "crm_experiments"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    name: str = Field(max_length=120)
    subject_kind: str = Field(max_length=16)  # journey, campaign, lobby
    subject_id: uuid.UUID | None = None
    variants: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    holdout_ppm: int = 0
    metric: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    currency: str = Field(max_length=8)  # NGR is read in this currency
    status: str = Field(default="draft", max_length=16)
    winner: str | None = Field(default=None, max_length=40)
    started_at: datetime | None = timestamp_field()
    stopped_at: datetime | None = timestamp_field()
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class CrmExperimentAssignment(SQLModel, table=True):
    __tablename__ = "crm_experiment_assignments"

    experiment_id: uuid.UUID = Field(foreign_key="crm_experiments.id", primary_key=True)
    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    variant: str | None = Field(default=None, max_length=40)  # None: the holdout
    exposed_at: datetime = created_at_field()
