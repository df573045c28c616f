"""Game types: the catalog and lobby, brand switches, launches, rounds and their provider record."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.money import CURRENCIES
from models import games as m
from schema.base import Money, UserError
from schema.brands import Brand
from schema.context import Info
from schema.input_limits import REASON, text
from services import games as service
from services.games import Audience

GameType = m.GameType
strawberry.enum(m.GameType, name="GameType")


Volatility = m.Volatility
strawberry.enum(m.Volatility, name="Volatility")


GameMode = m.GameMode
strawberry.enum(m.GameMode, name="GameMode")


RoundStatus = m.RoundStatus
strawberry.enum(m.RoundStatus, name="RoundStatus")


@strawberry.type(description="A game provider or aggregator.")
class GameProvider:
    code: str
    name: str


def rtp_text(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d}"


@strawberry.type(description="A game of the catalog, as the viewer sees it (bet limits in the viewer's currency).")
class Game(relay.Node):
    id: relay.NodeID[str]
    code: str
    title: str
    type: GameType
    rtp: str = strawberry.field(description='Return to player in percent, a decimal string ("96.12").')
    volatility: Volatility
    contribution_category: str = strawberry.field(description="How bets count towards bonus wagering.")
    demo_available: bool
    image_url: str | None
    tags: list[str]
    provider_id: strawberry.Private[uuid.UUID]
    min_bets: strawberry.Private[dict[str, str]]
    max_bets: strawberry.Private[dict[str, str]]
    audience: strawberry.Private[Audience]
    available: strawberry.Private[bool | None]
    provider_known: strawberry.Private[GameProvider | None] = None  # when the reader had it at hand (the lobby)

    @classmethod
    def from_model(
        cls, game: m.Game, audience: Audience, *, available: bool | None = None, provider: GameProvider | None = None
    ) -> Game:
        return cls(
            id=str(game.id),
            code=game.code,
            title=game.title,
            type=GameType(game.type),
            rtp=rtp_text(game.rtp_basis_points),
            volatility=Volatility(game.volatility),
            contribution_category=game.contribution_category,
            demo_available=game.demo_available,
            image_url=game.image_url,
            tags=list(game.tags),
            provider_id=game.provider_id,
            min_bets=dict(game.min_bet),
            max_bets=dict(game.max_bet),
            audience=audience,
            available=available,
            provider_known=provider,
        )

    @strawberry.field
    def provider(self, info: Info) -> GameProvider | None:
        # Known already (the lobby's games): no coroutine, no DataLoader round. Else an awaitable,
        # which GraphQL awaits like an async resolver's result.
        if self.provider_known is not None:
            return self.provider_known
        return self._load_provider(info)  # type: ignore[return-value]

    async def _load_provider(self, info: Info) -> GameProvider | None:
        found = await info.context.loaders.games.provider.load(self.provider_id)
        return GameProvider(code=found.code, name=found.name) if found else None

    @strawberry.field(description="The smallest bet in the viewer's currency (null: not offered in it).")  # type: ignore[untyped-decorator]
    def min_bet(self) -> Money | None:
        return _limit(self.min_bets, self.audience.currency)

    @strawberry.field(description="The largest bet in the viewer's currency (null: not offered in it).")  # type: ignore[untyped-decorator]
    def max_bet(self) -> Money | None:
        return _limit(self.max_bets, self.audience.currency)

    @strawberry.field(
        description="Staff: the switch of the brand the request is scoped to (a game without one "
        "is on there); null when the request spans every brand."
    )  # type: ignore[untyped-decorator]
    async def brand_switch(self, info: Info) -> GameAvailability | None:
        brand_id = self.audience.brand_id
        if not self.audience.staff or brand_id is None:
            return None
        row = await info.context.loaders.games.brand_switch.load((brand_id, uuid.UUID(self.id)))
        if row is None:
            return GameAvailability(game=self, enabled=True, disabled_countries=[], updated_at=None, brand_id=brand_id)
        return GameAvailability(
            game=self,
            enabled=row.enabled,
            disabled_countries=list(row.disabled_countries),
            updated_at=row.updated_at,
            brand_id=brand_id,
        )

    @strawberry.field(description="Whether the viewer may play it: brand, country and currency allow it.")  # type: ignore[untyped-decorator]
    async def enabled_for_me(self, info: Info) -> bool:
        if self.available is not None:
            return self.available
        return await info.context.loaders.games.available.load((self.audience, uuid.UUID(self.id)))


def _limit(limits: dict[str, str], currency: str | None) -> Money | None:
    minor = service.bet_limit(limits, currency)
    return Money.of(minor, currency) if minor is not None and currency else None


@strawberry.input
class GameFilter:
    search: str | None = strawberry.field(default=None, description="Part of the title or code")
    type: GameType | None = None
    provider_code: str | None = None
    tags: list[str] | None = strawberry.field(default=None, description="Games carrying every one of these tags")
    category: str | None = strawberry.field(default=None, description="A lobby category code")


@strawberry.type(description="A lobby section with its first playable games.")
class LobbyCategory:
    code: str
    title: str
    games: list[Game]


@strawberry.type(description="A brand's switch for a game.")
class GameAvailability:
    game: Game | None
    enabled: bool
    disabled_countries: list[str]
    updated_at: datetime | None = strawberry.field(description="Null: never switched (on by default).")
    brand_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def brand(self, info: Info) -> Brand | None:
        brand = await info.context.loaders.brand.load(self.brand_id)
        return Brand.from_model(brand) if brand else None


@strawberry.input
class SetGameAvailabilityInput:
    game_id: strawberry.ID
    brand: str | None = strawberry.field(default=None, description="Brand code (default: the request's brand)")
    enabled: bool = True
    disabled_countries: list[str] = strawberry.field(default_factory=list)
    reason: str = text(REASON, default="")


@strawberry.type
class SetGameAvailabilityPayload:
    availability: GameAvailability | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A launched game.")
class GameSession:
    id: strawberry.ID
    mode: GameMode
    expires_at: datetime

    @classmethod
    def from_model(cls, session: m.GameSession) -> GameSession:
        return cls(id=strawberry.ID(str(session.id)), mode=GameMode(session.mode), expires_at=session.expires_at)


@strawberry.input
class LaunchGameInput:
    game_id: strawberry.ID
    mode: GameMode = GameMode.REAL
    brand: str | None = strawberry.field(default=None, description="Brand code (anonymous demo play)")
    lang: str = "en"


@strawberry.type
class LaunchGamePayload:
    launch_url: str | None = None
    session: GameSession | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One call a provider made to our wallet, with our answer (staff).")
class ProviderCall:
    endpoint: str
    request_uuid: str
    raw_request: str
    response: JSON
    http_status: int
    created_at: datetime

    @classmethod
    def from_model(cls, call: m.ProviderCall) -> ProviderCall:
        return cls(
            endpoint=call.endpoint,
            request_uuid=call.request_uuid,
            raw_request=call.raw_request,
            response=JSON(call.response),
            http_status=call.http_status,
            created_at=call.created_at,
        )


@strawberry.type(description="A bet, win or rollback as the provider sent it, with our answer.")
class ProviderTransaction:
    kind: str
    transaction_uuid: str
    reference_transaction_uuid: str | None
    status: str
    amount: Money | None
    rolled_back: bool
    created_at: datetime
    provider_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, tx: m.ProviderTransaction) -> ProviderTransaction:
        return cls(
            kind=tx.kind,
            transaction_uuid=tx.transaction_uuid,
            reference_transaction_uuid=tx.reference_transaction_uuid,
            status=tx.status,
            amount=Money.of(tx.amount, tx.currency) if tx.currency and tx.currency in CURRENCIES else None,
            rolled_back=tx.rolled_back,
            created_at=tx.created_at,
            provider_id=tx.provider_id,
        )

    @strawberry.field(description="The provider's calls behind this transaction, retries included (staff).")  # type: ignore[untyped-decorator]
    async def calls(self, info: Info) -> list[ProviderCall]:
        found = await info.context.loaders.games.transaction_calls.load((self.provider_id, self.transaction_uuid))
        return [ProviderCall.from_model(c) for c in found]


@strawberry.type(description="A game round: the bets and wins a provider grouped under one round id.")
class GameRound(relay.Node):
    id: relay.NodeID[str]
    round_ref: str
    status: RoundStatus
    total_bet: Money
    total_win: Money
    opened_at: datetime
    closed_at: datetime | None
    game_id: strawberry.Private[uuid.UUID | None]
    audience: strawberry.Private[Audience]

    @classmethod
    def from_model(cls, row: m.GameRound, audience: Audience) -> GameRound:
        return cls(
            id=str(row.id),
            round_ref=row.round_ref,
            status=RoundStatus(row.status),
            total_bet=Money.of(row.total_bet, row.currency),
            total_win=Money.of(row.total_win, row.currency),
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            game_id=row.game_id,
            audience=audience,
        )

    @strawberry.field
    async def game(self, info: Info) -> Game | None:
        if self.game_id is None:
            return None
        found = await info.context.loaders.games.game.load(self.game_id)
        return Game.from_model(found, self.audience) if found else None

    @strawberry.field(description="Bets, wins and rollbacks of the round, oldest first.")  # type: ignore[untyped-decorator]
    async def transactions(self, info: Info) -> list[ProviderTransaction]:
        found = await info.context.loaders.games.round_transactions.load(uuid.UUID(self.id))
        return [ProviderTransaction.from_model(t) for t in found]


@strawberry.input
class RoundFilter:
    status: RoundStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
