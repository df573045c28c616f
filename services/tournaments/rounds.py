"""The rounds behind the scores, on an asyncpg connection: adding events' amounts to round rows, and
recomputing entries' scores from their rounds (services/tournaments/scoring.py), for the consumer (the
entries a batch touched) and for `verify` (every entry of a tournament, compared instead of written).

A round row adds up: stake and win are sums, `first_seq`/`first_at` the smallest event's, `last_seq`/`last_at`
the largest event's, `stake_seq`/`stake_at` the largest stake-changing event's (a bet or its rollback), so the
row is the same whatever order its events came in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.tournaments import definitions
from services.tournaments.scoring import RoundTotals, Score, score

Pair = tuple[uuid.UUID, uuid.UUID]  # (tournament, player)


@dataclass
class RoundDelta:
    tournament_id: uuid.UUID
    player_id: uuid.UUID
    provider: str
    round_ref: str
    game: str | None
    stake: int
    win: int
    first_seq: int
    last_seq: int
    first_at: datetime
    last_at: datetime
    stake_seq: int | None = None  # set by an event that changes the stake (a bet or its rollback)
    stake_at: datetime | None = None

    def absorb(self, other: RoundDelta) -> None:
        """Another event of the same round in the same batch (one upsert per row and statement)."""
        self.stake += other.stake
        self.win += other.win
        self.game = self.game or other.game
        if other.first_seq < self.first_seq:
            self.first_seq, self.first_at = other.first_seq, other.first_at
        if other.last_seq > self.last_seq:
            self.last_seq, self.last_at = other.last_seq, other.last_at
        if other.stake_seq is not None and (self.stake_seq is None or other.stake_seq > self.stake_seq):
            self.stake_seq, self.stake_at = other.stake_seq, other.stake_at


_UPSERT = """
INSERT INTO tournament_rounds AS r
  (tournament_id, player_id, provider, round_ref, game, stake, win, first_seq, last_seq, first_at, last_at,
   stake_seq, stake_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                     $8::bigint[], $9::bigint[], $10::timestamptz[], $11::timestamptz[], $12::bigint[],
                     $13::timestamptz[])
ON CONFLICT (tournament_id, player_id, provider, round_ref) DO UPDATE SET
  game = coalesce(r.game, excluded.game),
  stake = r.stake + excluded.stake,
  win = r.win + excluded.win,
  first_at = CASE WHEN excluded.first_seq < r.first_seq THEN excluded.first_at ELSE r.first_at END,
  first_seq = least(r.first_seq, excluded.first_seq),
  last_at = CASE WHEN excluded.last_seq > r.last_seq THEN excluded.last_at ELSE r.last_at END,
  last_seq = greatest(r.last_seq, excluded.last_seq),
  stake_at = CASE WHEN excluded.stake_seq > coalesce(r.stake_seq, -1) THEN excluded.stake_at ELSE r.stake_at END,
  stake_seq = greatest(r.stake_seq, excluded.stake_seq)"""


async def add(conn: asyncpg.Connection, deltas: Iterable[RoundDelta]) -> None:
    rows = list(deltas)
    if not rows:
        return
    await conn.execute(
        _UPSERT,
        *(
            [getattr(d, name) for d in rows]
            for name in (
                "tournament_id",
                "player_id",
                "provider",
                "round_ref",
                "game",
                "stake",
                "win",
                "first_seq",
                "last_seq",
                "first_at",
                "last_at",
                "stake_seq",
                "stake_at",
            )
        ),
    )


_ENTRIES = """
SELECT e.tournament_id, e.player_id, e.joined_at, e.rebuys, e.score, e.reached_seq, e.reached_at, e.rounds_counted,
       t.definition
