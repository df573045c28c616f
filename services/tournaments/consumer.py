"""The `tournaments` consumer: bets, wins and their rollbacks (`ledger.game_*`) become tournament rounds
and scores, exactly once (the framework, core/consumers.py, commits the batch's effects with its event ids:
a redelivered event changes nothing).

A batch, in the framework's transaction:
1. the batch's game events, as signed amounts per (player, provider, round): a bet adds its stake, a win its
   win, a rollback takes the stake or win back (a rollback that does not name its round finds it through the
   provider transaction it undoes);
2. the tournaments still open (not settled or cancelled) in the events' currencies, the players' brands,
   jurisdictions and exclusions, the games of the categories the tournaments name, the entries (one
   statement each);
3. per event and tournament: the event counts when the player's brand, currency and jurisdiction fit, the
   game is eligible, the player has an active entry (an `automatic` tournament enters an eligible player on
   their first bet in it, unless excluded at the bet's time: `tournament.entry_joined`), and a bet or win was
   placed while the tournament ran (starts_at ≤ time < ends_at; a rollback counts whenever it comes, until
   the tournament is settled);
4. the rounds upserted (sums: any order of events gives the same rows), the touched entries rescored from
   their rounds (services/tournaments/scoring.py) and the changed ones stored.

After the commit, `on_scores_changed` (injected; tourney-live's Redis boards) gets the batch's changed scores;
its failure is logged and never undoes the batch (the boards rebuild from PostgreSQL).

Replay: `reset` forgets every round and score of tournaments still open (entries stay), and the replay rebuilds
them from the outbox; settled and cancelled tournaments are history and stay as they are. Then `after_replay`
has their Redis boards rebuilt whole from PostgreSQL (`on_replayed`, injected like `on_scores_changed`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import asyncpg

from core import outbox
from core.consumers import Event
from core.logging import get_logger
from models.tournaments import EntryMode
from services.tournaments import definitions, rounds
from services.tournaments.definitions import Definition
from services.tournaments.rounds import Pair, RoundDelta

log = get_logger(__name__)

NAME = "tournaments"
BET, WIN = "ledger.game_bet", "ledger.game_win"
BET_ROLLBACK, WIN_ROLLBACK = "ledger.game_bet_rollback", "ledger.game_win_rollback"
TYPES = frozenset({BET, WIN, BET_ROLLBACK, WIN_ROLLBACK})


@dataclass(frozen=True)
class ScoreChange:
    """An entry whose score or tie-break changed in a committed batch."""

    tournament_id: uuid.UUID
    player_id: uuid.UUID
    score: int
    reached_seq: int | None
    reached_at: datetime | None


ScoresChanged = Callable[[list[ScoreChange]], Awaitable[None]]
BoardsReplayed = Callable[[list[uuid.UUID]], Awaitable[None]]


@dataclass(frozen=True)
class _Play:
    event: Event
    player_id: uuid.UUID
    currency: str
    provider: str
    round_ref: str
    game: str | None
    stake: int  # signed change of the round's stake
    win: int  # signed change of the round's win

    @property
    def placed(self) -> bool:
        return self.event.type in (BET, WIN)


@dataclass(frozen=True)
class _Open:
    id: uuid.UUID
    brand_id: uuid.UUID
    currency: str
    entry_mode: str
    starts_at: datetime
    ends_at: datetime
    rules: Definition


# FOR SHARE: a settlement (FOR UPDATE) waits for the batch, and a batch waiting on a settlement finds the
# tournament settled and leaves it alone, so nothing changes the rounds behind published results.
_OPEN = """
SELECT id, brand_id, currency, entry_mode, starts_at, ends_at, definition FROM tournaments
WHERE state IN ('scheduled', 'running', 'finished') AND currency = ANY($1::text[])
ORDER BY id FOR SHARE"""
_PLAYERS = "SELECT id, brand_id, jurisdiction FROM players WHERE id = ANY($1::uuid[])"
_EXCLUSIONS = "SELECT player_id, starts_at, ends_at FROM rg_exclusions WHERE player_id = ANY($1::uuid[])"
_CATEGORY_GAMES = """
SELECT c.code AS category, c.brand_id, gp.code AS provider, g.code AS game
FROM lobby_categories c JOIN lobby_category_games cg ON cg.category_id = c.id
JOIN games g ON g.id = cg.game_id JOIN game_providers gp ON gp.id = g.provider_id
WHERE c.code = ANY($1::text[])"""
_UNDONE = """
SELECT gp.code AS provider, pt.transaction_uuid, gr.round_ref, pt.game_code
FROM provider_transactions pt JOIN game_providers gp ON gp.id = pt.provider_id
LEFT JOIN game_rounds gr ON gr.id = pt.round_id
WHERE pt.transaction_uuid = ANY($1::text[])"""
_ENTRIES = """
SELECT tournament_id, player_id FROM tournament_entries
WHERE status = 'active' AND tournament_id = ANY($1::uuid[]) AND player_id = ANY($2::uuid[])"""
_ENTER = """
INSERT INTO tournament_entries (tournament_id, player_id, status, joined_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING
RETURNING tournament_id, player_id"""
# Entries stay (an automatic entry too: entering again would announce it again); their rounds and scores go.
_REPLAYED = "SELECT id FROM tournaments WHERE state IN ('scheduled', 'running', 'finished')"
_RESET = """
DELETE FROM tournament_rounds WHERE tournament_id IN
  (SELECT id FROM tournaments WHERE state IN ('scheduled', 'running', 'finished'));
UPDATE tournament_entries SET score = 0, reached_seq = NULL, reached_at = NULL, rounds_counted = 0
WHERE tournament_id IN (SELECT id FROM tournaments WHERE state IN ('scheduled', 'running', 'finished'))"""


def _play(event: Event, undone: dict[tuple[str, str], asyncpg.Record]) -> _Play | None:
    data = event.data
    provider, round_ref, game = data.get("provider"), data.get("round"), data.get("game")
    if provider is None:
        return None
    if not round_ref and event.type in (BET_ROLLBACK, WIN_ROLLBACK):
        found = undone.get((provider, data.get("provider_reference") or ""))
        if found is None or not found["round_ref"]:
            return None
        round_ref, game = found["round_ref"], game or found["game_code"]
    if not round_ref:
        return None
    moved = int(data.get("cash", 0)) + int(data.get("bonus", 0))  # signed, as the player's balances changed
    stake = -moved if event.type in (BET, BET_ROLLBACK) else 0
    win = moved if event.type in (WIN, WIN_ROLLBACK) else 0
    return _Play(event, uuid.UUID(data["player_id"]), data["currency"], provider, round_ref, game, stake, win)


class TournamentsConsumer:
    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(
        self, on_scores_changed: ScoresChanged | None = None, on_replayed: BoardsReplayed | None = None
    ) -> None:
        self.on_scores_changed = on_scores_changed
        self.on_replayed = on_replayed  # after a replay: the reset tournaments' boards, rebuilt whole
        self._pending: list[ScoreChange] = []
        self._replayed: list[uuid.UUID] = []

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        self._pending = []
        refs = [e.data.get("provider_reference") for e in events if e.type in (BET_ROLLBACK, WIN_ROLLBACK)]
        undone: dict[tuple[str, str], asyncpg.Record] = {}
        if any(refs):
            for row in await conn.fetch(_UNDONE, [r for r in refs if r]):
                undone[(row["provider"], row["transaction_uuid"])] = row
        plays = [p for p in (_play(e, undone) for e in events) if p is not None]
        if not plays:
            return
        tournaments = [
            _Open(
                r["id"],
                r["brand_id"],
                r["currency"],
                r["entry_mode"],
                r["starts_at"],
                r["ends_at"],
                definitions.parse(json.loads(r["definition"]) if isinstance(r["definition"], str) else r["definition"]),
            )
            for r in await conn.fetch(_OPEN, sorted({p.currency for p in plays}))
        ]
        if not tournaments:
            return
        deltas, touched = await self._match(conn, plays, tournaments)
        await rounds.add(conn, deltas.values())
        changed = await rounds.rescore(conn, touched)
        self._pending = [
            ScoreChange(c.tournament_id, c.player_id, c.computed.score, c.computed.reached_seq, c.computed.reached_at)
            for c in changed
        ]

    async def _match(
        self, conn: asyncpg.Connection, plays: list[_Play], tournaments: list[_Open]
    ) -> tuple[dict[tuple[Pair, str, str], RoundDelta], set[Pair]]:
        player_ids = sorted({p.player_id for p in plays})
        players = {r["id"]: r for r in await conn.fetch(_PLAYERS, player_ids)}
        categories = sorted({c for t in tournaments for c in t.rules.categories})
        in_category: set[tuple[uuid.UUID | None, str, str, str]] = set()
        if categories:
            in_category = {
                (r["brand_id"], r["category"], r["provider"], r["game"])
                for r in await conn.fetch(_CATEGORY_GAMES, categories)
            }
        entries: set[Pair] = {
            (r["tournament_id"], r["player_id"])
            for r in await conn.fetch(_ENTRIES, [t.id for t in tournaments], player_ids)
        }
        exclusions: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = {}
        if any(t.entry_mode == EntryMode.AUTOMATIC.value for t in tournaments):
            for r in await conn.fetch(_EXCLUSIONS, player_ids):
                exclusions.setdefault(r["player_id"], []).append((r["starts_at"], r["ends_at"]))

        def excluded(player_id: uuid.UUID, at: datetime) -> bool:
            return any(s <= at and (e is None or e > at) for s, e in exclusions.get(player_id, []))

        def eligible(t: _Open, p: _Play, brand_id: uuid.UUID) -> bool:
            rules = t.rules
            if rules.providers and p.provider not in rules.providers:
                return False
            if rules.games and p.game not in rules.games:
                return False
            return not rules.categories or any(
                (b, c, p.provider, p.game) in in_category for c in rules.categories for b in (None, brand_id)
            )

        deltas: dict[tuple[Pair, str, str], RoundDelta] = {}
        entering: dict[Pair, datetime] = {}
        for p in plays:
            player = players.get(p.player_id)
            if player is None:
                continue
            for t in tournaments:
                if t.brand_id != player["brand_id"] or t.currency != p.currency:
                    continue
                if t.rules.jurisdictions and player["jurisdiction"] not in t.rules.jurisdictions:
                    continue
                if p.placed and not t.starts_at <= p.event.time < t.ends_at:
                    continue
                if not eligible(t, p, player["brand_id"]):
                    continue
                pair = (t.id, p.player_id)
                if pair not in entries:
                    automatic = t.entry_mode == EntryMode.AUTOMATIC.value
                    if not (automatic and p.event.type == BET) or excluded(p.player_id, p.event.time):
                        continue
                    entering[pair] = t.starts_at  # an automatic entrant is in from the start
                    entries.add(pair)
                moves_stake = p.stake != 0  # a bet or its rollback: when points per wager change
                delta = RoundDelta(
                    t.id, p.player_id, p.provider, p.round_ref, p.game, p.stake, p.win,
                    p.event.id, p.event.id, p.event.time, p.event.time,
                    p.event.id if moves_stake else None, p.event.time if moves_stake else None,
                )  # fmt: skip
                key = (pair, p.provider, p.round_ref)
                if key in deltas:
                    deltas[key].absorb(delta)
                else:
                    deltas[key] = delta
        if entering:
            await self._enter(conn, entering)
        return deltas, {key[0] for key in deltas}

    async def _enter(self, conn: asyncpg.Connection, entering: dict[Pair, datetime]) -> None:
        pairs = sorted(entering)
        created = await conn.fetch(
            _ENTER,
            [t for t, _ in pairs],
            [p for _, p in pairs],
            ["active"] * len(pairs),
            [entering[pair] for pair in pairs],
        )
        brands = {
            r["id"]: r["brand_id"]
            for r in await conn.fetch(
                "SELECT id, brand_id FROM tournaments WHERE id = ANY($1::uuid[])", [t for t, _ in pairs]
            )
        }
        events = [
            outbox.event(
                "tournament.entry_joined",
                f"player:{r['player_id']}",
                {
                    "tournament_id": str(r["tournament_id"]),
                    "player_id": str(r["player_id"]),
                    "how": "automatic",
                    "buy_ins": 0,
                },
                brand_id=brands[r["tournament_id"]],
            )
            for r in created
        ]
        if events:
            await conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *outbox.events_params(events).values())

    async def after_commit(self) -> None:
        """Called by the runner once the batch committed: hand the changed scores on (never raises)."""
        pending, self._pending = self._pending, []
        if not pending or self.on_scores_changed is None:
            return
        try:
            await self.on_scores_changed(pending)
        except Exception as exc:  # noqa: BLE001  (the boards rebuild from PostgreSQL; scoring goes on)
            log.warning("tournament_scores_hook_failed", changes=len(pending), error=repr(exc))

    async def reset(self, conn: asyncpg.Connection) -> None:
        self._replayed = [row["id"] for row in await conn.fetch(_REPLAYED)]
        await conn.execute(_RESET)

    async def close(self) -> None:
        """Let go of the hooks' connection (a command that replayed the consumer ends)."""
        closing = getattr(self.on_scores_changed, "close", None)
        if closing is not None:
            await closing()

    async def after_replay(self) -> None:
        """The replay is done: the boards of the tournaments it reset are made again from PostgreSQL. Their
        changed entries reached the boards batch by batch already; a player whose score the replay took to
        nothing (no round left) had no change to hand on, and only a whole rebuild takes them off."""
        replayed, self._replayed = self._replayed, []
        if replayed and self.on_replayed is not None:
            await self.on_replayed(replayed)
