"""Review of the identity-verification webhook (issue 16 item 4): what an unauthenticated caller and a
revoking provider can do."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.kyc.conftest import my_verification
from tests.kyc.test_idv_webhooks import post, receipts, reviewed, signed


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
