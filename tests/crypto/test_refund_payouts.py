"""A held deposit's refund is a payout the processor reports on later: confirmed (final), or failed, cancelled or
dropped from the chain after the processor took it (reversed once: held again, for finance to decide again). The
processor's signed callbacks come through the public webhook endpoint, redelivered, late and concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from models.audit import AuditRecord
from models.outbox import OutboxEvent
from tests.crypto.conftest import Chain, cash, transfers_seen
from tests.crypto.test_holds import REFUND, RELEASE, SENDER, decide, entries, held_deposit, suspense
from tests.kyc.conftest import fully_verified

AMOUNT = 10_000_000  # 0.1 BTC: over KYC's deposit threshold, so held


async def fail(chain: Chain, foreign_id: str, status: str, reason: str = "rejected by the node") -> dict[str, Any]:
    """The processor fails a payout it took; its callback (kept, for the test to deliver)."""
    response = await chain.http.post(f"/cryptopay/control/fail/{foreign_id}", json={"status": status, "reason": reason})
    assert response.status_code == 200, response.text
    [callback] = [c for c in await chain.callbacks(foreign_id) if c["event_id"] == response.json()["event_id"]]
    return callback


async def results(chain: Chain, callbacks: list[dict[str, Any]]) -> list[str]:
    answers = [await chain.deliver(callback) for callback in callbacks]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json()["result"] for a in answers]


async def count(rt: Any, model: Any, column: Any, value: str) -> int:
    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(column == value)) or 0)


async def a_held(gql: Any, chain: Chain, make_player: Any, make_staff: Any) -> tuple[Any, Any, dict[str, Any]]:
    """A player's deposit held (KYC's threshold), finance, and the held transfer."""
    player = await make_player(brand_code="satoshi", currency="BTC")
    finance = await make_staff(("finance", "satoshi"))
    assert (await held_deposit(gql, chain, player, "0.10000000"))["results"][-1] == "held"
    [transfer] = await transfers_seen(gql, finance.token)
    return player, finance, transfer


async def a_refund(gql: Any, chain: Chain, make_player: Any, make_staff: Any) -> tuple[Any, Any, dict[str, Any], str]:
    """A player's held deposit finance refunded, the processor took the payout (`processing`): the player, finance,
    the transfer and the refund's foreign id."""
    player, finance, transfer = await a_held(gql, chain, make_player, make_staff)
    refunded = await decide(gql, finance, REFUND, transfer["id"])
    assert refunded["errors"] == [], refunded
    assert refunded["transfer"]["status"] == "refunded"
    return player, finance, dict(refunded["transfer"]), f"refund-{transfer['id']}"


