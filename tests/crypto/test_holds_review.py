"""Held crypto deposits under attack: the processor's later callbacks (it reports a transfer for a while after it is
confirmed) about a deposit that is held, being refunded or refunded never credit it or hold it a second time."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from models.crypto import CryptoTransfer
from services.cashier.crypto.processor import processor
from services.cashier.psp.cryptopay import signature
from tests.crypto.conftest import Chain, cash, transfers_seen
from tests.crypto.test_holds import REFUND, RELEASE, decide, entries, held_deposit, suspense
from tests.kyc.conftest import fully_verified


async def held_for_kyc(gql: Any, chain: Chain, make_player: Any, make_staff: Any) -> tuple[Any, Any, dict[str, Any]]:
    """A player of the crypto brand, their brand's finance staff, and 0.1 BTC over KYC's threshold: held."""
    player = await make_player(brand_code="satoshi", currency="BTC")
    finance = await make_staff(("finance", "satoshi"))
    seen = await held_deposit(gql, chain, player, "0.10000000")
    assert seen["results"][-1] == "held"
    return player, finance, seen


async def statuses(rt: Any) -> list[str]:
    async with rt.database.session() as db:
        found = await db.scalars(select(CryptoTransfer.status).where(CryptoTransfer.direction == "deposit"))
        return list(found.all())


async def refunded_then_failed(
    gql: Any, chain: Chain, make_player: Any, make_staff: Any, failure: str
) -> tuple[Any, Any, dict[str, Any], str, list[dict[str, Any]]]:
    """A held deposit finance refunded, whose payout the processor then fails (`failed`, `cancelled`, `dropped`):
    the player, finance, the transfer, the refund's foreign id, and what the platform answered its callbacks."""
    player, finance, _ = await held_for_kyc(gql, chain, make_player, make_staff)
    [transfer] = await transfers_seen(gql, finance.token)
    assert (await decide(gql, finance, REFUND, transfer["id"]))["transfer"]["status"] == "refunded"
    first = f"refund-{transfer['id']}"
    response = await chain.http.post(f"/cryptopay/control/fail/{first}", json={"status": failure})
    assert response.status_code == 200, response.text
    return player, finance, transfer, first, await chain.deliver_all(first)


async def sweep_while_down_then_again(rt: Any, monkeypatch: Any, after: Any) -> None:
    """A sweep whose refund meets a processor not answering (left `refunding`), then one it answers (`refunded`)."""
    from services.cashier.crypto import holds
    from services.cashier.psp import PspTechnicalFailure

    class Down:
        async def create_payout(self, request: Any) -> Any:
            raise PspTechnicalFailure("cryptopay: timeout")

    working = holds.processor
    monkeypatch.setattr(holds, "processor", lambda settings: Down())
    first = await holds.sweep(rt, refund_after=after)
    assert (first.refunded, [code for _, code in first.kept]) == ([], ["PAYMENT_UNAVAILABLE"])
    assert await statuses(rt) == ["refunding"]

    monkeypatch.setattr(holds, "processor", working)
    second = await holds.sweep(rt, refund_after=after)
    assert (len(second.refunded), second.kept) == (1, [])
    assert await statuses(rt) == ["refunded"]


