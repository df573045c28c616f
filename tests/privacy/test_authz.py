"""Who may see and do what in privacy, for every role: the privacy types field by field, and each query
and mutation (allowed: it answers; refused: FORBIDDEN, or UNAUTHENTICATED for anonymous)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import error_codes
from tests.privacy.conftest import ERASE, EXPORT, MINE, REJECT, REQUEST
from tests.test_authz import ROLES, check_fields, may_read, selection_of, staff_holding


@pytest.mark.parametrize("role", ROLES)
async def test_privacy_fields_and_mutations_follow_the_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    subject = await make_player()
    asked = await gql(REQUEST, {"input": {"reason": "forget me"}}, token=subject.token)
    assert asked["data"]["requestDataErasure"]["errors"] == [], asked
    token = None
    if role == "player":
        token = (await make_player()).token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    may = may_read(settings, role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"

    # The data-protection officer's view, every field of every type in it.
    privacy_fields, privacy_selection = selection_of(settings, "PlayerPrivacy")
    request_fields, request_selection = selection_of(settings, "PrivacyRequest")
    hold_fields, hold_selection = selection_of(settings, "PrivacyHold")
    selection = privacy_selection.replace("requests { __typename }", "requests { " + request_selection + " }")
    selection = selection.replace("holds { __typename }", "holds { " + hold_selection + " }")
    body = await gql("query($id: ID!) { playerPrivacy(playerId: $id) { " + selection + " } }", {"id": subject.id},
                     token=token)  # fmt: skip
    if not may("Query.playerPrivacy"):
        assert body["data"] == {"playerPrivacy": None}, (role, body)
        assert [e["extensions"]["code"] for e in body["errors"]] == [refused], (role, body)
    else:
        node = body["data"]["playerPrivacy"]
        check_fields(body, node, ["playerPrivacy"], "PlayerPrivacy", privacy_fields, may)
        check_fields(body, node["requests"][0], ["playerPrivacy", "requests", 0], "PrivacyRequest", request_fields, may)
        assert node["holds"] == []  # not erased: nothing held (PrivacyHold's fields: the erasure tests)
        assert hold_fields

    # The queue of waiting requests (the subject's request is in it).
    body = await gql("{ privacyRequests { edges { node { " + request_selection + " } } } }", token=token)
    if not may("Query.privacyRequests"):
        assert body["data"] == {"privacyRequests": None}, (role, body)
        assert [e["extensions"]["code"] for e in body["errors"]] == [refused], (role, body)
    else:
        node = body["data"]["privacyRequests"]["edges"][0]["node"]
        path: list[str | int] = ["privacyRequests", "edges", 0, "node"]
        check_fields(body, node, path, "PrivacyRequest", request_fields, may)

    # A player's own copy.
    body = await gql(MINE, token=token)
    if may("Query.myDataExport") and role == "player":
        assert body["data"]["myDataExport"]["audience"] == "subject", body
    else:
        assert body["data"] == {"myDataExport": None}, (role, body)
        assert error_codes(body) != [], (role, body)

    # The mutations: allowed ones reach the service (its answer names the refusal, if any).
    for name, query, variables in (
        ("exportPlayerData", EXPORT, {"playerId": subject.id}),
        ("erasePlayer", ERASE, {"playerId": subject.id, "reason": "art. 17"}),
        ("rejectDataErasure", REJECT, {"playerId": subject.id, "reason": "no"}),
        ("requestDataErasure", REQUEST, {"reason": "me too"}),
    ):
        body = await gql(query, {"input": variables}, token=token)
        if may(f"Mutation.{name}"):
            assert body["data"][name] is not None, (role, name, body)
            assert "errors" not in body, (role, name, body)
        else:
            assert error_codes(body) == [refused], (role, name, body)
