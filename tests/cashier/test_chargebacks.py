"""Chargebacks and returned payouts through the demo PSP's signed webhooks: the books, the debt, the dispute,
the restriction; duplicates, any order, races."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import DomainError
from models.disputes import Dispute
from models.kyc import KycState
from services import cashier, wallet
from tests.bonuses.conftest import campaign  # noqa: F401  (fixture: campaigns built by marketing)
from tests.cashier.conftest import (
    DemoPsp,
    assert_ledger_ok,
    balances,
    deliver,
    ledger_count,
    notice,
    player_viewer,
)
from tests.conftest import fund
from tests.providers.conftest import aggregator, aggregator_key, hub88_provider  # noqa: F401  (fixtures)
from tests.rg.conftest import seat_for, u


async def owed(rt: Any, player_uuid: uuid.UUID) -> int:
    async with rt.database.session() as db:
        return (await wallet.owed(db, [player_uuid])).get(player_uuid, {}).get("EUR", 0)


async def disputes_of(rt: Any, player_uuid: uuid.UUID) -> list[Dispute]:
    async with rt.database.session() as db:
        return list((await db.scalars(select(Dispute).where(Dispute.player_id == player_uuid))).all())


async def restricted(rt: Any, player_uuid: uuid.UUID) -> bool:
    async with rt.database.session() as db:
        state = await db.get(KycState, player_uuid)
    return bool(state and state.restricted)


async def test_chargeback_larger_than_the_balance_empties_cash_and_books_the_rest_as_debt(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "100.00")
    await fund(rt, player, -7000)  # spent: 30.00 left
    delivery = await notice(held, payment, rt, "chargeback", reason="fraud")

    response = await deliver(client, delivery)

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "applied"
    assert await balances(rt, player.uuid) == (0, 0)
    assert await owed(rt, player.uuid) == 7000
    [dispute] = await disputes_of(rt, player.uuid)
    assert (dispute.state, dispute.amount, dispute.cash_debited, dispute.debt_booked) == ("open", 10000, 3000, 7000)
    assert dispute.reason_code == "fraud"
    assert [d["payment_id"] for d in dispute.evidence["deposits"]] == [str(payment.id)]
    assert {"sessions", "game_sessions", "rounds", "kyc"} <= dispute.evidence.keys()
    assert await restricted(rt, player.uuid)
    await assert_ledger_ok(rt)


async def test_the_same_chargeback_twice_moves_money_once(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "40.00")
    delivery = await notice(held, payment, rt, "chargeback", id="cb_same")
    again = await notice(held, payment, rt, "chargeback", id="cb_same")  # another event id, same chargeback

    answers = [await deliver(client, d) for d in (delivery, delivery, again)]

    assert [a.json()["result"] for a in answers] == ["applied", "duplicate", "duplicate"]
    assert await balances(rt, player.uuid) == (0, 0)
    assert await owed(rt, player.uuid) == 0
    assert await ledger_count(rt, player.uuid, "chargeback") == 1


async def test_won_dispute_reverses_the_cash_and_the_debt_exactly(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "50.00")
    await fund(rt, player, -3000)
    await deliver(client, await notice(held, payment, rt, "chargeback", id="cb_won"))
    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((0, 0), 3000)

    reversal = await notice(held, payment, rt, "chargeback_reversed", id="cb_won")
    assert (await deliver(client, reversal)).json()["result"] == "applied"
    assert (await deliver(client, reversal)).json()["result"] == "duplicate"

    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((2000, 0), 0)
    [dispute] = await disputes_of(rt, player.uuid)
    assert dispute.state == "won"
    assert await ledger_count(rt, player.uuid, "chargeback_reversal") == 1


async def test_a_reversal_before_its_chargeback_is_kept_and_the_pair_nets_to_nothing(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "25.00")
    chargeback = await notice(held, payment, rt, "chargeback", id="cb_late")
    reversal = await notice(held, payment, rt, "chargeback_reversed", id="cb_late")

    assert (await deliver(client, reversal)).json()["result"] == "applied"
    assert await balances(rt, player.uuid) == (2500, 0)  # nothing booked yet
    assert (await deliver(client, chargeback)).json()["result"] == "applied"

    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((2500, 0), 0)
    [dispute] = await disputes_of(rt, player.uuid)
    assert dispute.state == "won"
    assert dispute.chargeback_transaction_id is not None
    assert dispute.reversal_transaction_id is not None
    assert not await restricted(rt, player.uuid)  # a chargeback already lost by the PSP restricts nothing


async def test_a_later_deposit_repays_the_debt_first(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "60.00")
    await fund(rt, player, -6000)
    await deliver(client, await notice(held, payment, rt, "chargeback"))
    assert await owed(rt, player.uuid) == 6000
    async with rt.database.transaction() as db:  # staff lift the restriction (KYC's own mutation is tested there)
        state = await db.get(KycState, player.uuid)
        assert state is not None
        state.restricted = False

    await card_deposit(player, "100.00")

    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((4000, 0), 0)


async def test_a_chargeback_of_a_deposit_we_never_heard_succeed_credits_it_first(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    from integrations.demo.psp.app import THREE_DS_CARD

    player = await make_player()
    payment = await cashier.deposit(
        rt,
        player_viewer(player, brand),
        amount="20.00",
        currency="EUR",
        method="card",
        psp_token=await held.tokenise(THREE_DS_CARD),
    )
    assert payment.status == "pending"

    answer = await deliver(client, await notice(held, payment, rt, "chargeback"))

    assert answer.json()["result"] == "applied"
    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((0, 0), 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    assert await ledger_count(rt, player.uuid, "chargeback") == 1


async def test_a_chargeback_that_does_not_fit_its_deposit_moves_nothing(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "20.00")
    await deliver(client, await notice(held, payment, rt, "chargeback", amount=1500))

    too_much = await deliver(client, await notice(held, payment, rt, "chargeback", amount=1000))

    assert too_much.json()["result"] == "ignored"
    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((500, 0), 0)
    assert len(await disputes_of(rt, player.uuid)) == 1


async def test_a_returned_payout_puts_the_money_back_once(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    player = await make_player(balance="80.00 EUR")
    payment = await cashier.request_withdrawal(
        rt, player_viewer(player, brand), amount="50.00", currency="EUR", method="bank_transfer"
    )
    assert payment.status == "paid"
    assert await balances(rt, player.uuid) == (3000, 0)
    returned = await notice(held, payment, rt, "payout_returned", reason="account_closed")

    answers = [(await deliver(client, returned)).json()["result"] for _ in range(2)]

    assert answers == ["applied", "duplicate"]
    assert await balances(rt, player.uuid) == (8000, 0)
    async with rt.database.session() as db:
        status = (await db.get(type(payment), payment.id, populate_existing=True)).status
    assert status == "returned"
    assert await ledger_count(rt, player.uuid, "payout_returned") == 1


async def test_a_signed_notice_the_psp_did_not_sign_is_refused(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "20.00")
    delivery = await notice(held, payment, rt, "chargeback")
    forged = {**delivery, "body": delivery["body"].replace('"amount":2000', '"amount":1')}

    assert (await deliver(client, forged)).status_code == 401
    assert await balances(rt, player.uuid) == (2000, 0)


RACERS = 4  # players, each racing their own chargeback at once


@pytest.mark.parametrize("racer", ["bet", "withdrawal"])
async def test_a_chargeback_racing_the_players_spending_never_overdraws(
    rt: Any,
    held: DemoPsp,
    make_player: Any,
    brand: Any,
    client: Any,
    racer: str,
    aggregator: Any,  # noqa: F811  (the fixture imported above)
    hub88_provider: Any,  # noqa: F811
    card_deposit: Any,
) -> None:
    racers = []
    for _ in range(RACERS):
        player = await make_player()
        payment = await card_deposit(player, "100.00")
        # A game opened before the chargeback: its session still takes bets after the restriction.
        seat = await seat_for(rt, hub88_provider, player, balance=0)
        racers.append((player, seat, await notice(held, payment, rt, "chargeback")))

    async def spend(player: Any, seat: Any) -> int:
        """What the racer took from cash (0 when refused)."""
        if racer == "bet":
            answer = await aggregator.call("transaction/bet", seat.bet(u(6000), round_ref=f"r-{player.uuid}"))
            return 6000 if answer["status"] == "RS_OK" else 0
        try:
            await cashier.request_withdrawal(
                rt, player_viewer(player, brand), amount="60.00", currency="EUR", method="bank_transfer"
            )
        except DomainError:  # refused: not enough funds
            return 0
        return 6000

    async def race(player: Any, seat: Any, delivery: dict[str, Any]) -> tuple[int, Any]:
        return await asyncio.gather(spend(player, seat), deliver(client, delivery))

    outcomes = await asyncio.gather(*(race(*r) for r in racers))

    for (player, _, _), (spent, answer) in zip(racers, outcomes, strict=True):
        assert answer.json()["result"] == "applied"
        cash, pending = await balances(rt, player.uuid)
        assert cash >= 0
        assert pending == 0
        # Whoever went first, 100.00 in = what was spent + the chargeback's cash part + what is left, and the
        # rest of the chargeback is owed.
        [dispute] = await disputes_of(rt, player.uuid)
        assert spent + dispute.cash_debited + cash == 10000
        assert await owed(rt, player.uuid) == dispute.debt_booked == 10000 - dispute.cash_debited
        assert await ledger_count(rt, player.uuid, "chargeback") == 1
    await assert_ledger_ok(rt)


async def test_a_chargeback_forfeits_the_bonus_its_deposit_claimed(
    rt: Any,
    held: DemoPsp,
    make_player: Any,
    brand: Any,
    client: Any,
    campaign: Any,  # noqa: F811
) -> None:
    from models.bonuses import PlayerBonus

    await campaign(code="MATCHBACK")
    player = await make_player()
    payment = await cashier.deposit(
        rt,
        player_viewer(player, brand),
        amount="20.00",
        currency="EUR",
        method="card",
        psp_token=await held.tokenise(),
        bonus_code="MATCHBACK",
    )
    assert payment.status == "succeeded"
    async with rt.database.session() as db:
        [bonus] = (await db.scalars(select(PlayerBonus).where(PlayerBonus.player_id == player.uuid))).all()
    assert bonus.status == "active"

    await deliver(client, await notice(held, payment, rt, "chargeback"))

    async with rt.database.session() as db:
        ended = await db.get(PlayerBonus, bonus.id, populate_existing=True)
        bonus_money = (await wallet.balances(db, player.uuid))[0].bonus
    assert ended is not None
    assert ended.status == "forfeited"
    assert bonus_money == 0
    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((0, 0), 0)


async def test_with_the_setting_off_a_deposit_goes_to_cash_whole_and_the_debt_waits(
    rt: Any, held: DemoPsp, make_player: Any, brand: Any, client: Any, card_deposit: Any, monkeypatch: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "50.00")
    await fund(rt, player, -5000)
    await deliver(client, await notice(held, payment, rt, "chargeback"))
    async with rt.database.transaction() as db:
        state = await db.get(KycState, player.uuid)
        assert state is not None
        state.restricted = False
    monkeypatch.setattr(rt.settings, "deposits_repay_debt", False)

    await card_deposit(player, "30.00")

    assert (await balances(rt, player.uuid), await owed(rt, player.uuid)) == ((3000, 0), 5000)