@pytest.mark.parametrize("failure", ["failed", "cancelled", "dropped"])
async def test_a_refund_failed_after_the_processor_took_it_is_reversed_once_then_refunded_anew(
    failure: str, rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    from tests.ledger.test_ledger_checks import assert_clean

    await chain.settings(fees={"BTC": "0.00002000"})
    player, finance, transfer, first = await a_refund(gql, chain, make_player, make_staff)
    assert (await suspense(rt, "BTC"), await entries(rt, "psp_fee")) == (0, 1)

    callback = await fail(chain, first, failure)
    assert await results(chain, [callback, callback]) == ["applied", "duplicate"]
    [held] = await transfers_seen(gql, finance.token)
    assert (held["status"], held["paymentStatus"], held["heldReason"], held["fee"]) == (
        "held",
        "PENDING",
        "KYC_REQUIRED",
        None,
    )
    assert await suspense(rt, "BTC") == AMOUNT  # back in crypto_held, as its held deposit says
    assert (await entries(rt, "crypto_refund_reversed"), await entries(rt, "psp_fee_reversed")) == (1, 1)
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_failed") == 1
    assert await count(rt, AuditRecord, AuditRecord.action, "crypto.deposit_refund_failed") == 1
    assert await cash(rt, player, "BTC") == 0
    assert_clean()  # `croupier ledger verify`: the suspense account equals its held deposits

    # The processor reports the same failure again (a new event id): nothing moves twice.
    assert await results(chain, [await fail(chain, first, failure)]) == ["ignored"]
    assert await entries(rt, "crypto_refund_reversed") == 1

    # Finance decides again: a new round, a new foreign id (the processor pays a foreign id once), confirmed.
    again = await decide(gql, finance, REFUND, transfer["id"])
    assert again["errors"] == [], again
    payouts = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert [(p["foreign_id"], p["address"]) for p in payouts] == [(first, SENDER), (f"{first}-2", SENDER)]
    await chain.mine(2)
    assert await results(chain, await chain.callbacks(f"{first}-2")) == ["applied"]
    assert await suspense(rt, "BTC") == 0
    assert (await entries(rt, "crypto_deposit_refunded"), await entries(rt, "crypto_refund_reversed")) == (2, 1)
    assert await entries(rt, "psp_fee") == 2
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_confirmed") == 1
    [final] = await transfers_seen(gql, finance.token)
    assert (final["status"], final["paymentStatus"], final["fee"]) == ("refunded", "FAILED", "0.00002")
    # The first round's failure once more, late: its round is decided, nothing moves.
    assert await results(chain, [await fail(chain, first, failure)]) == ["ignored"]
    assert await suspense(rt, "BTC") == 0


async def test_a_confirmed_refund_is_final_whatever_the_callbacks_order(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    _, finance, _, reference = await a_refund(gql, chain, make_player, make_staff)
    await chain.mine(1)  # processing, one confirmation
    await chain.mine(1)  # confirmed
    processing, confirmed = await chain.callbacks(reference)
    assert await results(chain, [confirmed, processing, confirmed]) == ["applied", "ignored", "duplicate"]
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_confirmed") == 1

    # The chain then drops it (a deep reorganisation): a final refund is not reversed, finance is told.
    assert await results(chain, [await fail(chain, reference, "dropped")]) == ["conflict"]
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_conflict") == 1
    assert (await suspense(rt, "BTC"), await entries(rt, "crypto_refund_reversed")) == (0, 0)
    [final] = await transfers_seen(gql, finance.token)
    assert (final["status"], final["paymentStatus"]) == ("refunded", "FAILED")


async def test_concurrent_failure_callbacks_and_releases_reverse_a_refund_exactly_once(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player, finance, transfer, reference = await a_refund(gql, chain, make_player, make_staff)
    await fully_verified(rt, player.uuid)  # once held again, it may be released
    twice = [await fail(chain, reference, "failed"), await fail(chain, reference, "dropped")]

    answers = await asyncio.gather(
        *(chain.deliver(callback) for callback in twice * 3),
        *(decide(gql, finance, RELEASE, transfer["id"]) for _ in range(3)),
    )
    said = sorted(a.json()["result"] for a in answers[:6])
    assert said == ["applied", "duplicate", "duplicate", "duplicate", "duplicate", "ignored"], said
    released = [a for a in answers[6:] if a["errors"] == []]
    refused = {e["code"] for a in answers[6:] for e in a["errors"]}
    assert refused <= {"CRYPTO_DEPOSIT_NOT_HELD"}
    assert await entries(rt, "crypto_refund_reversed") == 1
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_failed") == 1
    if released:  # the reversal came first, then one release credited it
        assert len(released) == 1
        assert (await cash(rt, player, "BTC"), await suspense(rt, "BTC")) == (AMOUNT, 0)
        assert await entries(rt, "crypto_deposit_released") == 1
    else:  # every release came before the reversal: held, for finance
        assert (await cash(rt, player, "BTC"), await suspense(rt, "BTC")) == (0, AMOUNT)
        [held] = await transfers_seen(gql, finance.token)
        assert held["status"] == "held"


async def test_a_callback_for_a_refund_never_asked_is_an_unknown_reference(
    gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    _, _, _, reference = await a_refund(gql, chain, make_player, make_staff)
    callback = await fail(chain, reference, "failed")
    forged = callback["body"].replace(reference, f"{reference}-7")
    from integrations.demo.crypto.app import DEMO_SECRET, sign

    answer = await chain.deliver({"body": forged, "signature": sign(DEMO_SECRET, forged)})
    assert (answer.status_code, answer.json()["result"]) == (200, "unknown_reference")


async def test_a_callback_that_overtakes_a_lost_answer_decides_the_refund(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    """The processor took the refund but its answer was lost (the transfer stays refunding): its callback books
    the refund taken and confirmed, or a failure puts the deposit back to held with nothing to reverse."""
    finance = await make_staff(("finance", "satoshi"))
    decided: dict[str, dict[str, Any]] = {}
    for fate in ("confirmed", "failed"):
        player = await make_player(brand_code="satoshi", currency="BTC")
        assert (await held_deposit(gql, chain, player, "0.10000000"))["results"][-1] == "held"
        [transfer] = [t for t in await transfers_seen(gql, finance.token) if t["id"] not in decided]
        decided[transfer["id"]] = {}
        await chain.settings(lose_answers=1)
        lost = await decide(gql, finance, REFUND, transfer["id"])
        assert [e["code"] for e in lost["errors"]] == ["PAYMENT_UNAVAILABLE"]
        reference = f"refund-{transfer['id']}"
        if fate == "failed":
            assert await results(chain, [await fail(chain, reference, "cancelled")]) == ["applied"]
        else:
            await chain.mine(2)
            assert await results(chain, await chain.callbacks(reference)) == ["applied"]
        decided[transfer["id"]] = {t["id"]: t for t in await transfers_seen(gql, finance.token)}[transfer["id"]]
    confirmed, failed = decided.values()
    assert (confirmed["status"], confirmed["paymentStatus"]) == ("refunded", "FAILED")
    assert (failed["status"], failed["paymentStatus"]) == ("held", "PENDING")
    assert await suspense(rt, "BTC") == AMOUNT  # the failed one's, never taken out
    assert (await entries(rt, "crypto_deposit_refunded"), await entries(rt, "crypto_refund_reversed")) == (1, 0)
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_confirmed") == 1
    assert await count(rt, OutboxEvent, OutboxEvent.topic, "crypto.deposit_refund_failed") == 1
    # Finance asks again: the confirmed one answers its result (paid once); the failed one is a new round.
    again = [await decide(gql, finance, REFUND, transfer_id) for transfer_id in decided]
    assert [a["transfer"]["status"] for a in again] == ["refunded", "refunded"], again
    foreign_ids = sorted(t["foreign_id"] for t in await chain.transfers() if t["kind"] == "withdrawal")
    confirmed_id, failed_id = decided
    assert foreign_ids == sorted([f"refund-{confirmed_id}", f"refund-{failed_id}", f"refund-{failed_id}-2"])
    assert await suspense(rt, "BTC") == 0


async def test_a_refund_the_processor_declines_in_its_answer_stays_held_and_the_next_takes_a_new_round(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    _, finance, transfer = await a_held(gql, chain, make_player, make_staff)
    await chain.settings(payout="cancelled")  # the processor saw the foreign id and cancelled it at once
    declined = await decide(gql, finance, REFUND, transfer["id"])
    assert [e["code"] for e in declined["errors"]] == ["CRYPTO_ADDRESS_REFUSED"]
    assert (await suspense(rt, "BTC"), await entries(rt, "crypto_deposit_refunded")) == (AMOUNT, 0)
    await chain.settings(payout="processing")
    again = await decide(gql, finance, REFUND, transfer["id"])
    assert again["transfer"]["status"] == "refunded", again
    foreign_ids = [t["foreign_id"] for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert foreign_ids == [f"refund-{transfer['id']}", f"refund-{transfer['id']}-2"]
    assert await suspense(rt, "BTC") == 0
