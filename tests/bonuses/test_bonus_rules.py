"""Bonus rules a player or an operator could get around (issue 13, items 5-8): the UK wagering cap measured
against the bonus whatever the base, a refused withdrawal that forfeits nothing, a failed deposit that
releases the offer it quoted, and cashback that recovers what a late rollback over-paid. Through GraphQL,
the demo PSP and signed Hub88 calls; every test ends with the ledger verified (the autouse fixture)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.clock import clock
from tests.bonuses.conftest import CREATE, bonus_balance, bonus_row, rules
from tests.bonuses.test_bonuses import DEPOSIT, EUR, WITHDRAW, _holder
from tests.bonuses.test_cashback import PAY, cashback_rules
from tests.cashier.conftest import CARD, DECLINED_CARD, THREE_DS_CARD, DemoPsp, deliver
from tests.conftest import LOGIN, PASSWORD
from tests.providers.conftest import Aggregator, Seat, open_session

HISTORY = """
{ me { bonuses { status kind amount { amount } wagering { required { amount } }
   events { kind amount { amount } details } } } }"""
OFFERS = "{ bonusOffers { id } }"
HISTORY_IDS = "{ me { bonuses { id status } } }"
FORFEIT = "mutation($input: EndBonusInput!) { forfeitBonus(input: $input) { errors { code message } } }"


async def _uk_brand(rt: Any, brand: Any) -> None:
    from models.brands import Brand

    async with rt.database.transaction() as db:
        (await db.get(Brand, brand.id)).jurisdictions = ["UK", "MT", "DEFAULT"]  # type: ignore[union-attr]


# ---- 5. the UK cap is on the wagering measured against the bonus ------------------------------------


async def test_a_uk_campaign_whose_bonus_and_deposit_wagering_exceeds_the_cap_is_refused(
    rt: Any, gql: Any, make_staff: Any, brand: Any
) -> None:
    await _uk_brand(rt, brand)
    staff = await make_staff("marketing")

    async def create(**extra: Any) -> list[dict[str, Any]]:
        body = await gql(
            CREATE,
            {"input": {"name": "Match", "kind": "DEPOSIT_MATCH", "rules": rules(**extra)}},
            token=staff.token,
        )
        errors: list[dict[str, Any]] = body["data"]["createBonusCampaign"]["errors"]
        return errors

    # 10x of bonus + deposit at a 100 % match: at least 20x the bonus.
    [refused] = await create(wagering_multiplier=10, wagering_base="bonus_and_deposit", match_percent=100)
    assert (refused["code"], refused["field"]) == ("BONUS_NOT_ALLOWED", "rules")
    assert "UK: wagering at most 10x the bonus" in refused["message"]
    assert "at least 20x the bonus" in refused["message"]
    # 5x of bonus + deposit at a 100 % match is 10x the bonus at best: allowed (bigger deposits are clamped).
    assert await create(wagering_multiplier=5, wagering_base="bonus_and_deposit", match_percent=100) == []
    # Outside the UK's reach the same rules are fine.
    scoped = {"countries": ["MT"]}
    assert await create(wagering_multiplier=10, wagering_base="bonus_and_deposit", eligibility=scoped) == []


async def test_a_uk_bonus_never_requires_more_than_10x_its_amount_whatever_the_deposit(
    rt: Any, gql: Any, make_player: Any, campaign: Any, brand: Any, psp: DemoPsp
) -> None:
    await _uk_brand(rt, brand)
    await campaign(
        "DEPOSIT_MATCH",
        {
            "match_percent": 100,
            "max_bonus": {"GBP": "100.00"},
            "wagering_multiplier": 5,
            "wagering_base": "bonus_and_deposit",
        },
        code="UKMATCH",
    )
    player = await make_player(country="GB", currency="GBP")
    deposit = {"amount": "300.00", "currency": "GBP", "method": "CARD", "bonusCode": "UKMATCH"}
    done = (await gql(DEPOSIT, {"input": {**deposit, "pspToken": await psp.tokenise(CARD)}}, token=player.token))[
        "data"
    ]["deposit"]
    assert done["errors"] == [], done
    [mine] = (await gql(HISTORY, token=player.token))["data"]["me"]["bonuses"]
    # 5 x (100 + 300) = 2,000 GBP asked; the UK allows 10 x 100 = 1,000 GBP.
    assert (mine["status"], mine["amount"]["amount"]) == ("ACTIVE", "100.00")
    assert mine["wagering"]["required"]["amount"] == "1000.00"
    activated = next(e for e in mine["events"] if e["kind"] == "activated")
    assert activated["details"]["wagering_asked"] == 200_000
    assert activated["details"]["capped_by"] == "UK"


# ---- 6. a refused withdrawal forfeits nothing --------------------------------------------------------


async def test_a_refused_withdrawal_does_not_forfeit_the_bonus(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, psp: DemoPsp
) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=1_000)  # 10.00 cash, 10.00 bonus
    ask = {"currency": "EUR", "method": "BANK_TRANSFER", "forfeitBonuses": True}
    refused = (await gql(WITHDRAW, {"input": {**ask, "amount": "100.00", "idempotencyKey": "w-big"}}, token=token))[
        "data"
    ]["requestWithdrawal"]
    assert [e["code"] for e in refused["errors"]] == ["INSUFFICIENT_FUNDS"]
    assert (await bonus_row(rt, seat.player_id)).status == "active"
    assert await bonus_balance(rt, seat.player_id) == (1_000, 1_000)
    # The same request again stays refused, and still forfeits nothing.
    again = (await gql(WITHDRAW, {"input": {**ask, "amount": "100.00", "idempotencyKey": "w-big"}}, token=token))[
        "data"
    ]["requestWithdrawal"]
    assert [e["code"] for e in again["errors"]] == ["INSUFFICIENT_FUNDS"]
    assert (await bonus_row(rt, seat.player_id)).status == "active"
    # A withdrawal the cash covers is held and forfeits the bonus, together.
    held = (await gql(WITHDRAW, {"input": {**ask, "amount": "10.00", "idempotencyKey": "w-ok"}}, token=token))["data"][
        "requestWithdrawal"
    ]
    assert held["errors"] == [], held
    assert (await bonus_row(rt, seat.player_id)).status == "forfeited"
    assert (await bonus_balance(rt, seat.player_id))[1] == 0


# ---- 7. a failed or abandoned deposit releases the offer it quoted -------------------------------------


async def _deposit(gql: Any, psp: DemoPsp, token: str, card: str, key: str) -> dict[str, Any]:
    body = {
        "amount": "20.00",
        "currency": "EUR",
        "method": "CARD",
        "pspToken": await psp.tokenise(card),
        "bonusCode": "WELCOME",
        "idempotencyKey": key,
    }
    answer: dict[str, Any] = await gql(DEPOSIT, {"input": body}, token=token)
    return answer


async def _released_then_claimable_again(gql: Any, psp: DemoPsp, token: str, listed: str) -> None:
    """The offer is released (on the history) and the code, and the other offers, can be had again."""
    [released] = (await gql(HISTORY, token=token))["data"]["me"]["bonuses"]
    assert released["status"] == "RELEASED"
    assert [e["kind"] for e in released["events"]] == ["issued", "released"]
    assert "the deposit failed" in released["events"][-1]["details"]["reason"]
    assert [o["id"] for o in (await gql(OFFERS, token=token))["data"]["bonusOffers"]] == [listed]
    again = (await _deposit(gql, psp, token, CARD, "second"))["data"]["deposit"]
    assert (again["errors"], again["payment"]["status"]) == ([], "SUCCEEDED")
    statuses = [b["status"] for b in (await gql(HISTORY, token=token))["data"]["me"]["bonuses"]]
    assert statuses == ["ACTIVE", "RELEASED"]


@pytest.fixture
async def offers(campaign: Any) -> str:
    """A deposit match with the code WELCOME, and a listed no-deposit offer (returns its id)."""
    await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}), code="WELCOME")
    return str(await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"})))


async def test_a_deposit_declined_by_the_psp_releases_its_bonus(
    gql: Any, make_player: Any, psp: DemoPsp, offers: str
) -> None:
    player = await make_player()
    failed = (await _deposit(gql, psp, player.token, DECLINED_CARD, "first"))["data"]["deposit"]
    assert failed["payment"]["status"] == "FAILED"
    assert [e["code"] for e in failed["errors"]] == ["PAYMENT_DECLINED"]
    await _released_then_claimable_again(gql, psp, player.token, offers)


async def _pending_3ds_deposit(rt: Any, gql: Any, psp: DemoPsp, player: Any) -> str:
    """A card deposit quoting the offer's code, waiting at the 3-D Secure page: that page's address."""
    from models.payments import Payment

    pending = (await _deposit(gql, psp, player.token, THREE_DS_CARD, "first"))["data"]["deposit"]
    assert (pending["errors"], pending["payment"]["status"]) == ([], "PENDING")
    async with rt.database.session() as db:
        payment = await db.scalar(select(Payment).where(Payment.idempotency_key == "first"))  # type: ignore[arg-type]
    assert payment is not None
    assert payment.redirect_url
    return payment.redirect_url


async def _answer_3ds(page: str, result: str) -> None:
    async with httpx.AsyncClient() as browser:  # the player's browser at the bank's page
        await browser.post(page, data={"result": result}, follow_redirects=False)


async def test_a_deposit_failed_by_webhook_releases_its_bonus(
    rt: Any, gql: Any, make_player: Any, psp: DemoPsp, offers: str, client: Any
) -> None:
    player = await make_player()
    page = await _pending_3ds_deposit(rt, gql, psp, player)
    assert (await gql(OFFERS, token=player.token))["data"]["bonusOffers"] == []  # the offer waits for it
    await _answer_3ds(page, "fail")  # the player fails the 3-D Secure challenge
    [delivery] = await psp.webhooks(psp="cardpay")
    assert (await deliver(client, delivery)).status_code == 200
    await _released_then_claimable_again(gql, psp, player.token, offers)


async def test_a_deposit_abandoned_before_reaching_the_psp_releases_its_bonus(
    rt: Any, gql: Any, make_player: Any, psp: DemoPsp, offers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import cashier
    from services.cashier.psp.adapters import CardPay

    async def die(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed before sending")

    player = await make_player()
    monkeypatch.setattr(CardPay, "create_deposit", die)
    crashed = await _deposit(gql, psp, player.token, CARD, "first")  # the request dies (a masked error)
    assert crashed["data"] is None or crashed["data"]["deposit"] is None
    monkeypatch.undo()
    assert (await bonus_row(rt, player.uuid)).status == "issued"
    report = await cashier.reconcile(rt, older_than_seconds=0)  # closes the abandoned payment
    assert report.failed_unsent == 1
    await _released_then_claimable_again(gql, psp, player.token, offers)


async def test_a_deposit_left_at_its_3ds_page_is_abandoned_and_releases_its_bonus(
    rt: Any, gql: Any, make_player: Any, psp: DemoPsp, offers: str, client: Any
) -> None:
    from models.payments import Payment
    from services import cashier

    player = await make_player()
    page = await _pending_3ds_deposit(rt, gql, psp, player)  # and the player closed the page
    assert (await cashier.reconcile(rt, older_than_seconds=0)).abandoned == 0  # still within the hour
    assert (await bonus_row(rt, player.uuid)).status == "issued"
    clock.advance(timedelta(hours=1, minutes=1))
    assert (await cashier.reconcile(rt, older_than_seconds=0)).abandoned == 1
    login = {"brand": player.brand, "email": player.email, "password": PASSWORD}
    player.token = (await gql(LOGIN, {"input": login}))["data"]["login"]["tokens"]["accessToken"]  # back later
    await _released_then_claimable_again(gql, psp, player.token, offers)
    # The bank completes it after all: the money is credited (never lost), the offer stays released.
    await _answer_3ds(page, "approve")
    for delivery in await psp.webhooks(psp="cardpay"):  # the second deposit's too: applied once either way
        assert (await deliver(client, delivery)).status_code == 200
    async with rt.database.session() as db:
        first = await db.scalar(select(Payment).where(Payment.idempotency_key == "first"))  # type: ignore[arg-type]
    assert first is not None
    assert first.status == "succeeded"
    statuses = [b["status"] for b in (await gql(HISTORY, token=player.token))["data"]["me"]["bonuses"]]
    assert statuses == ["ACTIVE", "RELEASED"]


# ---- 8. cashback recovers what a late rollback over-paid ------------------------------------------------


@dataclass
class CashbackWeeks:
    """A player losing at the demo Hub88 provider week after week, and finance paying a cashback offer."""

    rt: Any
    gql: Any
    make_staff: Any
    provider: Any
    aggregator: Aggregator
    offer: str
    seat: Seat

    @classmethod
    async def start(
        cls, rt: Any, gql: Any, make_staff: Any, make_player: Any, provider: Any, aggregator: Aggregator, offer: str
    ) -> tuple[CashbackWeeks, Any]:
        player = await make_player(balance="1000.00 EUR")
        seat = Seat(str(player.uuid), player.uuid, await open_session(rt, provider, player.uuid))
        return cls(rt, gql, make_staff, provider, aggregator, offer, seat), player

    async def pay(self) -> dict[str, Any]:
        finance = await self.make_staff("finance")  # signed in now (the clock moves by weeks)
        payload = (await self.gql(PAY, {"input": {"campaignId": self.offer}}, token=finance.token))["data"][
            "payCashback"
        ]
        assert payload["errors"] == [], payload
        run: dict[str, Any] = payload["run"]
        return run

    async def lose(self, stake: int, ref: str) -> dict[str, Any]:
        self.seat.token = await open_session(self.rt, self.provider, self.seat.player_id)  # this week's game
        bet = self.seat.bet(stake * EUR, round_ref=ref)
        assert (await self.aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
        return bet


async def test_a_stake_rolled_back_after_its_cashback_was_paid_is_recovered_from_the_next_period(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    offer = await campaign("CASHBACK", cashback_rules(cashback_max={"EUR": "50.00"}))
    weeks, player = await CashbackWeeks.start(rt, gql, make_staff, make_player, hub88_provider, aggregator, offer)
    seat, pay, lose = weeks.seat, weeks.pay, weeks.lose

    await lose(50, "a")
    late = await lose(30, "b")  # lost 80.00 in the first week
    clock.advance(timedelta(days=7))
    first = await pay()
    assert (first["playersPaid"], first["paid"]) == (1, [{"amount": "8.00", "currency": "EUR"}])
    # The provider rolls the 30.00 stake back: the first week's net loss is 50.00, it earned 5.00, not 8.00.
    seat.token = await open_session(rt, hub88_provider, seat.player_id)
    rollback = seat.rollback(late["transaction_uuid"])
    assert (await aggregator.call("transaction/rollback", rollback))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/rollback", rollback))["status"] == "RS_OK"  # redelivered
    assert (await pay())["alreadyPaid"] == 1  # a rerun of the first week changes nothing

    await lose(20, "c")  # lost 20.00 in the second week: it earns 2.00, all kept back (3.00 over-paid)
    clock.advance(timedelta(days=7))
    second = await pay()
    assert (second["playersPaid"], second["paid"]) == (1, [])
    await lose(100, "d")  # lost 100.00 in the third week: 10.00, less the 1.00 still over-paid
    clock.advance(timedelta(days=7))
    third = await pay()
    assert third["paid"] == [{"amount": "9.00", "currency": "EUR"}]
    again = await pay()
    assert (again["alreadyPaid"], again["paid"]) == (1, [])
    cash, _ = await bonus_balance(rt, seat.player_id)
    assert cash == 100_000 - 5_000 - 2_000 - 10_000 + 800 + 900  # 8.00 + 0 + 9.00: 17.00 = 10 % of 170.00

    login = {"brand": "royal", "email": player.email, "password": PASSWORD}  # signed in now, weeks later
    token = (await gql(LOGIN, {"input": login}))["data"]["login"]["tokens"]["accessToken"]
    newest, middle, oldest = (await gql(HISTORY, token=token))["data"]["me"]["bonuses"]
    assert [e["kind"] for e in oldest["events"]] == ["cashback_paid", "cashback_recovered", "cashback_recovered"]
    assert [e["amount"]["amount"] for e in oldest["events"]] == ["8.00", "2.00", "1.00"]
    explained = oldest["events"][1]["details"]
    assert (explained["loss_when_paid"], explained["loss_now"]) == (8_000, 5_000)
    assert "rolled back after it was paid" in explained["explanation"]
    assert [e["kind"] for e in middle["events"]] == ["cashback_paid", "cashback_adjusted"]
    assert middle["amount"]["amount"] == "0.00"
    assert middle["events"][1]["details"]["paid"] == 0
    assert [(e["kind"], e["amount"]["amount"]) for e in newest["events"]] == [
        ("cashback_paid", "9.00"),
        ("cashback_adjusted", "1.00"),
    ]
    assert "kept back for cashback paid before" in newest["events"][1]["details"]["explanation"]


async def test_a_decline_racing_the_end_of_its_offer_still_fails_the_deposit(
    rt: Any, gql: Any, make_player: Any, psp: DemoPsp, offers: str, client: Any
) -> None:
    """The offer the deposit quoted ends (support cancels it, as the player's forfeit or the expiry worker
    could) while the PSP's decline is applied: the decline found the offer waiting, then queued on the
    player's cash row behind the cancellation. It must still fail the deposit (an offer that has ended
    has nothing to release), not fail itself and leave the payment open. The test holds the
    cancellation's transaction open to make that interleaving certain."""
    from models.bonuses import BonusStatus
    from models.payments import Payment
    from services.bonuses import lifecycle
    from services.wallet import Actor
    from tests.bonuses.test_bonus_abuse import _waiting_on_locks

    player = await make_player()
    await _answer_3ds(await _pending_3ds_deposit(rt, gql, psp, player), "fail")  # the challenge failed
    [delivery] = await psp.webhooks(psp="cardpay")
    offer = await bonus_row(rt, player.uuid)
    async with rt.database.transaction() as db:  # support's cancelBonus, still under way
        await lifecycle.end(db, offer.id, BonusStatus.CANCELLED, Actor("staff"), "abuse", cause="staff")
        decline = asyncio.create_task(deliver(client, delivery))
        await _waiting_on_locks(rt, 1)
    assert (await decline).status_code == 200
    [mine] = (await gql(HISTORY, token=player.token))["data"]["me"]["bonuses"]
    assert mine["status"] == "CANCELLED"  # ended once, by support; not released as well
    assert [e["kind"] for e in mine["events"]] == ["issued", "cancelled"]
    async with rt.database.session() as db:
        payment = await db.scalar(select(Payment).where(Payment.idempotency_key == "first"))  # type: ignore[arg-type]
    assert payment is not None
    assert payment.status == "failed"