async def test_a_later_confirmation_of_a_refunded_deposit_neither_credits_it_nor_holds_it_again(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    finance = await make_staff(("finance", "satoshi"))
    seen = await held_deposit(gql, chain, player, "0.10000000")  # over KYC's threshold: held
    assert seen["results"][-1] == "held"
    [transfer] = await transfers_seen(gql, finance.token)
    refunded = await decide(gql, finance, REFUND, transfer["id"])
    assert refunded["errors"] == [], refunded
    assert refunded["transfer"]["status"] == "refunded"

    await chain.mine(1)  # the processor reports the deposit's third confirmation
    assert [r["result"] for r in await chain.deliver_all(seen["sent"]["id"])][-1] == "applied"
    [after] = await transfers_seen(gql, finance.token)
    assert (after["status"], after["paymentStatus"]) == ("refunded", "FAILED")
    assert await suspense(rt, "BTC") == 0

    await fully_verified(rt, player.uuid)  # the gate passes now: the coins went back all the same
    await chain.mine(1)
    await chain.deliver_all(seen["sent"]["id"])
    [after] = await transfers_seen(gql, finance.token)
    assert (after["status"], after["paymentStatus"]) == ("refunded", "FAILED")
    assert await cash(rt, player, "BTC") == 0
    assert await entries(rt, "deposit") == 0
    assert await suspense(rt, "BTC") == 0


async def test_a_later_confirmation_of_a_held_deposit_whose_gate_passes_now_leaves_it_to_the_release(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    """Credited by a callback while its money sits in suspense, it would be paid twice from the PSP's clearing."""
    player, finance, seen = await held_for_kyc(gql, chain, make_player, make_staff)
    await fully_verified(rt, player.uuid)  # the gate passes now (no hook ran yet)
    await chain.mine(1)  # the processor reports a third confirmation
    await chain.deliver_all(seen["sent"]["id"])
    assert await suspense(rt, "BTC") + await cash(rt, player, "BTC") == 10_000_000  # never both
    [transfer] = await transfers_seen(gql, finance.token)
    assert transfer["status"] == "held"
    released = await decide(gql, finance, RELEASE, transfer["id"])
    assert released["errors"] == [], released
    assert await cash(rt, player, "BTC") == 10_000_000
    assert await suspense(rt, "BTC") == 0
    assert await entries(rt, "deposit") == 1
    assert await entries(rt, "crypto_deposit_held") == 1


async def test_a_refund_the_processor_could_not_take_is_asked_again_by_the_next_sweep(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, monkeypatch: Any
) -> None:
    """The sweep's refund meets a processor not answering: the deposit is `refunding` (a release may not cross
    it); the next sweep asks again under the same foreign id, and it is paid once."""
    from datetime import timedelta

    from core.clock import clock

    player = await make_player(brand_code="satoshi", currency="BTC")
    assert (await held_deposit(gql, chain, player, "0.10000000"))["results"][-1] == "held"
    after = timedelta(days=rt.settings.crypto_held_refund_after_days)
    clock.advance(after + timedelta(seconds=1))

    await sweep_while_down_then_again(rt, monkeypatch, after)
    assert len([t for t in await chain.transfers() if t["kind"] == "withdrawal"]) == 1
    assert await suspense(rt, "BTC") == 0


async def test_the_sweep_retries_a_refund_left_refunding_under_its_open_round_after_a_failed_one(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any, monkeypatch: Any
) -> None:
    """Round 1 failed at the processor (reversed, held again); the sweep refunds it again once its holding period,
    counted from the failure, is over, under round 2's foreign id; the processor does not answer, so it is left
    `refunding`; the next sweep asks round 2 again (not a third round): paid once."""
    from datetime import timedelta

    from core.clock import clock

    *_, first, results = await refunded_then_failed(gql, chain, make_player, make_staff, "failed")
    assert results[-1]["result"] == "applied", results
    assert await statuses(rt) == ["held"]
    after = timedelta(days=rt.settings.crypto_held_refund_after_days)
    clock.advance(after + timedelta(seconds=1))

    await sweep_while_down_then_again(rt, monkeypatch, after)
    payouts = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert sorted((p["foreign_id"], p["status"]) for p in payouts) == [(first, "failed"), (f"{first}-2", "processing")]
    assert await suspense(rt, "BTC") == 0
    assert (await entries(rt, "crypto_deposit_refunded"), await entries(rt, "crypto_refund_reversed")) == (2, 1)


async def test_a_held_deposit_dropped_from_the_chain_is_neither_refunded_nor_released_until_mined_again(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    """The coins of a dropped transfer are not ours: sent back, the sender would have them twice (a double spend);
    released, the player would play with coins the chain took back. It stays in suspense, flagged, until the
    transfer is mined again."""
    from datetime import timedelta

    from core.clock import clock
    from services.cashier.crypto import holds

    player, finance, seen = await held_for_kyc(gql, chain, make_player, make_staff)
    await chain.drop(seen["sent"]["id"])
    assert [r["result"] for r in await chain.deliver_all(seen["sent"]["id"])][-1] == "dropped_after_credit"
    [transfer] = await transfers_seen(gql, finance.token)
    refused = await decide(gql, finance, REFUND, transfer["id"])
    assert [e["code"] for e in refused["errors"]] == ["CRYPTO_DEPOSIT_DROPPED"], refused
    await fully_verified(rt, player.uuid)
    refused = await decide(gql, finance, RELEASE, transfer["id"])
    assert [e["code"] for e in refused["errors"]] == ["CRYPTO_DEPOSIT_DROPPED"], refused

    after = timedelta(days=rt.settings.crypto_held_refund_after_days)
    clock.advance(after + timedelta(seconds=1))
    swept = await holds.sweep(rt, refund_after=after)
    assert (swept.released, swept.refunded, [c for _, c in swept.kept]) == ([], [], ["CRYPTO_DEPOSIT_DROPPED"])
    assert [t for t in await chain.transfers() if t["kind"] == "withdrawal"] == []
    assert await cash(rt, player, "BTC") == 0
    assert await suspense(rt, "BTC") == 10_000_000

    # Mined again (re-broadcast): the gates again; they pass now, so it is credited from suspense, flagged.
    [last] = (await chain.callbacks(seen["sent"]["id"]))[-1:]
    body = json.loads(last["body"])
    body["id"], body["status"] = "cb_mined_again", "confirmed"
    body["transaction"]["confirmations"] = 3
    raw = json.dumps(body)
    secret = processor(rt.settings).secret
    response = await chain.platform.post(
        "/webhooks/psp/cryptopay",
        content=raw,
        headers={"content-type": "application/json", "x-processing-signature": signature(secret, raw.encode())},
    )
    assert response.json()["result"] == "applied", response.text
    assert await cash(rt, player, "BTC") == 10_000_000
    assert await suspense(rt, "BTC") == 0
    assert await statuses(rt) == ["credited"]


async def test_a_refund_the_processor_cancels_after_taking_it_is_held_again_and_can_be_refunded_anew(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    """The processor took the refund (`processing`), then reported it cancelled: the coins never left, so the
    suspense owes them again (the refund reversed once, services/cashier/crypto/refunds.py); a second refund goes
    under a new foreign id (the first is spent at the processor)."""
    player, finance, transfer, first, results = await refunded_then_failed(
        gql, chain, make_player, make_staff, "cancelled"
    )
    assert results[-1]["result"] == "applied", results
    assert {r["result"] for r in await chain.deliver_all(first)} == {"duplicate"}  # redelivered: once
    assert await suspense(rt, "BTC") == 10_000_000
    [after] = await transfers_seen(gql, finance.token)
    # Held again under its gate (KYC's threshold), its payment pending: for finance to release or refund anew.
    assert (after["status"], after["heldReason"], after["paymentStatus"]) == ("held", "KYC_REQUIRED", "PENDING")
    assert await entries(rt, "crypto_refund_reversed") == 1

    again = await decide(gql, finance, REFUND, transfer["id"])
    assert again["errors"] == [], again
    assert again["transfer"]["status"] == "refunded"
    payouts = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert sorted((p["foreign_id"], p["status"]) for p in payouts) == [
        (first, "cancelled"),
        (f"{first}-2", "processing"),
    ]
    assert await suspense(rt, "BTC") == 0
    assert await cash(rt, player, "BTC") == 0
    assert (await entries(rt, "crypto_deposit_refunded"), await entries(rt, "crypto_refund_reversed")) == (2, 1)


async def test_the_sweep_command_refuses_a_holding_period_below_a_day_and_refunds_nothing(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    """`--refund-after-days -1` (a typo) refunded every held deposit at once; 0 fell back to the default."""
    from tests.test_audit import run_cli

    player = await make_player(brand_code="satoshi", currency="BTC")
    assert (await held_deposit(gql, chain, player, "0.10000000"))["results"][-1] == "held"
    for days in ("-1", "0"):
        code, output = await run_cli("payments", "crypto-held", "--refund-after-days", days)
        assert code == 2, output
    assert [t for t in await chain.transfers() if t["kind"] == "withdrawal"] == []
    assert await statuses(rt) == ["held"]
    code, output = await run_cli("payments", "crypto-held")
    assert (code, output.strip().splitlines()[0]) == (0, "0 released, 0 refunded, 1 still held"), output


async def test_a_deposit_from_a_player_on_the_brands_block_list_is_held_as_a_card_deposit_is_refused(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    """The card deposit asks the risk lists first (services/risk/gates.py `check_payment`): a player whose email is
    on the brand's block list deposits nothing; through the crypto address the coins were credited all the same."""
    player = await make_player(brand_code="satoshi", currency="BTC")
    analyst = await make_staff(("risk_analyst", "satoshi"))
    added = await gql(
        """mutation($input: AddRiskListEntryInput!) { addRiskListEntry(input: $input) { errors { code field } } }""",
        {"input": {"list": "BLOCK", "kind": "EMAIL", "value": player.email, "reason": "fraud ring"}},
        token=analyst.token,
    )
    assert added["data"]["addRiskListEntry"]["errors"] == [], added
    seen = await held_deposit(gql, chain, player, "0.00100000")  # 60 EUR: no other gate refuses it
    assert seen["results"][-1] == "held"
    assert await cash(rt, player, "BTC") == 0
    assert await suspense(rt, "BTC") == 100_000
    assert await statuses(rt) == ["held"]
