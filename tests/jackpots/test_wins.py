"""Wins a provider reports (Hub88's contract has no jackpot field: the provider reports through the signed
path, here its service call and the CLI), paid once even when triggers race; a network pool across two brands
and two currencies, contributions converted at the stated rate and recorded."""

from __future__ import annotations

import asyncio
import uuid
from fractions import Fraction
from typing import Any

from core.errors import DomainError
from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import RATES, bet
from tests.providers.conftest import cash


async def _report(rt: Any, pool_id: uuid.UUID, player_id: uuid.UUID, reference: str, generation: int | None) -> Any:
    from services.jackpots import admin

    async with rt.database.transaction() as db:
        return await admin.report_provider_win(
            db, pool_id=pool_id, player_id=player_id, provider="hub88", reference=reference, rates=RATES,
            generation=generation,
        )  # fmt: skip


async def test_concurrent_triggers_of_one_pot_pay_exactly_one_winner(
    rt: Any, brand: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("mega", 50_000, 0, "provider")], brands=[brand.id], type_="fixed")
    pool = jackpot.pools[0]
    seats = [await player_at_game(balance=100) for _ in range(5)]
    outcomes = await asyncio.gather(
        *(_report(rt, pool.id, seat.player_id, f"win-{n}", 1) for n, seat in enumerate(seats)),
        return_exceptions=True,
    )
    paid = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(paid) == 1, outcomes
    assert len(refused) == 4
    assert {r.code.value for r in refused} == {"INVALID_STATE"}
    [win] = paid
    assert (win.amount, win.paid_amount, win.generation) == (50_000, 50_000, 1)
    balances = [await cash(rt, seat.player_id) for seat in seats]
    assert sorted(balances) == [100, 100, 100, 100, 50_100]
    row = await jackpots.pool(pool.id)
    assert (row["generation"], row["amount"], row["won_total"]) == (2, 50_000, 50_000)  # reseeded

    # The winner's report retried: the same win, nothing paid again.
    winner = next(seat for seat in seats if seat.player_id == win.player_id)
    again = await _report(rt, pool.id, winner.player_id, win.reference.split(":", 1)[1], 1)
    assert again.id == win.id
    assert await cash(rt, winner.player_id) == 50_100


async def test_a_network_pool_takes_two_brands_stakes_in_two_currencies_at_the_stated_rate(
    rt: Any, brand: Any, other_brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(
        levels=[LevelSpec("grand", 10_000, 10_000, "amount", 10**15), LevelSpec("daily", 5_000, 0, "provider")],
        brands=[brand.id, other_brand.id],
        kind="network",
        code="network-grand",
    )
    grand, daily = jackpot.pools
    euro = await player_at_game(balance=100_000)
    krona = await player_at_game(balance=1_000_000, currency="SEK", brand_code="northstar", country="SE")
    await bet(aggregator, euro, 10_000)  # 100.00 EUR: 1.00 EUR at 1%
    await bet(aggregator, krona, 100_000)  # 1000.00 SEK = 87.00 EUR at 0.087: 0.87 EUR
    await jackpots.drain()
    row = await jackpots.pool(grand.id)
    assert row["amount"] == 10_000 + 100 + 87
    stakes = {
        r["currency"]: (r["stake"], r["stake_base"], r["fx_rate"])
        for r in await jackpots.conn.fetch("SELECT * FROM jackpot_stakes WHERE jackpot_id = $1", jackpot.id)
    }
    assert stakes == {"EUR": (10_000, 10_000, "1"), "SEK": (100_000, 8_700, str(Fraction("0.087")))}
    # Each brand's funding account paid its own stakes' share, in the pool's currency.
    funded = {
        r["owner_id"]: r["total"]
        for r in await jackpots.conn.fetch(
            "SELECT a.owner_id, sum(p.amount) AS total FROM ledger_postings p JOIN ledger_accounts a "
            "ON a.id = p.account_id WHERE a.purpose = 'jackpot_funding' GROUP BY a.owner_id"
        )
    }
    assert funded == {str(brand.id): -100, str(other_brand.id): -87}

    # A provider's win on the daily pot, to the krona player: 50.00 EUR paid in SEK at the stated rate, through
    # the brand's funding accounts in both currencies (the ledger balances per currency).
    before = await cash(rt, krona.player_id, "SEK")
    win = await _report(rt, daily.id, krona.player_id, "daily-1", 1)
    assert (win.amount, win.paid_currency, win.paid_amount) == (5_000, "SEK", 5_000 * 1000 // 87)
    assert win.fx_rate == str(Fraction(1000, 87))
    assert await cash(rt, krona.player_id, "SEK") == before + 57_471


async def test_a_provider_reports_a_jackpot_win_over_its_signed_rest_route(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, stranger_key: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("mega", 20_000, 0, "provider")], brands=[brand.id], type_="fixed")
    pool = jackpot.pools[0]
    seat = await player_at_game(balance=100)
    body = {"pool_id": str(pool.id), "user": str(seat.player_id), "reference": "jp-77", "generation": 1}
    forged = await aggregator.call("jackpot/win", body, key=stranger_key)
    assert forged["status"] == "RS_ERROR_INVALID_SIGNATURE"
    assert await cash(rt, seat.player_id) == 100
    answer = await aggregator.call("jackpot/win", body)
    assert (answer["status"], answer["amount"], answer["paid_amount"], answer["paid_currency"]) == (
        "RS_OK", 20_000, 20_000, "EUR",
    )  # fmt: skip
    again = await aggregator.call("jackpot/win", body)  # the provider retries: the same win, nothing paid
    assert (again["status"], again["win_id"]) == ("RS_OK", answer["win_id"])
    late = await aggregator.call("jackpot/win", {**body, "reference": "jp-78"})
    assert late["status"] == "RS_ERROR_JACKPOT_ALREADY_WON"
    assert (await aggregator.call("jackpot/win", {"pool_id": "nope"}))["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert await cash(rt, seat.player_id) == 20_100
