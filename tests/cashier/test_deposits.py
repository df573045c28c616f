"""Deposits through the demo PSPs: the card flow, 3-D Secure, the cascade, declines, webhooks, repair."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core.errors import DomainError
from integrations.demo.psp.app import DEMO_SECRETS, sign
from services import cashier
from tests.cashier.conftest import (
    DECLINED_CARD,
    THREE_DS_CARD,
    DemoPsp,
    assert_ledger_ok,
    attempts,
    balances,
    deliver,
    ledger_count,
    player_viewer,
)


async def deposit(rt: Any, player: Any, brand: Any, token: str, amount: str = "25.00", **extra: Any) -> Any:
    return await cashier.deposit(
        rt, player_viewer(player, brand), amount=amount, currency="EUR", method="card", psp_token=token, **extra
    )


async def test_card_deposit_succeeds_and_credits_the_player_once(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise(), "25.50")

    assert (payment.status, payment.psp, payment.amount) == ("succeeded", "cardpay", 2550)
    assert await balances(rt, player.uuid) == (2550, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    [attempt] = await attempts(rt, payment.id)
    assert (attempt.psp, attempt.outcome) == ("cardpay", "succeeded")
    assert attempt.request_summary["token"].startswith("tok_")  # masked, and never a card number
    [charge] = await psp.transactions(str(attempt.id))
    assert charge["charged"] == 1
    await assert_ledger_ok(rt)


async def test_3ds_deposit_waits_for_the_challenge_then_succeeds(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any, demo_psp: str
) -> None:
    import httpx

    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise(THREE_DS_CARD))
    assert payment.status == "pending"
    assert payment.redirect_url
    assert payment.redirect_url.startswith(f"{demo_psp}/psp/cardpay/3ds/")
    assert await balances(rt, player.uuid) == (0, 0)

    async with httpx.AsyncClient() as browser:  # the player's browser on the PSP's page
        page = await browser.get(payment.redirect_url)
        assert page.status_code == 200
        assert "confirm" in page.text
        answer = await browser.post(payment.redirect_url, data={"result": "approve"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith(f"/cashier/return/{payment.id}")

    back = await client.get(f"/cashier/return/{payment.id}")  # the browser lands back on the platform
    assert back.json()["status"] == "succeeded"
    assert await balances(rt, player.uuid) == (2500, 0)

    # The PSP's webhook for the same success arrives afterwards: nothing changes.
    for delivery in await psp.webhooks(psp="cardpay"):
        assert (await deliver(client, delivery)).status_code == 200
    assert await balances(rt, player.uuid) == (2500, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_failed_3ds_challenge_fails_the_deposit(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    import httpx

    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise(THREE_DS_CARD))
    async with httpx.AsyncClient() as browser:
        await browser.post(payment.redirect_url, data={"result": "fail"}, follow_redirects=False)
    [delivery] = await psp.webhooks(psp="cardpay")
    assert (await deliver(client, delivery)).status_code == 200

    async with rt.database.session() as db:
        failed = await cashier.get_readable(db, player_viewer(player, brand), payment.id)
    assert (failed.status, failed.failure_code) == ("failed", "PAYMENT_DECLINED")
    assert await balances(rt, player.uuid) == (0, 0)
    await assert_ledger_ok(rt)


async def test_cascade_first_psp_times_out_second_succeeds_charged_once(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await psp.configure("cardpay", deposit="timeout", timeout_seconds=6)
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise(), "40.00")

    assert (payment.status, payment.psp) == ("succeeded", "swiftpay")
    first, second = await attempts(rt, payment.id)
    assert (first.psp, first.outcome, second.psp, second.outcome) == (
        "cardpay",
        "technical_failure",
        "swiftpay",
        "succeeded",
    )
    assert "timeout" in (first.error or "")
    # Charged once: the first PSP never took the money, the second took it once, the ledger credited once.
    assert await psp.transactions(str(first.id)) == []
    assert [t["charged"] for t in await psp.transactions(str(second.id))] == [1]
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    assert await balances(rt, player.uuid) == (4000, 0)
    await assert_ledger_ok(rt)


async def test_cascade_moves_on_after_a_5xx(rt: Any, psp: DemoPsp, make_player: Any, brand: Any) -> None:
    await psp.configure("cardpay", deposit="error")
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    assert (payment.status, payment.psp) == ("succeeded", "swiftpay")
    assert [a.outcome for a in await attempts(rt, payment.id)] == ["technical_failure", "succeeded"]
    await assert_ledger_ok(rt)


async def test_lost_answer_after_a_charge_is_found_by_status_check_not_charged_again(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await psp.configure("cardpay", deposit="charge_then_timeout", timeout_seconds=6)
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())

    assert (payment.status, payment.psp) == ("succeeded", "cardpay")  # the status check found the charge
    [attempt] = await attempts(rt, payment.id)
    assert attempt.outcome == "succeeded"
    assert all(t["psp"] == "cardpay" for t in await psp.transactions())  # swiftpay was never asked
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_hard_decline_stops_the_cascade(rt: Any, psp: DemoPsp, make_player: Any, brand: Any) -> None:
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise(DECLINED_CARD))

    assert (payment.status, payment.failure_code) == ("failed", "PAYMENT_DECLINED")
    [attempt] = await attempts(rt, payment.id)
    assert (attempt.psp, attempt.outcome) == ("cardpay", "declined")
    assert [t["psp"] for t in await psp.transactions()] == ["cardpay"]
    assert await balances(rt, player.uuid) == (0, 0)
    await assert_ledger_ok(rt)


async def test_every_psp_unavailable_fails_without_charging(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    await psp.configure("cardpay", deposit="error")
    await psp.configure("swiftpay", deposit="error")
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    assert (payment.status, payment.failure_code) == ("failed", "PAYMENT_UNAVAILABLE")
    assert len(await attempts(rt, payment.id)) == 2
    assert await psp.transactions() == []
    assert await balances(rt, player.uuid) == (0, 0)


async def test_retry_with_the_same_key_returns_the_first_payment(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any
) -> None:
    player = await make_player()
    token = await psp.tokenise()
    first = await deposit(rt, player, brand, token, idempotency_key="dep-1")
    again = await deposit(rt, player, brand, token, idempotency_key="dep-1")
    assert again.id == first.id
    with pytest.raises(DomainError) as refused:
        await deposit(rt, player, brand, token, "99.00", idempotency_key="dep-1")
    assert refused.value.code == "IDEMPOTENCY_CONFLICT"
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    assert len(await psp.transactions()) == 1


async def test_concurrent_retries_with_one_key_charge_once(rt: Any, psp: DemoPsp, make_player: Any, brand: Any) -> None:
    player = await make_player()
    token = await psp.tokenise()
    results = await asyncio.gather(*(deposit(rt, player, brand, token, idempotency_key="same") for _ in range(5)))
    assert len({p.id for p in results}) == 1
    assert len(await psp.transactions()) == 1
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_webhooks_replayed_and_reordered_change_nothing(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    from models.payments import PspWebhookReceipt

    await psp.configure("cardpay", webhook="out_of_order")  # a stale "pending" event, then the success
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    stale, final = await psp.webhooks(psp="cardpay")
    assert json.loads(stale["body"])["data"]["status"] == "pending"
    assert json.loads(final["body"])["data"]["status"] == "succeeded"

    answers = [await deliver(client, d) for d in (final, stale, final, stale, final)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, False, True, True, True]

    async with rt.database.session() as db:
        after = await cashier.get_readable(db, player_viewer(player, brand), payment.id)
        receipts = await db.scalar(select(func.count()).select_from(PspWebhookReceipt))
    assert (after.status, receipts) == ("succeeded", 2)
    [attempt] = await attempts(rt, payment.id)
    assert attempt.outcome == "succeeded"
    assert await balances(rt, player.uuid) == (2500, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_webhook_before_the_psp_answer_is_processed_credits_once(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    """The webhook and the PSP's synchronous answer race: whichever lands second changes nothing."""
    await psp.configure("cardpay", deposit="pending", delay_seconds=0.2)
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    assert payment.status == "pending"
    await asyncio.sleep(0.5)  # the PSP settles it
    [delivery] = await psp.webhooks(psp="cardpay")
    polled, delivered = await asyncio.gather(cashier.refresh(rt, payment.id), deliver(client, delivery))
    assert delivered.status_code == 200
    assert polled.status in ("succeeded", "pending")
    assert await balances(rt, player.uuid) == (2500, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def _crash_after_psp_success(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the platform die after the PSP charged but before our commit (once)."""
    original = cashier.record_answer
    crashed = False

    async def crash(*args: Any, **kwargs: Any) -> None:
        nonlocal crashed
        if not crashed:
            crashed = True
            raise RuntimeError("process killed between the PSP's success and our commit")
        await original(*args, **kwargs)

    monkeypatch.setattr("services.cashier.cascade.record_answer", crash)  # where the cascade finds it


async def test_crash_between_psp_success_and_commit_is_repaired_by_the_webhook(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _crash_after_psp_success(monkeypatch)
    player = await make_player()
    with pytest.raises(RuntimeError):
        await deposit(rt, player, brand, await psp.tokenise(), idempotency_key="crash-1")
    # Charged at the PSP, nothing credited here: the attempt is left "sending".
    async with rt.database.session() as db:
        from models.payments import Payment

        payment = await db.scalar(select(Payment).where(Payment.idempotency_key == "crash-1"))
    assert payment is not None
    assert payment.status == "created"
    [attempt] = await attempts(rt, payment.id)
    assert attempt.outcome == "sending"
    assert await balances(rt, player.uuid) == (0, 0)

    [delivery] = await psp.webhooks(psp="cardpay")
    assert (await deliver(client, delivery)).json()["result"] == "applied"
    assert await balances(rt, player.uuid) == (2500, 0)
    # A retry by the player with the same key does not start another cascade.
    again = await deposit(rt, player, brand, await psp.tokenise(), idempotency_key="crash-1")
    assert (again.id, again.status) == (payment.id, "succeeded")
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    assert len(await psp.transactions()) == 1
    await assert_ledger_ok(rt)


async def test_crash_between_psp_success_and_commit_is_repaired_by_a_status_poll(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await psp.configure("cardpay", webhook="none")  # the webhook never comes
    await _crash_after_psp_success(monkeypatch)
    player = await make_player()
    with pytest.raises(RuntimeError):
        await deposit(rt, player, brand, await psp.tokenise())
    assert await balances(rt, player.uuid) == (0, 0)

    report = await cashier.reconcile(rt, older_than_seconds=0)
    assert (report.checked, report.repaired, report.errors) == (1, 1, [])
    assert await balances(rt, player.uuid) == (2500, 0)
    again = await cashier.reconcile(rt, older_than_seconds=0)
    assert again.checked == 0
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_reconcile_fails_a_deposit_that_never_reached_the_psp(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def die(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed before sending")

    player = await make_player()
    token = await psp.tokenise()
    from services.cashier.psp.adapters import CardPay

    monkeypatch.setattr(CardPay, "create_deposit", die)
    with pytest.raises(RuntimeError):
        await deposit(rt, player, brand, token, idempotency_key="never-sent")
    monkeypatch.undo()
    report = await cashier.reconcile(rt, older_than_seconds=0)
    assert report.failed_unsent == 1
    async with rt.database.session() as db:
        from models.payments import Payment

        payment = await db.scalar(select(Payment).where(Payment.idempotency_key == "never-sent"))
    assert payment is not None
    assert (payment.status, payment.failure_code) == ("failed", "PAYMENT_UNAVAILABLE")
    assert await psp.transactions() == []


async def test_late_success_of_an_abandoned_attempt_is_never_credited_twice(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    await psp.configure("cardpay", deposit="error")
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    first, _ = await attempts(rt, payment.id)
    assert payment.psp == "swiftpay"
    # cardpay claims, late, that the first attempt succeeded after all (a properly signed event).
    body = json.dumps(
        {
            "event_id": "evt_late",
            "type": "deposit.succeeded",
            "sequence": 9,
            "data": {"id": "ca_late", "reference": str(first.id), "status": "succeeded"},
        }
    )
    answer = await client.post(
        "/webhooks/psp/cardpay", content=body, headers={"x-psp-signature": sign(DEMO_SECRETS["cardpay"], body)}
    )
    assert answer.status_code == 200
    assert await balances(rt, player.uuid) == (2500, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_bad_webhook_signatures_are_refused(client: Any, rt: Any, psp: DemoPsp) -> None:
    body = json.dumps(
        {
            "event_id": "evt_x",
            "type": "deposit.succeeded",
            "data": {"reference": str(uuid.uuid4()), "status": "succeeded"},
        }
    )
    forged = await client.post(
        "/webhooks/psp/cardpay", content=body, headers={"x-psp-signature": sign("not-the-secret", body)}
    )
    other_psp = await client.post(
        "/webhooks/psp/cardpay", content=body, headers={"x-psp-signature": sign(DEMO_SECRETS["swiftpay"], body)}
    )
    unsigned = await client.post("/webhooks/psp/cardpay", content=body)
    stale = await client.post(
        "/webhooks/psp/cardpay",
        content=body,
        headers={"x-psp-signature": sign(DEMO_SECRETS["cardpay"], body, 1_000_000)},
    )
    unknown = await client.post("/webhooks/psp/nopay", content=body, headers={"x-psp-signature": "t=1,v1=00"})
    assert [r.status_code for r in (forged, other_psp, unsigned, stale, unknown)] == [401] * 5
    unknown_ref = await client.post(
        "/webhooks/psp/cardpay", content=body, headers={"x-psp-signature": sign(DEMO_SECRETS["cardpay"], body)}
    )
    assert (unknown_ref.status_code, unknown_ref.json()["result"]) == (200, "unknown_reference")


@pytest.mark.parametrize(
    ("token", "field"),
    [
        ("4242424242424242", "pspToken"),
        ("4242 4242 4242 4242", "pspToken"),
        ("<script>", "pspToken"),
        (None, "pspToken"),
    ],
)
async def test_card_numbers_and_junk_tokens_are_refused(
    rt: Any, make_player: Any, brand: Any, token: str | None, field: str
) -> None:
    player = await make_player()
    with pytest.raises(DomainError) as refused:
        await cashier.deposit(
            rt, player_viewer(player, brand), amount="10.00", currency="EUR", method="card", psp_token=token
        )
    assert refused.value.field == field


async def test_routing_rules_choose_psps_by_country_currency_method_and_amount() -> None:
    rules = list(cashier.DEFAULT_RULES)
    assert cashier.route(rules, kind="deposit", method="card", country="MT", currency="EUR", amount=1000) == [
        "cardpay",
        "swiftpay",
    ]
    assert cashier.route(rules, kind="deposit", method="card", country="SE", currency="SEK", amount=1000) == [
        "swiftpay",
        "cardpay",
    ]
    assert cashier.route(rules, kind="deposit", method="card", country="MT", currency="EUR", amount=1_000_000) == [
        "cardpay"
    ]
    assert cashier.route(rules, kind="deposit", method="bank_transfer", country="MT", currency="EUR", amount=1000) == [
        "bankwire"
    ]
    assert cashier.route(rules, kind="withdrawal", method="ewallet", country="MT", currency="EUR", amount=1000) == [
        "swiftpay"
    ]
    custom = [
        cashier.RoutingRule.from_setting(
            {
                "psps": ["bankwire"],
                "priority": 1,
                "currencies": ["GBP"],
                "methods": ["bank_transfer"],
                "max_amount": "50",
            }
        )
    ]
    assert cashier.route(custom, kind="deposit", method="bank_transfer", country="GB", currency="GBP", amount=5000) == [
        "bankwire"
    ]
    assert (
        cashier.route(custom, kind="deposit", method="bank_transfer", country="GB", currency="GBP", amount=5001) == []
    )


async def test_webhooks_delivered_late_and_twice_over_http_credit_once(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, live_server: str
) -> None:
    """End to end: the demo PSP itself POSTs its signed webhooks to a running server, late and twice."""
    await psp.configure(
        "cardpay",
        deposit="pending",
        delay_seconds=0.2,
        webhook="twice",
        webhook_url=f"{live_server}/webhooks/psp/cardpay",
    )
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    assert payment.status == "pending"
    for _ in range(50):
        deliveries = await psp.webhooks(psp="cardpay")
        if deliveries and deliveries[0]["status_code"] == 200:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the second delivery
    assert await balances(rt, player.uuid) == (2500, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    async with rt.database.session() as db:
        from models.payments import PspWebhookReceipt

        assert await db.scalar(select(func.count()).select_from(PspWebhookReceipt)) == 1
    await assert_ledger_ok(rt)


async def test_charge_the_cascade_could_not_see_is_refunded_when_its_webhook_arrives(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any
) -> None:
    """The worst case: cardpay charged, lost its answer and cannot be asked; swiftpay charged too."""
    await psp.configure("cardpay", deposit="charge_then_timeout", timeout_seconds=6, status="error")
    player = await make_player()
    payment = await deposit(rt, player, brand, await psp.tokenise())
    assert payment.psp == "swiftpay"
    [late] = await psp.webhooks(psp="cardpay")
    assert (await deliver(client, late)).status_code == 200  # cardpay: "succeeded" for the first attempt

    first, second = await attempts(rt, payment.id)
    assert (first.outcome, second.outcome) == ("refunded", "succeeded")
    charges = {t["psp"]: (t["status"], t["charged"]) for t in await psp.transactions()}
    assert charges == {"cardpay": ("refunded", 0), "swiftpay": ("succeeded", 1)}  # the player paid once
    assert await balances(rt, player.uuid) == (2500, 0)
    assert await ledger_count(rt, player.uuid, "deposit") == 1
    await assert_ledger_ok(rt)


async def test_reconcile_fails_a_deposit_abandoned_before_any_psp_was_tried(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def die(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed after creating the payment")

    player = await make_player()
    token = await psp.tokenise()
    monkeypatch.setattr("services.cashier.deposits._cascade", die)
    with pytest.raises(RuntimeError):
        await deposit(rt, player, brand, token, idempotency_key="abandoned")
    monkeypatch.undo()
    assert (await cashier.reconcile(rt, older_than_seconds=0)).failed_unsent == 1
    again = await deposit(rt, player, brand, token, idempotency_key="abandoned")
    assert (again.status, again.failure_code) == ("failed", "PAYMENT_UNAVAILABLE")
    assert await psp.transactions() == []
    assert await balances(rt, player.uuid) == (0, 0)
