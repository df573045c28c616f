"""KYC officers work the document queue: content through short-lived links (every read audited, the bytes
checked), approve with an expiry or reject with a reason the player sees, ask for another document; expired
documents stop counting. Other desks see none of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from core.clock import clock
from models.audit import AuditRecord
from services.kyc.documents import approved_document_kinds
from services.kyc.documents_expiry import expire_due
from tests.conftest import recorded_statements
from tests.kyc_documents.conftest import MINE, QUEUE, REVIEW, document_rows, events_of, pdf, png, stored_objects, upload

REQUEST = """
mutation Ask($input: RequestKycDocumentInput!) {
  requestKycDocument(input: $input) { request { id kind reason fulfilledAt } errors { code field message } }
}"""


async def audit_actions(rt: Any, prefix: str = "kyc_document.") -> list[AuditRecord]:
    async with rt.database.session() as db:
        rows = await db.scalars(
            select(AuditRecord).where(AuditRecord.action.startswith(prefix)).order_by(AuditRecord.seq)
        )  # type: ignore[attr-defined]
        return list(rows.all())


async def test_an_officer_reads_the_content_once_per_audited_read(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    content = pdf(pages=2)
    document = (await upload(client, player.token, content))["document"]
    officer = await make_staff("kyc_officer")
    body = await gql(QUEUE, token=officer.token)
    [edge] = body["data"]["kycDocuments"]["edges"]
    assert edge["node"]["id"] == document["id"]
    assert edge["node"]["player"]["email"] == player.email
    url = edge["node"]["contentUrl"]
    assert url.startswith(rt.settings.public_base_url + "/kyc/documents/content/")
    assert await audit_actions(rt) == []  # a link is not a read
    answer = await client.get(url)
    assert answer.status_code == 200
    assert answer.content == content
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-disposition"].startswith("inline;")
    assert answer.headers["content-security-policy"] == "frame-ancestors 'self'"
    await client.get(url)
    reads = await audit_actions(rt)
    assert [(r.action, r.actor_id, r.target_id) for r in reads] == [
        ("kyc_document.read", officer.id, str(player.uuid))
    ] * 2
    assert reads[0].after is not None
    assert reads[0].after["sha256"] == document["sha256"]
    # The link expires; a forged one is refused.
    clock.advance(timedelta(seconds=rt.settings.kyc_link_seconds + 1))
    assert (await client.get(url)).status_code == 403
    assert (await client.get(url[:-3] + "abc")).status_code == 403
    assert len(await audit_actions(rt)) == 2


async def test_a_content_link_dies_with_the_officers_role(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    from authz.subjects import SYSTEM
    from models.staff import StaffStatus
    from services import staff as staff_service

    player = await make_player()
    await upload(client, player.token, png())
    officer = await make_staff("kyc_officer")
    url = (await gql(QUEUE, token=officer.token))["data"]["kycDocuments"]["edges"][0]["node"]["contentUrl"]
    await staff_service.set_status(rt, SYSTEM, officer.id, StaffStatus.DISABLED, "left the company")
    refused = await client.get(url)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "NOT_ALLOWED"
    assert await audit_actions(rt) == []


async def test_a_tampered_object_is_never_served(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    await upload(client, player.token, png(shade=5))
    officer = await make_staff("kyc_officer")
    url = (await gql(QUEUE, token=officer.token))["data"]["kycDocuments"]["edges"][0]["node"]["contentUrl"]
    [stored] = stored_objects(rt)
    sealed = bytearray(stored.read_bytes())
    sealed[-20] ^= 0x01  # one bit of the ciphertext
    stored.write_bytes(bytes(sealed))
    answer = await client.get(url)
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["code"] == "INVALID_STATE"
    assert png(shade=5) not in answer.content


async def test_approval_with_expiry_counts_until_the_document_expires(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    identity = (await upload(client, player.token, png(shade=1), kind="IDENTITY"))["document"]
    address = (await upload(client, player.token, pdf(1), kind="ADDRESS"))["document"]
    officer = await make_staff("kyc_officer")
    expires = (clock.now() + timedelta(days=30)).replace(microsecond=0)
    approved = await gql(
        REVIEW,
        {
            "input": {
                "documentId": identity["id"],
                "decision": "APPROVE",
                "reason": "Passport matches",
                "expiresAt": expires.isoformat(),
            }
        },
        token=officer.token,
    )
    assert approved["data"]["reviewKycDocument"]["errors"] == [], approved
    assert approved["data"]["reviewKycDocument"]["document"]["status"] == "APPROVED"
    rejected = await gql(
        REVIEW,
        {"input": {"documentId": address["id"], "decision": "REJECT", "reason": "Older than three months"}},
        token=officer.token,
    )
    assert rejected["data"]["reviewKycDocument"]["document"]["status"] == "REJECTED"
    again = await gql(
        REVIEW, {"input": {"documentId": address["id"], "decision": "APPROVE", "reason": "x"}}, token=officer.token
    )
    assert [e["code"] for e in again["data"]["reviewKycDocument"]["errors"]] == ["INVALID_STATE"]
    async with rt.database.session() as db:
        assert await approved_document_kinds(db, player.uuid) == {"identity"}
    # The player sees each decision and its reason.
    mine = {
        e["node"]["kind"]: e["node"] for e in (await gql(MINE, token=player.token))["data"]["myKycDocuments"]["edges"]
    }
    assert (mine["IDENTITY"]["status"], mine["IDENTITY"]["reason"]) == ("APPROVED", "Passport matches")
    assert (mine["ADDRESS"]["status"], mine["ADDRESS"]["reason"]) == ("REJECTED", "Older than three months")
    reviewed = await events_of(rt, "kyc.document_reviewed")
    assert [(e["kind"], e["status"], e["by"]) for e in reviewed] == [
        ("identity", "approved", "staff"),
        ("address", "rejected", "staff"),
    ]
    assert all("reason" not in e for e in reviewed)
    decisions = await audit_actions(rt)
    assert [(r.action, r.reason) for r in decisions] == [
        ("kyc_document.approved", "Passport matches"),
        ("kyc_document.rejected", "Older than three months"),
    ]
    # Past its expiry it no longer counts; the expiry job marks it and reminds the player once.
    clock.advance(timedelta(days=31))
    async with rt.database.session() as db:
        assert await approved_document_kinds(db, player.uuid) == set()
    assert await expire_due(rt) == 1
    assert await expire_due(rt) == 0
    [expired] = await events_of(rt, "kyc.document_expired")
    assert (expired["kind"], expired["player_id"]) == ("identity", str(player.uuid))
    statuses = {row.kind: row.status for row in await document_rows(rt)}
    assert statuses == {"identity": "expired", "address": "rejected"}


async def test_review_refuses_bad_decisions(rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    document = (await upload(client, player.token, png()))["document"]
    officer = await make_staff("kyc_officer")
    past = (clock.now() - timedelta(days=1)).isoformat()
    for given, code, field in (
        ({"decision": "APPROVE", "reason": "  "}, "INVALID_INPUT", "reason"),
        ({"decision": "APPROVE", "reason": "ok", "expiresAt": past}, "INVALID_INPUT", "expiresAt"),
        ({"decision": "REJECT", "reason": "no", "expiresAt": past}, "INVALID_INPUT", "expiresAt"),
    ):
        body = await gql(REVIEW, {"input": {"documentId": document["id"], **given}}, token=officer.token)
        assert [(e["code"], e["field"]) for e in body["data"]["reviewKycDocument"]["errors"]] == [(code, field)]
    support = await make_staff("support")
    denied = await gql(
        REVIEW, {"input": {"documentId": document["id"], "decision": "APPROVE", "reason": "ok"}}, token=support.token
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [row.status for row in await document_rows(rt)] == ["pending"]
    assert await audit_actions(rt) == []


async def test_an_officer_asks_for_another_document_and_the_upload_answers(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    officer = await make_staff("kyc_officer")
    asked = await gql(
        REQUEST,
        {"input": {"playerId": player.id, "kind": "SOURCE_OF_FUNDS", "reason": "Payslips for the last 3 months"}},
        token=officer.token,
    )
    assert asked["data"]["requestKycDocument"]["errors"] == []
    mine = (await gql(MINE, token=player.token))["data"]
    assert mine["myKycDocumentRequests"] == [{"kind": "SOURCE_OF_FUNDS", "reason": "Payslips for the last 3 months"}]
    await upload(client, player.token, pdf(3), kind="SOURCE_OF_FUNDS")
    assert (await gql(MINE, token=player.token))["data"]["myKycDocumentRequests"] == []
    [event] = await events_of(rt, "kyc.document_requested")
    assert (event["kind"], event["player_id"]) == ("source_of_funds", str(player.uuid))
    assert [r.action for r in await audit_actions(rt)] == ["kyc_document.requested"]


async def test_staff_of_another_brand_see_no_document(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    player = await make_player()
    await upload(client, player.token, png())
    elsewhere = await make_staff(("kyc_officer", "northstar"))
    body = await gql(QUEUE, token=elsewhere.token, brand="northstar")
    assert body["data"]["kycDocuments"]["edges"] == []


async def test_the_queue_reads_in_a_constant_number_of_statements(
    rt: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    officer = await make_staff("kyc_officer")

    async def statements() -> int:
        with recorded_statements(rt) as seen:
            body = await gql(QUEUE, token=officer.token)
        assert "errors" not in body, body
        return len([s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))])

    first = await make_player()
    await upload(client, first.token, png(shade=1))
    one = await statements()
    for shade in range(2, 6):
        player = await make_player()
        await upload(client, player.token, png(shade=shade))
    assert len((await gql(QUEUE, token=officer.token))["data"]["kycDocuments"]["edges"]) == 5
    assert await statements() == one


async def test_an_expiry_without_a_time_zone_is_read_as_utc(
    client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """Staff type the date printed on the document; a date-only or zone-less expiry is UTC, not a 500."""
    player = await make_player()
    officer = await make_staff("kyc_officer")
    later = (clock.now() + timedelta(days=400)).date()
    for shade, given in ((1, later.isoformat()), (2, f"{later.isoformat()}T00:00:00")):
        document = (await upload(client, player.token, png(shade=shade), kind="IDENTITY"))["document"]
        answer = await gql(
            REVIEW,
            {"input": {"documentId": document["id"], "decision": "APPROVE", "reason": "ok", "expiresAt": given}},
            token=officer.token,
        )
        payload = answer["data"]["reviewKycDocument"]
        assert "errors" not in answer or not answer["errors"], answer
        assert payload["errors"] == [], payload
        assert payload["document"]["expiresAt"].startswith(f"{later.isoformat()}T00:00:00")
        assert payload["document"]["expiresAt"].endswith(("+00:00", "Z"))
    past = (await upload(client, player.token, png(shade=3), kind="IDENTITY"))["document"]
    answer = await gql(
        REVIEW,
        {"input": {"documentId": past["id"], "decision": "APPROVE", "reason": "ok", "expiresAt": "2001-01-01"}},
        token=officer.token,
    )
    assert [e["field"] for e in answer["data"]["reviewKycDocument"]["errors"]] == ["expiresAt"]
