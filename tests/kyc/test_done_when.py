"""Issue 16's "done when", end to end through the public surfaces, with the demo PSP and the demo IDV
provider running as their own servers: a demo player deposits past the EUR 2,000 CDD threshold and is
asked for documents, uploads one, the demo provider verifies them and its webhook arrives, a withdrawal
that waited in WAITING_FOR_KYC pays by itself once a KYC officer approves the level, and
`croupier ledger verify` is clean at every step."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from strawberry import relay

from core.clock import clock
from tests import cli_process
from tests.aml.conftest import screening  # noqa: F401  (fixture)
from tests.cashier.conftest import DemoPsp, assert_ledger_ok, balances, ledger_count
from tests.kyc.conftest import (
    APPROVE,
    QUEUE,
    DemoIdv,
    decide,
    deposit,
    my_verification,
    payment_status,
    start_verification,
    withdraw,
)
from tests.kyc_documents.conftest import REVIEW, pdf, upload


def ledger_verify_clean() -> None:
    done = cli_process.run("ledger", "verify", timeout=120)
    assert done.returncode == 0, f"croupier ledger verify failed:\n{done.stdout}\n{done.stderr}"


def steps(kyc: dict[str, Any]) -> list[str]:
    return [s["requirement"] for s in kyc["nextSteps"]]


async def test_a_player_past_the_threshold_is_verified_by_the_demo_provider_and_the_waiting_withdrawal_pays(
    rt: Any,
    gql: Any,
    client: httpx.AsyncClient,
    psp: DemoPsp,
    idv: DemoIdv,
    screening: Any,  # noqa: F811  (the fixture imported above)
    make_player: Any,
    make_staff: Any,
) -> None:
    player = await make_player(firstName="Anna", lastName="Lindqvist", born=date(1991, 3, 14))
    officer = await make_staff("kyc_officer")

    # 1. Deposits: 1,500 EUR pass; 600 more would cross EUR 2,000 lifetime: refused, and the player is told
    #    what comes next.
    first = await deposit(gql, psp, player, "1500.00")
    assert (first["errors"], first["payment"]["status"]) == ([], "SUCCEEDED"), first
    refused = await deposit(gql, psp, player, "600.00")
    assert refused["payment"] is None
    assert [(e["code"], e["kyc"]["requiredLevel"]) for e in refused["errors"]] == [
        ("KYC_REQUIRED", "identity_verified")
    ]
    kyc = await my_verification(gql, player)
    assert kyc["status"] == "ACTION_REQUIRED"
    assert steps(kyc) == ["document:identity", "provider_check", "screening_clear", "officer_approval"]
    assert kyc["verification"] is None
    ledger_verify_clean()

    # 2. A withdrawal asked for before the level waits, its money held.
    waiting = await withdraw(gql, player, "50.00")
    assert (waiting["errors"], waiting["payment"]["status"]) == ([], "WAITING_FOR_KYC"), waiting
    withdrawal = uuid.UUID(relay.GlobalID.from_id(waiting["payment"]["id"]).node_id)
    assert await balances(rt, player.uuid) == (145000, 5000)

    # 3. The player uploads an identity document (GraphQL multipart).
    uploaded = await upload(client, player.token, pdf(2))
    assert (uploaded["errors"], uploaded["document"]["status"]) == ([], "PENDING"), uploaded

    # 4. They start the check with the demo provider, go through its hosted flow, and it approves; its
    #    signed webhooks reach the platform.
    started = await start_verification(gql, player)
    assert started["errors"] == [], started
    assert started["url"], started
    assert await idv.review(client, player, started["url"], "approve") == [
        ("applicantPending", "applied"),
        ("applicantReviewed", "applied"),
    ]
    kyc = await my_verification(gql, player)
    assert (kyc["verification"]["status"], kyc["verification"]["reviewAnswer"]) == ("completed", "GREEN")
    assert "provider_check" not in steps(kyc)
    assert await payment_status(rt, withdrawal) == "waiting_for_kyc"  # the level is not reached yet

    # 5. Screening runs (the consumer's turn) and finds nothing: the name is on no sample list.
    await screening.drain()
    assert await screening.alerts(player.uuid) == []
    kyc = await my_verification(gql, player)
    assert steps(kyc) == ["document:identity", "officer_approval"]

    # 6. A KYC officer approves the document, then the level.
    reviewed = await gql(
        REVIEW,
        {
            "input": {
                "documentId": uploaded["document"]["id"],
                "decision": "APPROVE",
                "reason": "Passport matches the provider's check",
                "expiresAt": (clock.now() + timedelta(days=3 * 365)).isoformat(),
            }
        },
        token=officer.token,
    )
    assert reviewed["data"]["reviewKycDocument"]["errors"] == [], reviewed
    kyc = await my_verification(gql, player)
    assert (kyc["status"], steps(kyc)) == ("PENDING_REVIEW", ["officer_approval"])
    # The officers' queue (filtered on the stored status) shows the player as soon as the document is approved.
    queue = await gql(QUEUE, {"status": "PENDING_REVIEW"}, token=officer.token)
    assert [e["node"]["player"]["id"] for e in queue["data"]["kycReviewQueue"]["edges"]] == [player.id], queue
    assert await payment_status(rt, withdrawal) == "waiting_for_kyc"
    ledger_verify_clean()

    approved = await decide(gql, officer, APPROVE, player, level="identity_verified", reason="All checks passed")
    assert approved["errors"] == [], approved
    assert (approved["kyc"]["level"], approved["kyc"]["status"]) == ("identity_verified", "VERIFIED")

    # 7. The withdrawal paid by itself (released, approved below the auto-approval limit, paid out).
    assert await payment_status(rt, withdrawal) == "paid"
    assert await balances(rt, player.uuid) == (145000, 0)
    assert await ledger_count(rt, player.uuid, "withdrawal_paid") == 1
    # And the deposit that was refused goes through now.
    assert (await deposit(gql, psp, player, "600.00"))["payment"]["status"] == "SUCCEEDED"
    await assert_ledger_ok(rt)
    ledger_verify_clean()
