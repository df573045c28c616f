"""Live operations figures: the SQL behind them (services/dashboard.py) and the `operationsFeed`
subscription on a second server process, pushed when money moves, throttled, with a heartbeat."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.clock import clock
from models.ledger import AccountPurpose
from services import dashboard, ledger, wallet
from services.ledger import Entry, Leg
from tests.conftest import fund
from tests.live.conftest import next_data, receive, refusal_codes, subscription

FEED = """
subscription { operationsFeed { at trigger betsPerMinute winsPerMinute activePlayers
                                ggrToday { amount currency } depositsToday { amount currency } } }"""


async def game_move(rt: Any, player_id: uuid.UUID, kind: str, to_cash: int, currency: str = "EUR") -> None:
    """A bet (negative) or win (positive) booked as the provider wallet books them: cash against house revenue."""
    async with rt.database.transaction() as db:
        player = await wallet._player(db, player_id)
        accounts = await wallet.player_accounts(db, player.id, player.brand_id, currency)
        house = await wallet.operator_account(db, player.brand_id, AccountPurpose.HOUSE_REVENUE, currency)
        (
            await ledger.record(
                db,
                Entry(
                    idempotency_key=f"test:{uuid.uuid4()}",
                    kind=kind,
                    legs=(Leg(accounts.cash, to_cash), Leg(house, -to_cash)),
                    actor_type="system",
                    brand_id=player.brand_id,
                    player_id=player.id,
                ),
            )
        ).raise_if_refused()


async def figures(rt: Any, brand_id: uuid.UUID | None, now: datetime) -> dashboard.Figures:
    async with rt.database.session() as db:
        return await dashboard.figures(db, brand_id, now)


async def test_figures_count_the_last_minute_and_sum_today_per_brand(rt, make_player, brand, other_brand) -> None:
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    clock.advance(noon - clock.now() - timedelta(days=1))  # yesterday: outside "today"
    alice = await make_player()
    await fund(rt, alice, "500.00 EUR", deposit=True)
    await game_move(rt, alice.uuid, "game_bet", -50_00)
    clock.advance(timedelta(days=1) - timedelta(minutes=5))  # today 11:55
    bob = await make_player()
    await fund(rt, bob, "100.00 EUR", deposit=True)
    await game_move(rt, bob.uuid, "game_bet", -10_00)
    clock.advance(timedelta(minutes=5))  # today 12:00
    await game_move(rt, alice.uuid, "game_bet", -20_00)
    await game_move(rt, alice.uuid, "game_bet", -5_00)
    await game_move(rt, alice.uuid, "game_win", 12_50)
    nordic = await make_player(brand_code="northstar", country="SE", currency="SEK")
    await fund(rt, nordic, "300.00 SEK", deposit=True)
    await game_move(rt, nordic.uuid, "game_bet", -30_00, "SEK")

    royal = await figures(rt, brand.id, noon + timedelta(seconds=30))
    assert (royal.bets_per_minute, royal.wins_per_minute) == (2, 1)
    assert royal.active_players == 2  # alice now, bob five minutes ago (within 15)
    assert royal.ggr_today == {"EUR": 10_00 + 20_00 + 5_00 - 12_50}  # yesterday's bet is not today's
    assert royal.deposits_today == {"EUR": 100_00}

    everyone = await figures(rt, None, noon + timedelta(seconds=30))
    assert (everyone.bets_per_minute, everyone.active_players) == (3, 3)
    assert everyone.ggr_today == {"EUR": 22_50, "SEK": 30_00}
    assert everyone.deposits_today == {"EUR": 100_00, "SEK": 300_00}

    later = await figures(rt, brand.id, noon + timedelta(minutes=11))  # bob left the 15 minutes
    assert (later.bets_per_minute, later.wins_per_minute, later.active_players) == (0, 0, 1)
    assert later.ggr_today == royal.ggr_today


async def test_staff_feed_starts_with_figures_and_updates_when_money_moves(
    live_server, rt, client, make_player, make_staff
) -> None:
    player = await make_player()
    client.cookies.clear()
    staff = await make_staff("finance")
    async with subscription(live_server, staff.token, FEED, brand="royal") as socket:
        initial = (await next_data(socket))["operationsFeed"]
        assert initial["trigger"] == "initial"
        assert (initial["activePlayers"], initial["depositsToday"], initial["ggrToday"]) == (0, [], [])

        await fund(rt, player, "25.00 EUR", deposit=True)
        await game_move(rt, player.uuid, "game_bet", -2_00)
        update = (await next_data(socket, 5))["operationsFeed"]
        while update["betsPerMinute"] == 0:  # the deposit may have been pushed on its own first
            update = (await next_data(socket, 5))["operationsFeed"]
        assert update["trigger"] == "activity"
        assert update["depositsToday"] == [{"amount": "25.00", "currency": "EUR"}]
        assert update["ggrToday"] == [{"amount": "2.00", "currency": "EUR"}]
        assert (update["betsPerMinute"], update["activePlayers"]) == (1, 1)


async def test_feed_is_throttled_to_one_update_a_second_and_ignores_other_brands(
    live_server, rt, client, make_player, make_staff, other_brand
) -> None:
    player = await make_player()
    nordic = await make_player(brand_code="northstar", country="SE", currency="SEK")
    client.cookies.clear()
    staff = await make_staff("support")
    async with subscription(live_server, staff.token, FEED, brand="royal") as socket:
        assert (await next_data(socket))["operationsFeed"]["trigger"] == "initial"
        await fund(rt, nordic, "100.00 SEK", deposit=True)  # another brand: no update for royal's feed
        for _ in range(6):
            await fund(rt, player, "1.00 EUR", deposit=True)
        updates: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3.5
        while loop.time() < deadline:
            try:
                message = await receive(socket, deadline - loop.time())
            except TimeoutError:
                break
            updates.append(message["payload"]["data"]["operationsFeed"])
        activity = [u for u in updates if u["trigger"] == "activity"]
        assert 1 <= len(activity) <= 3, updates  # six deposits in well under a second: coalesced
        assert activity[-1]["depositsToday"] == [{"amount": "6.00", "currency": "EUR"}]
        stamps = [datetime.fromisoformat(u["at"]) for u in updates]
        assert all(b - a >= timedelta(seconds=0.95) for a, b in itertools.pairwise(stamps)), stamps

        heartbeat = (await next_data(socket, 7))["operationsFeed"]  # nothing moves: still a pulse within 5 s
        assert heartbeat["trigger"] == "heartbeat"
        assert heartbeat["depositsToday"] == [{"amount": "6.00", "currency": "EUR"}]


async def test_players_have_no_operations_feed(live_server, make_player) -> None:
    player = await make_player()
    async with subscription(live_server, player.token, FEED) as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]
