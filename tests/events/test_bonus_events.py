"""Bonuses: one `bonus.<what happened>` event per change of status — issued, activated, completed, forfeited,
expired, cancelled, released — beside the `ledger.bonus_*` event of the money it moved, in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from strawberry import relay

from core.clock import clock
from services.bonuses import lifecycle
from tests.bonuses.conftest import CLAIM, rules
from tests.cashier.conftest import CARD, DECLINED_CARD
from tests.events.conftest import Outbox, one, types
from tests.events.test_money_events import _launch

EUR = 100_000  # Hub88 units
FORFEIT = "mutation($input: EndBonusInput!) { forfeitBonus(input: $input) { errors { code } } }"
CANCEL = "mutation($input: EndBonusInput!) { cancelBonus(input: $input) { errors { code } } }"
GRANT = """
mutation($input: GrantBonusInput!) { grantBonus(input: $input) { bonus { id } errors { code field } } }"""
DEPOSIT = """
mutation($input: DepositInput!) { deposit(input: $input) { payment { id status } errors { code } } }"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) { payment { status } errors { code } } }"""


def _node(global_id: str) -> str:
    return str(relay.GlobalID.from_id(global_id).node_id)


async def _claim(gql: Any, player: Any, code: str) -> str:
    claimed = (await gql(CLAIM, {"input": {"code": code}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    return str(claimed["bonus"]["id"])


async def test_a_claim_issues_and_activates_and_a_forfeit_ends_the_bonus(
    rt: Any, gql: Any, make_player: Any, campaign: Any, brand: Any
) -> None:
    campaign_id = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    player = await make_player()
    outbox = Outbox(rt)
    await outbox.skip()
    bonus_id = await _claim(gql, player, "FREE10")
    got = await outbox.new()
    assert types(got) == ["bonus.issued", "ledger.bonus_grant", "bonus.activated"]
    issued, granted, activated = got
    common = {
        "bonus_id": issued.data["bonus_id"],
        "campaign_id": issued.data["campaign_id"],
        "player_id": str(player.uuid),
        "kind": "no_deposit",
        "currency": "EUR",
    }
    assert issued.data == {
        **common,
        "status": "issued",
        "amount": 0,
        "wagering_required": 0,
        "wagering_done": 0,
        "origin": "claim",
        "claim_number": 1,
        "expires_at": issued.data["expires_at"],
    }
    assert activated.data == {
        **common,
        "status": "active",
        "amount": 1_000,
        "wagering_required": 2_000,  # 2 x the bonus
        "wagering_done": 0,
        "deposit_amount": 0,
        "free_rounds": 0,
        "expires_at": activated.data["expires_at"],
    }
    assert (granted.data["bonus"], granted.data["reference_id"]) == (1_000, issued.data["bonus_id"])
    assert {e.brand for e in got} == {brand.id}
    assert (common["campaign_id"], common["bonus_id"]) == (_node(campaign_id), _node(bonus_id))

    assert (await gql(FORFEIT, {"input": {"bonusId": bonus_id}}, token=player.token))["data"]["forfeitBonus"][
        "errors"
    ] == []
    got = await outbox.new()
    assert types(got) == ["ledger.bonus_forfeit", "bonus.forfeited"]
    assert got[1].data == {
        **common,
        "status": "forfeited",
        "amount": 1_000,
        "wagering_required": 2_000,
        "wagering_done": 0,
        "returned": 1_000,
        "cause": "player",
    }


async def test_a_grant_and_a_cancellation_by_staff_carry_their_id_never_their_reason(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    campaign_id = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}))
    player = await make_player()
    support = await make_staff("support")
    outbox = Outbox(rt)
    await outbox.skip()
    ask = {"playerId": player.id, "campaignId": campaign_id, "reason": "goodwill after a call with Mr Sørensen"}
    granted = (await gql(GRANT, {"input": ask}, token=support.token))["data"]["grantBonus"]
    assert granted["errors"] == [], granted
    got = await outbox.new()
    assert types(got) == ["bonus.issued", "ledger.bonus_grant", "bonus.activated"]
    assert (got[0].data["origin"], got[0].data["staff_id"]) == ("staff", str(support.id))

    ask = {"bonusId": granted["bonus"]["id"], "reason": "abuse; see the ticket from Mr Sørensen"}
    assert (await gql(CANCEL, {"input": ask}, token=support.token))["data"]["cancelBonus"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["ledger.bonus_cancel", "bonus.cancelled"]
    cancelled = got[1].data
    assert (cancelled["status"], cancelled["returned"], cancelled["cause"], cancelled["staff_id"]) == (
        "cancelled",
        1_000,
        "staff",
        str(support.id),
    )
    assert all("Sørensen" not in str(e.envelope) for e in await outbox.all())


async def test_wagering_met_completes_the_bonus_in_the_bet_path(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, aggregator: Any, campaign: Any
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, wagering_multiplier=1, max_bet={}), code="ONE")
    player = await make_player(balance="10.00 EUR")
    await _claim(gql, player, "ONE")
    seat = await _launch(rt, gql, player, hub88_provider)
    outbox = Outbox(rt)
    await outbox.skip()
    bet = seat.bet(10 * EUR, closed=False)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert types(await outbox.new()) == ["ledger.game_bet"]  # met, but a win may still come for the round
    assert (await aggregator.call("transaction/win", seat.win(0, bet["transaction_uuid"], closed=True)))[
        "status"
    ] == "RS_OK"
    got = await outbox.new()
    assert [t for t in types(got) if t != "ledger.game_win"] == ["ledger.bonus_conversion", "bonus.completed"]
    completed = one(got, "bonus.completed").data
    assert (completed["status"], completed["converted"], completed["capped"], completed["wagering_done"]) == (
        "completed",
        1_000,
        0,
        1_000,
    )


async def test_a_rollback_of_the_stake_a_conversion_rested_on_reopens_the_bonus(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, aggregator: Any, campaign: Any
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, wagering_multiplier=1, max_bet={}), code="ONE")
    player = await make_player()
    await _claim(gql, player, "ONE")
    seat = await _launch(rt, gql, player, hub88_provider)
    outbox = Outbox(rt)
    await outbox.skip()
    bet = seat.bet(10 * EUR, closed=True)  # the whole bonus staked: wagering met, converts (nothing left)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert types(await outbox.new()) == ["ledger.game_bet", "bonus.completed"]
    assert (await aggregator.call("transaction/rollback", seat.rollback(bet["transaction_uuid"])))["status"] == "RS_OK"
    got = await outbox.new()
    assert types(got) == ["ledger.game_bet_rollback", "bonus.reopened"]
    assert (got[0].data["bonus"], got[1].data["status"], got[1].data["wagering_done"]) == (1_000, "active", 0)


