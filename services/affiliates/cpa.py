"""The `affiliate-cpa` consumer: attributed players qualify for their partner's CPA, exactly once.

The rule (the CPA terms of a plan, services/affiliates/plans.py): the player's first deposit is at least
`min_first_deposit` and the cash they staked, net of rollbacks, reaches `min_wagering`, both within
`within_days` of registration. Amounts are compared in the plan's currency (the player's converted at the
stated rates, rounded down; a currency without a rate does not count). The CPA is the `amount` of the deal
in force on the day the rule is met, under that deal's own rule: the qualifying moment is the first instant at
which the rule of the deal in force then holds.

It reads `ledger.deposit`, `ledger.game_bet` and `ledger.game_bet_rollback` and, in the consumer framework's
transaction (core/consumers.py records the events' ids with the effects):
1. keeps the events of players who are attributed (affiliate_attributions) and not yet qualified, within a
   year of registration (the longest window a plan may have);
2. writes each as a row of `affiliate_cpa_activity` keyed by its event id (a redelivered event writes
   nothing);
3. per player touched, walks all their rows in time order against the deals of their partner and brand;
   the walk's result depends only on the set of rows, so events that arrive out of order (a redelivery,
   the sweep) decide the same moment, deal and amount;
4. a player who qualifies gets their `affiliate_qualifications` row (the primary key is the player: once,
   ever), `qualified`, or `withheld` with the reason `fraud.cpa_hold_reason` gives, and the event
   `affiliate.qualified` or `affiliate.withheld` in the same transaction.

Replay: `reset` forgets the activity of players not yet qualified; a qualification stays (it is what the
runs pay), and a replay skips its player, so nothing is emitted twice.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

import asyncpg

from core import outbox
from core.consumers import Event
from core.fx import Rates
from core.logging import get_logger
from models.affiliate_cpa import ActivityKind
from models.affiliates import QualificationStatus
from services.affiliates import fraud
from services.affiliates.deals import Deal, DealPeriod, deals_between
from services.affiliates.plans import MAX_WINDOW_DAYS

log = get_logger(__name__)

NAME = "affiliate-cpa"
DEPOSIT, BET, ROLLBACK = "ledger.deposit", "ledger.game_bet", "ledger.game_bet_rollback"
TYPES = frozenset({DEPOSIT, BET, ROLLBACK})
_KIND = {DEPOSIT: ActivityKind.DEPOSIT, BET: ActivityKind.STAKE, ROLLBACK: ActivityKind.ROLLBACK}

_PLAYERS = """
SELECT a.player_id, a.affiliate_id, a.brand_id, a.sub_id, p.created_at AS registered_at
FROM affiliate_attributions a JOIN players p ON p.id = a.player_id
WHERE a.player_id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM affiliate_qualifications q WHERE q.player_id = a.player_id)"""
_WRITE = """
INSERT INTO affiliate_cpa_activity (event_id, player_id, kind, amount, currency, at)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::varchar[], $4::bigint[], $5::varchar[], $6::timestamptz[])
ON CONFLICT (event_id) DO NOTHING"""
_ACTIVITY = """
SELECT event_id, player_id, kind, amount, currency, at FROM affiliate_cpa_activity
WHERE player_id = ANY($1::uuid[]) ORDER BY player_id, at, event_id"""
_QUALIFY = """
INSERT INTO affiliate_qualifications (player_id, affiliate_id, brand_id, deal_id, status, amount, currency,
                                      qualified_at, event_id, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (player_id) DO NOTHING"""


@dataclass(frozen=True)
class Activity:
    event_id: int
    kind: ActivityKind
    amount: int  # positive, minor units of `currency`
    currency: str
    at: datetime


@dataclass(frozen=True)
class Qualified:
    deal: Deal
    at: datetime
    event_id: int  # the activity that met the rule


Convert = Callable[[int, str, str], int | None]


def first_qualifying(
    activity: Sequence[Activity], registered_at: datetime, deal_on: Callable[[date], Deal | None], convert: Convert
) -> Qualified | None:
    """The first moment the CPA rule of the deal in force then holds (None: not yet, or never).

    `activity` in any order: it is walked sorted by (time, event id), so the answer depends only on the set."""
    first_deposit: Activity | None = None
    staked: dict[str, int] = defaultdict(int)  # net cash stakes per currency
    for row in sorted(activity, key=lambda a: (a.at, a.event_id)):
        if row.kind == ActivityKind.DEPOSIT:
            first_deposit = first_deposit or row
        else:
            staked[row.currency] += row.amount if row.kind == ActivityKind.STAKE else -row.amount
        deal = deal_on(row.at.date())
        cpa = deal.plan.terms.cpa if deal is not None else None
        if deal is None or cpa is None or first_deposit is None:
            continue
        rule = cpa.qualification
        if row.at > registered_at + timedelta(days=rule.within_days):
            continue
        currency = deal.plan.currency
        deposit = convert(first_deposit.amount, first_deposit.currency, currency)
        wagered = sum(convert(amount, cur, currency) or 0 for cur, amount in staked.items())
        if deposit is not None and deposit >= rule.min_first_deposit and wagered >= rule.min_wagering:
            return Qualified(deal, row.at, row.event_id)
    return None


def deal_lookup(periods: Sequence[DealPeriod]) -> Callable[[date], Deal | None]:
    """The deal in force on a day, from the periods of `deals_between`."""
    starts = [p.start for p in periods]

    def on(day: date) -> Deal | None:
        i = bisect.bisect_right(starts, day) - 1
        return periods[i].deal if i >= 0 and day <= periods[i].end else None

    return on


def _activity(event: Event) -> Activity | None:
    cash = int(event.data.get("cash") or 0)
    amount = -cash if event.type == BET else cash  # a stake takes cash; a deposit and a rollback give it
    if amount <= 0:
        return None
    return Activity(event.id, _KIND[event.type], amount, event.data["currency"], event.time)


class CpaConsumer:
    """core.consumers.Consumer: CPA qualifications of attributed players, exactly once."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, rates: Rates) -> None:
        self.rates = rates

    def convert(self, minor: int, source: str, target: str) -> int | None:
        return self.rates.convert(minor, source, target, round_up=False)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        wanted = [e for e in events if e.type in TYPES and e.schema_version == 1 and e.data.get("player_id")]
        if not wanted:
            return
        ids = list({uuid.UUID(e.data["player_id"]) for e in wanted})
        players = {row["player_id"]: row for row in await conn.fetch(_PLAYERS, ids)}
        rows = []
        for event in wanted:
            player = players.get(uuid.UUID(event.data["player_id"]))
            found = _activity(event)
            if player is None or found is None:
                continue
            if found.at > player["registered_at"] + timedelta(days=MAX_WINDOW_DAYS):
                continue
            rows.append((found.event_id, player["player_id"], found.kind.value, found.amount, found.currency, found.at))
        if not rows:
            return
        await conn.execute(_WRITE, *(list(column) for column in zip(*rows, strict=True)))
        touched = sorted({row[1] for row in rows})
        by_player: dict[uuid.UUID, list[Activity]] = defaultdict(list)
        for r in await conn.fetch(_ACTIVITY, touched):
            by_player[r["player_id"]].append(
                Activity(r["event_id"], ActivityKind(r["kind"]), r["amount"], r["currency"], r["at"])
            )
        for player_id in touched:
            await self._decide(conn, players[player_id], by_player[player_id])

    async def _decide(self, conn: asyncpg.Connection, player: asyncpg.Record, activity: list[Activity]) -> None:
        registered: datetime = player["registered_at"]
        periods = await deals_between(
            conn,
            player["affiliate_id"],
            player["brand_id"],
            registered.date(),
            (registered + timedelta(days=MAX_WINDOW_DAYS)).date(),
        )
        found = first_qualifying(activity, registered, deal_lookup(periods), self.convert)
        if found is None:
            return
        cpa = found.deal.plan.terms.cpa
        assert cpa is not None
        reason = await fraud.cpa_hold_reason(conn, player["affiliate_id"], player["sub_id"], player["player_id"])
        status = QualificationStatus.WITHHELD if reason else QualificationStatus.QUALIFIED
        currency = found.deal.plan.currency
        inserted = await conn.execute(
            _QUALIFY, player["player_id"], player["affiliate_id"], player["brand_id"], found.deal.id, status.value,
            cpa.amount, currency, found.at, found.event_id, reason[:500] if reason else None,
        )  # fmt: skip
        if inserted.endswith(" 0"):  # qualified by another path meanwhile: nothing to announce
            return
        data = {
            "player_id": str(player["player_id"]),
            "affiliate_id": str(player["affiliate_id"]),
            "deal_id": str(found.deal.id),
            "sub_id": player["sub_id"],
            "amount": cpa.amount,
            "currency": currency,
            "qualified_at": found.at.isoformat(),
        }
        if reason:
            data["reason"] = "subid_flagged"  # the words stay on the row: they may name linked accounts
        event = outbox.event(
            f"affiliate.{status.value}", f"player:{player['player_id']}", data, brand_id=player["brand_id"]
        )
        await conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *outbox.events_params([event]).values())
        log.info("affiliate_cpa_qualified", player=str(player["player_id"]), status=status.value)

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "DELETE FROM affiliate_cpa_activity a WHERE NOT EXISTS "
            "(SELECT 1 FROM affiliate_qualifications q WHERE q.player_id = a.player_id)"
        )
