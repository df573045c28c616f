"""A publication reaching thousands of subscribers of a process: its board rendered once per document for
everyone outside its top (schema/live_plan.py, shared renders), each subscriber adding only its own position,
and their positions looked up together (services/tournaments/live_reads.py `Positions`). Every payload is the
one a full render gives that subscriber, byte for byte; what the policy denies a viewer is still refused field
by field."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
import pytest

from authz.subjects import Viewer
from resolvers.leaderboards import _published
from schema.context import Context
from schema.live_plan import Opened
from services.tournaments import board, live_reads
from services.tournaments.board import Standing
from services.tournaments.live_reads import Snapshot
from tests.tournaments_live.conftest import Tournaments

PLAIN = """subscription($id: ID!) { leaderboardChanged(tournamentId: $id, first: 5) {
  version entrants top { rank score alias isViewer } me { rank score alias isViewer } } }"""
# Aliases, fragments, __typename, a condition on a variable, the root aliased, the same field twice.
TANGLED = """subscription Board($id: ID!, $mine: Boolean = true) { board: leaderboardChanged(tournamentId: $id,
  first: 5) { __typename v: version ...Head mine: me { ...Line } again: me @include(if: $mine) { rank isViewer }
  top { __typename ...Line } } }
fragment Head on Leaderboard { entrants tournamentId me { alias } }
fragment Line on LeaderboardStanding { rank score alias isViewer }"""
WITH_IDS = """subscription($id: ID!) { leaderboardChanged(tournamentId: $id, first: 5) {
  version top { rank playerId } me { rank playerId } } }"""


def publication(tournament_id: uuid.UUID, players: list[uuid.UUID]) -> dict[str, Any]:
    """A publication of the board (the top as the publisher's script sends it), players ranked in order."""
    members = [board.member(player, 1_000 - rank, rank) for rank, player in enumerate(players[:100])]
    return {"type": "leaderboard.changed", "version": 7, "entrants": len(players), "top": members}


def viewing(app: Any, kind: Literal["player", "staff"], roles: set[str], viewer_id: uuid.UUID | None = None) -> Context:
    viewer = Viewer(kind=kind, id=viewer_id or uuid.uuid4(), brand_code="*", roles=frozenset(roles))
    return Context(app.state.rt, app.state.authorizer, viewer, request_id="test")


async def shared_and_full(app: Any, document: str, context: Context, value: Any) -> tuple[Any, Any]:
    """The payload of `value` (naming its publication's template) and of the same board without a template."""
    plans = app.graphql_websocket.plans
    plan = plans.plan(document, None)
    assert plan is not None

    async def source() -> AsyncIterator[Any]:
        yield value
        yield dataclasses.replace(value, live_template=None)

    opened = Opened(plans, plan, context, {"id": "VG91cm5hbWVudDox"}, source(), None)
    shared, full = [payload async for payload in opened.payloads()]
    return shared, full


@pytest.mark.parametrize("document", [PLAIN, TANGLED])
async def test_every_players_update_is_the_full_render_and_the_board_is_rendered_once(app: Any, document: str) -> None:
    plans = app.graphql_websocket.plans
    tournament_id, players = uuid.uuid4(), [uuid.uuid4() for _ in range(12)]
    version, entrants, top = live_reads.from_message(tournament_id, publication(tournament_id, players), 5)
    rendered = plans.shared_renders
    for rank, player in enumerate(players, start=1):  # 5 in the top, 7 outside it, one of them not entered
        me = None if rank == 12 else Standing(rank, player, 1_000 - rank + 1, rank - 1)
        value = _published(Snapshot(tournament_id, version, entrants, top, me), player)
        shared, full = await shared_and_full(app, document, viewing(app, "player", {"player"}, player), value)
        assert "errors" not in shared, shared
        assert orjson.dumps(shared) == orjson.dumps(full)  # the same data, in the same order
        root = shared["data"]["board" if document is TANGLED else "leaderboardChanged"]
        if rank <= 5:
            assert [line["isViewer"] for line in root["top"]] == [r == rank for r in range(1, 6)]
        mine = root["mine"] if document is TANGLED else root["me"]
        if me is None:
            assert mine is None
        else:
            assert (mine["rank"], mine["score"], mine["isViewer"]) == (rank, str(me.score), True)
    assert plans.shared_renders == rendered + 1  # one render of the board for the 12 of them


async def test_staff_share_the_board_with_player_ids_and_a_player_asking_for_them_is_refused_field_by_field(
    app: Any,
) -> None:
    plans = app.graphql_websocket.plans
    tournament_id, players = uuid.uuid4(), [uuid.uuid4() for _ in range(8)]
    version, entrants, top = live_reads.from_message(tournament_id, publication(tournament_id, players), 5)
    rendered = plans.shared_renders
    for _ in range(3):
        value = _published(Snapshot(tournament_id, version, entrants, top, None), None)
        shared, full = await shared_and_full(app, WITH_IDS, viewing(app, "staff", {"support"}), value)
        assert orjson.dumps(shared) == orjson.dumps(full)
        assert all(line["playerId"] for line in shared["data"]["leaderboardChanged"]["top"])
    assert plans.shared_renders == rendered + 1

    player = players[6]  # outside the top: the shared board would fit, but the policy denies `playerId`
    value = _published(Snapshot(tournament_id, version, entrants, top, Standing(7, player, 994, 6)), player)
    refused, full = await shared_and_full(app, WITH_IDS, viewing(app, "player", {"player"}, player), value)
    assert refused == full
    assert {error["extensions"]["code"] for error in refused["errors"]} == {"FORBIDDEN"}
    assert len(refused["errors"]) == 6  # five lines and `me`, each at its own path
    assert all(line["playerId"] is None for line in refused["data"]["leaderboardChanged"]["top"])
    assert plans.shared_renders == rendered + 1  # nothing shared with a viewer the hook runs for


async def test_positions_asked_together_take_one_look_up_and_each_viewer_gets_its_own(
    rt: Any, make_player: Any, brand: Any, tournaments: Tournaments, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, "POSITIONS_CHUNK", 4)  # several script calls in the one round trip
    players = [await make_player() for _ in range(9)]
    outsider = uuid.uuid4()  # never entered
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(p.uuid, 10 * (i % 4), i + 1) for i, p in enumerate(players)])
    positions = live_reads.positions_of(rt.redis)
    lookups = positions.lookups
    asked = [p.uuid for p in players] + [outsider, players[0].uuid]
    found = await asyncio.gather(*(positions.of(tournament, player) for player in asked))
    assert positions.lookups == lookups + 1
    assert found == [await board.position(rt.redis, tournament, player) for player in asked]
    assert found[-2] is None
    assert sorted(s.rank for s in found[:-2] if s is not None) == list(range(1, 10))


