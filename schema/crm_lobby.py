"""Personalised lobbies (docs/crm-lobby.md): a segment's lobby layout — category order, featured games,
optionally one variant of an A/B test — read by the `lobby` query for the segment's players."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from schema.base import UserError
from schema.input_limits import TITLE, text
from services.crm.lobby.layouts import LayoutView


@strawberry.type(description="A segment's lobby layout.")
class LobbyLayout(relay.Node):
    id: relay.NodeID[str]
    brand_id: strawberry.ID
    name: str
    segment_id: strawberry.ID
    priority: int = strawberry.field(description="A player in several segments gets the highest priority's layout.")
    experiment_id: strawberry.ID | None = strawberry.field(description="The A/B test this layout is a variant of.")
    variant: str | None
    category_order: list[str] = strawberry.field(description="Lobby category codes first, in this order.")
    featured_game_ids: list[strawberry.ID] = strawberry.field(description="Games shown first, in this order.")
    status: str = strawberry.field(description="active or archived.")
    updated_at: datetime

    @classmethod
    def of(cls, view: LayoutView) -> LobbyLayout:
        return cls(
            id=str(view.id),
            brand_id=strawberry.ID(str(view.brand_id)),
            name=view.name,
            segment_id=strawberry.ID(str(view.segment_id)),
            priority=view.priority,
            experiment_id=strawberry.ID(str(view.experiment_id)) if view.experiment_id else None,
            variant=view.variant,
            category_order=view.category_order,
            featured_game_ids=[strawberry.ID(str(relay.GlobalID("Game", str(g)))) for g in view.featured],
            status=view.status,
            updated_at=view.updated_at,
        )


@strawberry.input(description="A segment's lobby layout; `brandCode` for staff of every brand.")
class CreateLobbyLayoutInput:
    name: str = text(TITLE)
    segment_id: strawberry.ID
    priority: int = 0
    category_order: list[str] = strawberry.field(default_factory=list)
    featured_game_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    experiment_id: strawberry.ID | None = None
    variant: str | None = text(40, default=None)
    brand_code: str | None = text(40, default=None)


@strawberry.input(description="A layout's new name, priority, order, featured games or status (the rest stays).")
class UpdateLobbyLayoutInput:
    id: strawberry.ID
    name: str | None = text(TITLE, default=None)
    priority: int | None = None
    category_order: list[str] | None = None
    featured_game_ids: list[strawberry.ID] | None = None
    status: str | None = text(16, default=None)


@strawberry.type
class LobbyLayoutPayload:
    layout: LobbyLayout | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RefreshPopularGamesPayload:
    rows: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)
