"""Live leaderboard fixtures: tournaments and standings as the scoring consumer leaves them in PostgreSQL,
and the consumer's after-commit hook (services/tournaments/live.py) run as it runs it. After every test,
each board Redis holds must equal the standings PostgreSQL ranks (as the books are checked after each test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from strawberry import relay

from core.clock import clock
from models.tournaments import EntryMode, ScoringKind
from services.tournaments import board, live
from services.tournaments.definitions import Definition
from services.tournaments.standings import standings

LEADERBOARD = """query($id: ID!, $first: Int) { leaderboard(tournamentId: $id, first: $first) {
  tournamentId version entrants top { rank score alias isViewer } me { rank score alias isViewer } } }"""
CHANGED = """subscription($id: ID!, $first: Int) { leaderboardChanged(tournamentId: $id, first: $first) {
  version entrants top { rank score alias isViewer } me { rank score isViewer } } }"""


class Tournaments:
    """Tournaments of a brand, and entrants' standings written as the scoring consumer writes them."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.made: list[uuid.UUID] = []

    async def create(self, brand_id: uuid.UUID, *, name: str = "Weekend drop", per: int = 100) -> uuid.UUID:
        """A running tournament, automatic entry, a point per `per` minor units staked on any game."""
        tournament_id = uuid.uuid4()
        now = clock.now()
        rules = Definition(scoring=ScoringKind.POINTS_PER_WAGER, per=per, entry_mode=EntryMode.AUTOMATIC)
        async with self.rt.database.transaction() as db:
            await db.execute(
                text(
                    "INSERT INTO tournaments (id, brand_id, name, state, scoring, entry_mode, currency, "
                    "starts_at, ends_at, definition) VALUES (:id, :brand, :name, 'running', 'points_per_wager', "
                    "'automatic', 'EUR', :starts, :ends, CAST(:rules AS jsonb))"
                ),
                {
                    "id": tournament_id,
                    "brand": brand_id,
                    "name": name,
                    "starts": now - timedelta(hours=1),
                    "ends": now + timedelta(hours=1),
                    "rules": rules.model_dump_json(),
                },
            )
        self.made.append(tournament_id)
        return tournament_id

    async def set(self, tournament_id: uuid.UUID, player_id: uuid.UUID, score: int, seq: int | None) -> None:
        """An entrant's standing, as a committed scoring batch leaves it (no hook run)."""
        async with self.rt.database.transaction() as db:
            await db.execute(
                text(
                    "INSERT INTO tournament_entries (tournament_id, player_id, status, score, reached_seq, joined_at) "
                    "VALUES (:t, :p, 'active', :s, :q, now()) ON CONFLICT (tournament_id, player_id) "
                    "DO UPDATE SET score = excluded.score, reached_seq = excluded.reached_seq"
                ),
                {"t": tournament_id, "p": player_id, "s": score, "q": seq},
            )

    async def scored(self, tournament_id: uuid.UUID, changes: Iterable[tuple[uuid.UUID, int, int | None]]) -> None:
        """A scoring batch: the standings committed, then the consumer's after-commit hook."""
        players = []
        for player_id, score, seq in changes:
            await self.set(tournament_id, player_id, score, seq)
            players.append(player_id)
        await live.standings_changed(self.rt.redis, self.rt.database.engine, {tournament_id: players})


def gid(type_name: str, value: uuid.UUID) -> str:
    return str(relay.GlobalID(type_name, str(value)))


@pytest.fixture
async def tournaments(rt: Any) -> AsyncIterator[Tournaments]:
    made = Tournaments(rt)
    yield made
    await publisher_idle(rt)
    for tournament_id in made.made:
        if await board.is_built(rt.redis, tournament_id):
            assert await board_order(rt, tournament_id) == await truth_order(rt, tournament_id), tournament_id


async def publisher_idle(rt: Any) -> None:
    await live.publisher_of(rt.redis).close()


async def board_order(rt: Any, tournament_id: uuid.UUID) -> list[tuple[uuid.UUID, int, int | None]]:
    top = await board.top(rt.redis, tournament_id, 1_000_000)
    return [(s.player_id, s.score, s.reached_seq) for s in top.standings]


async def truth_order(rt: Any, tournament_id: uuid.UUID) -> list[tuple[uuid.UUID, int, int | None]]:
    async with rt.database.session() as db:
        return [(s.player_id, s.score, s.reached_seq) for s in await standings(db, tournament_id)]