async def test_a_viewer_leaving_while_its_position_is_looked_up_takes_nothing_from_the_others(
    rt: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    ada, bob = await make_player(), await make_player()
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 20, 1), (bob.uuid, 10, 2)])
    positions = live_reads.positions_of(rt.redis)
    leaving = asyncio.ensure_future(positions.of(tournament, ada.uuid))
    staying = asyncio.ensure_future(positions.of(tournament, bob.uuid))
    await asyncio.sleep(0)  # both asked
    leaving.cancel()
    assert (await staying).rank == 2
    assert leaving.cancelled()


TICK = """subscription($id: ID!) { jackpotChanged(jackpotId: $id) { __typename at trigger status
  levels { level amount { amount currency } generation } pot: total { amount currency } } }"""


async def test_a_jackpot_tick_is_rendered_once_for_every_subscriber_of_the_process(app: Any) -> None:
    """A tick has nothing of its viewer: it is its own template, so its payload is rendered once."""
    from types import SimpleNamespace

    from core.clock import clock
    from resolvers.jackpots import _shared_tick
    from services.jackpots.live_amounts import Pots

    plans = app.graphql_websocket.plans
    plan = plans.plan(TICK, None)
    assert plan is not None
    levels = [SimpleNamespace(level=name, amount=amount, currency="EUR", generation=2) for name, amount in
              [("mini", 12_345), ("grand", 1_000_000_07)]]  # fmt: skip
    pots = Pots("active", levels, clock.now())  # type: ignore[arg-type]
    jackpot_id, rendered = uuid.uuid4(), plans.shared_renders
    payloads = []
    for _ in range(5):
        tick = _shared_tick(jackpot_id, pots, "contributions")
        assert tick.live_template is tick

        async def source(tick: Any = tick) -> AsyncIterator[Any]:
            yield tick
            yield dataclasses.replace(tick, live_template=None)

        context = viewing(app, "player", {"player"})
        opened = Opened(plans, plan, context, {"id": "SmFja3BvdDox"}, source(), None)
        shared, full = [payload async for payload in opened.payloads()]
        assert orjson.dumps(shared) == orjson.dumps(full)
        payloads.append(shared)
    assert plans.shared_renders == rendered + 1
    assert payloads[0]["data"]["jackpotChanged"]["pot"] == {"amount": "1000123.52", "currency": "EUR"}
