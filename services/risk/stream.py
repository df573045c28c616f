"""The `risk-rules` consumer: the risk rules that follow from facts rather than decide a request, evaluated
as their events stream by (services/risk/rules.py says which kinds run where; docs/risk-rules-stream.md
describes each rule, its heuristic and its limits).

- `chargeback_history`, on `payment.chargeback`: the player, when their chargebacks still standing in the
  `days` up to it reach `count`;
- `covering_bets`, on `ledger.game_win`: the player, when their covering rounds under one bonus reach
  `rounds`;
- `linked_accounts`, on `risk.accounts_linked`: every member of the cluster, once it has at least
  `min_cluster_size` members;
- `list_watch`, on `risk.list_hit` (watch lists): the player the entry matched.

A batch, in the consumer framework's transaction (core/consumers.py records the batch's event ids in it,
so a redelivered event changes nothing):
1. the batch's players and their brands (one statement), and the members of the clusters the
   `risk.accounts_linked` events name (one statement);
2. each brand's enabled rules of the kinds its events need (`rules.enabled`: one statement per brand,
   whatever the number of events);
3. per kind, the facts its rules weigh, for every player of the batch at once (one statement each), and
   the rules' previous contributions where a hit is only worth repeating on new evidence (one statement);
4. a hit (services/risk/hits.py: contribution, actions, `risk.rule_hit`, audit) at most once per player
   and rule per batch.
Every fact is read from the tables as they stand when the batch runs (a chargeback reversed meanwhile
no longer counts), and each rule's window is anchored on its event's time, so the outcome does not depend
on the order the events arrive in.

A stored rule that cannot be read (parameters no longer valid) fails the batches that need its kind:
the framework applies their events one by one and parks the ones that keep failing (only this consumer's,
only events of that kind); `croupier events retry risk-rules` evaluates them once the rule is fixed.

No replay: `croupier events replay risk-rules` is refused (`ReplayRefused`). The consumer builds nothing a
replay could forget and rebuild: what it writes are decisions (score contributions, restrictions, review
flags) that risk staff may have lifted or dismissed since, announced in events and audited. Evaluating
the history again would impose again what staff lifted, and would judge old events against today's state
(a bonus since completed, a cluster since grown).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import asyncpg
from pydantic import ValidationError

from core.clock import clock
from core.consumers import Consumer, Event, ReplayRefused
from services.risk import hits, rules
from services.risk.rules import ChargebackHistoryParams, CoveringBetsParams, LinkedAccountsParams, Rule, RuleKind
from services.risk.store import OnConnection

NAME = "risk-rules"
CHARGEBACK = "payment.chargeback"
GAME_WIN = "ledger.game_win"
ACCOUNTS_LINKED = "risk.accounts_linked"
LIST_HIT = "risk.list_hit"
KIND_OF = {
    CHARGEBACK: RuleKind.CHARGEBACK_HISTORY,
    GAME_WIN: RuleKind.COVERING_BETS,
    ACCOUNTS_LINKED: RuleKind.LINKED_ACCOUNTS,
    LIST_HIT: RuleKind.LIST_WATCH,
}
TYPES = frozenset(KIND_OF)

_PLAYERS = "SELECT id, brand_id FROM players WHERE id = ANY($1::uuid[])"
# The current cluster of each player an `accounts_linked` event names (a later merge may have moved it).
_MEMBERS = """
SELECT m.player_id, m.cluster_id, p.brand_id
FROM risk_clusters m JOIN players p ON p.id = m.player_id
WHERE m.cluster_id IN (SELECT cluster_id FROM risk_clusters WHERE player_id = ANY($1::uuid[]))"""
# Chargebacks booked and standing (a reversal, which a won dispute books, takes one out of the count).
_CHARGEBACKS = """
SELECT player_id, id, opened_at FROM disputes
WHERE player_id = ANY($1::uuid[]) AND chargeback_transaction_id IS NOT NULL AND reversal_transaction_id IS NULL
  AND state <> 'won' AND opened_at > $2
