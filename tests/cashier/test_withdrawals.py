"""Withdrawals: held on request, approved automatically, by finance or by four eyes, paid or voided."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import DomainError
from services import cashier
from tests.cashier.conftest import DemoPsp, assert_ledger_ok, attempts, balances, player_viewer, staff_viewer
from tests.conftest import fund


async def withdraw(rt: Any, player: Any, brand: Any, amount: str, **extra: Any) -> Any:
    return await cashier.request_withdrawal(
        rt,
        player_viewer(player, brand),
        amount=amount,
        currency="EUR",
        method=extra.pop("method", "bank_transfer"),
        **extra,
    )


async def audit_actions(rt: Any, payment_id: Any) -> list[tuple[str, Any]]:
    from models.audit import AuditRecord

    async with rt.database.session() as db:
        rows = (
            await db.execute(
                select(AuditRecord.action, AuditRecord.actor_id)
                .where(AuditRecord.target_id == str(payment_id))
                .order_by(AuditRecord.seq)
            )
        ).all()
    return [(r[0], r[1]) for r in rows]


async def test_small_withdrawal_is_approved_automatically_and_paid(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player(balance="200.00 EUR")
    payment = await withdraw(rt, player, brand, "50.00")

    assert (payment.status, payment.psp) == ("paid", "bankwire")
    assert payment.decision_reason
    assert "automatically" in payment.decision_reason
    assert await balances(rt, player.uuid) == (15000, 0)
    [attempt] = await attempts(rt, payment.id)
    assert (attempt.operation, attempt.outcome) == ("payout", "succeeded")
    await assert_ledger_ok(rt)


async def test_finance_approves_a_withdrawal_above_the_auto_threshold(
    rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    player = await make_player(balance="1000.00 EUR")
    payment = await withdraw(rt, player, brand, "500.00")
    assert payment.status == "requested"
    assert await balances(rt, player.uuid) == (50000, 50000)  # held, not gone
    async with rt.database.session() as db:
        queue = await cashier.awaiting_decision(db, staff_viewer(await make_staff("finance", login=False), brand))
    assert [p.id for p in queue] == [payment.id]

    finance = await make_staff("finance", login=False)
    decision = await cashier.approve_withdrawal(
        rt, staff_viewer(finance, brand), payment_id=payment.id, reason="KYC complete"
    )
    assert not decision.awaiting_second_approval
    assert (decision.payment.status, decision.payment.approved_by) == ("paid", finance.id)
    assert await balances(rt, player.uuid) == (50000, 0)
    assert await audit_actions(rt, payment.id) == [("withdrawal.approve", finance.id)]
    await assert_ledger_ok(rt)


async def test_four_eyes_above_the_second_threshold(
    rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    player = await make_player(balance="3000.00 EUR")
    payment = await withdraw(rt, player, brand, "2500.00")
    first = await make_staff("finance", login=False)
    second = await make_staff("finance", login=False)

    decision = await cashier.approve_withdrawal(rt, staff_viewer(first, brand), payment_id=payment.id)
    assert decision.awaiting_second_approval
    assert decision.payment.status == "requested"
    with pytest.raises(DomainError) as same_person:
        await cashier.approve_withdrawal(rt, staff_viewer(first, brand), payment_id=payment.id)
    assert same_person.value.code == "APPROVAL_REQUIRED"

    done = await cashier.approve_withdrawal(rt, staff_viewer(second, brand), payment_id=payment.id)
    assert (done.payment.status, done.payment.first_approved_by, done.payment.approved_by) == (
        "paid",
        first.id,
        second.id,
    )
    assert await audit_actions(rt, payment.id) == [
        ("withdrawal.first_approval", first.id),
        ("withdrawal.approve", second.id),
    ]
    assert await balances(rt, player.uuid) == (50000, 0)
    await assert_ledger_ok(rt)


async def test_rejecting_a_withdrawal_voids_the_hold(
    rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any, card_deposit: Any
) -> None:
    player = await make_player()
    await card_deposit(player, "1000.00")  # through the PSP: its own records then show nothing but it
    payment = await withdraw(rt, player, brand, "500.00")
    finance = await make_staff("finance", login=False)
    with pytest.raises(DomainError) as no_reason:
        await cashier.reject_withdrawal(rt, staff_viewer(finance, brand), payment_id=payment.id, reason=" ")
    assert no_reason.value.field == "reason"

    rejected = await cashier.reject_withdrawal(
        rt, staff_viewer(finance, brand), payment_id=payment.id, reason="bonus abuse under review"
    )
    assert (rejected.status, rejected.rejected_by) == ("rejected", finance.id)
    assert await balances(rt, player.uuid) == (100000, 0)
    assert await audit_actions(rt, payment.id) == [("withdrawal.reject", finance.id)]
    with pytest.raises(DomainError) as again:
        await cashier.approve_withdrawal(rt, staff_viewer(finance, brand), payment_id=payment.id)
    assert again.value.code == "INVALID_STATE"
    assert await psp.transactions()
    assert all(t["kind"] == "deposit" for t in await psp.transactions())
    await assert_ledger_ok(rt)


async def test_declined_payout_fails_and_voids_the_hold(rt: Any, psp: DemoPsp, make_player: Any, brand: Any) -> None:
    await psp.configure("bankwire", payout="decline")
    player = await make_player(balance="200.00 EUR")
    payment = await withdraw(rt, player, brand, "50.00")
    assert (payment.status, payment.failure_code) == ("failed", "PAYMENT_DECLINED")
    assert await balances(rt, player.uuid) == (20000, 0)
    await assert_ledger_ok(rt)


async def test_unavailable_payout_psp_fails_and_voids_the_hold(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await psp.configure("bankwire", payout="error")
    player = await make_player(balance="200.00 EUR")
    payment = await withdraw(rt, player, brand, "50.00")
    assert (payment.status, payment.failure_code) == ("failed", "PAYMENT_UNAVAILABLE")
    assert await balances(rt, player.uuid) == (20000, 0)
    await assert_ledger_ok(rt)


async def test_pending_payout_is_paid_when_the_webhook_arrives(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    from tests.cashier.conftest import deliver

    await psp.configure("bankwire", payout="pending", delay_seconds=0.1)
    player = await make_player(balance="200.00 EUR")
    payment = await withdraw(rt, player, brand, "50.00")
    assert payment.status == "processing"
    assert await balances(rt, player.uuid) == (15000, 5000)
    await asyncio.sleep(0.4)
    [delivery] = await psp.webhooks(psp="bankwire")
    for _ in range(2):
        assert (await deliver(client, delivery)).status_code == 200
    assert await balances(rt, player.uuid) == (15000, 0)
    await assert_ledger_ok(rt)


async def test_concurrent_withdrawal_requests_never_overdraw(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player(balance="300.00 EUR")

    async def attempt(n: int) -> str:
        try:
            await withdraw(rt, player, brand, "70.00", idempotency_key=f"w{n}")
        except DomainError as exc:
            return str(exc.code)
        return "held"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(10)))
    assert outcomes.count("held") == 4
    assert outcomes.count("INSUFFICIENT_FUNDS") == 6
    assert await balances(rt, player.uuid) == (30000 - 4 * 7000, 0)  # the four held were paid out
    await assert_ledger_ok(rt)


async def test_refused_withdrawal_stays_refused_when_retried(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player(balance="20.00 EUR")
    for _ in range(2):
        with pytest.raises(DomainError) as refused:
            await withdraw(rt, player, brand, "50.00", idempotency_key="too-much")
        assert refused.value.code == "INSUFFICIENT_FUNDS"
    await fund(rt, player, "100.00 EUR")
    with pytest.raises(DomainError):
        await withdraw(rt, player, brand, "50.00", idempotency_key="too-much")
    assert await balances(rt, player.uuid) == (12000, 0)
    await assert_ledger_ok(rt)


async def test_staff_of_another_brand_cannot_decide(
    rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any, other_brand: Any
) -> None:
    player = await make_player(balance="1000.00 EUR")
    payment = await withdraw(rt, player, brand, "500.00")
    outsider = await make_staff(("finance", "northstar"), login=False)
    with pytest.raises(DomainError) as hidden:
        await cashier.approve_withdrawal(rt, staff_viewer(outsider, other_brand), payment_id=payment.id)
    assert hidden.value.code == "NOT_FOUND"
    with pytest.raises(DomainError) as player_tries:
        await cashier.approve_withdrawal(rt, player_viewer(player, brand), payment_id=payment.id)
    assert player_tries.value.code == "NOT_ALLOWED"


async def test_a_payout_to_a_card_goes_first_to_the_psp_that_holds_its_token(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player()
    await psp.configure("cardpay", deposit="error")  # the routing rules' first PSP fails: swiftpay takes the card
    token = await psp.tokenise()
    deposit = await cashier.deposit(
        rt, player_viewer(player, brand), amount="100.00", currency="EUR", method="card", psp_token=token
    )
    assert (deposit.status, deposit.psp) == ("succeeded", "swiftpay")

    payout = await withdraw(rt, player, brand, "20.00", method="card", psp_token=token)
    assert (payout.status, payout.psp) == ("paid", "swiftpay")  # the rules say cardpay first; the token is swiftpay's
    assert [(a.psp, a.operation) for a in await attempts(rt, payout.id)] == [("swiftpay", "payout")]
    await assert_ledger_ok(rt)
