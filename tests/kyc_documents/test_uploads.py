"""Players upload documents through GraphQL multipart requests and signed upload links: one service behind
both, the type sniffed from the bytes, limits refused in the payload, nothing half-written, and the same
bytes twice one document."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from tests.kyc_documents.conftest import (
    LINK,
    MINE,
    document_rows,
    events_of,
    pdf,
    png,
    stored_objects,
    upload,
    upload_multipart,
)


async def test_a_multipart_upload_stores_the_document_encrypted(rt: Any, client: Any, make_player: Any) -> None:
    player = await make_player()
    content = pdf(pages=2)
    payload = await upload(client, player.token, content, kind="IDENTITY")
    assert payload["errors"] == []
    document = payload["document"]
    assert document["kind"] == "IDENTITY"
    assert document["status"] == "PENDING"
    assert (document["mimeType"], document["pages"], document["sizeBytes"]) == ("application/pdf", 2, len(content))
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    [row] = await document_rows(rt)
    assert (row.player_id, row.storage_backend, row.key_id) == (player.uuid, "file", row.key_id)
    [stored] = stored_objects(rt)
    sealed = stored.read_bytes()
    assert sealed.startswith(b"CKS1")
    assert content not in sealed
    assert b"%PDF" not in sealed
    assert stored.as_posix().endswith(row.object_key)
    [event] = await events_of(rt, "kyc.document_uploaded")
    assert event == {
        "document_id": str(row.id),
        "player_id": str(player.uuid),
        "kind": "identity",
        "mime_type": "application/pdf",
        "size_bytes": len(content),
        "pages": 2,
    }


async def test_the_type_comes_from_the_bytes_not_the_name(rt: Any, client: Any, make_player: Any) -> None:
    player = await make_player()
    payload = await upload(client, player.token, png(), filename="passport.pdf", content_type="application/pdf")
    assert payload["document"]["mimeType"] == "image/png"
    assert payload["document"]["pages"] is None
    script = b"<html><script>alert(1)</script></html>"
    refused = await upload(client, player.token, script, filename="passport.png", content_type="image/png")
    assert refused["document"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("DOCUMENT_TYPE_NOT_ALLOWED", "file")]
    assert len(await document_rows(rt)) == 1
    assert len(stored_objects(rt)) == 1


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("empty", "DOCUMENT_EMPTY"),
        ("too_large", "DOCUMENT_TOO_LARGE"),
        ("too_many_pages", "DOCUMENT_TOO_MANY_PAGES"),
        ("corrupt_pdf", "DOCUMENT_CORRUPT"),
        ("not_a_document", "DOCUMENT_TYPE_NOT_ALLOWED"),
    ],
)
async def test_a_bad_file_is_refused_in_the_payload_and_writes_nothing(
    case: str, code: str, rt: Any, client: Any, make_player: Any
) -> None:
    rt.settings.kyc_document_max_bytes, rt.settings.kyc_document_max_pages = 4096, 3
    content = {
        "empty": b"",
        "too_large": png() + b"\x00" * 5000,  # over the limit, within the form's overhead: the resolver refuses
        "too_many_pages": pdf(pages=4),
        "corrupt_pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        "not_a_document": b"PK\x03\x04 a zip archive",
    }[case]
    player = await make_player()
    payload = await upload(client, player.token, content)
    assert payload["document"] is None
    assert [e["code"] for e in payload["errors"]] == [code], payload
    assert await document_rows(rt) == []
    assert stored_objects(rt) == []
    assert await events_of(rt, "kyc.document_uploaded") == []


async def test_the_same_bytes_twice_are_one_document_by_either_way(
    rt: Any, client: Any, gql: Any, make_player: Any
) -> None:
    player = await make_player()
    content = png(shade=7)
    first = (await upload(client, player.token, content))["document"]
    again = (await upload(client, player.token, content, kind="ADDRESS"))["document"]
    link = (await gql(LINK, {"input": {"kind": "IDENTITY"}}, token=player.token))["data"]["createKycUploadLink"]
    by_link = await client.put(link["link"]["url"], content=content)
    assert by_link.status_code == 200, by_link.text
    assert first["id"] == again["id"] == by_link.json()["document"]["id"]
    assert len(await document_rows(rt)) == 1
    assert len(stored_objects(rt)) == 1
    assert len(await events_of(rt, "kyc.document_uploaded")) == 1
    other = await make_player()  # another player's same bytes are their own document
    assert (await upload(client, other.token, content))["document"]["id"] != first["id"]


async def test_an_upload_link_takes_one_file_until_it_expires(rt: Any, client: Any, gql: Any, make_player: Any) -> None:
    player = await make_player()
    body = await gql(LINK, {"input": {"kind": "SOURCE_OF_FUNDS"}}, token=player.token)
    link = body["data"]["createKycUploadLink"]["link"]
    assert link["maxBytes"] == rt.settings.kyc_document_max_bytes
    url = link["url"]
    path = url.removeprefix(rt.settings.public_base_url)
    stored = await client.post(path, content=pdf(3), headers={"Content-Type": "application/octet-stream"})
    assert stored.status_code == 200, stored.text
    assert stored.json()["document"]["kind"] == "SOURCE_OF_FUNDS"
    assert stored.json()["document"]["pages"] == 3
    assert stored.headers["cache-control"] == "no-store"
    # The link stored one file: other bytes are refused, and nothing is written.
    reused = await client.put(path, content=png())
    assert reused.status_code == 403
    assert reused.json()["errors"][0]["code"] == "UPLOAD_LINK_INVALID"
    # A forged or altered token, and an expired one.
    claims, _, signature = path.rpartition("/")[2].partition(".")
    forged = await client.put(f"/kyc/uploads/{claims}.{signature[:-2]}AA", content=png(shade=1))
    assert forged.status_code == 403
    fresh = (await gql(LINK, {"input": {"kind": "ADDRESS"}}, token=player.token))["data"]["createKycUploadLink"]
    clock.advance(timedelta(seconds=rt.settings.kyc_link_seconds + 1))
    late = await client.put(fresh["link"]["url"].removeprefix(rt.settings.public_base_url), content=png(shade=2))
    assert late.status_code == 403
    assert late.json()["errors"][0]["code"] == "UPLOAD_LINK_INVALID"
    assert len(await document_rows(rt)) == 1
    assert len(stored_objects(rt)) == 1


async def test_an_upload_link_refuses_bad_files_with_their_code(
    rt: Any, client: Any, gql: Any, make_player: Any
) -> None:
    rt.settings.kyc_document_max_bytes = 4096
    player = await make_player()

    async def put(content: bytes) -> Any:
        link = (await gql(LINK, {"input": {"kind": "OTHER"}}, token=player.token))["data"]["createKycUploadLink"]
        return await client.put(link["link"]["url"].removeprefix(rt.settings.public_base_url), content=content)

    for content, status, code in (
        (b"", 422, "DOCUMENT_EMPTY"),
        (png() + b"\x00" * 5000, 413, "DOCUMENT_TOO_LARGE"),
        (b"GIF89a....", 415, "DOCUMENT_TYPE_NOT_ALLOWED"),
        (b"%PDF-1.4 nothing else", 422, "DOCUMENT_CORRUPT"),
    ):
        answer = await put(content)
        assert (answer.status_code, answer.json()["errors"][0]["code"]) == (status, code), answer.text
    assert await document_rows(rt) == []
    assert stored_objects(rt) == []


async def test_multipart_needs_a_preflight_header_and_a_bounded_body(rt: Any, client: Any, make_player: Any) -> None:
    player = await make_player()
    # A plain cross-site form could send this: no preflight header, refused before the file is read.
    bare = await upload_multipart(client, player.token, png(), headers={"Apollo-Require-Preflight": ""})
    assert bare.status_code == 400
    assert bare.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # The CSRF header serves as the preflight header too.
    csrf = await upload_multipart(
        client, player.token, png(), headers={"Apollo-Require-Preflight": "", rt.settings.csrf_header: "1"}
    )
    assert csrf.status_code == 200
    assert csrf.json()["data"]["uploadKycDocument"]["errors"] == []
    # Far beyond the largest document: refused from its Content-Length, before parsing.
    rt.settings.kyc_document_max_bytes = 1024
    huge = await upload_multipart(client, player.token, png() + b"\x00" * 200_000)
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Anonymous: the mutation is not theirs.
    anonymous = await upload_multipart(client, None, png(shade=3))
    assert anonymous.json()["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    assert len(await document_rows(rt)) == 1


async def test_a_cookie_authenticated_upload_needs_the_csrf_header(rt: Any, client: Any, make_player: Any) -> None:
    from resolvers.common import ACCESS_COOKIE

    player = await make_player()
    client.cookies.set(ACCESS_COOKIE, player.token)
    refused = await upload_multipart(client, None, png())
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await document_rows(rt) == []


async def test_players_see_only_their_own_documents(client: Any, gql: Any, make_player: Any) -> None:
    alice, bob = await make_player(), await make_player()
    mine = (await upload(client, alice.token, png(shade=10)))["document"]["id"]
    await upload(client, bob.token, png(shade=11))
    body = await gql(MINE, token=alice.token)
    assert [e["node"]["id"] for e in body["data"]["myKycDocuments"]["edges"]] == [mine]
    assert body["data"]["myKycDocumentRequests"] == []
    # Nor through node(id:), nor the staff queue.
    other = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": mine}, token=bob.token)
    assert other["data"]["node"] is None
    queue = await gql("{ kycDocuments { edges { node { id } } } }", token=bob.token)
    assert queue["data"]["kycDocuments"] is None
    assert queue["errors"][0]["extensions"]["code"] == "FORBIDDEN"
