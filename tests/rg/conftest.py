"""RG fixtures: brands licensed for jurisdictions, GraphQL helpers for limits, deposits and bets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from strawberry import relay

from tests.cashier.conftest import psp  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, fund
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    GAME,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
)

RG = """
fragment RG on ResponsibleGambling {
  jurisdiction { code requiredLimits realityCheckRequired }
  limits { kind period amount { amount currency } minutes used { amount } remaining { amount } resetsAt
           pending { removal amount { amount } effectiveAt confirmable } }
  exclusion { kind endsAt active }
  realityCheckMinutes
  realityCheck { due nextDueAt minutesPlayed netResult { amount currency } }
  activity { period deposited { amount } wagered { amount } won { amount } netLoss { amount } minutesPlayed }
}"""
SET_LIMIT = (
    RG
    + """
mutation($input: SetLimitInput!) {
  setLimit(input: $input) { limit { kind period amount { amount } pending { effectiveAt confirmable } }
    responsibleGambling { ...RG } errors { code field message limit { kind period resetsAt } } } }"""
)
CONFIRM = """
mutation($input: LimitChangeInput!) {
  confirmLimitChange(input: $input) { limit { amount { amount } pending { effectiveAt } }
    errors { code message limit { resetsAt } } } }"""
MY_RG = RG + "{ me { jurisdiction responsibleGambling { ...RG } } }"
DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status }
    errors { code field message limit { kind period limit { amount currency } resetsAt } } } }"""
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { player { id } tokens { accessToken refreshToken }
    errors { code message limit { kind resetsAt } } } }"""


# Any game id: the RG gates refuse a launch before the game is looked up.
SOME_GAME = str(relay.GlobalID("Game", str(uuid.uuid4())))


def u(cents: int) -> int:
    """Hub88 amounts are in 10^-5 of the currency unit: cents → Hub88 units (EUR)."""
    return cents * 1000


async def set_limit(
    gql: Any, player: Any, kind: str, period: str, amount: str | None = None, minutes: int | None = None
) -> dict[str, Any]:
    variables: dict[str, Any] = {"kind": kind, "period": period}
    if amount is not None:
        variables["amount"] = amount
    if minutes is not None:
        variables["minutes"] = minutes
    body = await gql(SET_LIMIT, {"input": variables}, token=player.token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["setLimit"]
    return payload


async def deposit(gql: Any, player: Any, demo_psp: Any, amount: str, currency: str = "EUR") -> dict[str, Any]:
    """The player's own card deposit through GraphQL and the demo PSP, which the RG limits count and may
    refuse; to only give a player money, `make_player(balance=...)`."""
    body = await gql(
        DEPOSIT,
        {
            "input": {
                "amount": amount,
                "currency": currency,
                "method": "CARD",
                "pspToken": await demo_psp.tokenise(),
                "idempotencyKey": str(uuid.uuid4()),
            }
        },
        token=player.token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["deposit"]
    return payload


async def login(gql: Any, player: Any, purpose: str = "PLAY") -> dict[str, Any]:
    body = await gql(
        LOGIN, {"input": {"brand": player.brand, "email": player.email, "password": PASSWORD, "purpose": purpose}}
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


REFRESH = """
mutation($input: RefreshTokenInput) { refreshToken(input: $input) { tokens { accessToken refreshToken } } }"""


async def refresh(gql: Any, player: Any) -> None:
    """What the frontend does every few minutes: the same login session, a new access token."""
    body = await gql(REFRESH, {"input": {"refreshToken": player.refresh_token}})
    tokens = body["data"]["refreshToken"]["tokens"]
    player.token, player.refresh_token = tokens["accessToken"], tokens["refreshToken"]


async def my_rg(gql: Any, player: Any) -> dict[str, Any]:
    body = await gql(MY_RG, token=player.token)
    assert "errors" not in body, body
    rg: dict[str, Any] = body["data"]["me"]["responsibleGambling"]
    return rg


async def licensed_brand(
    rt: Any, code: str, jurisdictions: list[str], countries: list[str], currencies: list[str] | None = None
) -> Any:
    from services import brands

    async with rt.database.transaction() as db:
        return await brands.create_brand(
            db,
            code=code,
            name=code.title(),
            default_currency=(currencies or ["EUR"])[0],
            currencies=currencies or ["EUR", "SEK", "GBP", "CAD"],
            countries=countries,
            jurisdictions=jurisdictions,
        )


@pytest.fixture
async def nordic(rt: Any) -> Any:
    """A brand licensed for the UK, Sweden, Ontario, Malta and Denmark (no default profile)."""
    return await licensed_brand(rt, "nordic", ["UK", "SE", "ON", "MT", "DK"], ["GB", "SE", "CA", "MT", "DK"])


async def game_session(
    rt: Any, provider: Any, player_id: uuid.UUID, *, currency: str = "EUR", auth_session_id: uuid.UUID | None = None
) -> str:
    """A real-money game session, as launchGame makes it (optionally tied to a login session)."""
    from datetime import timedelta

    from sqlalchemy import select

    from core.clock import clock
    from models.games import Game, GameSession
    from models.players import Player

    async with rt.database.transaction() as db:
        game_id = (
            await db.execute(select(Game.id).where(Game.provider_id == provider.id, Game.code == GAME))
        ).scalar_one()
        brand_id = (await db.execute(select(Player.brand_id).where(Player.id == player_id))).scalar_one()
        token = uuid.uuid4().hex
        db.add(
            GameSession(
                token=token,
                mode="real",
                player_id=player_id,
                brand_id=brand_id,
                game_id=game_id,
                currency=currency,
                auth_session_id=auth_session_id,
                expires_at=clock.now() + timedelta(hours=4),
            )
        )
    return token


async def seat_for(
    rt: Any,
    provider: Any,
    player: Any,
    *,
    balance: int = 10_000,
    currency: str = "EUR",
    auth_session_id: uuid.UUID | None = None,
) -> Seat:
    if balance:
        await fund(rt, player.uuid, balance, currency)
    token = await game_session(rt, provider, player.uuid, currency=currency, auth_session_id=auth_session_id)
    return Seat(str(player.uuid), player.uuid, token, currency)
