"""The KYC journey through GraphQL: a deposit past the CDD threshold asks for identity verification, a
withdrawal waits for it with its money held, and an officer's approval lets it pay out by itself."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from strawberry import relay

from tests.cashier.conftest import DemoPsp, assert_ledger_ok, balances, ledger_count
from tests.kyc.conftest import (
    APPROVE,
    PROVIDER_CHECK,
    audit_actions,
    decide,
    deposit,
    events_of,
    my_kyc,
    payment_status,
    payments_of,
    withdraw,
)


def payment_uuid(payload: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(payload["payment"]["id"]).node_id)


async def past_the_threshold(gql: Any, psp: DemoPsp, player: Any) -> dict[str, Any]:
    """1,500 EUR in, then 600 more: the second would take lifetime deposits to 2,100 EUR (CDD at 2,000)."""
    first = await deposit(gql, psp, player, "1500.00")
    assert (first["errors"], first["payment"]["status"]) == ([], "SUCCEEDED"), first
    return await deposit(gql, psp, player, "600.00")


async def test_a_deposit_past_the_cdd_threshold_is_refused_with_the_next_step_and_asks_for_the_level(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any
) -> None:
    player = await make_player()
    assert (await my_kyc(gql, player))["status"] == "VERIFIED"

    refused = await past_the_threshold(gql, psp, player)

    assert refused["payment"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("KYC_REQUIRED", "amount")
    assert error["kyc"]["requiredLevel"] == "identity_verified"
    assert error["kyc"]["trigger"] == "lifetime_deposits"
    assert error["kyc"]["nextStep"].startswith("Upload an identity document")
    # Before any money moved: no payment, nothing at a PSP beyond the first deposit, cash as it was.
    assert await payments_of(rt, player.uuid, "deposit") == 1
    assert len(await psp.transactions()) == 1
    assert await balances(rt, player.uuid) == (150000, 0)

    kyc = await my_kyc(gql, player)
    assert (kyc["level"], kyc["requiredLevel"], kyc["status"]) == ("registered", "identity_verified", "ACTION_REQUIRED")
    assert kyc["reason"] == {
        "trigger": "lifetime_deposits",
        "threshold": "2000.00",
        "figure": "2100.00",
        "currency": "EUR",
    }
    assert kyc["nextLevel"] == "identity_verified"
    assert [s["requirement"] for s in kyc["nextSteps"]] == [
        "document:identity",
        "provider_check",
        "screening_clear",
        "officer_approval",
    ]
    [required] = await events_of(rt, player.uuid, "kyc.level_required")
    assert (required["required_level"], required["trigger"]) == ("identity_verified", "lifetime_deposits")
    assert required["gates"] == ["deposit", "withdrawal"]

    # Asked again, the same refusal; the requirement is recorded once.
    again = await deposit(gql, psp, player, "600.00")
    assert [e["code"] for e in again["errors"]] == ["KYC_REQUIRED"]
    assert len(await events_of(rt, player.uuid, "kyc.level_required")) == 1
    # Once required, due diligence comes first: a deposit that alone stays below the threshold waits too.
    small = await deposit(gql, psp, player, "10.00")
    assert [e["kyc"]["trigger"] for e in small["errors"]] == ["lifetime_deposits"]
    assert await balances(rt, player.uuid) == (150000, 0)
    await assert_ledger_ok(rt)


async def test_a_withdrawal_waits_for_kyc_with_its_money_held_and_pays_out_once_the_level_is_approved(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any, make_staff: Any, documents_and_screening_clear: None
) -> None:
    player = await make_player()
    await past_the_threshold(gql, psp, player)

    waiting = await withdraw(gql, player, "50.00")
    assert (waiting["errors"], waiting["payment"]["status"]) == ([], "WAITING_FOR_KYC"), waiting
    withdrawal = payment_uuid(waiting)
    assert await balances(rt, player.uuid) == (145000, 5000)  # held exactly as a requested withdrawal is
    assert await ledger_count(rt, player.uuid, "withdrawal_hold") == 1
    await assert_ledger_ok(rt)

    officer = await make_staff("kyc_officer")
    # The provider check is the player's step; documents and screening are clear (the stand-ins).
    checked = await decide(gql, officer, PROVIDER_CHECK, player, provider="demo-idv", passed=True, reference="app-1")
    assert checked["errors"] == []
    assert checked["kyc"]["status"] == "PENDING_REVIEW"
    assert [s["requirement"] for s in checked["kyc"]["nextSteps"]] == ["officer_approval"]
    assert await payment_status(rt, withdrawal) == "waiting_for_kyc"

    approved = await decide(
        gql, officer, APPROVE, player, level="identity_verified", reason="passport and selfie match"
    )
    assert approved["errors"] == [], approved
    assert (approved["kyc"]["level"], approved["kyc"]["status"]) == ("identity_verified", "VERIFIED")

    # By itself: released, approved automatically (below 100 EUR) and paid out.
    assert await payment_status(rt, withdrawal) == "paid"
    assert await balances(rt, player.uuid) == (145000, 0)
    assert await ledger_count(rt, player.uuid, "withdrawal_paid") == 1
    assert (await my_kyc(gql, player))["status"] == "VERIFIED"
    topics = [e["type"] for e in await events_of(rt, player.uuid, "payment.") if e["payment_id"] == str(withdrawal)]
    assert topics[:4] == ["payment.requested", "payment.waiting_for_kyc", "payment.kyc_cleared", "payment.approved"]
    assert topics[-1] == "payment.paid"
    assert [e["type"] for e in await events_of(rt, player.uuid, "kyc.")][-2:] == [
        "kyc.level_reached",
        "kyc.review_decided",
    ]
    assert await audit_actions(rt, player.uuid) == ["kyc.provider_check", "kyc.level_approve"]
    # The deposit the level was asked for now goes through.
    assert (await deposit(gql, psp, player, "600.00"))["payment"]["status"] == "SUCCEEDED"
    await assert_ledger_ok(rt)


async def test_two_officers_approving_at_once_reach_the_level_once_and_pay_the_withdrawal_once(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any, make_staff: Any, documents_and_screening_clear: None
) -> None:
    player = await make_player()
    await past_the_threshold(gql, psp, player)
    waiting = await withdraw(gql, player, "50.00")
    withdrawal = payment_uuid(waiting)
    first, second = await make_staff("kyc_officer"), await make_staff("kyc_officer")
    await decide(gql, first, PROVIDER_CHECK, player, provider="demo-idv", passed=True)

    answers = await asyncio.gather(
        decide(gql, first, APPROVE, player, level="identity_verified", reason="ok"),
        decide(gql, second, APPROVE, player, level="identity_verified", reason="ok too"),
    )

    outcomes = sorted(tuple(e["code"] for e in a["errors"]) for a in answers)
    assert outcomes == [(), ("INVALID_STATE",)], answers
    assert len(await events_of(rt, player.uuid, "kyc.level_reached")) == 1
    assert await payment_status(rt, withdrawal) == "paid"
    assert await ledger_count(rt, player.uuid, "withdrawal_paid") == 1
    assert await balances(rt, player.uuid) == (145000, 0)
    assert [e["type"] for e in await events_of(rt, player.uuid, "payment.kyc_cleared")] == ["payment.kyc_cleared"]
    await assert_ledger_ok(rt)
