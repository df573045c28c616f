"""Live leaderboards: the `leaderboard` query and the `leaderboardChanged` subscription (thin: who may watch
and what a snapshot holds are services/tournaments/live_reads.py; the fan-out is services/tournaments/live.py)."""

from __future__ import annotations

import functools
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from core import events
from core.errors import bad_input, forbidden
from resolvers.subscriptions import _recheck, _require, idle_recheck_seconds
from schema.base import node_uuid, to_global_id
from schema.context import Info
from schema.leaderboards import Leaderboard, LeaderboardStanding, TournamentVerification
from services.tournaments import live
from services.tournaments.board import Standing
from services.tournaments.live_reads import (
    MAX_FIRST,
    Snapshot,
    alias,
    from_message,
    may_watch,
    own_position,
    snapshot,
    verification,
)


@functools.lru_cache(maxsize=65_536)
def _global_id(type_name: str, value: uuid.UUID) -> strawberry.ID:
    """A tournament's or player's global id, made once per process (each update names them again)."""
    return strawberry.ID(str(to_global_id(type_name, value)))


def _standing(tournament_id: uuid.UUID, standing: Standing, viewer_id: uuid.UUID | None) -> LeaderboardStanding:
    return LeaderboardStanding(
        rank=standing.rank,
        score=str(standing.score),
        alias=alias(tournament_id, standing.player_id),
        is_viewer=standing.player_id == viewer_id,
        player_id=_global_id("Player", standing.player_id),
    )


# Each standing's GraphQL line, made once per process and shared by every subscriber showing it (they are
# only read); the viewer's own line is the one object made per subscriber.
_LINES: dict[tuple[uuid.UUID, Standing], LeaderboardStanding] = {}
_LINES_KEPT = 20_000
# A publication's board as every subscriber outside its top sees it (the template of their updates, schema/
# live_plan.py), one per publication and `first`: keyed by the top list live_reads.from_message hands out
# (held here, so its id is not reused) with the version and entrant count, which may change without it.
_TEMPLATES: OrderedDict[tuple[int, int, int], tuple[list[Standing], Leaderboard]] = OrderedDict()
_TEMPLATES_KEPT = 64


def _line(tournament_id: uuid.UUID, standing: Standing) -> LeaderboardStanding:
    line = _LINES.get((tournament_id, standing))
    if line is None:
        line = _LINES[(tournament_id, standing)] = _standing(tournament_id, standing, None)
        while len(_LINES) > _LINES_KEPT:
            del _LINES[next(iter(_LINES))]
    return line


def _top(shot: Snapshot, viewer_id: uuid.UUID | None) -> list[LeaderboardStanding]:
    return [
        _standing(shot.tournament_id, s, viewer_id) if s.player_id == viewer_id else _line(shot.tournament_id, s)
        for s in shot.top
    ]


def _render(shot: Snapshot, viewer_id: uuid.UUID | None) -> Leaderboard:
    return Leaderboard(
        tournament_id=_global_id("Tournament", shot.tournament_id),
        version=shot.version,
        entrants=shot.entrants,
        top=_top(shot, viewer_id),
        me=None if shot.me is None else _standing(shot.tournament_id, shot.me, viewer_id),
    )


def _template(shot: Snapshot) -> Leaderboard:
    key = (id(shot.top), shot.version, shot.entrants)
    found = _TEMPLATES.get(key)
    if found is not None and found[0] is shot.top:
        return found[1]
    template = _render(Snapshot(shot.tournament_id, shot.version, shot.entrants, shot.top, None), None)
    _TEMPLATES[key] = (shot.top, template)
    while len(_TEMPLATES) > _TEMPLATES_KEPT:
        _TEMPLATES.popitem(last=False)
    return template


def _published(shot: Snapshot, viewer_id: uuid.UUID | None) -> Leaderboard:
    """A publication's board (`shot.top` as from_message hands it out) as this viewer sees it: the
    publication's template with the viewer's own position, and their own top when they are in it."""
    template = _template(shot)
    inside = viewer_id is not None and any(s.player_id == viewer_id for s in shot.top)
    return Leaderboard(
        tournament_id=template.tournament_id,
        version=template.version,
        entrants=template.entrants,
        top=_top(shot, viewer_id) if inside else template.top,
        me=None if shot.me is None else _standing(shot.tournament_id, shot.me, viewer_id),
        live_template=template,
    )


async def _open(info: Info, tournament_id: strawberry.ID, first: int) -> tuple[uuid.UUID, uuid.UUID | None]:
    """The tournament to watch and the viewing player (None: staff); refused unless the viewer may watch it."""
    if not 1 <= first <= MAX_FIRST:
        raise bad_input(f"`first` is between 1 and {MAX_FIRST}.", field="first")
    target = node_uuid(tournament_id, "Tournament")
    viewer = info.context.viewer
    if not await may_watch(info.context.rt, viewer, target):
        raise forbidden("Not allowed to watch this tournament's leaderboard.")
    return target, viewer.id if viewer.is_player else None


def _newest(listener: events.Listener, message: dict[str, Any]) -> dict[str, Any]:
    """The newest of the publications waiting for this subscriber: one that fell behind (a process fanning
    a board out to thousands) renders the board as it is now once, not every board it missed."""
    while (waiting := listener.poll()) is not None:
        if waiting.get("type") == events.RESUMED:
            return waiting
        if waiting.get("type") == live.CHANGED:
            message = waiting
    return message


async def leaderboard(info: Info, tournament_id: strawberry.ID, first: int = 10) -> Leaderboard:
    """The live board now: its top `first` and the viewing player's own position."""
    target, player = await _open(info, tournament_id, first)
    return _render(await snapshot(info.context.rt, target, player, first), player)


async def leaderboard_changed(
    info: Info, tournament_id: strawberry.ID, first: int = 10
) -> AsyncGenerator[Leaderboard, None]:
    """The board now, then after changes (at most once a second per board, the last change always sent);
    again in full after an outage of Redis, when publications may have been missed."""
    _require(info, "Subscription.leaderboardChanged")
    target, player = await _open(info, tournament_id, first)
    rt = info.context.rt
    async with events.subscribed(rt, live.channel(target)) as listener:
        yield _render(await snapshot(rt, target, player, first), player)
        while True:
            message = await listener.next(within=idle_recheck_seconds())
            await _recheck(info, "Subscription.leaderboardChanged")
            if message is None:
                continue
            message = _newest(listener, message)
            if message.get("type") == events.RESUMED:
                yield _render(await snapshot(rt, target, player, first), player)
                continue
            if message.get("type") != live.CHANGED:
                continue
            version, entrants, top = from_message(target, message, first)
            me = await own_position(rt, target, player, top)
            yield _published(Snapshot(target, version, entrants, top, me), player)


async def tournament_verification(info: Info, tournament_id: strawberry.ID) -> TournamentVerification:
    """The back office's verify button: the standings recomputed from the rounds, now (staff of its brand)."""
    target = node_uuid(tournament_id, "Tournament")
    if not info.context.viewer.is_staff or not await may_watch(info.context.rt, info.context.viewer, target):
        raise forbidden("Not allowed to verify this tournament.")
    found = await verification(info.context.rt, target)
    return TournamentVerification(
        ok=found.ok,
        entries=found.entries,
        rounds=found.rounds,
        results_hash=found.results_hash,
        recomputed_hash=found.recomputed_hash,
        problems=found.problems,
    )