FROM tournament_entries e JOIN tournaments t ON t.id = e.tournament_id
WHERE e.status = 'active' AND (e.tournament_id, e.player_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
ORDER BY e.tournament_id, e.player_id
FOR UPDATE OF e"""
_ENTRIES_OF_TOURNAMENT = """
SELECT e.tournament_id, e.player_id, e.joined_at, e.rebuys, e.score, e.reached_seq, e.reached_at, e.rounds_counted,
       t.definition
FROM tournament_entries e JOIN tournaments t ON t.id = e.tournament_id
WHERE e.status = 'active' AND e.tournament_id = $1"""
_ROUNDS = """
SELECT tournament_id, player_id, stake, win, first_seq, last_seq, first_at, last_at, stake_seq, stake_at
FROM tournament_rounds
WHERE (tournament_id, player_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))"""
_UPDATE = """
UPDATE tournament_entries e SET score = x.score, reached_seq = x.seq, reached_at = x.at, rounds_counted = x.n
FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::int[])
  AS x(t, p, score, seq, at, n)
WHERE e.tournament_id = x.t AND e.player_id = x.p"""


_TOTALS = ("stake", "win", "first_seq", "last_seq", "first_at", "last_at", "stake_seq", "stake_at")


@dataclass(frozen=True)
class Recomputed:
    tournament_id: uuid.UUID
    player_id: uuid.UUID
    stored: Score  # what the entry row says
    computed: Score  # what its rounds say


async def _recompute(conn: asyncpg.Connection, entries: list[asyncpg.Record]) -> list[Recomputed]:
    if not entries:
        return []
    keys = ([e["tournament_id"] for e in entries], [e["player_id"] for e in entries])
    rounds: dict[Pair, list[RoundTotals]] = {}
    for row in await conn.fetch(_ROUNDS, *keys):
        rounds.setdefault((row["tournament_id"], row["player_id"]), []).append(
            RoundTotals(**{name: row[name] for name in _TOTALS})
        )
    rules: dict[uuid.UUID, definitions.Definition] = {}
    found = []
    for e in entries:
        rule = rules.get(e["tournament_id"])
        if rule is None:
            rule = rules[e["tournament_id"]] = definitions.parse(_json(e["definition"]))
        pair = (e["tournament_id"], e["player_id"])
        computed = score(rounds.get(pair, []), rule, e["joined_at"], e["rebuys"])
        stored = Score(e["score"], e["reached_seq"], e["rounds_counted"], e["reached_at"])
        found.append(Recomputed(pair[0], pair[1], stored, computed))
    return found


def _json(value: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(value) if isinstance(value, str) else dict(value)
    return loaded


async def rescore(conn: asyncpg.Connection, pairs: Iterable[Pair]) -> list[Recomputed]:
    """Recompute the entries of these pairs from their rounds and store what changed; returns the changed."""
    wanted = sorted(set(pairs))
    if not wanted:
        return []
    entries = list(await conn.fetch(_ENTRIES, [t for t, _ in wanted], [p for _, p in wanted]))
    changed = [r for r in await _recompute(conn, entries) if r.stored != r.computed]
    if changed:
        await conn.execute(
            _UPDATE,
            [r.tournament_id for r in changed],
            [r.player_id for r in changed],
            [r.computed.score for r in changed],
            [r.computed.reached_seq for r in changed],
            [r.computed.reached_at for r in changed],
            [r.computed.rounds_counted for r in changed],
        )
    return changed


async def recompute_tournament(conn: asyncpg.Connection, tournament_id: uuid.UUID) -> list[Recomputed]:
    """Every active entry of the tournament, stored and recomputed from its rounds (nothing written)."""
    return await _recompute(conn, list(await conn.fetch(_ENTRIES_OF_TOURNAMENT, tournament_id)))


async def driver(db: Any) -> asyncpg.Connection:
    """The asyncpg connection under an SQLAlchemy session, in its transaction (for this module's statements)."""
    raw = await (await db.connection()).get_raw_connection()
    conn: asyncpg.Connection = raw.driver_connection
    return conn
