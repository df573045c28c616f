"""The identity-verification provider's webhook (`POST /webhooks/idv/sumsub`) and the player's
`kycStartVerification`: the digest of the raw body, one effect per delivery, the newest review result wins
whatever order they arrive in, RED FINAL versus RED RETRY, applicants we do not know, malformed bodies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.kyc.conftest import (
    DemoIdv,
    deliver_idv,
    events_of,
    my_verification,
    start_verification,
)

APPLIED = [("applicantPending", "applied"), ("applicantReviewed", "applied")]


def signed(rt: Any, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    digest = hmac.new(rt.settings.idv_webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "content-type": "application/json",
        "x-payload-digest": digest,
        "x-payload-digest-alg": "HMAC_SHA256_HEX",
    }


def reviewed(applicant: dict[str, Any], at: str, answer: str, reject_type: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"reviewAnswer": answer}
    if reject_type:
        result |= {"reviewRejectType": reject_type, "rejectLabels": ["UNSATISFACTORY_PHOTOS"]}
    return {
        "applicantId": applicant["id"],
        "inspectionId": applicant["inspectionId"],
        "correlationId": f"req-{uuid.uuid4().hex}",
        "externalUserId": applicant["externalUserId"],
        "levelName": applicant["levelName"],
        "type": "applicantReviewed",
        "reviewStatus": "completed",
        "createdAtMs": at,
        "reviewResult": result,
    }


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks/idv/sumsub", content=body, headers=headers)


async def checks(rt: Any, player: Any) -> list[str]:
    from models.kyc import KycCheck

    async with rt.database.session() as db:
        rows = await db.scalars(
            select(KycCheck.result).where(KycCheck.player_id == player.uuid).order_by(KycCheck.created_at, KycCheck.id)
        )
        return list(rows.all())


async def receipts(rt: Any) -> int:
    from models.kyc_idv import IdvWebhookReceipt

    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(IdvWebhookReceipt)) or 0)


async def applicant_of(gql: Any, idv: DemoIdv, player: Any) -> dict[str, Any]:
    started = await start_verification(gql, player)
    assert started["errors"] == [], started
    [applicant] = await idv.applicants(player)
    return applicant


async def test_starting_creates_one_applicant_and_hands_out_the_hosted_flow(
    gql: Any, idv: DemoIdv, demo_idv: str, make_player: Any
) -> None:
    player = await make_player()
    assert (await my_verification(gql, player))["verification"] is None

    first = await start_verification(gql, player)
    second = await start_verification(gql, player)

    assert first["errors"] == second["errors"] == []
    assert first["url"].startswith(f"{demo_idv}/websdk/p/")
    assert second["url"].startswith(f"{demo_idv}/websdk/p/")
    [applicant] = await idv.applicants(player)  # the provider holds one applicant for the player
    assert (applicant["externalUserId"], applicant["levelName"]) == (str(player.uuid), "basic-kyc-level")
    assert first["verification"] == {
        "provider": "sumsub",
        "status": "init",
        "reviewAnswer": None,
        "rejectType": None,
        "canStart": True,
    }
    page = await idv.http.get(first["url"])
    assert page.status_code == 200
    assert 'name="result"' in page.text
    mine = (await my_verification(gql, player))["verification"]
    assert (mine["status"], mine["canStart"]) == ("init", True)


async def test_a_webhook_is_accepted_only_with_the_digest_of_its_exact_body(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    applicant = await applicant_of(gql, idv, player)
    body, headers = signed(rt, reviewed(applicant, "2026-12-07 10:00:00.000", "GREEN"))

    altered = body.replace(b'"GREEN"', b'"GREEN" ')
    wrong = {**headers, "x-payload-digest": "0" * 64}
    missing = {k: v for k, v in headers.items() if k != "x-payload-digest"}
    unknown_alg = {**headers, "x-payload-digest-alg": "ROT13"}
    for refused_body, refused_headers in ((altered, headers), (body, wrong), (body, missing), (body, unknown_alg)):
        assert (await post(client, refused_body, refused_headers)).status_code == 401
    other_provider = await client.post("/webhooks/idv/onfido", content=body, headers=headers)
    assert other_provider.status_code == 401
    assert await receipts(rt) == 0
    assert await checks(rt, player) == []

    accepted = await post(client, body, headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"received": True, "duplicate": False, "result": "applied"}
    assert await checks(rt, player) == ["passed"]
    # SHA-512 digests, as Sumsub lets a webhook choose, verify too.
    later, later_headers = signed(rt, reviewed(applicant, "2026-12-07 10:00:01.000", "GREEN"))
    later_headers |= {
        "x-payload-digest": hmac.new(rt.settings.idv_webhook_secret.encode(), later, hashlib.sha512).hexdigest(),
        "x-payload-digest-alg": "HMAC_SHA512_HEX",
    }
    assert (await post(client, later, later_headers)).json()["result"] == "applied"


async def test_a_redelivered_webhook_changes_nothing(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    started = await start_verification(gql, player)
    await idv.configure(webhook="twice")  # the demo provider would send each twice; here its log is replayed
    await idv.configure(webhook="hold")
    await idv.submit(started["url"], "approve")
    deliveries = await idv.webhooks(player)
    assert [d["event_type"] for d in deliveries] == ["applicantPending", "applicantReviewed"]

    answers = [(await deliver_idv(client, d)).json() for d in deliveries + deliveries]

    assert [(a["duplicate"], a["result"]) for a in answers] == [
        (False, "applied"),
        (False, "applied"),
        (True, "duplicate"),
        (True, "duplicate"),
    ]
    assert await checks(rt, player) == ["passed"]
    assert await receipts(rt) == 2
    mine = (await my_verification(gql, player))["verification"]
    assert (mine["status"], mine["reviewAnswer"], mine["canStart"]) == ("completed", "GREEN", False)


async def test_an_older_result_arriving_after_a_newer_one_is_recorded_but_not_applied(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    applicant = await applicant_of(gql, idv, player)
    green = signed(rt, reviewed(applicant, "2026-12-07 10:00:05.000", "GREEN"))
    older_red = signed(rt, reviewed(applicant, "2026-12-07 10:00:01.000", "RED", "RETRY"))

    assert (await post(client, *green)).json()["result"] == "applied"
    assert (await post(client, *older_red)).json() == {"received": True, "duplicate": False, "result": "stale"}

    assert await checks(rt, player) == ["passed"]
    assert len(await events_of(rt, player.uuid, "kyc.verification_reviewed")) == 1  # the stale one: none
    kyc = await my_verification(gql, player)
    assert kyc["verification"]["reviewAnswer"] == "GREEN"
    assert "provider_check" not in [s["requirement"] for s in kyc["nextSteps"]]
    assert await receipts(rt) == 2  # the stale one is on record


async def test_the_demo_providers_out_of_order_delivery_leaves_the_review_in_place(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    started = await start_verification(gql, player)
    await idv.submit(started["url"], "approve")
    pending, result = await idv.webhooks(player)

    assert (await deliver_idv(client, result)).json()["result"] == "applied"
    assert (await deliver_idv(client, pending)).json()["result"] == "stale"  # older than the review

    mine = (await my_verification(gql, player))["verification"]
    assert (mine["status"], mine["reviewAnswer"]) == ("completed", "GREEN")


async def test_a_retry_rejection_lets_the_player_try_again_and_a_newer_green_passes(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    started = await start_verification(gql, player)
    assert await idv.review(client, player, started["url"], "retry") == APPLIED
    mine = await my_verification(gql, player)
    assert (mine["verification"]["reviewAnswer"], mine["verification"]["rejectType"]) == ("RED", "RETRY")
    assert mine["verification"]["rejectLabels"] == ["UNSATISFACTORY_PHOTOS"]
    assert mine["verification"]["canStart"] is True
    assert await checks(rt, player) == ["failed"]

    again = await start_verification(gql, player)
    assert again["errors"] == []
    assert await idv.review(client, player, again["url"], "approve") == APPLIED
    assert await checks(rt, player) == ["failed", "passed"]
    reviews = await events_of(rt, player.uuid, "kyc.verification_reviewed")
    assert [(e["answer"], e["reject_type"], e["reject_labels"]) for e in reviews] == [
        ("RED", "RETRY", ["UNSATISFACTORY_PHOTOS"]),
        ("GREEN", None, []),
    ]
    assert len(await idv.applicants(player)) == 1  # the same applicant, reviewed twice
    refused = await start_verification(gql, player)
    assert [e["code"] for e in refused["errors"]] == ["INVALID_STATE"]  # verified already


async def test_a_final_rejection_stands_until_a_newer_review(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    started = await start_verification(gql, player)
    assert await idv.review(client, player, started["url"], "final") == APPLIED
    mine = await my_verification(gql, player)
    assert (mine["verification"]["rejectType"], mine["verification"]["canStart"]) == ("FINAL", False)
    assert await checks(rt, player) == ["failed"]
    refused = await start_verification(gql, player)
    assert (refused["url"], [e["code"] for e in refused["errors"]]) == (None, ["NOT_ALLOWED"])

    # The provider's compliance team reviews the applicant again (a newer result): that one counts.
    [applicant] = await idv.applicants(player)
    assert (await post(client, *signed(rt, reviewed(applicant, "2099-01-01 00:00:00.000", "GREEN")))).status_code == 200
    assert await checks(rt, player) == ["failed", "passed"]
    assert (await my_verification(gql, player))["verification"]["canStart"] is False


async def test_an_unknown_applicant_is_answered_200_so_the_provider_stops_and_its_body_is_kept(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    stranger = {
        "id": "5cb56e8e0a975a35f333cb83",
        "inspectionId": "x",
        "externalUserId": "someone-else",
        "levelName": "basic-kyc-level",
    }
    answer = await post(client, *signed(rt, reviewed(stranger, "2026-12-07 10:00:00.000", "GREEN")))
    assert (answer.status_code, answer.json()["result"]) == (200, "unknown_applicant")
    assert await receipts(rt) == 1

    # An applicant whose webhook overtook our own record of it: bound through externalUserId, our player id.
    player = await make_player()
    early = {**stranger, "id": "6cb56e8e0a975a35f333cb84", "externalUserId": str(player.uuid)}
    answer = await post(client, *signed(rt, reviewed(early, "2026-12-07 10:00:00.000", "GREEN")))
    assert answer.json()["result"] == "applied"
    assert await checks(rt, player) == ["passed"]
    assert (await my_verification(gql, player))["verification"]["reviewAnswer"] == "GREEN"


async def test_a_signed_body_that_is_not_a_webhook_is_refused_400_and_writes_nothing(
    rt: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    applicant = await applicant_of(gql, idv, player)
    no_result = reviewed(applicant, "2026-12-07 10:00:00.000", "GREEN")
    del no_result["reviewResult"]
    bad_answer = reviewed(applicant, "2026-12-07 10:00:00.000", "YELLOW")
    bad_time = reviewed(applicant, "yesterday", "GREEN")
    for payload in (no_result, bad_answer, bad_time, {"applicantId": applicant["id"]}):
        assert (await post(client, *signed(rt, payload))).status_code == 400, payload
    not_json = b"applicantReviewed GREEN"
    digest = hmac.new(rt.settings.idv_webhook_secret.encode(), not_json, hashlib.sha256).hexdigest()
    assert (await post(client, not_json, {"x-payload-digest": digest})).status_code == 400
    too_large = b"{" + b" " * (64 * 1024) + b"}"
    assert (await post(client, too_large, {"x-payload-digest": "0"})).status_code == 413
    assert await receipts(rt) == 0
    assert await checks(rt, player) == []


async def test_starting_answers_a_provider_outage_with_a_user_error(
    rt: Any, gql: Any, idv: DemoIdv, make_player: Any
) -> None:
    player = await make_player()
    saved = rt.settings.idv_base_url
    rt.settings.idv_base_url = "http://127.0.0.1:9"  # nothing listens there
    try:
        refused = await start_verification(gql, player)
    finally:
        rt.settings.idv_base_url = saved
    assert (refused["url"], [e["code"] for e in refused["errors"]]) == (None, ["VERIFICATION_UNAVAILABLE"])
    assert (await my_verification(gql, player))["verification"] is None


async def test_the_demo_provider_delivers_over_http_twice_and_the_result_applies_once(
    rt: Any, gql: Any, idv: DemoIdv, make_player: Any, live_server: str
) -> None:
    """End to end: the demo provider itself POSTs its signed webhooks (each twice) to a running server."""
    await idv.configure(webhook="twice", webhook_url=f"{live_server}/webhooks/idv/sumsub")
    player = await make_player()
    started = await start_verification(gql, player)
    await idv.submit(started["url"], "approve")
    for _ in range(100):
        deliveries = await idv.webhooks(player)
        if all(d["attempts"] == 2 for d in deliveries):
            break
        await asyncio.sleep(0.1)
    assert [(d["event_type"], d["attempts"], d["status_code"]) for d in deliveries] == [
        ("applicantPending", 2, 200),
        ("applicantReviewed", 2, 200),
    ]
    assert await receipts(rt) == 2
    assert await checks(rt, player) == ["passed"]
    mine = (await my_verification(gql, player))["verification"]
    assert (mine["status"], mine["reviewAnswer"]) == ("completed", "GREEN")


async def test_a_failure_half_way_answers_500_commits_nothing_and_the_retry_applies(
    rt: Any, app: Any, client: httpx.AsyncClient, gql: Any, idv: DemoIdv, make_player: Any, monkeypatch: Any
) -> None:
    from services.kyc.idv import webhooks as idv_webhooks

    player = await make_player()
    started = await start_verification(gql, player)
    await idv.submit(started["url"], "approve")
    _, result = await idv.webhooks(player)
    real = idv_webhooks.record_check

    async def dies_after_the_check(*args: Any, **kwargs: Any) -> None:
        await real(*args, **kwargs)  # the check is written in the transaction…
        raise RuntimeError("process killed before the commit")  # …which then never commits

    monkeypatch.setattr(idv_webhooks, "record_check", dies_after_the_check)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://croupier.test") as provider:
        assert (await deliver_idv(provider, result)).status_code == 500
    assert await receipts(rt) == 0
    assert await checks(rt, player) == []
    assert (await my_verification(gql, player))["verification"]["reviewAnswer"] is None

    monkeypatch.undo()
    retried = await deliver_idv(client, result)  # the provider's retry, byte for byte
    assert retried.json() == {"received": True, "duplicate": False, "result": "applied"}
    assert await checks(rt, player) == ["passed"]