async def test_a_cashback_bonus_forfeited_untouched_is_not_recovered_again_after_a_rollback(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    """A cashback paid as a bonus (wagering 3x) that the player forfeits untouched went back to the operator
    whole: when a stake of its period is rolled back later, there is nothing over-paid left to subtract
    from the next payout (taking 3.00 of it would take the same money twice)."""
    offer = await campaign("CASHBACK", cashback_rules(cashback_max={"EUR": "50.00"}, wagering_multiplier=3))
    weeks, player = await CashbackWeeks.start(rt, gql, make_staff, make_player, hub88_provider, aggregator, offer)
    seat, pay, lose = weeks.seat, weeks.pay, weeks.lose

    async def signed_in() -> str:
        login = {"brand": "royal", "email": player.email, "password": PASSWORD}
        token: str = (await gql(LOGIN, {"input": login}))["data"]["login"]["tokens"]["accessToken"]
        return token

    await lose(50, "a")
    late = await lose(30, "b")  # lost 80.00: 8.00 of cashback, paid as a bonus
    clock.advance(timedelta(days=7))
    assert (await pay())["paid"] == [{"amount": "8.00", "currency": "EUR"}]
    token = await signed_in()
    [paid] = (await gql(HISTORY_IDS, token=token))["data"]["me"]["bonuses"]
    forfeited = await gql(FORFEIT, {"input": {"bonusId": paid["id"]}}, token=token)
    assert forfeited["data"]["forfeitBonus"]["errors"] == []  # all 8.00 back to the operator
    seat.token = await open_session(rt, hub88_provider, seat.player_id)
    assert (await aggregator.call("transaction/rollback", seat.rollback(late["transaction_uuid"])))[
        "status"
    ] == "RS_OK"  # the week's loss is now 50.00: it earned 5.00, and the player kept none of the 8.00
    await lose(100, "c")
    clock.advance(timedelta(days=7))
    assert (await pay())["paid"] == [{"amount": "10.00", "currency": "EUR"}]  # nothing subtracted
    newest, oldest = (await gql(HISTORY, token=await signed_in()))["data"]["me"]["bonuses"]
    assert (newest["amount"]["amount"], newest["wagering"]["required"]["amount"]) == ("10.00", "30.00")
    assert [e["kind"] for e in oldest["events"]] == ["issued", "activated", "forfeited"]
    assert await bonus_balance(rt, seat.player_id) == (100_000 - 15_000, 1_000)
