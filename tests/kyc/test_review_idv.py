"""Review of the identity-verification webhook (issue 16 item 4): what an unauthenticated caller and a
revoking provider can do."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.kyc.conftest import APPROVE, DemoIdv, decide, events_of, my_kyc, my_verification, start_verification
from tests.kyc.test_idv_webhooks import APPLIED, post, receipts, reviewed, signed


async def test_review_a_digest_header_with_non_ascii_characters_is_refused_401_not_500(
    rt: Any, client: httpx.AsyncClient
) -> None:
    body = json.dumps({"type": "applicantReviewed", "applicantId": "x"}).encode()
    for digest in ("\u00e9" * 64, "ab\u00ff"):
        answer = await client.post(
            "/webhooks/idv/sumsub",
            content=body,
            headers={"content-type": "application/json", "x-payload-digest": digest.encode("latin-1")},
        )
        assert (answer.status_code, answer.json()) == (401, {"error": "invalid signature"}), digest
    assert await receipts(rt) == 0


async def test_review_an_empty_webhook_secret_verifies_nothing(
    rt: Any, client: httpx.AsyncClient, gql: Any, make_player: Any
) -> None:
    # An operator who blanks IDV_WEBHOOK_SECRET (to be rid of the demo default the production check
    # refuses) must not open the webhook to anyone who can compute an HMAC under the empty key.
    player = await make_player()
    forged = {
        "id": "5cb56e8e0a975a35f333cb99",
        "inspectionId": "x",
        "externalUserId": str(player.uuid),
        "levelName": "basic-kyc-level",
    }
    saved = rt.settings.idv_webhook_secret
    rt.settings.idv_webhook_secret = ""
    try:
        answer = await post(client, *signed(rt, reviewed(forged, "2026-12-07 10:00:00.000", "GREEN")))
    finally:
        rt.settings.idv_webhook_secret = saved
    assert answer.status_code == 401, answer.text
    assert await receipts(rt) == 0
    assert (await my_verification(gql, player))["verification"] is None


def test_review_production_refuses_an_empty_idv_webhook_secret() -> None:
    from core.settings import Settings
    from tests.test_production_exposure import REAL_PSP_SECRETS

    settings = Settings(
        env="production",
        psp_secrets=json.loads(REAL_PSP_SECRETS),
        idv_secret_key="s3cret-idv-api",
        idv_webhook_secret=" ",
    )
    with pytest.raises(RuntimeError, match="IDV_WEBHOOK_SECRET"):
        settings.check_production_secrets()


@pytest.mark.usefixtures("documents_and_screening_clear")
async def test_review_a_newer_final_rejection_after_a_green_the_level_relied_on_restricts_the_account(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    officer = await make_staff("kyc_officer")
    started = await start_verification(gql, player)
    assert await idv.review(client, player, started["url"], "approve") == APPLIED
    approved = await decide(gql, officer, APPROVE, player, level="identity_verified", reason="provider GREEN")
    assert (approved["errors"], approved["kyc"]["level"]) == ([], "identity_verified"), approved

    # The provider's compliance team re-reviews the applicant and rejects it for good (fraud found later).
    [applicant] = await idv.applicants(player)
    final = reviewed(applicant, "2099-01-01 00:00:00.000", "RED", "FINAL")
    answer = await post(client, *signed(rt, final))
    assert (answer.status_code, answer.json()["result"]) == (200, "applied"), answer.text

    # The newest result wins: the player is no longer treated as verified; an officer decides.
    kyc = await my_kyc(gql, player)
    assert (kyc["restricted"], kyc["status"]) == (True, "RESTRICTED"), kyc
    assert (await my_verification(gql, player))["verification"]["rejectType"] == "FINAL"
    assert "kyc.restricted" in [e["type"] for e in await events_of(rt, player.uuid, "kyc.restricted")]
    # A redelivery of the old GREEN changes nothing.
    green = reviewed(applicant, "2026-12-07 10:00:00.000", "GREEN")
    assert (await post(client, *signed(rt, green))).json()["result"] == "stale"
    assert (await my_kyc(gql, player))["restricted"] is True
