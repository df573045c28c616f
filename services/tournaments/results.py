"""A tournament's published results and their check.

The results document (`document`) is the final standings and every round behind them; its SHA-256
(`results_hash`, stored at settlement and announced in `tournament.settled`) lets anyone holding the document
recompute the hash, and anyone holding the rounds recompute the standings (services/tournaments/scoring.py).

Canonical serialisation (docs/tournaments.md repeats it): JSON with keys sorted, no whitespace
(separators `,` and `:`), ASCII only (`\\uXXXX` escapes), UTF-8 bytes; integers as JSON integers; ids as lower-case
UUID strings; times as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`; null for absent values. The document:

    {"tournament_id": ..., "currency": ..., "scoring": ..., "starts_at": ..., "ends_at": ...,
     "definition": {... the stored definition ...},
     "standings": [{"rank", "player_id", "score", "reached_seq", "rounds_counted", "joined_at", "rebuys"}, ...],
     "rounds": [{"player_id", "provider", "round_ref", "game", "stake", "win", "first_seq", "last_seq",
                 "first_at", "last_at", "stake_seq", "stake_at"}, ...]}

standings in rank order; rounds of the ranked entries ordered by player_id, first_seq, provider, round_ref.

`verify` recomputes every entry's score from its rounds and compares it with the stored entry, then (for a
settled tournament) the stored final ranks and the hash of the document as the rows are now with the one
published: any changed round, entry or rank shows.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.tournaments import rounds
from services.tournaments.standings import standings

_TOURNAMENT = """
SELECT id, currency, scoring, starts_at, ends_at, definition, state, results_hash FROM tournaments WHERE id = $1"""
_ENTRIES = """
SELECT player_id, joined_at, rebuys, final_rank FROM tournament_entries
WHERE tournament_id = $1 AND status = 'active'"""
_ROUNDS = """
SELECT r.player_id, r.provider, r.round_ref, r.game, r.stake, r.win, r.first_seq, r.last_seq, r.first_at, r.last_at,
       r.stake_seq, r.stake_at
FROM tournament_rounds r JOIN tournament_entries e
  ON e.tournament_id = r.tournament_id AND e.player_id = r.player_id AND e.status = 'active'
WHERE r.tournament_id = $1
ORDER BY r.player_id, r.first_seq, r.provider, r.round_ref"""


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


async def document(conn: asyncpg.Connection, tournament_id: uuid.UUID) -> dict[str, Any]:
    """The results document as the rows are now (the published one, for a settled tournament)."""
    t = await conn.fetchrow(_TOURNAMENT, tournament_id)
    if t is None:
        raise LookupError(f"no tournament {tournament_id}")
    entries = {r["player_id"]: r for r in await conn.fetch(_ENTRIES, tournament_id)}
    definition = json.loads(t["definition"]) if isinstance(t["definition"], str) else t["definition"]
    return {
        "tournament_id": str(t["id"]),
        "currency": t["currency"],
        "scoring": t["scoring"],
        "starts_at": _time(t["starts_at"]),
        "ends_at": _time(t["ends_at"]),
        "definition": definition,
        "standings": [
            {
                "rank": s.rank,
                "player_id": str(s.player_id),
                "score": s.score,
                "reached_seq": s.reached_seq,
                "rounds_counted": s.rounds_counted,
                "joined_at": _time(entries[s.player_id]["joined_at"]),
                "rebuys": entries[s.player_id]["rebuys"],
            }
            for s in await standings(conn, tournament_id)
        ],
        "rounds": [
            {
                "player_id": str(r["player_id"]),
                "provider": r["provider"],
                "round_ref": r["round_ref"],
                "game": r["game"],
                "stake": r["stake"],
                "win": r["win"],
                "first_seq": r["first_seq"],
                "last_seq": r["last_seq"],
                "first_at": _time(r["first_at"]),
                "last_at": _time(r["last_at"]),
                "stake_seq": r["stake_seq"],
                "stake_at": _time(r["stake_at"]) if r["stake_at"] is not None else None,
            }
            for r in await conn.fetch(_ROUNDS, tournament_id)
        ],
    }


@dataclass
class Verification:
    tournament_id: uuid.UUID
    entries: int
    rounds: int
    results_hash: str | None  # the published hash (settled), or None
    recomputed_hash: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify(conn: asyncpg.Connection, tournament_id: uuid.UUID) -> Verification:
    """Standings recomputed from the rounds, compared with the stored ones (and the published hash)."""
    t = await conn.fetchrow(_TOURNAMENT, tournament_id)
    if t is None:
        raise LookupError(f"no tournament {tournament_id}")
    found = await rounds.recompute_tournament(conn, tournament_id)
    doc = await document(conn, tournament_id)
    check = Verification(tournament_id, len(found), len(doc["rounds"]), t["results_hash"], digest(doc))
    for r in found:
        if r.stored.score != r.computed.score or r.stored.reached_seq != r.computed.reached_seq:
            check.problems.append(
                f"player {r.player_id}: stored score {r.stored.score} (reached at {r.stored.reached_seq}), "
                f"its rounds give {r.computed.score} (reached at {r.computed.reached_seq})"
            )
    if t["state"] == "settled":
        ranks = {r["player_id"]: r["final_rank"] for r in await conn.fetch(_ENTRIES, tournament_id)}
        for s in doc["standings"]:
            settled_rank = ranks.get(uuid.UUID(s["player_id"]))
            if settled_rank != s["rank"]:
                check.problems.append(f"player {s['player_id']}: settled at rank {settled_rank}, ranks {s['rank']} now")
        if check.recomputed_hash != t["results_hash"]:
            check.problems.append(
                f"results hash {check.recomputed_hash} differs from the published {t['results_hash']}"
            )
    return check