ORDER BY opened_at, id"""
# The rounds the batch's wins settled, staked (two or more stakes still standing: money moved, not rolled
# back) under a bonus that asks for wagering, with the round's net totals.
_STANDING_BETS = """
CROSS JOIN LATERAL (
  SELECT count(*) AS bets FROM provider_transactions t
  WHERE t.round_id = gr.id AND t.kind = 'bet' AND NOT t.rolled_back AND t.ledger_transaction_id IS NOT NULL
) s"""
_WON_ROUNDS = f"""
SELECT DISTINCT ON (gr.id) bw.bonus_id, gr.player_id, gr.id AS round_id, gr.total_bet, gr.total_win
FROM unnest($1::uuid[], $2::text[], $3::text[]) AS w(player_id, provider, round_ref)
JOIN game_providers gp ON gp.code = w.provider
JOIN game_rounds gr ON gr.provider_id = gp.id AND gr.round_ref = w.round_ref AND gr.player_id = w.player_id
JOIN bonus_wagers bw ON bw.round_id = gr.id AND bw.kind = 'bet'
JOIN player_bonuses pb ON pb.id = bw.bonus_id AND pb.wagering_required > 0
{_STANDING_BETS}
WHERE s.bets >= 2
ORDER BY gr.id"""  # noqa: S608  (a fixed fragment)
# Every round of those bonuses with two or more stakes standing (only for a bonus whose won round covered).
_BONUS_ROUNDS = f"""
SELECT p.bonus_id, gr.id AS round_id, gr.round_ref, gr.total_bet, gr.total_win, g.code AS game, s.bets
FROM (SELECT DISTINCT bonus_id, round_id FROM bonus_wagers WHERE bonus_id = ANY($1::uuid[]) AND kind = 'bet') p
JOIN game_rounds gr ON gr.id = p.round_id
LEFT JOIN games g ON g.id = gr.game_id
{_STANDING_BETS}
WHERE s.bets >= 2
ORDER BY gr.opened_at, gr.id"""  # noqa: S608  (a fixed fragment)
_ENTRIES = "SELECT id, reason FROM risk_list_entries WHERE id = ANY($1::uuid[])"
# What a rule's unexpired contribution says: a hit on no new evidence is not repeated.
_PREVIOUS = """
SELECT player_id, rule_code, details FROM risk_score_items
WHERE player_id = ANY($1::uuid[]) AND rule_code = ANY($2::varchar[]) AND expires_at > $3"""


class RuleUnreadable(Exception):
    """An enabled rule's stored parameters or actions no longer parse: the events needing its kind park."""


@dataclass
class _Batch:
    conn: asyncpg.Connection
    sql: OnConnection
    brands: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # player -> brand
    needed: dict[uuid.UUID, set[RuleKind]] = field(default_factory=lambda: defaultdict(set))  # brand -> kinds
    loaded: dict[uuid.UUID, list[Rule]] = field(default_factory=dict)  # brand -> its enabled rules of those

    def need(self, player_id: uuid.UUID, kind: RuleKind) -> None:
        if (brand := self.brands.get(player_id)) is not None:
            self.needed[brand].add(kind)

    async def load(self) -> None:
        """Each brand's rules, one statement per brand (whatever the number of events)."""
        for brand, kinds in self.needed.items():
            try:
                self.loaded[brand] = await rules.enabled(self.sql, brand, kinds)
            except ValidationError as exc:
                names = ", ".join(sorted(kinds))
                raise RuleUnreadable(f"an enabled {names} rule of brand {brand} does not parse: {exc}") from exc

    def rules_for(self, player_id: uuid.UUID, kind: RuleKind) -> list[Rule]:
        brand = self.brands.get(player_id)
        return [r for r in self.loaded.get(brand, ()) if r.kind == kind] if brand else []

    async def previous(self, pairs: Iterable[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], dict[str, Any]]:
        """The unexpired contributions' details of these (player, rule code) pairs, in one statement."""
        wanted = set(pairs)
        if not wanted:
            return {}
        rows = await self.conn.fetch(_PREVIOUS, list({p for p, _ in wanted}), list({c for _, c in wanted}), clock.now())
        found = {}
        for row in rows:
            if (row["player_id"], row["rule_code"]) in wanted:
                details = row["details"]
                found[(row["player_id"], row["rule_code"])] = (
                    json.loads(details) if isinstance(details, str) else details
                )
        return found

    async def hit(self, rule: Rule, player_id: uuid.UUID, occasion: str, reason: str, details: dict[str, Any]) -> None:
        await hits.apply(
            self.sql,
            rule,
            player_id=player_id,
            brand_id=self.brands[player_id],
            occasion=occasion,
            reason=reason,
            details=details,
        )


