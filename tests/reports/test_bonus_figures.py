"""Bonus money in the reports, as the ledger moves it: a bonus stake goes from the bonus balance to the
house (turnover, so GGR), a grant from the bonus cost to the bonus balance, a free round's win from the
bonus cost (not the house), a conversion above its cap and an expiry back to the bonus cost. NGR is
then what the operator really gave away."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from core.clock import clock
from services.bonuses.lifecycle import expire_due
from services.reports import kpis
from services.reports.periods import Period
from tests.bonuses.conftest import CLAIM, bonus_balance, rules
from tests.conftest import fund
from tests.providers.conftest import Aggregator, Seat, open_session
from tests.reports.conftest import EUR, Reports

MONDAY = date(2027, 2, 1)


async def holder(rt: Any, gql: Any, make_player: Any, hub88_provider: Any, code: str) -> tuple[Seat, str | None]:
    """A new player at the table, holding the bonus of campaign `code` (and its free rounds' reward id)."""
    player = await make_player()
    claimed = (await gql(CLAIM, {"input": {"code": code}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    token = await open_session(rt, hub88_provider, player.uuid, ttl=timedelta(days=30))
    return Seat(str(player.uuid), player.uuid, token), claimed["bonus"]["rewardUuid"]


async def ok(aggregator: Aggregator, endpoint: str, body: dict[str, Any]) -> None:
    answer = await aggregator.call(endpoint, body)
    assert answer["status"] == "RS_OK", answer


async def test_bonus_stakes_grants_free_round_wins_caps_and_expiries_make_ngr(
    rt: Any,
    gql: Any,
    reports: Reports,
    make_player: Any,
    campaign: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    clock.advance(datetime.combine(MONDAY, time(12), UTC) - clock.now())
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, days_to_wager=3), code="FREE10")
    await campaign(
        "NO_DEPOSIT",
        rules(fixed_amount={"EUR": "10.00"}, wagering_multiplier=1, max_conversion={"EUR": "5.00"}, max_bet={}),
        code="CAP5",
    )
    await campaign(
        "FREE_SPINS",
        {"free_spins": 2, "spin_bet": {"EUR": "1.00"}, "games": ["slot-fortune"], "wagering_multiplier": 1},
        code="SPINS",
    )
    # Expires: stakes 4.00 and 1.00 (rolled back) of bonus money, wins 6.00 into the bonus; 12.00 goes back.
    expiring, _ = await holder(rt, gql, make_player, hub88_provider, "FREE10")
    bet = expiring.bet(4 * EUR, round_ref="x-1")
    await ok(aggregator, "transaction/bet", bet)
    await ok(aggregator, "transaction/win", expiring.win(6 * EUR, bet["transaction_uuid"], round_ref="x-1"))
    undone = expiring.bet(1 * EUR, round_ref="x-2")
    await ok(aggregator, "transaction/bet", undone)
    await ok(aggregator, "transaction/rollback", expiring.rollback(undone["transaction_uuid"], round_ref="x-2"))
    assert await bonus_balance(rt, expiring.player_id) == (0, 12_00)
    # Converts: a 10.00 bonus stake wins 30.00; 5.00 becomes cash, 25.00 goes back above the cap.
    capped, _ = await holder(rt, gql, make_player, hub88_provider, "CAP5")
    bet = capped.bet(10 * EUR, round_ref="z-1")
    await ok(aggregator, "transaction/bet", bet)
    await ok(aggregator, "transaction/win", capped.win(30 * EUR, bet["transaction_uuid"], round_ref="z-1"))
    assert await bonus_balance(rt, capped.player_id) == (5_00, 0)
    # A free round wins 3.00 of bonus money, paid by the bonus cost: no stake, nothing from the house.
    spinner, reward = await holder(rt, gql, make_player, hub88_provider, "SPINS")
    free = spinner.bet(EUR, is_free=True, reward_uuid=reward, round_ref="y-1")
    await ok(aggregator, "transaction/bet", free)
    await ok(aggregator, "transaction/win", spinner.win(3 * EUR, free["transaction_uuid"], round_ref="y-1"))
    assert await bonus_balance(rt, spinner.player_id) == (0, 3_00)

    clock.advance(timedelta(days=3, seconds=1))
    assert await expire_due(rt) == 1
    expired_on = clock.now().astimezone(UTC).date()
    assert expired_on == MONDAY + timedelta(days=3)

    await reports.drain()
    [game] = await reports.rows("report_game_days")
    assert {k: v for k, v in game.items() if isinstance(v, int)} == {
        "stakes_cash": 0,
        "stakes_bonus": 14_00,
        "wins_cash": 0,
        "wins_bonus": 36_00,  # the free round's 3.00 is not the house's: it is bonus cost
        "bet_count": 3,  # free rounds stake nothing
        "win_count": 3,
        "rollback_count": 1,
        "stakes_rolled_back": 1_00,
        "wins_rolled_back": 0,
    }
    money = {row["day"]: row for row in await reports.rows("report_cashier_days")}
    bonus = ("bonus_granted", "bonus_cash", "bonus_game", "bonus_converted", "bonus_capped", "bonus_expired")
    assert {day: tuple(row[k] for k in bonus) for day, row in money.items()} == {
        MONDAY: (20_00, 0, 3_00, 5_00, 25_00, 0),
        expired_on: (0, 0, 0, 0, 0, 12_00),
    }
    async with rt.database.session() as db:
        [period] = await kpis.figures(
            db, brands=[brand.id], start=MONDAY, end=expired_on, period=Period.MONTH, reporting_currency="EUR"
        )
    [eur] = period.by_currency
    assert (eur.turnover, eur.turnover_bonus, eur.wins, eur.ggr) == (14_00, 14_00, 36_00, -22_00)
    assert (eur.bonus_cost, eur.ngr) == (20_00 + 3_00 - 25_00 - 12_00, -8_00)  # 5.00 cash out, 3.00 held
    assert (eur.active_players, eur.paying_players, eur.arppu) == (2, 0, None)
    assert period.converted == eur  # EUR reported in EUR: nothing to convert
    ngr: dict[Any, int] = defaultdict(int)
    for row in await reports.rows("report_player_days"):
        ngr[row["player_id"]] += row["stakes"] - row["wins"] - row["bonus_cost"]
    assert ngr == {expiring.player_id: 0, capped.player_id: -5_00, spinner.player_id: -3_00}


async def test_a_rolled_back_stake_nets_out_its_own_cash_and_bonus_parts_wherever_the_money_went(
    rt: Any,
    gql: Any,
    reports: Reports,
    make_player: Any,
    campaign: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    """A stake of 3.00 cash and 2.00 bonus money; the bonus converts on other stakes; the stake is rolled
    back and, its bonus gone, all 5.00 come back as cash. The turnover loses 3.00 of cash stakes and 2.00
    of bonus stakes, as staked, not 5.00 of cash as returned."""
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, wagering_multiplier=1, max_bet={}), code="ONE")
    seat, _ = await holder(rt, gql, make_player, hub88_provider, "ONE")
    await fund(rt, seat.player_id, "3.00 EUR")
    early = seat.bet(5 * EUR, round_ref="r-1")  # cash first: 3.00 cash, 2.00 bonus; its round left open
    await ok(aggregator, "transaction/bet", early)
    await fund(rt, seat.player_id, "10.00 EUR")
    await ok(aggregator, "transaction/bet", seat.bet(10 * EUR, round_ref="r-2", closed=True))  # met: converts 8.00
    assert await bonus_balance(rt, seat.player_id) == (8_00, 0)
    await ok(aggregator, "transaction/rollback", seat.rollback(early["transaction_uuid"], round_ref="r-1"))
    assert await bonus_balance(rt, seat.player_id) == (13_00, 0)  # the whole stake back as cash

    await reports.drain()
    [game] = await reports.rows("report_game_days")
    assert (game["stakes_cash"], game["stakes_bonus"], game["stakes_rolled_back"]) == (10_00, 0, 5_00)
    [money] = await reports.rows("report_cashier_days")
    assert (money["bonus_granted"], money["bonus_converted"], money["adjustments"]) == (10_00, 8_00, 13_00)
