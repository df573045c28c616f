"""The data-protection officer's queue: erasure requests waiting for a decision, newest first, in the
officer's brand scope, each with its player; one page in a fixed number of statements."""

from __future__ import annotations

from typing import Any

from tests.conftest import recorded_statements
from tests.privacy.conftest import ERASE, REQUEST

QUEUE = """{ privacyRequests(first: 50) { edges { node { kind status reason requestedByType
  player { id email } } } } }"""


async def test_the_queue_lists_waiting_requests_of_the_brand_with_their_players(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    dpo, elsewhere = await make_staff("dpo"), await make_staff(("dpo", "northstar"))
    asking = [await make_player() for _ in range(3)]
    for n, player in enumerate(asking):
        answer = await gql(REQUEST, {"input": {"reason": f"request {n}"}}, token=player.token)
        assert answer["data"]["requestDataErasure"]["errors"] == [], answer
    again = await gql(REQUEST, {"input": {"reason": "asked twice"}}, token=asking[0].token)  # still one request
    assert again["data"]["requestDataErasure"]["request"]["reason"] == "request 0"
    await make_player()  # asks for nothing

    with recorded_statements(rt) as statements:
        body = await gql(QUEUE, token=dpo.token)
    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["privacyRequests"]["edges"]]
    assert [(n["reason"], n["player"]["email"]) for n in nodes] == [
        (f"request {n}", p.email) for n, p in reversed(list(enumerate(asking)))
    ]
    assert {(n["kind"], n["status"], n["requestedByType"]) for n in nodes} == {("ERASURE", "REQUESTED", "player")}
    assert len(statements) <= 4, statements  # the page, its players in one query (and the session's own)

    erased = await gql(ERASE, {"input": {"playerId": asking[1].id, "reason": "done"}}, token=dpo.token)
    assert erased["data"]["erasePlayer"]["errors"] == [], erased
    remaining = await gql(QUEUE, token=dpo.token)
    assert [e["node"]["reason"] for e in remaining["data"]["privacyRequests"]["edges"]] == ["request 2", "request 0"]
    assert (await gql(QUEUE, token=elsewhere.token))["data"]["privacyRequests"]["edges"] == []