class RulesConsumer:
    """core.consumers.Consumer: the stream rules, evaluated once per event in effect."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        by_type: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            if event.schema_version == 1 and event.type in TYPES and _player(event) is not None:
                by_type[event.type].append(event)
        if not by_type:
            return
        batch = _Batch(conn, OnConnection(conn))
        members: list[Any] = []
        if linked := by_type.get(ACCOUNTS_LINKED):
            members = list(await conn.fetch(_MEMBERS, list({_player(e) for e in linked})))
            batch.brands.update({row["player_id"]: row["brand_id"] for row in members})
        others = {_player(e) for t, found in by_type.items() if t != ACCOUNTS_LINKED for e in found}
        if others:
            batch.brands.update({row["id"]: row["brand_id"] for row in await conn.fetch(_PLAYERS, list(others))})
        for type_, found in by_type.items():
            players = {row["player_id"] for row in members} if type_ == ACCOUNTS_LINKED else set(_by_player(found))
            for player_id in players:
                batch.need(player_id, KIND_OF[type_])
        await batch.load()
        await _chargebacks(batch, by_type.get(CHARGEBACK, []))
        await _covering_bets(batch, by_type.get(GAME_WIN, []))
        await _linked_accounts(batch, by_type.get(ACCOUNTS_LINKED, []), members)
        await _watch_list(batch, by_type.get(LIST_HIT, []))

    async def reset(self, conn: asyncpg.Connection) -> None:
        raise ReplayRefused(
            "the risk rules' effects are decisions (score contributions, restrictions, review flags) that staff "
            "may have lifted or dismissed since; evaluating the history again would impose them again. "
            "Parked events can be evaluated again with `croupier events retry risk-rules`."
        )


def _player(event: Event) -> uuid.UUID | None:
    """The player an event is about (a watch hit only: a block hit refused the request)."""
    data = event.data
    if event.type == LIST_HIT and data.get("list") != "watch":
        return None
    raw = data.get("player_id")
    return uuid.UUID(raw) if raw else None


def _by_player(events: Iterable[Event]) -> dict[uuid.UUID, list[Event]]:
    grouped: dict[uuid.UUID, list[Event]] = defaultdict(list)
    for event in events:
        player_id = _player(event)
        assert player_id is not None
        grouped[player_id].append(event)
    return grouped


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# ---- chargeback_history --------------------------------------------------------------------------------


async def _chargebacks(batch: _Batch, events: list[Event]) -> None:
    """Each chargeback event counts its player's chargebacks standing in the `days` up to it (its own
    among them: one reversed before this runs triggers nothing)."""
    players = {p: found for p, found in _by_player(events).items() if batch.rules_for(p, RuleKind.CHARGEBACK_HISTORY)}
    if not players:
        return
    longest = max(r.params.days for p in players for r in batch.rules_for(p, RuleKind.CHARGEBACK_HISTORY))
    since = min(e.time for found in players.values() for e in found) - timedelta(days=longest)
    standing: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in await batch.conn.fetch(_CHARGEBACKS, list(players), since):
        standing[row["player_id"]].append(row)
    for player_id, found in players.items():
        for rule in batch.rules_for(player_id, RuleKind.CHARGEBACK_HISTORY):
            params: ChargebackHistoryParams = rule.params
            best: tuple[list[Any], Event] | None = None
            for event in found:
                window = [
                    d
                    for d in standing[player_id]
                    if event.time - timedelta(days=params.days) < d["opened_at"] <= event.time
                ]
                if str(event.data.get("dispute_id")) not in {str(d["id"]) for d in window}:
                    continue  # reversed (or not booked) by the time this runs
                if len(window) >= params.count and (best is None or len(window) > len(best[0])):
                    best = (window, event)
            if best is None:
                continue
            window, event = best
            reason = (
                f"{_plural(len(window), 'chargeback')} in {params.days} days "
                f"(at least {params.count} count); the latest {event.data.get('chargeback_id')} "
                f"at {event.data.get('psp')}"
            )
            details = {
                "chargebacks": len(window),
                "days": params.days,
                "threshold": params.count,
                "dispute_ids": [str(d["id"]) for d in window][-20:],
                "payment_id": event.data.get("payment_id"),
            }
            await batch.hit(rule, player_id, "chargeback", reason, details)


# ---- covering_bets ------------------------------------------------------------------------------------


def _covering(row: Any, params: CoveringBetsParams) -> bool:
    """Two or more stakes in the round (checked by the query) returning low..high % of their total."""
    stake, win = int(row["total_bet"]), int(row["total_win"])
    return stake > 0 and params.low_percent * stake <= 100 * win <= params.high_percent * stake


async def _covering_bets(batch: _Batch, events: list[Event]) -> None:
    """On a round's win: if the round covered, the rounds of the bonus its stakes wagered, covering ones
    counted; a hit when they reach `rounds` and are more than at the rule's last hit on this bonus. Most
    wins (one stake a round) end at the first statement."""
    wins = [e for e in events if batch.rules_for(_player_of(e), RuleKind.COVERING_BETS) and e.data.get("round")]
    if not wins:
        return
    won = await batch.conn.fetch(
        _WON_ROUNDS,
        [_player_of(e) for e in wins],
        [str(e.data.get("provider") or "") for e in wins],
        [str(e.data["round"]) for e in wins],
    )
    player_of = {row["bonus_id"]: row["player_id"] for row in won}
    candidates = {
        row["bonus_id"]
        for row in won
        if any(_covering(row, rule.params) for rule in batch.rules_for(row["player_id"], RuleKind.COVERING_BETS))
    }
    if not candidates:
        return
    won_now = {row["round_id"] for row in won}
    bonuses: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in await batch.conn.fetch(_BONUS_ROUNDS, list(candidates)):
        bonuses[row["bonus_id"]].append(row)
    found: list[tuple[Rule, uuid.UUID, uuid.UUID, list[Any]]] = []
    for bonus_id, rounds in bonuses.items():
        player_id = player_of[bonus_id]
        for rule in batch.rules_for(player_id, RuleKind.COVERING_BETS):
            covering = [r for r in rounds if _covering(r, rule.params)]
            if len(covering) >= rule.params.rounds and any(r["round_id"] in won_now for r in covering):
                found.append((rule, player_id, bonus_id, covering))
    previous = await batch.previous((player_id, rule.code) for rule, player_id, _, _ in found)
    for rule, player_id, bonus_id, covering in found:
        params: CoveringBetsParams = rule.params
        before = previous.get((player_id, rule.code), {})
        if before.get("bonus_id") == str(bonus_id) and int(before.get("covering_rounds", 0)) >= len(covering):
            continue  # nothing new since the last hit (another win of a round already counted)
        latest = covering[-1]
        reason = (
            f"{_plural(len(covering), 'covering round')} while wagering a bonus: two or more bets per round "
            f"returning {params.low_percent}-{params.high_percent}% of the stake (at least {params.rounds} count); "
            f"the latest round {latest['round_ref']} of {latest['game'] or 'an unknown game'}"
        )
        details = {
            "bonus_id": str(bonus_id),
            "covering_rounds": len(covering),
            "threshold": params.rounds,
            "low_percent": params.low_percent,
            "high_percent": params.high_percent,
            "rounds": [
                {"round": r["round_ref"], "bets": r["bets"], "staked": r["total_bet"], "won": r["total_win"]}
                for r in covering[-10:]
            ],
        }
        await batch.hit(rule, player_id, "game_round", reason, details)


def _player_of(event: Event) -> uuid.UUID:
    player_id = _player(event)
    assert player_id is not None
    return player_id


# ---- linked_accounts ----------------------------------------------------------------------------------


async def _linked_accounts(batch: _Batch, events: list[Event], members: list[Any]) -> None:
    """Every member of a cluster an event names, as the cluster stands now: one contribution per player
    and rule, refreshed when the cluster has grown (or was merged) since the rule's last hit."""
    if not events:
        return
    clusters: dict[uuid.UUID, list[Any]] = defaultdict(list)
    cluster_of: dict[uuid.UUID, uuid.UUID] = {}
    for row in members:
        clusters[row["cluster_id"]].append(row)
        cluster_of[row["player_id"]] = row["cluster_id"]
    kinds: dict[uuid.UUID, set[str]] = defaultdict(set)
    for event in events:
        if (cluster_id := cluster_of.get(_player_of(event))) is not None:
            kinds[cluster_id].add(str(event.data.get("kind")))
    found: list[tuple[Rule, uuid.UUID, uuid.UUID, int]] = []
    for cluster_id in kinds:
        size = len(clusters[cluster_id])
        for row in clusters[cluster_id]:
            for rule in batch.rules_for(row["player_id"], RuleKind.LINKED_ACCOUNTS):
                params: LinkedAccountsParams = rule.params
                if size >= params.min_cluster_size:
                    found.append((rule, row["player_id"], cluster_id, size))
    previous = await batch.previous((player_id, rule.code) for rule, player_id, _, _ in found)
    for rule, player_id, cluster_id, size in found:
        before = previous.get((player_id, rule.code), {})
        if before.get("cluster_id") == str(cluster_id) and int(before.get("cluster_size", 0)) >= size:
            continue  # the same cluster as at the last hit, no bigger
        linking = sorted(kinds[cluster_id])
        reason = (
            f"One of {size} linked accounts (at least {rule.params.min_cluster_size} count), "
            f"linked by a shared {' and '.join(k.replace('_', ' ') for k in linking)}"
        )
        details = {"cluster_id": str(cluster_id), "cluster_size": size, "linked_by": linking}
        await batch.hit(rule, player_id, "linked_accounts", reason, details)


