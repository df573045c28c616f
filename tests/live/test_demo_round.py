"""End to end: the demo game provider (its own process) plays real-money rounds against the live
server's Hub88 wallet API, signed with its key; the player's balance moves by wins minus bets."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel import col, select

from core.clock import clock
from integrations.demo import seed
from integrations.demo.provider import fair
from integrations.demo.provider.keys import signature_valid
from integrations.demo.provider.platform import register_demo_provider
from models.games import Game, GameSession, Provider
from services import ledger, wallet
from tests.live.conftest import next_data, subscription


async def launch(rt: Any, demo_provider: Any, player: Any, brand: Any, game_code: str) -> str:
    """The catalog seed, the provider's key on its row, and a game session (the launch token)."""
    await seed.seed_games(rt)
    async with rt.database.transaction() as db:
        assert await register_demo_provider(db, demo_provider.public_key_pem, f"{demo_provider.base}/play")
        game_id = await db.scalar(
            select(col(Game.id))
            .join(Provider, col(Provider.id) == col(Game.provider_id))
            .where(col(Provider.code) == "demo", col(Game.code) == game_code)
        )
        token = secrets.token_urlsafe(32)
        db.add(
            GameSession(
                token=token,
                mode="real",
                player_id=player.uuid,
                brand_id=brand.id,
                game_id=game_id,
                currency="EUR",
                expires_at=clock.now() + timedelta(hours=1),
            )
        )
    return token


async def cash(rt: Any, player: Any) -> Decimal:
    async with rt.database.session() as db:
        balances = await wallet.balances(db, player.uuid)
    return Decimal(next(b.cash for b in balances if b.currency == "EUR")) / 100


async def test_demo_slot_rounds_move_the_balance_by_wins_minus_bets(rt, demo_provider, make_player, brand) -> None:
    player = await make_player(balance="100.00 EUR")
    token = await launch(rt, demo_provider, player, brand, fair.SLOT)

    async with httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as http:
        page = await http.get(
            "/play",
            params={"token": token, "game": fair.SLOT, "mode": "real", "currency": "EUR", "user": str(player.uuid)},
        )
        assert page.status_code == 200
        assert "100.00" in page.text
        rounds = []
        for _ in range(25):
            answer = (await http.post("/api/spin", json={"token": token, "game": fair.SLOT, "bet": "0.40"})).json()
            assert answer["status"] == "RS_OK", answer
            rounds.append(answer)
        calls = (await http.get("/control/calls")).json()

    net = sum(Decimal(r["win"]) - Decimal(r["bet"]) for r in rounds)
    assert await cash(rt, player) == Decimal("100.00") + net
    assert Decimal(rounds[-1]["balance"]) == Decimal("100.00") + net  # what the wallet answered last
    assert {c["status"] for c in calls if c["body"].find(token) >= 0} == {"RS_OK"}
    assert all(signature_valid(demo_provider.public_key_pem, c["body"].encode(), c["signature"]) for c in calls)
    async with rt.database.session() as db:
        books = await ledger.verify(db)
    assert books.ok, books.discrepancies


async def test_a_bet_beyond_the_balance_is_refused_and_moves_nothing(rt, demo_provider, make_player, brand) -> None:
    player = await make_player(balance="1.00 EUR")
    token = await launch(rt, demo_provider, player, brand, fair.DICE)

    async with httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as http:
        await http.get("/play", params={"token": token, "game": fair.DICE, "currency": "EUR", "user": str(player.uuid)})
        before = (await http.get("/api/session", params={"token": token})).json()
        answer = (
            await http.post("/api/spin", json={"token": token, "game": fair.DICE, "bet": "5.00", "target": 5000})
        ).json()
        after = (await http.get("/api/session", params={"token": token})).json()
    assert (answer["status"], answer["balance"]) == ("RS_ERROR_NOT_ENOUGH_MONEY", "1.00")
    assert after["nonce"] == before["nonce"]  # a refused bet plays no round
    assert await cash(rt, player) == Decimal("1.00")


async def test_a_players_open_balance_subscription_sees_each_round(
    rt, live_server, demo_provider, make_player, brand
) -> None:
    player = await make_player(balance="10.00 EUR")
    token = await launch(rt, demo_provider, player, brand, fair.DICE)
    query = "subscription { balanceChanged { kind balances { currency cash { amount } } } }"
    async with (
        subscription(live_server, player.token, query) as socket,
        httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as http,
    ):
        assert (await next_data(socket))["balanceChanged"]["kind"] == "snapshot"
        await http.get("/play", params={"token": token, "game": fair.DICE, "currency": "EUR", "user": str(player.uuid)})
        played = (
            await http.post("/api/spin", json={"token": token, "game": fair.DICE, "bet": "1.00", "target": 9800})
        ).json()
        bet = (await next_data(socket))["balanceChanged"]
        while bet["kind"] == "adjustment":  # the funding's own change, relayed after the snapshot on a busy machine
            bet = (await next_data(socket))["balanceChanged"]
        assert bet == {"kind": "game_bet", "balances": [{"currency": "EUR", "cash": {"amount": "9.00"}}]}
        if Decimal(played["win"]) > 0:
            win = (await next_data(socket))["balanceChanged"]
            assert win["kind"] == "game_win"
            assert win["balances"][0]["cash"]["amount"] == played["balance"]
