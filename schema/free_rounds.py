"""Free rounds granted through a provider's API (services/free_rounds): the grants staff see, and the inputs and
payloads of granting, sending again and cancelling them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.free_rounds import FreeRoundsStatus
from schema.base import Money, UserError, to_global_id
from schema.input_limits import REASON, text
from services.free_rounds.queries import GrantView

strawberry.enum(
    FreeRoundsStatus,
    name="FreeRoundsStatus",
    description="pending (not yet acknowledged by the provider) → granted | failed (refused or unanswered: its "
    "bonus cancelled); granted or pending → cancelled (by staff, at the provider first)",
)


@strawberry.type(description="Free rounds of a free-spins bonus, granted through the game provider's API.")
class FreeRoundsGrant:
    id: strawberry.ID
    bonus_id: strawberry.ID = strawberry.field(description="The free-spins bonus (PlayerBonus) they belong to")
    player_id: strawberry.ID
    provider: str = strawberry.field(description="The provider's code")
    games: list[str] = strawberry.field(description="The provider's game codes the rounds play")
    rounds: int
    rounds_left: int = strawberry.field(description="Rounds the provider has not played yet")
    bet: Money = strawberry.field(description="Each round's bet")
    won: Money = strawberry.field(description="What the rounds' wins credited so far (reward_uuid wins)")
    wins: int = strawberry.field(description="How many wins the rounds brought")
    status: FreeRoundsStatus
    bonus_status: str
    reward_uuid: str | None = strawberry.field(description="The provider's id of the reward")
    attempts: int = strawberry.field(description="Deliveries tried")
    last_error: str | None
    expires_at: datetime | None
    created_at: datetime
    granted_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, view: GrantView) -> FreeRoundsGrant:
        return cls(
            id=strawberry.ID(str(to_global_id("FreeRoundsGrant", view.id))),
            bonus_id=strawberry.ID(str(to_global_id("PlayerBonus", view.bonus_id))),
            player_id=strawberry.ID(str(to_global_id("Player", view.player_id))),
            provider=view.provider,
            games=view.games,
            rounds=view.rounds,
            rounds_left=view.rounds_left,
            bet=Money.of(view.bet, view.currency),
            won=Money.of(view.won, view.currency),
            wins=view.wins,
            status=FreeRoundsStatus(view.status),
            bonus_status=view.bonus_status,
            reward_uuid=view.reward_uuid,
            attempts=view.attempts,
            last_error=view.last_error,
            expires_at=view.expires_at,
            created_at=view.created_at,
            granted_at=view.granted_at,
            ended_at=view.ended_at,
        )


@strawberry.input
class GrantFreeRoundsInput:
    player_id: strawberry.ID
    campaign_id: strawberry.ID = strawberry.field(description="A free-spins campaign whose games' provider has an API")
    reason: str = text(REASON)


@strawberry.input
class SendFreeRoundsInput:
    grant_id: strawberry.ID


@strawberry.input
class CancelFreeRoundsInput:
    grant_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.type
class FreeRoundsGrantPayload:
    grant: FreeRoundsGrant | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
