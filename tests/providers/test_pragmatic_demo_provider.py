"""End to end: the demo game provider speaking Pragmatic Play's protocol (integrations/demo/provider/pragmatic.py)
plays rounds against the platform's wallet over HTTP (the two apps joined by an ASGI transport): authenticate,
bet, result, endRound per round; then the async wins it sends on its own reach the player after their session
ended. The balance moves by wins minus bets, and the books stay verified (conftest, after every test)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text

from integrations.demo.provider import fair
from integrations.demo.provider.pragmatic import hash_of, mount
from models.games import Game
from tests.providers.conftest import cash, open_session
from tests.providers.pragmatic_fixtures import PRAGMATIC, PRAGMATIC_SECRET


async def _demo_provider(app: Any, pragmatic_provider: Any, rt: Any) -> httpx.AsyncClient:
    async with rt.database.transaction() as db:
        db.add(
            Game(
                provider_id=pragmatic_provider.id,
                code=fair.SLOT,
                title="Demo Slot",
                type="slot",
                rtp_basis_points=9633,
                volatility="medium",
                currencies=["EUR"],
            )
        )
    demo = FastAPI()
    platform = httpx.ASGITransport(app=app)
    mount(
        demo,
        platform_url="http://croupier.test",
        secret=PRAGMATIC_SECRET,
        code=PRAGMATIC,
        control=True,
        transport=platform,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=demo), base_url="http://demo-provider.test")


async def test_the_demo_provider_plays_rounds_and_sends_async_wins_in_pragmatic_play_s_protocol(
    app: Any, rt: Any, make_player: Any, pragmatic_provider: Any
) -> None:
    player = await make_player(balance="50.00 EUR")
    async with await _demo_provider(app, pragmatic_provider, rt) as demo:
        async with rt.database.session() as db:
            game_id = (await db.execute(select(Game.id).where(Game.code == fair.SLOT))).scalar_one()
        token = await open_session(rt, pragmatic_provider, player.uuid)
        async with rt.database.transaction() as db:  # the launch was of the demo slot
            await db.execute(text("UPDATE game_sessions SET game_id = :g WHERE token = :t"), {"g": game_id, "t": token})
        rounds = []
        for _ in range(12):
            answer = (
                await demo.post("/pragmatic/api/spin", json={"token": token, "game": fair.SLOT, "bet": "0.40"})
            ).json()
            assert answer["error"] == 0, answer
            rounds.append(answer)
        net = sum(Decimal(r["win"]) - Decimal(r["bet"]) for r in rounds)
        assert Decimal(str(rounds[-1]["cash"])) == Decimal("50.00") + net  # what the wallet answered last
        assert Decimal(await cash(rt, player.uuid)) / 100 == Decimal("50.00") + net

        async with rt.database.transaction() as db:  # the player logs out: their game session ends
            await db.execute(text("UPDATE game_sessions SET ended_at = now() WHERE token = :t"), {"t": token})
        for method, amount in (("bonusWin", "2.00"), ("jackpotWin", "25.00"), ("promoWin", "1.50")):
            award = await demo.post(
                "/pragmatic/control/award", json={"method": method, "userId": str(player.uuid), "amount": amount}
            )
            assert award.json()["error"] == 0, award.json()
        assert Decimal(await cash(rt, player.uuid)) / 100 == Decimal("50.00") + net + Decimal("28.50")

        calls = (await demo.get("/pragmatic/control/calls")).json()
    methods = [c["method"] for c in calls]
    assert methods[:4] == ["authenticate", "bet", "result", "endRound"]
    assert methods.count("bet") == 12
    assert {c["error"] for c in calls} == {0}


def test_the_demo_provider_hashes_as_the_platform_checks() -> None:
    from integrations.pragmatic_wire import compute_hash

    params = {"providerId": "PragmaticPlay", "userId": "42", "amount": "1.00", "reference": "r-1"}
    assert hash_of(params, "key") == compute_hash(params, "key")
    assert hash_of({**params, "hash": "ignored"}, "key") == compute_hash(params, "key")
