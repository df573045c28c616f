"""The lean path (schema/live_plan.py) refuses what strawberry refuses, with the same words: each request
is sent twice on one connection, once as a plain one-root-field subscription (the lean path's shape) and
once with the same selection through a fragment (strawberry serves it), and both operations must end
with the same messages — a viewer's reach, bad variables, the limits, aliases, the rate limit aside."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.live.conftest import receive
from tests.live.test_transport_ws import opened

SELECTION = "kind balances { currency }"


def lean(root: str, definitions: str = "", selection: str = SELECTION) -> str:
    return f"subscription {definitions} {{ {root} {{ {selection} }} }}"


def by_fragment(root: str, definitions: str = "", selection: str = SELECTION) -> str:
    return f"subscription {definitions} {{ ...F }} fragment F on Subscription {{ {root} {{ {selection} }} }}"


def _without_locations(value: Any) -> Any:
    """Error locations differ between the two documents' texts; everything else must not."""
    if isinstance(value, dict):
        return {k: _without_locations(v) for k, v in value.items() if k != "locations"}
    if isinstance(value, list):
        return [_without_locations(v) for v in value]
    return value


async def _first_answers(socket: ClientConnection, count: int) -> dict[str, list[dict[str, Any]]]:
    """Each operation's messages up to its first `next` (kept running), `error` or `complete`."""
    answers: dict[str, list[dict[str, Any]]] = {}
    done: set[str] = set()
    while len(done) < count:
        message = await receive(socket)
        answers.setdefault(message["id"], []).append(_without_locations(message))
        if message["type"] in ("error", "complete") or (
            message["type"] == "next" and not message["payload"].get("errors")
        ):
            done.add(message["id"])
    return answers


async def _same_answer(
    socket: ClientConnection, root: str, variables: dict[str, Any] | None, defs: str = "", selection: str = SELECTION
) -> Any:
    queries = (("lean", lean(root, defs, selection)), ("strawberry", by_fragment(root, defs, selection)))
    for operation_id, query in queries:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
    answers = await _first_answers(socket, 2)
    for message in answers["strawberry"]:
        message["id"] = "lean"
    assert answers["lean"] == answers["strawberry"]
    return answers["lean"]


async def test_a_player_may_not_watch_another_players_balance(live_server, make_player) -> None:
    me, other = await make_player(), await make_player()
    socket = await opened(live_server, me.token)
    answer = await _same_answer(socket, "balanceChanged(playerId: $p)", {"p": other.id}, "($p: ID)")
    assert [m["type"] for m in answer] == ["next", "complete"]
    assert answer[0]["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in answer[0]["payload"]["errors"]] == ["FORBIDDEN"]
    await socket.close()


async def test_an_aliased_root_field_is_answered_under_its_alias(live_server, make_player) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    answer = await _same_answer(socket, "mine: balanceChanged", None)
    assert answer[0]["type"] == "next"
    assert answer[0]["payload"]["data"]["mine"]["kind"] == "snapshot"
    await socket.close()


async def test_a_player_cannot_watch_the_operations_feed(live_server, make_player) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    answer = await _same_answer(socket, "operationsFeed", None, selection="at")
    assert [m["type"] for m in answer] == ["next", "complete"]
    assert [e["extensions"]["code"] for e in answer[0]["payload"]["errors"]] == ["FORBIDDEN"]
    await socket.close()


@pytest.mark.parametrize(
    ("variables", "defs"),
    [
        ({}, "($p: ID!)"),  # a required variable missing
        ({"p": {"not": "an id"}}, "($p: ID)"),  # of the wrong type
        ({"p": None, "unknown": 1}, "($p: ID)"),  # an extra one (ignored, as GraphQL says)
        ({"p": "x\u0000"}, "($p: ID)"),  # text PostgreSQL cannot store
    ],
)
async def test_variables_are_refused_alike(live_server, make_player, variables: dict[str, Any], defs: str) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    await _same_answer(socket, "balanceChanged(playerId: $p)", variables, defs)
    await socket.close()


async def test_too_many_aliases_are_refused_alike(live_server, rt, make_player) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    many = " ".join(f"c{n}: currency" for n in range(rt.settings.graphql_max_aliases + 1))
    for operation_id, query in (
        ("lean", f"subscription {{ balanceChanged {{ balances {{ {many} }} }} }}"),
        (
            "strawberry",
            f"subscription {{ ...F }} fragment F on Subscription {{ balanceChanged {{ balances {{ {many} }} }} }}",
        ),
    ):
        await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}}))
    answers = await _first_answers(socket, 2)
    assert answers["lean"][0]["type"] == answers["strawberry"][0]["type"] == "error"
    assert answers["lean"][0]["payload"] == answers["strawberry"][0]["payload"]
    await socket.close()


async def test_a_document_planned_for_a_player_is_refused_to_an_anonymous_connection(live_server, make_player) -> None:
    """The per-document plan is shared by every connection; the viewer's reach is decided per subscribe."""
    player = await make_player()
    mine = await opened(live_server, player.token)
    assert (await _same_answer(mine, "balanceChanged", None))[0]["type"] == "next"
    await mine.close()
    anonymous = await opened(live_server)
    answer = await _same_answer(anonymous, "balanceChanged", None)
    assert [m["type"] for m in answer] == ["next", "complete"]
    assert answer[0]["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in answer[0]["payload"]["errors"]] == ["UNAUTHENTICATED"]
    await anonymous.close()


@pytest.mark.parametrize("shown", [True, False])
async def test_nested_directives_and_typename_render_alike(live_server, make_player, shown: bool) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    selection = "__typename kind balances @include(if: $shown) { currency } alsoKind: kind @skip(if: $shown)"
    answer = await _same_answer(socket, "balanceChanged", {"shown": shown}, "($shown: Boolean!)", selection)
    data = answer[0]["payload"]["data"]["balanceChanged"]
    assert data["__typename"] == "BalanceUpdate"
    assert ("balances" in data, "alsoKind" in data) == (shown, not shown)
    await socket.close()
