"""Sanctions and PEP screening types: the alerts queue, an alert with its list entity and why it matched,
the staff decision (services/aml)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from models import aml as aml_models
from schema.base import UserError
from schema.context import Info
from schema.input_limits import REASON, text

if TYPE_CHECKING:
    from schema.players import Player

ScreeningAlertState = aml_models.AlertState
strawberry.enum(aml_models.AlertState, name="ScreeningAlertState")


@strawberry.enum
class ScreeningDecision(Enum):
    FALSE_POSITIVE = "false_positive"
    CONFIRMED = "confirmed"


@strawberry.type(description="A list entity as it was listed when the alert was raised (FollowTheMoney).")
class ScreeningEntity:
    id: str
    schema: str
    caption: str
    names: list[str]
    birth_dates: list[str]
    countries: list[str]
    topics: list[str] = strawberry.field(description='"sanction", "role.pep", "crime", ...')
    datasets: list[str]

    @classmethod
    def of(cls, data: dict[str, Any]) -> ScreeningEntity:
        return cls(
            id=data["id"],
            schema=data["schema"],
            caption=data["caption"],
            names=list(data.get("names") or []),
            birth_dates=list(data.get("birth_dates") or []),
            countries=list(data.get("countries") or []),
            topics=list(data.get("topics") or []),
            datasets=list(data.get("datasets") or []),
        )


@strawberry.type(description="Two tokens the comparison paired, and how alike they are (0..1).")
class ScreeningTokenPair:
    listed: str
    player: str
    similarity: float


@strawberry.type(description="Why a player matched: the names compared and the confirmers' verdicts.")
class ScreeningWhy:
    listed_name: str
    player_name: str
    compared_as: str = strawberry.field(description="latin, skeleton (Arabic) or syllables (Chinese)")
    name_score: float
    tokens: list[ScreeningTokenPair]
    birth_date: str | None = strawberry.field(description="same_day, same_year, other_day, other_year or none")
    country: str | None = strawberry.field(description="listed, not_listed or none")

    @classmethod
    def of(cls, data: dict[str, Any]) -> ScreeningWhy:
        return cls(
            listed_name=data["listed_name"],
            player_name=data["player_name"],
            compared_as=data["compared_as"],
            name_score=float(data["name_score"]),
            tokens=[
                ScreeningTokenPair(listed=a, player=b, similarity=float(s)) for a, b, s in data.get("tokens") or []
            ],
            birth_date=data.get("birth_date"),
            country=data.get("country"),
        )


@strawberry.type(description="A player's match against a sanctions or PEP list, for review.")
class ScreeningAlert(relay.Node):
    id: relay.NodeID[str]
    player_id: strawberry.ID
    entity_id: str
    list_version: str
    score: float
    state: ScreeningAlertState
    entity: ScreeningEntity
    why: ScreeningWhy
    decided_by: strawberry.ID | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: aml_models.ScreeningAlert) -> ScreeningAlert:
        from schema.base import to_global_id

        return cls(
            id=str(row.id),
            player_id=strawberry.ID(str(to_global_id("Player", row.player_id))),
            entity_id=row.entity_id,
            list_version=row.list_version,
            score=row.score,
            state=ScreeningAlertState(row.state),
            entity=ScreeningEntity.of(row.entity),
            why=ScreeningWhy.of(row.why),
            decided_by=strawberry.ID(str(to_global_id("StaffUser", row.decided_by))) if row.decided_by else None,
            decided_at=row.decided_at,
            decision_reason=row.decision_reason,
            created_at=row.created_at,
        )

    @strawberry.field(description="The player, with the fields the viewer may read.")  # type: ignore[untyped-decorator]
    async def player(self, info: Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.players import player_by_id

        return await player_by_id(info, self.player_id)


@strawberry.input
class ScreeningAlertFilter:
    state: ScreeningAlertState | None = None
    player_id: strawberry.ID | None = None
    min_score: float | None = None
    topic: str | None = text(64, default=None)


@strawberry.input
class DecideScreeningAlertInput:
    alert_id: strawberry.ID
    decision: ScreeningDecision
    reason: str = text(REASON)


@strawberry.type
class DecideScreeningAlertPayload:
    alert: ScreeningAlert | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
