"""Confirmed crypto deposits a deposit gate refuses: never credited, never lost. Held in the brand's suspense
account, released to the player once the gates pass, or refunded to the address the coins came from; each exactly
once, whatever the races and redeliveries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from tests.crypto.conftest import Chain, address_of, cash, payments_of, transfers_seen
from tests.kyc.conftest import fully_verified
from tests.test_authz import PASSWORD, PLAY_LOGIN, ROLES, role_set, shared_authorizer, staff_holding

RELEASE = """
mutation($input: HeldCryptoDepositInput!) {
  releaseHeldCryptoDeposit(input: $input) {
    transfer { id status heldReason paymentStatus } errors { code field message }
  }
}"""
REFUND = """
mutation($input: HeldCryptoDepositInput!) {
  refundHeldCryptoDeposit(input: $input) {
    transfer { id status heldReason senderAddress fee paymentStatus } errors { code field message }
  }
}"""
SELF_EXCLUDE = """mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"""
SENDER = "bc1qsenderaddressqqqqqqqqqqqqqqqqqqqqqqqq"


async def held_deposit(gql: Any, chain: Chain, player: Any, amount: str, to: str | None = None) -> dict[str, Any]:
    """Coins sent from SENDER to the player's BTC address (`to`, taken already) and confirmed."""
    to = to or (await address_of(gql, player, "BTC"))["address"]
    response = await chain.http.post(
        "/cryptopay/control/send", json={"currency": "BTC", "address": to, "amount": amount, "from": SENDER}
    )
    sent = response.json()
    await chain.mine(2)
    results = await chain.deliver_all(sent["id"])
    return {"sent": sent, "results": [r["result"] for r in results]}


async def suspense(rt: Any, currency: str) -> int:
    """What the suspense accounts hold (a liability: positive when owed)."""
    async with rt.database.session() as db:
        total = await db.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount), 0))
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerAccount.purpose == "crypto_held", LedgerAccount.currency == currency)
        )
    return int(total or 0)


async def entries(rt: Any, kind: str) -> int:
    async with rt.database.session() as db:
        return int(
            await db.scalar(select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.kind == kind))
            or 0
        )


async def decide(gql: Any, staff: Any, mutation: str, transfer_id: str, reason: str = "checked by finance") -> Any:
    body = await gql(mutation, {"input": {"transferId": transfer_id, "reason": reason}}, token=staff.token)
    return next(iter(body["data"].values())) if body.get("data") else body


