"""The payout step's last look (services/cashier/payout_checks.py): an approved withdrawal not yet sent is held
back when the account changed since its approval — a chargeback restricted it — instead of paying out."""

from __future__ import annotations

from typing import Any

from services import cashier
from tests.cashier.conftest import assert_ledger_ok, balances, deliver, notice
from tests.cashier.test_chargebacks import owed, restricted
from tests.cashier.test_graphql import APPROVE, WITHDRAW
from tests.kyc.conftest import payment_status
from tests.risk.inline_support import payment_uuid


async def test_an_approved_withdrawal_is_held_back_at_its_payout_after_a_chargeback(
    rt: Any,
    gql: Any,
    held: Any,
    make_player: Any,
    make_staff: Any,
    client: Any,
    card_deposit: Any,
    monkeypatch: Any,
) -> None:
    player = await make_player()
    deposit = await card_deposit(player, "300.00")
    body = await gql(WITHDRAW, {"input": {"amount": "150.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    withdrawal = payment_uuid(body["data"]["requestWithdrawal"]["payment"]["id"])
    finance = await make_staff("finance")

    async def crashed(_rt: Any, _payment_id: Any) -> None:  # the approver's process dies after its commit
        return None

    monkeypatch.setattr("services.cashier.withdrawals.process_withdrawal", crashed)
    approved = await gql(
        APPROVE, {"input": {"paymentId": str(body["data"]["requestWithdrawal"]["payment"]["id"])}}, token=finance.token
    )
    assert approved["data"]["approveWithdrawal"]["errors"] == [], approved
    assert await payment_status(rt, withdrawal) == "approved"

    response = await deliver(client, await notice(held, deposit, rt, "chargeback", reason="fraud"))
    assert response.json()["result"] == "applied"
    assert await restricted(rt, player.uuid)
    assert await owed(rt, player.uuid) == 15000

    await cashier.reconcile(rt, older_than_seconds=0)  # sends approved withdrawals never sent

    # Before the fix: paid out to a charged-back, restricted account. Now it waits for KYC, its money held.
    assert await payment_status(rt, withdrawal) == "waiting_for_kyc"
    assert [t for t in await held.transactions() if t.get("kind") == "payout"] == []
    assert await balances(rt, player.uuid) == (0, 15000)
    async with rt.database.session() as db:
        from models.payments import Payment

        found = await db.get(Payment, withdrawal)
    assert found is not None
    assert (found.failure_code, found.approved_by) == ("KYC_REQUIRED", None)
    await assert_ledger_ok(rt)


async def test_a_hold_imposed_while_the_first_psp_fails_keeps_the_payout_from_the_next(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    import asyncio

    from tests.conftest import fund
    from tests.risk.inline_support import impose

    await psp.configure("cardpay", payout="timeout", timeout_seconds=6)  # the first PSP hangs past our timeout
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    desk = (await make_staff("risk_analyst")).token
    request = asyncio.ensure_future(
        gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    )
    await asyncio.sleep(1.0)  # approved automatically; its first attempt is on the wire
    await impose(gql, desk, player, "hold_withdrawals")
    body = await request
    withdrawal = payment_uuid(body["data"]["requestWithdrawal"]["payment"]["id"])

    assert await payment_status(rt, withdrawal) == "requested"  # before: paid by the next PSP despite the hold
    assert await balances(rt, player.uuid) == (4000, 1000)
    await assert_ledger_ok(rt)