async def test_a_bonus_past_its_expiry_expires_with_its_money(
    rt: Any, gql: Any, make_player: Any, campaign: Any
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, days_to_wager=3), code="SHORT")
    player = await make_player()
    await _claim(gql, player, "SHORT")
    outbox = Outbox(rt)
    await outbox.skip()
    clock.advance(timedelta(days=4))
    assert await lifecycle.expire_due(rt) == 1  # the bonus worker's step (`croupier bonuses expire`)
    got = await outbox.new()
    assert types(got) == ["ledger.bonus_expiry", "bonus.expired"]
    assert (got[1].data["status"], got[1].data["returned"]) == ("expired", 1_000)


async def test_a_deposit_offer_is_issued_with_its_deposit_and_released_when_the_deposit_fails(
    rt: Any, gql: Any, make_player: Any, campaign: Any, psp: Any
) -> None:
    await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}), code="WELCOME")
    player = await make_player()
    outbox = Outbox(rt)
    await outbox.skip()

    async def deposit(card: str) -> dict[str, Any]:
        ask = {
            "amount": "20.00",
            "currency": "EUR",
            "method": "CARD",
            "pspToken": await psp.tokenise(card),
            "bonusCode": "WELCOME",
        }
        payload: dict[str, Any] = (await gql(DEPOSIT, {"input": ask}, token=player.token))["data"]["deposit"]
        return payload

    failed = await deposit(DECLINED_CARD)
    assert failed["payment"]["status"] == "FAILED"
    got = await outbox.new()
    issued, released = one(got, "bonus.issued"), one(got, "bonus.released")
    assert (issued.data["origin"], issued.data["status"]) == ("deposit", "issued")
    assert released.data["payment_id"] == issued.data["payment_id"]
    assert (released.data["bonus_id"], released.data["status"]) == (issued.data["bonus_id"], "released")
    assert issued.id < released.id

    paid = await deposit(CARD)
    assert paid["payment"]["status"] == "SUCCEEDED"
    got = await outbox.new()
    assert [t for t in types(got) if t.startswith("bonus.")] == ["bonus.issued", "bonus.activated"]
    activated = one(got, "bonus.activated").data
    assert (activated["kind"], activated["amount"], activated["deposit_amount"]) == ("deposit_match", 2_000, 2_000)
    assert one(got, "ledger.bonus_grant").data["bonus"] == 2_000

    ask = {"amount": "5.00", "currency": "EUR", "method": "BANK_TRANSFER", "forfeitBonuses": True}
    assert (await gql(WITHDRAW, {"input": ask}, token=player.token))["data"]["requestWithdrawal"]["errors"] == []
    got = await outbox.new()
    forfeited = one(got, "bonus.forfeited").data
    assert (forfeited["cause"], forfeited["returned"]) == ("withdrawal", 2_000)
    assert one(got, "ledger.bonus_forfeit").data["bonus"] == -2_000


async def test_a_cashback_paid_in_cash_is_a_bonus_issued_and_completed_at_once(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, hub88_provider: Any, aggregator: Any, campaign: Any
) -> None:
    from tests.bonuses.test_cashback import PAY, cashback_rules

    offer = await campaign("CASHBACK", cashback_rules())
    player = await make_player(balance="50.00 EUR")
    seat = await _launch(rt, gql, player, hub88_provider)
    bet = seat.bet(40 * EUR, round_ref="r-1")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/win", seat.win(0, bet["transaction_uuid"])))["status"] == "RS_OK"
    clock.advance(timedelta(days=7))  # the campaign's first week has closed
    outbox = Outbox(rt)
    await outbox.skip()
    finance = await make_staff("finance")
    paid = (await gql(PAY, {"input": {"campaignId": offer}}, token=finance.token))["data"]["payCashback"]
    assert (paid["errors"], paid["run"]["playersPaid"]) == ([], 1)
    got = await outbox.new()
    assert types(got) == ["bonus.issued", "ledger.bonus_cash", "bonus.completed"]
    issued, cash, completed = got
    assert (issued.data["origin"], issued.data["kind"], issued.data["period"]) == (
        "cashback",
        "cashback",
        paid["run"]["periodStart"] + ".." + paid["run"]["periodEnd"],
    )
    assert (cash.data["cash"], completed.data["converted"]) == (400, 400)  # 10 % of 40.00 lost