async def test_a_deposit_over_the_kyc_threshold_is_held_then_released_once_the_player_is_verified(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    finance = await make_staff(("finance", "satoshi"))
    seen = await held_deposit(gql, chain, player, "0.10000000")  # 6,000 EUR: KYC's deposit threshold
    assert seen["results"][-1] == "held"
    assert await cash(rt, player, "BTC") == 0
    assert await suspense(rt, "BTC") == 10_000_000
    [transfer] = await transfers_seen(gql, finance.token)
    [payment] = await payments_of(gql, player)
    assert payment["status"] == "PENDING"
    held = await gql(
        'query { cryptoTransfers(filter: {status: "held"}) { edges { node { id heldReason senderAddress } } } }',
        token=finance.token,
    )
    [node] = [e["node"] for e in held["data"]["cryptoTransfers"]["edges"]]
    assert (node["heldReason"], node["senderAddress"]) == ("KYC_REQUIRED", SENDER)

    refused = await decide(gql, finance, RELEASE, transfer["id"])  # the gate still refuses: it stays held
    assert [e["code"] for e in refused["errors"]] == ["KYC_REQUIRED"]
    assert await suspense(rt, "BTC") == 10_000_000

    await fully_verified(rt, player.uuid)
    released = await decide(gql, finance, RELEASE, transfer["id"])
    assert released["errors"] == []
    assert (released["transfer"]["status"], released["transfer"]["paymentStatus"]) == ("credited", "SUCCEEDED")
    assert await cash(rt, player, "BTC") == 10_000_000
    assert await suspense(rt, "BTC") == 0
    again = await decide(gql, finance, RELEASE, transfer["id"])
    assert [e["code"] for e in again["errors"]] == ["CRYPTO_DEPOSIT_NOT_HELD"]
    await chain.mine(1)  # a later callback about the credited transfer moves nothing
    for callback in await chain.callbacks(seen["sent"]["id"]):
        assert (await chain.deliver(callback)).status_code == 200
    assert await cash(rt, player, "BTC") == 10_000_000
    assert await entries(rt, "deposit") == 1


async def test_a_self_excluded_players_deposit_is_refunded_to_its_sender_screened_first_and_with_its_fee(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    finance = await make_staff(("finance", "satoshi"))
    address = await address_of(gql, player, "BTC")  # taken before: the address stays, the coins still come
    login = await gql(PLAY_LOGIN, {"input": {"brand": "satoshi", "email": player.email, "password": PASSWORD}})
    play = login["data"]["login"]["tokens"]["accessToken"]
    assert (await gql(SELF_EXCLUDE, token=play))["data"]["selfExclude"]["errors"] == []
    await chain.settings(fees={"BTC": "0.00002000"}, flagged={SENDER: "mixer"})
    seen = await held_deposit(gql, chain, player, "0.00100000", address["address"])  # 60 EUR: only the exclusion
    assert seen["results"][-1] == "held"
    [transfer] = await transfers_seen(gql, finance.token)
    assert transfer["status"] == "held"

    refused = await decide(gql, finance, REFUND, transfer["id"])  # the sender is a mixer: never paid to
    assert [e["code"] for e in refused["errors"]] == ["CRYPTO_ADDRESS_REFUSED"]
    assert [t for t in await chain.transfers() if t["kind"] == "withdrawal"] == []
    [transfer] = await transfers_seen(gql, finance.token)
    assert transfer["status"] == "held"
    assert [e["code"] for e in (await decide(gql, finance, RELEASE, transfer["id"]))["errors"]] == ["SELF_EXCLUDED"]

    await chain.settings(flagged={SENDER: ""})  # cleared by the screening provider
    refunded = await decide(gql, finance, REFUND, transfer["id"])
    assert refunded["errors"] == [], refunded
    assert refunded["transfer"]["status"] == "refunded"
    assert (refunded["transfer"]["paymentStatus"], refunded["transfer"]["fee"]) == ("FAILED", "0.00002")
    [payout] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (payout["address"], payout["amount"], payout["foreign_id"]) == (
        SENDER,
        "0.00100000",
        f"refund-{transfer['id']}",
    )
    assert await cash(rt, player, "BTC") == 0
    assert await suspense(rt, "BTC") == 0
    assert await entries(rt, "psp_fee") == 1
    again = await decide(gql, finance, REFUND, transfer["id"])  # a retry: the first result, nothing paid twice
    assert again["transfer"]["status"] == "refunded"
    assert len([t for t in await chain.transfers() if t["kind"] == "withdrawal"]) == 1
    assert await entries(rt, "crypto_deposit_refunded") == 1


async def test_releases_and_refunds_racing_decide_a_held_deposit_exactly_once(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    finance = await make_staff(("finance", "satoshi"))
    seen = await held_deposit(gql, chain, player, "0.10000000")
    assert seen["results"][-1] == "held"
    [transfer] = await transfers_seen(gql, finance.token)
    await fully_verified(rt, player.uuid)  # both ways are open now

    answers = await asyncio.gather(
        *(decide(gql, finance, RELEASE, transfer["id"]) for _ in range(3)),
        *(decide(gql, finance, REFUND, transfer["id"]) for _ in range(3)),
        # and the processor redelivering every callback meanwhile
        *(chain.deliver(callback) for callback in await chain.callbacks(seen["sent"]["id"])),
    )
    decided = [a for a in answers[:6] if a["errors"] == []]
    outcomes = {a["transfer"]["status"] for a in decided}
    assert len(outcomes) == 1, answers[:6]  # one way won; the other was refused (not held any more)
    refused = {e["code"] for a in answers[:6] for e in a["errors"]}
    assert refused <= {"CRYPTO_DEPOSIT_NOT_HELD"}
    payouts = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    if outcomes == {"credited"}:
        assert await cash(rt, player, "BTC") == 10_000_000
        assert payouts == []
        assert (await entries(rt, "crypto_deposit_released"), await entries(rt, "crypto_deposit_refunded")) == (1, 0)
    else:
        assert outcomes == {"refunded"}
        assert await cash(rt, player, "BTC") == 0
        assert len(payouts) == 1  # asked once or more under one foreign id: paid once
        assert (await entries(rt, "crypto_deposit_released"), await entries(rt, "crypto_deposit_refunded")) == (0, 1)
    assert await suspense(rt, "BTC") == 0
    assert await entries(rt, "crypto_deposit_held") == 1


@pytest.mark.parametrize("role", ROLES)
async def test_only_finance_decides_on_held_deposits(
    role: str, rt: Any, settings: Any, gql: Any, chain: Chain, make_player: Any, make_staff: Any
) -> None:
    """Each role against both mutations and the payload's fields: what the policy allows answers (here: a
    refusal about the unknown transfer), the rest is FORBIDDEN (UNAUTHENTICATED for anonymous)."""
    token = None
    if role == "player":
        token = (await make_player()).token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    unknown = {"transferId": "00000000-0000-0000-0000-000000000000", "reason": "checked by finance"}
    for mutation, name in ((RELEASE, "releaseHeldCryptoDeposit"), (REFUND, "refundHeldCryptoDeposit")):
        body = await gql(mutation, {"input": unknown}, token=token)
        allowed = any(authorizer.enforce(r, brand_code, f"Mutation.{name}") for r in roles)
        if allowed:
            assert role in ("finance", "superadmin"), role
            assert [e["code"] for e in body["data"][name]["errors"]] == ["NOT_FOUND"], body
        else:
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            assert codes == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"], (role, body)
            assert body["data"] is None or body["data"].get(name) is None


async def test_a_held_deposit_is_released_by_itself_once_the_players_kyc_changes(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    """The KYC service's hook after a level is reached (services/kyc/reviews.py `after_change`) releases the
    player's held deposits the gates now pass, as it releases withdrawals waiting for KYC; twice is once."""
    from services.kyc.reviews import after_change

    player = await make_player(brand_code="satoshi", currency="BTC")
    seen = await held_deposit(gql, chain, player, "0.10000000")
    assert seen["results"][-1] == "held"
    await after_change(rt, player.uuid)  # nothing changed: still held
    assert await cash(rt, player, "BTC") == 0

    await fully_verified(rt, player.uuid)
    await asyncio.gather(after_change(rt, player.uuid), after_change(rt, player.uuid))
    assert await cash(rt, player, "BTC") == 10_000_000
    assert await suspense(rt, "BTC") == 0
    assert await entries(rt, "crypto_deposit_released") == 1
    finance = await make_staff(("finance", "satoshi"))
    [transfer] = await transfers_seen(gql, finance.token)
    assert (transfer["status"], transfer["paymentStatus"], transfer["heldReason"]) == (
        "credited",
        "SUCCEEDED",
        "KYC_REQUIRED",
    )


async def test_the_sweep_refunds_to_its_sender_a_deposit_held_too_long_and_keeps_a_younger_one(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    from datetime import timedelta

    from core.clock import clock
    from services.cashier.crypto import holds

    player = await make_player(brand_code="satoshi", currency="BTC")
    assert (await held_deposit(gql, chain, player, "0.10000000"))["results"][-1] == "held"
    after = timedelta(days=rt.settings.crypto_held_refund_after_days)
    young = await holds.sweep(rt, refund_after=after)
    assert (young.released, young.refunded, [code for _, code in young.kept]) == ([], [], ["KYC_REQUIRED"])

    clock.advance(after + timedelta(seconds=1))
    old = await holds.sweep(rt, refund_after=after)
    assert (len(old.refunded), old.kept) == (1, [])
    [payout] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (payout["address"], payout["amount"]) == (SENDER, "0.10000000")
    assert await cash(rt, player, "BTC") == 0
    assert await suspense(rt, "BTC") == 0
    assert (await holds.sweep(rt, refund_after=after)).refunded == []  # swept again: nothing left


@pytest.mark.tampers
async def test_ledger_verify_finds_a_suspense_account_that_differs_from_its_held_deposits(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    from tests.ledger.test_ledger_checks import assert_clean, assert_reported, tamper

    player = await make_player(brand_code="satoshi", currency="BTC")
    assert (await held_deposit(gql, chain, player, "0.10000000"))["results"][-1] == "held"
    assert_clean()
    # A held deposit marked credited without its money leaving suspense: the books no longer agree.
    await tamper(rt, "UPDATE crypto_transfers SET status = 'credited' WHERE status = 'held'")
    assert_reported("crypto suspense differs from its held deposits")
    await tamper(rt, "UPDATE crypto_transfers SET status = 'held' WHERE status = 'credited'")
    assert_clean()
