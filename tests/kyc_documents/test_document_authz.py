"""Role x field for KYC documents: every field of KycDocument and KycDocumentRequest, every document query
and mutation, for every role, answers as the policy says (FORBIDDEN at its path otherwise); support and the
other desks see no document. New fields are covered as they are added (the selection is the schema's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kyc_documents.conftest import png, upload
from tests.test_authz import (
    DENIED,
    ROLES,
    check_fields,
    errors_at,
    role_set,
    selection_of,
    shared_authorizer,
    staff_holding,
)

ZERO = "S3ljRG9jdW1lbnQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"  # KycDocument:0000...


@pytest.mark.parametrize("role", ROLES)
async def test_document_fields_follow_the_policy(
    role: str, settings: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    owner = await make_player()
    await upload(client, owner.token, png())
    officer = await make_staff("kyc_officer")
    asked = await gql(
        "mutation($input: RequestKycDocumentInput!) { requestKycDocument(input: $input) { errors { code } } }",
        {"input": {"playerId": owner.id, "kind": "ADDRESS", "reason": "A recent utility bill"}},
        token=officer.token,
    )
    assert asked["data"]["requestKycDocument"]["errors"] == []
    token = None
    if role == "player":
        token = owner.token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else DENIED

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    fields, selection = selection_of(settings, "KycDocument")
    request_fields, request_selection = selection_of(settings, "KycDocumentRequest")
    for root, query in (
        ("kycDocuments", "{ kycDocuments { edges { node { " + selection + " } } } }"),
        ("myKycDocuments", "{ myKycDocuments { edges { node { " + selection + " } } } }"),
    ):
        body = await gql(query, token=token)
        if not allowed(f"Query.{root}") or (root.startswith("my") and role != "player"):  # a player's own only
            assert body["data"] == {root: None}, (role, body)
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([root], refused)]
            continue
        [edge] = body["data"][root]["edges"]
        check_fields(body, edge["node"], [root, "edges", 0, "node"], "KycDocument", fields, allowed)
    body = await gql("{ myKycDocumentRequests { " + request_selection + " } }", token=token)
    if allowed("Query.myKycDocumentRequests") and role == "player":
        [request] = body["data"]["myKycDocumentRequests"]
        check_fields(body, request, ["myKycDocumentRequests", 0], "KycDocumentRequest", request_fields, allowed)
    else:
        assert errors_at(body, ["myKycDocumentRequests"]) == [refused]
    # The mutations: allowed ones reach the service (a payload), the rest are refused at their path.
    for name, input_type, given in (
        ("uploadKycDocument", "UploadKycDocumentInput", None),
        ("createKycUploadLink", "CreateKycUploadLinkInput", {"kind": "IDENTITY"}),
        ("reviewKycDocument", "ReviewKycDocumentInput", {"documentId": ZERO, "decision": "REJECT", "reason": "x"}),
        ("requestKycDocument", "RequestKycDocumentInput", {"playerId": owner.id, "kind": "OTHER", "reason": "x"}),
    ):
        if given is None:
            continue  # a multipart request: tests/kyc_documents/test_uploads.py
        body = await gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ code }} }} }}",
            {"input": given},
            token=token,
        )
        if allowed(f"Mutation.{name}"):
            assert body["data"][name] is not None, (role, name, body)
        else:
            assert body["data"] is None, (role, name, body)
            assert errors_at(body, [name]) == [refused], (role, name, body)


def test_only_kyc_roles_read_document_content(settings: Any) -> None:
    """The policy itself: the content link and the queue are KYC's (and superadmins') alone."""
    authorizer = shared_authorizer(settings)
    readers = {
        role
        for role in ROLES
        if any(authorizer.enforce(r, role_set(role)[1], "KycDocument.contentUrl") for r in role_set(role)[0])
    }
    assert readers == {"kyc_officer", "superadmin"}
    queue = {
        role
        for role in ROLES
        if any(authorizer.enforce(r, role_set(role)[1], "Query.kycDocuments") for r in role_set(role)[0])
    }
    assert queue == {"kyc_officer", "superadmin"}