# ---- list_watch ---------------------------------------------------------------------------------------


async def _watch_list(batch: _Batch, events: list[Event]) -> None:
    """A watch list entry matched the player: one hit per player and rule per batch, naming each match."""
    players = {p: found for p, found in _by_player(events).items() if batch.rules_for(p, RuleKind.LIST_WATCH)}
    if not players:
        return
    entry_ids = list({uuid.UUID(e.data["entry_id"]) for found in players.values() for e in found})
    entries = {str(row["id"]): row["reason"] for row in await batch.conn.fetch(_ENTRIES, entry_ids)}
    for player_id, found in players.items():
        matches = sorted({(e.data["kind"], e.data["occasion"], e.data["entry_id"]) for e in found})
        said = "; ".join(
            f"{kind.replace('_', ' ')} at {occasion}" + (f" ({entries[entry]})" if entries.get(entry) else "")
            for kind, occasion, entry in matches
        )
        reason = f"On the watch list: {said}"
        details = {
            "matches": [{"kind": kind, "occasion": occasion, "entry_id": entry} for kind, occasion, entry in matches]
        }
        for rule in batch.rules_for(player_id, RuleKind.LIST_WATCH):
            await batch.hit(rule, player_id, found[-1].data["occasion"], reason, details)


if TYPE_CHECKING:
    _checked: Consumer = RulesConsumer()
