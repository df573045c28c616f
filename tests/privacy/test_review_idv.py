"""Review of privacy against the identity-verification adapter merged beside it (issue 16 items 4 and 9):
the provider's applicant of a player is their data, exported and erased like the KYC check that names it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import text

from tests.aml_monitoring.conftest import monitoring  # noqa: F401  (fixture: the consumer, drained)
from tests.kyc.test_idv_webhooks import post, reviewed, signed
from tests.privacy.conftest import EXPORT, cli, holds_expired, tables_holding
from tests.privacy.test_erasure import erase


async def test_review_the_providers_applicant_is_exported_and_erased_with_the_identity(
    rt: Any, gql: Any, client: httpx.AsyncClient, seed: Any, dpo: Any
) -> None:
    seeded = await seed()
    applicant_id = uuid.uuid4().hex[:24]  # the provider's id for the person: it leads to their documents there
    applicant = {
        "id": applicant_id,
        "inspectionId": "i-" + applicant_id,
        "externalUserId": str(seeded.player.uuid),
        "levelName": "basic-kyc-level",
    }
    answer = await post(client, *signed(rt, reviewed(applicant, "2026-12-07 10:00:00.000", "GREEN")))
    assert (answer.status_code, answer.json()["result"]) == (200, "applied"), answer.text
    assert set(await tables_holding(rt, applicant_id)) >= {"kyc_idv_applicants", "kyc_checks"}

    # The officer's export holds the applicant and what the provider told us about it.
    body = await gql(EXPORT, {"input": {"playerId": seeded.player.id}}, token=dpo.token)
    kyc = body["data"]["exportPlayerData"]["export"]["categories"]["kyc"]
    assert [a["applicant_id"] for a in kyc.get("kyc_idv_applicants", [])] == [applicant_id], sorted(kyc)
    assert applicant_id in json.dumps(kyc.get("kyc_idv_webhook_receipts"))

    # Erased, and the identity category swept: the provider's id goes with the check that named it.
    assert (await erase(gql, dpo, seeded.player))["errors"] == []
    await holds_expired(rt, seeded.player)
    code, out, err = await cli("privacy", "sweep")
    assert code == 0, (out, err)
    assert set(await tables_holding(rt, applicant_id)) <= {"audit_log"}

    # A late redelivery of the provider's old result binds nothing to the erased player.
    late = await post(client, *signed(rt, reviewed(applicant, "2026-12-07 11:00:00.000", "GREEN")))
    assert (late.status_code, late.json()["result"]) == (200, "unknown_applicant"), late.text


async def test_review_the_card_token_is_swept_from_aml_monitorings_windows_too(
    rt: Any,
    gql: Any,
    seed: Any,
    dpo: Any,
    monitoring: Any,  # noqa: F811
) -> None:
    seeded = await seed()
    async with rt.database.session() as db:
        token = await db.scalar(
            text("SELECT instrument_token FROM payments WHERE player_id = :p AND instrument_token IS NOT NULL"),
            {"p": seeded.player.uuid},
        )
    assert token
    await monitoring.drain()  # the consumer keeps each deposit's instrument in the player's window
    assert "aml_monitoring_deposits" in await tables_holding(rt, token)

    assert (await erase(gql, dpo, seeded.player))["errors"] == []
    await holds_expired(rt, seeded.player)
    code, out, err = await cli("privacy", "sweep")
    assert code == 0, (out, err)

    assert set(await tables_holding(rt, token)) <= {"audit_log"}
