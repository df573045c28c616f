"""Privacy types: a player's erasure state, data-subject requests and retention holds (services/privacy)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import privacy as m
from schema.base import UserError
from schema.input_limits import REASON, text

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(m.RequestKind, name="PrivacyRequestKind")
strawberry.enum(m.RequestStatus, name="PrivacyRequestStatus")


@strawberry.type(description="A data-subject request: an export produced, or an erasure asked for and decided.")
class PrivacyRequest:
    id: strawberry.ID
    kind: m.RequestKind
    status: m.RequestStatus
    requested_by_type: str = strawberry.field(description="player, staff or system")
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    player_id: strawberry.Private[str]

    @strawberry.field
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.privacy import request_player

        return await request_player(info, self.player_id)

    @classmethod
    def from_model(cls, row: m.PrivacyRequest) -> PrivacyRequest:
        return cls(
            player_id=str(row.player_id),
            id=strawberry.ID(str(row.id)),
            kind=m.RequestKind(row.kind),
            status=m.RequestStatus(row.status),
            requested_by_type=row.requested_by_type,
            reason=row.reason,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )


@strawberry.type(description="A category of an erased player's data kept under a retention rule, until when and why.")
class PrivacyHold:
    category: str
    basis: str
    retained_until: datetime
    released_at: datetime | None = strawberry.field(description="When the sweep erased it (null: still kept)")

    @classmethod
    def from_model(cls, row: m.PrivacyHold) -> PrivacyHold:
        return cls(
            category=row.category, basis=row.basis, retained_until=row.retained_until, released_at=row.released_at
        )


@strawberry.type(description="A player's privacy state: erased or not, the requests, the retention holds.")
class PlayerPrivacy:
    player_id: strawberry.ID
    erased_at: datetime | None
    pseudonym: str | None
    requests: list[PrivacyRequest]
    holds: list[PrivacyHold]


@strawberry.input
class RequestDataErasureInput:
    reason: str | None = text(REASON, default=None)


@strawberry.input
class PlayerPrivacyInput:
    player_id: strawberry.ID


@strawberry.input
class DecideDataErasureInput:
    player_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.type
class PrivacyRequestPayload:
    request: PrivacyRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlayerPrivacyPayload:
    privacy: PlayerPrivacy | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DataExportPayload:
    export: JSON | None = strawberry.field(default=None, description="The export document (docs/privacy.md)")
    errors: list[UserError] = strawberry.field(default_factory=list)
