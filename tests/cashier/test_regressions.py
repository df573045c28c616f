"""Regressions from the cashier review: double payouts, abandoned cascades, PSP parsing, settings."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update

from models.payments import Payment, PaymentAttempt
from services import cashier
from tests.cashier.conftest import DemoPsp, assert_ledger_ok, attempts, balances, player_viewer


async def withdraw(rt: Any, player: Any, brand: Any, amount: str) -> Any:
    return await cashier.request_withdrawal(
        rt, player_viewer(player, brand), amount=amount, currency="EUR", method="bank_transfer"
    )


async def test_concurrent_process_withdrawal_pays_out_once(rt: Any, psp: DemoPsp, make_player: Any, brand: Any) -> None:
    player = await make_player(balance="1000.00 EUR")
    payment = await withdraw(rt, player, brand, "500.00")
    assert payment.status == "requested"
    # as if finance approved it and the approver's process died before sending (reconcile's case)
    async with rt.database.transaction() as db:
        await db.execute(update(Payment).where(Payment.id == payment.id).values(status="approved"))
    await asyncio.gather(
        cashier.process_withdrawal(rt, payment.id),
        cashier.process_withdrawal(rt, payment.id),
        cashier.process_withdrawal(rt, payment.id),
    )
    await asyncio.sleep(0.3)
    assert len(await attempts(rt, payment.id)) == 1
    payouts = [t for t in await psp.transactions() if t.get("kind") == "payout"]
    assert len(payouts) == 1, payouts
    assert await balances(rt, player.uuid) == (50000, 0)
    await assert_ledger_ok(rt)


async def test_process_withdrawal_stops_when_already_processing(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player(balance="1000.00 EUR")
    payment = await withdraw(rt, player, brand, "500.00")
    async with rt.database.transaction() as db:
        await db.execute(update(Payment).where(Payment.id == payment.id).values(status="processing"))
    await cashier.process_withdrawal(rt, payment.id)
    assert await attempts(rt, payment.id) == []
    assert [t for t in await psp.transactions() if t.get("kind") == "payout"] == []


async def test_reconcile_fails_a_withdrawal_left_processing_after_a_technical_failure(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player(balance="1000.00 EUR")
    payment = await withdraw(rt, player, brand, "500.00")
    assert await balances(rt, player.uuid) == (50000, 50000)
    # the cascade committed the technical failure, then its process died
    async with rt.database.transaction() as db:
        await db.execute(update(Payment).where(Payment.id == payment.id).values(status="processing", psp="bankwire"))
        db.add(
            PaymentAttempt(
                payment_id=payment.id,
                seq=1,
                psp="bankwire",
                operation="payout",
                outcome="technical_failure",
                error="timeout",
            )
        )
    report = await cashier.reconcile(rt, older_than_seconds=0)
    assert report.failed_unsent >= 1
    async with rt.database.session() as db:
        found = await db.get(Payment, payment.id)
    assert found is not None
    assert (found.status, found.failure_code) == ("failed", "PAYMENT_UNAVAILABLE")
    assert await balances(rt, player.uuid) == (100000, 0)
    await assert_ledger_ok(rt)
    # a second run changes nothing
    await cashier.reconcile(rt, older_than_seconds=0)
    assert await balances(rt, player.uuid) == (100000, 0)


async def test_reconcile_fails_a_deposit_left_created_after_a_technical_failure(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    for name in ("cardpay", "swiftpay"):
        await psp.configure(name, deposit="error")
    player = await make_player()
    token = await psp.tokenise()
    payment = await cashier.deposit(
        rt, player_viewer(player, brand), amount="20.00", currency="EUR", method="card", psp_token=token
    )
    assert payment.status == "failed"
    assert {a.outcome for a in await attempts(rt, payment.id)} == {"technical_failure"}
    # as if the process died after the last technical failure, before failing the payment
    async with rt.database.transaction() as db:
        await db.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(status="created", failure_code=None, failure_message=None, completed_at=None)
        )
    for name in ("cardpay", "swiftpay"):
        await psp.configure(name, deposit="succeed")  # the PSPs answer polls again: they never saw it
    await cashier.reconcile(rt, older_than_seconds=0)
    async with rt.database.session() as db:
        found = await db.get(Payment, payment.id)
    assert found is not None
    assert (found.status, found.failure_code) == ("failed", "PAYMENT_UNAVAILABLE")
    assert await balances(rt, player.uuid) == (0, 0)


# ---- production refuses the demo PSP secrets ---------------------------------------------------


def test_production_refuses_the_demo_psp_secrets() -> None:
    import pytest

    from core.settings import Settings

    with pytest.raises(RuntimeError, match="demo secret for bankwire, cardpay, cryptopay, swiftpay"):
        Settings(env="production").check_production_secrets()
    with pytest.raises(RuntimeError, match="swiftpay"):
        Settings(
            env="production", psp_secrets={"cardpay": "real-1", "swiftpay": "demo-swiftpay-secret"}
        ).check_production_secrets()
    Settings(
        env="production",
        psp_secrets={"cardpay": "real-1", "swiftpay": "real-2"},
        idv_secret_key="real-3",
        idv_webhook_secret="real-4",
        crm_link_secret="real-5",
        crm_webhook_secret="real-6",
        crm_unsubscribe_secret="real-7",
    ).check_production_secrets()
    Settings(env="development").check_production_secrets()  # the demo keeps its defaults


# ---- webhook signatures: every unreadable header is InvalidSignature -------------------------


def test_verify_hmac_turns_every_parse_problem_into_invalid_signature() -> None:
    import hashlib
    import hmac

    import pytest

    from services.cashier.psp import InvalidSignature, verify_hmac

    body = b'{"x": 1}'
    good = hmac.new(b"s", b"1000." + body, hashlib.sha256).hexdigest()
    verify_hmac("s", body, f"t=1000,v1={good}", tolerance_seconds=300, now=1000)
    for header in (
        f"t=1000,v1={'é' * 64}",
        "t=1000,v1=\udcff",
        "t=" + "9" * 400 + ",v1=" + good,
        "t=1e3,v1=" + good,
        "v1=" + good,
        "t=1000",
        "garbage",
        f"t=1000,v1={good[:-1]}x",
    ):
        with pytest.raises(InvalidSignature):
            verify_hmac("s", body, header, tolerance_seconds=300, now=1000)
    with pytest.raises(InvalidSignature):  # a huge but valid-looking stamp compared with a float clock
        verify_hmac("s", body, "t=" + "9" * 400 + ",v1=" + good, tolerance_seconds=300)


async def test_webhook_with_a_non_ascii_signature_is_401(client: Any) -> None:
    response = await client.post(
        "/webhooks/psp/cardpay",
        content=b"{}",
        headers={"content-type": "application/json", "x-psp-signature": "t=1000,v1=" + "%C3%A9" * 32},
    )
    assert response.status_code == 401
    response = await client.post(
        "/webhooks/psp/cardpay",
        content=b"{}",
        headers={"content-type": "application/json", "x-psp-signature": "t=" + "9" * 4000 + ",v1=ab"},
    )
    assert response.status_code == 401


# ---- PSP answers: which 4xx are declines, malformed bodies ----------------------------------


def _adapter(name: str) -> Any:
    from services.cashier.psp.adapters import ADAPTERS

    return ADAPTERS[name]("http://psp.invalid", "secret", timeout_seconds=1, webhook_tolerance_seconds=300)


def test_psp_4xx_that_say_nothing_about_the_payment_are_technical_failures() -> None:
    import pytest

    from services.cashier.psp import PspDeclined, PspTechnicalFailure

    adapter = _adapter("cardpay")
    for code in (401, 403, 408, 409, 429):
        with pytest.raises(PspTechnicalFailure):
            adapter._answer(code, {"error": "nope"})
    for code in (400, 402, 404, 422):
        with pytest.raises(PspDeclined):
            adapter._answer(code, {"error": "bad token"})


async def test_malformed_psp_answers_are_technical_failures(monkeypatch: Any) -> None:
    import pytest

    from services.cashier.psp import PayoutRequest, PspTechnicalFailure

    cases = [
        ("cardpay", {"status": "requires_action", "action": "https://x"}),
        ("cardpay", {"status": "requires_action", "action": ["https://x"]}),
        ("swiftpay", {"payment": "COMPLETED"}),
        ("swiftpay", {"payment": ["x"]}),
        ("swiftpay", {"payment": {"state": "AUTH_REQUIRED"}, "links": "https://x"}),
        ("bankwire", {"result": ["ok"]}),
    ]
    for name, data in cases:
        adapter = _adapter(name)

        async def call(method: str, path: str, body: Any = None, _data: Any = data) -> tuple[int, Any]:
            return 200, _data

        monkeypatch.setattr(adapter, "_call", call)
        with pytest.raises(PspTechnicalFailure):
            await adapter.create_payout(PayoutRequest("ref", 100, "EUR", "card", "tok"))
        with pytest.raises(PspTechnicalFailure):
            await adapter.get_status("ref")
        with pytest.raises(PspTechnicalFailure):
            await adapter.refund("ref")
    ok = _adapter("cardpay")._parsed({"status": "requires_action", "action": {"redirect_url": "https://x"}})
    assert (ok.status, ok.redirect_url) == ("requires_action", "https://x")
