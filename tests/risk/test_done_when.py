"""Issue 17's "done when", through the public surface: three accounts registered from one device are linked and
the second welcome-bonus claim is refused with a code; a velocity burst of deposits is held (the defaults: the
fifth within ten minutes; no PSP asked, the ledger untouched); a chargeback through the demo PSP leaves the books
balanced (`croupier ledger verify`'s check) with the debt visible."""

from __future__ import annotations

from typing import Any

from services import ledger_verify
from tests.bonuses.conftest import rules
from tests.cashier.conftest import DemoPsp, attempts, balances, deliver, notice
from tests.conftest import fund
from tests.risk.conftest import LINKED, Signals, registered
from tests.risk.inline_support import CLAIM, DEPOSIT, payment_uuid, topics

DEVICE = "device-done-when-0001"
WALLET = "{ me { wallet { currency cash { amount } debt { amount } } } }"


async def test_three_accounts_from_one_device_are_linked_and_the_second_welcome_claim_is_refused(
    gql: Any, make_staff: Any, campaign: Any, signals: Signals
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="WELCOME")
    accounts = [await registered(gql, f"ring{i}@example.com", device=DEVICE) for i in range(3)]
    assert await signals.drain() > 0
    analyst = await make_staff("risk_analyst")
    risk = (await gql(LINKED, {"id": accounts[0].id}, token=analyst.token))["data"]["player"]["risk"]
    assert risk["clusterSize"] == 3

    answers = []
    for account in accounts:
        body = await gql(CLAIM, {"input": {"code": "WELCOME"}}, token=account.token)
        answers.append([e["code"] for e in body["data"]["claimBonus"]["errors"]])
    # The first is paid; the second is a linked account claiming it again; the third registration from the
    # device had its bonuses blocked already (registrations-per-device).
    assert answers == [[], ["RISK_BONUS_ABUSE"], ["RISK_BONUS_BLOCKED"]]


async def test_a_velocity_burst_of_deposits_is_held(rt: Any, gql: Any, psp: DemoPsp, make_player: Any) -> None:
    player = await make_player()
    statuses = []
    for _ in range(5):
        given = {"amount": "10.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
        body = await gql(DEPOSIT, {"input": given}, token=player.token)
        statuses.append(body["data"]["deposit"]["payment"])
    assert [p["status"] for p in statuses] == ["SUCCEEDED"] * 4 + ["HELD"]
    burst = statuses[-1]
    assert await attempts(rt, payment_uuid(burst["id"])) == []
    assert len(await psp.transactions()) == 4  # no PSP was asked about the fifth
    assert await balances(rt, player.uuid) == (4000, 0)  # the ledger holds the four, nothing of the fifth
    assert (await topics(rt, f"player:{player.uuid}")).count("payment.held") == 1


async def test_a_chargeback_through_the_demo_psp_keeps_the_books_balanced_with_the_debt_visible(
    rt: Any, gql: Any, held: DemoPsp, make_player: Any, client: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "100.00")
    await fund(rt, player, -7000)  # spent: 30.00 left
    response = await deliver(client, await notice(held, payment, rt, "chargeback", reason="fraud"))
    assert response.status_code == 200, response.text
    [wallet] = (await gql(WALLET, token=player.token))["data"]["me"]["wallet"]
    assert (wallet["cash"]["amount"], wallet["debt"]["amount"]) == ("0.00", "70.00")
    verified = await ledger_verify.verify_books(rt.database, full=True)  # what `croupier ledger verify` runs
    assert verified.ok, verified.discrepancies
