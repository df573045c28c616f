"""Personalised lobbies (migration 0057, services/crm/lobby).

- A layout is a segment's lobby in a brand: the order of the lobby categories (codes; the others follow in
  their usual order) and featured games (shown first, in the given order). A player in several segments
  gets the layout of highest `priority`. A layout may belong to a variant of an A/B test whose subject is
  its segment: the player's variant picks it; the segment's layout without a variant serves the control,
  the holdout and everyone once the test stops (unless a winner's layout exists).
- Popular games are computed periodically per brand, segment and country from the game rounds of the last
  days (`segment_id` = the nil UUID: everyone of the brand; `country` = '': every country), never per request.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field

EVERYONE = uuid.UUID(int=0)  # crm_lobby_popular.segment_id of a brand's whole audience


class CrmLobbyLayout(SQLModel, table=True):
    __tablename__ = "crm_lobby_layouts"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    name: str = Field(max_length=120)
    segment_id: uuid.UUID = Field(foreign_key="crm_segments.id")
    priority: int = 0
    experiment_id: uuid.UUID | None = Field(default=None, foreign_key="crm_experiments.id")
    variant: str | None = Field(default=None, max_length=40)
    category_order: list[str] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    )
    featured: list[str] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    )
    status: str = Field(default="active", max_length=16)
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class CrmLobbyPopular(SQLModel, table=True):
    __tablename__ = "crm_lobby_popular"

    brand_id: uuid.UUID = Field(foreign_key="brands.id", primary_key=True)
    segment_id: uuid.UUID = Field(primary_key=True)
    country: str = Field(max_length=2, primary_key=True)
    rank: int = Field(primary_key=True)
    game_id: uuid.UUID = Field(foreign_key="games.id")
    players: int = 0
    computed_at: datetime = created_at_field()
