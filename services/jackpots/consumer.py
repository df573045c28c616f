"""The `jackpots` consumer: contributions and drops from the stakes of eligible bets, exactly once.

It reads `ledger.game_bet` (a stake: -(cash + bonus) of the event) and `ledger.game_bet_rollback` (the stake
given back) and, in the consumer framework's transaction (core/consumers.py records the batch's event ids in
it, so a redelivered event changes nothing):
1. the active jackpots and, per event, the jackpots it is eligible for: the jackpot's brands, its games and
   providers (empty: all), its minimum bet in the base currency after conversion at the stated rates
   (settings.fx_rates; a currency without a rate does not contribute);
2. what those stakes already left (`jackpot_stakes`, one statement): a bet seen before, or a rollback that
   came first (its row keeps the late bet out);
3. under the pools' row locks (services/jackpots/pools.py, id order), each stake through
   `arithmetic.step`, in event order: the contribution with its remainder carried, the cap, the drop. A drop
   books the contributions so far (one ledger transaction per pool), pays the pot to the bet's player, reveals
   the commitment and seeds the next pot, then the walk goes on;
4. per pool, one `jackpot_contribution` ledger transaction for the rest of the batch (its key derived from
   the event ids, so the same events can never be booked twice), the pool row, the day's totals, and one
   `jackpot.contributed` event.
A rollback takes back exactly what its bet's row says it put into each pot (`given`: the contribution after
the cap's clip, and the pot's generation), and only from that same pot (`arithmetic.take_back`); if that pot has
dropped (its money was paid to a winner), nothing is taken from the next one: the part is `forgone`, recorded on
the stake's row and the pool's day (the house's loss). The remainder is left alone.

Lag: contributions trail the bet by the consumer's delay (the stream delivers within milliseconds; the
framework's `croupier_consumer_lag_seconds{consumer="jackpots"}` measures commit to effect; bench/README.md
records it under the wallet's load). A pot drops on the stake that takes it past its point in the order this
consumer applies stakes, which is the outbox order but for a late redelivery.

No replay: the effects are money moved and pots paid; `reset` refuses (ReplayRefused).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, ClassVar

import asyncpg

from core import outbox
from core.consumers import Event, ReplayRefused
from core.fx import Rates
from core.logging import get_logger
from services.jackpots import arithmetic, books, pools
from services.jackpots.pools import Pool

log = get_logger(__name__)

NAME = "jackpots"
BET, ROLLBACK = "ledger.game_bet", "ledger.game_bet_rollback"
TYPES = frozenset({BET, ROLLBACK})

_JACKPOTS = """
SELECT j.id, j.kind, j.currency, j.brand_ids, j.games, j.providers, j.min_bet,
       array_agg(p.id ORDER BY p.position) AS pools
FROM jackpots j JOIN jackpot_pools p ON p.jackpot_id = j.id WHERE j.status = 'active' GROUP BY j.id"""
_STAKES = """
SELECT s.jackpot_id, s.reference, s.stake_base, s.brand_id, s.rolled_back, s.given FROM jackpot_stakes s
JOIN unnest($1::uuid[], $2::varchar[]) AS k(jackpot_id, reference) USING (jackpot_id, reference)"""
_WRITE_STAKES = """
INSERT INTO jackpot_stakes (jackpot_id, reference, player_id, brand_id, currency, stake, stake_base, fx_rate, event_id,
                            rolled_back, created_at, given, forgone)
SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::uuid[], $4::uuid[], $5::varchar[], $6::bigint[], $7::bigint[],
                     $8::varchar[], $9::bigint[], $10::boolean[], $11::timestamptz[], $12::jsonb[], $13::bigint[])
ON CONFLICT (jackpot_id, reference) DO NOTHING"""
_ROLL_BACK_STAKES = """
UPDATE jackpot_stakes s SET rolled_back = true, forgone = s.forgone + k.forgone
FROM unnest($1::uuid[], $2::varchar[], $3::bigint[]) AS k(jackpot_id, reference, forgone)
WHERE s.jackpot_id = k.jackpot_id AND s.reference = k.reference"""
_DAYS = """
INSERT INTO jackpot_days (pool_id, day, contributed, taken_back, bets, rollbacks, forgone)
SELECT * FROM unnest($1::uuid[], $2::date[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
ON CONFLICT (pool_id, day) DO UPDATE SET contributed = jackpot_days.contributed + excluded.contributed,
    taken_back = jackpot_days.taken_back + excluded.taken_back, bets = jackpot_days.bets + excluded.bets,
    rollbacks = jackpot_days.rollbacks + excluded.rollbacks, forgone = jackpot_days.forgone + excluded.forgone"""


@dataclass(frozen=True)
class _Jackpot:
    id: uuid.UUID
    network: bool
    currency: str
    brands: frozenset[str]
    games: frozenset[str]
    providers: frozenset[str]
    min_bet: int
    pools: tuple[uuid.UUID, ...]

    def eligible(self, brand: str | None, game: str | None, provider: str | None) -> bool:
        return (
            brand in self.brands
            and (not self.games or game in self.games)
            and (not self.providers or provider in self.providers)
        )


@dataclass
class _Stake:
    """A bet's row in `jackpot_stakes` as this batch leaves it."""

    stake_base: int
    brand_id: uuid.UUID | None
    rolled_back: bool
    # per pool fed (its id as text): [generation, minor units put in]; None: a row from before migration 0050
    given: dict[str, list[int]] | None = field(default_factory=dict)
    new: tuple[Any, ...] | None = None  # the row to insert
    rolled_back_now: bool = False
    forgone: int = 0  # what this batch's rollback of it could not take back


@dataclass
class _Segment:
    """A pool's contributions since its last booking (a drop books them and starts another)."""

    by_brand: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    event_ids: set[int] = field(default_factory=set)


@dataclass
class _PoolBatch:
    segment: _Segment = field(default_factory=_Segment)
    net: int = 0
    bets: int = 0
    rollbacks: int = 0
    # day → contributed, taken back, bets, rollbacks, forgone
    days: dict[date, list[int]] = field(default_factory=dict)


def _set(value: Any) -> frozenset[str]:
    """A JSONB list as asyncpg reads it without a codec (text), or already decoded."""
    return frozenset(json.loads(value) if isinstance(value, str) else value)


def _given(value: Any) -> dict[str, list[int]] | None:
    """`jackpot_stakes.given` as asyncpg reads it without a codec (text), or already decoded."""
    if value is None:
        return None
    decoded: dict[str, list[int]] = json.loads(value) if isinstance(value, str) else value
    return decoded


def _player(event: Event) -> uuid.UUID | None:
    value = event.data.get("player_id")
    return uuid.UUID(value) if value else None


def _reference(event: Event) -> str | None:
    data = event.data
    if event.type == BET:
        value = data.get("reference_id")
        return str(value) if value else None
    if data.get("provider") and data.get("provider_reference"):
        return f"{data['provider']}:{data['provider_reference']}"
    return None


class JackpotConsumer:
    """core.consumers.Consumer: jackpot contributions and drops, exactly once."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, rates: Rates) -> None:
        self.per_unit = dict(rates.per_unit)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        wanted = [
            e for e in events if e.type in TYPES and e.schema_version == 1 and _reference(e) and _player(e) is not None
        ]
        if not wanted:
            return
        jackpots = [
            _Jackpot(
                r["id"],
                r["kind"] == "network",
                r["currency"],
                _set(r["brand_ids"]),
                _set(r["games"]),
                _set(r["providers"]),
                r["min_bet"],
                tuple(r["pools"]),
            )
            for r in await conn.fetch(_JACKPOTS)
        ]
        # A rollback goes to every jackpot of its brand: it takes back what its bet gave, even if the bet's game or
        # provider has left the jackpot since (with no bet row, an ineligible rollback leaves nothing behind).
        matches = [
            (e, j)
            for e in sorted(wanted, key=lambda e: e.id)
            for j in jackpots
            if j.eligible(e.brand, e.data.get("game"), e.data.get("provider"))
            or (e.type == ROLLBACK and e.brand in j.brands)
        ]
        if not matches:
            return
        keys = {(j.id, _reference(e)) for e, j in matches}
        stakes: dict[tuple[uuid.UUID, str], _Stake] = {
            (r["jackpot_id"], r["reference"]): _Stake(
                r["stake_base"], r["brand_id"], r["rolled_back"], _given(r["given"])
            )
            for r in await conn.fetch(_STAKES, [k[0] for k in keys], [k[1] for k in keys])
        }
        locked = await pools.lock(conn, sorted({p for _, j in matches for p in j.pools}))
        batches: dict[uuid.UUID, _PoolBatch] = {p: _PoolBatch() for p in locked}
        emitted: list[outbox.Event] = []
        for event, jackpot in matches:
            signed = self._stake(event, jackpot, stakes)
            if signed is None:
                continue
            stake_base, brand = signed
            row = stakes[(jackpot.id, _reference(event) or "")]
            for pool_id in jackpot.pools:
                pool = locked.get(pool_id)
                if pool is None or pool.status != "active":
                    continue
                if stake_base > 0:
                    emitted += await self._step(conn, pool, batches[pool_id], event, stake_base, brand, row)
                else:
                    self._take_back(pool, batches[pool_id], event, stake_base, brand, row)
        await self._write_stakes(conn, stakes)
        for pool_id, batch in batches.items():
            pool = locked[pool_id]
            if not (batch.bets or batch.rollbacks):
                continue
            if not await self._book(conn, pool, batch.segment):
                await pools.save(conn, pool)  # the remainder moved, nothing to book (or only a drop's)
            emitted.append(
                outbox.event(
                    "jackpot.contributed",
                    pool.subject(),
                    {
                        **pool.data(),
                        "amount": batch.net,
                        "bets": batch.bets,
                        "rollbacks": batch.rollbacks,
                        "pot": pool.amount,
                    },
                    brand_id=pool.brand_id,
                )
            )
        days = [(p, d, *v) for p, b in batches.items() for d, v in b.days.items()]
        if days:
            await conn.execute(_DAYS, *(list(column) for column in zip(*days, strict=True)))
        await pools.emit(conn, emitted)

    def _stake(
        self, event: Event, jackpot: _Jackpot, stakes: dict[tuple[uuid.UUID, str], _Stake]
    ) -> tuple[int, uuid.UUID] | None:
        """The signed stake in the pool's currency this event applies (None: nothing), its row updated."""
        reference = _reference(event)
        assert reference is not None
        key = (jackpot.id, reference)
        found = stakes.get(key)
        data = event.data
        brand = uuid.UUID(event.brand) if event.brand else None
        if event.type == ROLLBACK:
            if found is None:  # the rollback came first: its row keeps the late bet out
                if jackpot.eligible(event.brand, data.get("game"), data.get("provider")):
                    stakes[key] = _Stake(0, brand, True, new=self._row(event, jackpot, 0, 0, Fraction(0), True))
                return None
            if found.rolled_back:
                return None
            found.rolled_back = found.rolled_back_now = True
            return (-found.stake_base, found.brand_id) if found.stake_base and found.brand_id else None
        if found is not None or brand is None:
            return None
        stake = -(int(data.get("cash") or 0) + int(data.get("bonus") or 0))
        fx = pools.rate(data["currency"], jackpot.currency, self.per_unit)
        if stake <= 0 or fx is None:
            return None
        stake_base = arithmetic.convert(stake, fx.numerator, fx.denominator)
        if stake_base < jackpot.min_bet or stake_base == 0:
            return None
        stakes[key] = _Stake(stake_base, brand, False, new=self._row(event, jackpot, stake, stake_base, fx, False))
        return stake_base, brand

    @staticmethod
    def _row(
        event: Event, jackpot: _Jackpot, stake: int, base: int, fx: Fraction, rolled_back: bool
    ) -> tuple[Any, ...]:
        return (
            jackpot.id, _reference(event), _player(event), uuid.UUID(event.brand) if event.brand else None,
            event.data.get("currency") or jackpot.currency, stake, base, str(fx), event.id, rolled_back, event.time,
        )  # fmt: skip

    @staticmethod
    def _take_back(pool: Pool, batch: _PoolBatch, event: Event, stake: int, brand: uuid.UUID, row: _Stake) -> None:
        """A rollback: what its bet put into this pool, from the same pot only (arithmetic.take_back)."""
        if row.given is None:  # a row from before 0050: what it gave, and to which pot, is unknown: forgone
            taken, forgone = 0, arithmetic.contribute(-stake, pool.ppm, 0)[0]
        else:
            generation, given = row.given.get(str(pool.id), (pool.generation, 0))
            taken, forgone = arithmetic.take_back(given=given, given_generation=generation, generation=pool.generation)
        pool.amount -= taken
        batch.segment.by_brand[brand] -= taken
        batch.segment.event_ids.add(event.id)
        batch.net -= taken
        batch.rollbacks += 1
        row.forgone += forgone
        day = batch.days.setdefault(event.time.date(), [0, 0, 0, 0, 0])
        day[1] += taken
        day[3] += 1
        day[4] += forgone

    async def _step(
        self, conn: asyncpg.Connection, pool: Pool, batch: _PoolBatch, event: Event, stake: int, brand: uuid.UUID,
        row: _Stake,
    ) -> list[outbox.Event]:  # fmt: skip
        """A bet: its contribution (carried remainder, cap), recorded on its row with the pot's generation."""
        before = pool.amount
        amount_point = pool.drop_point if pool.trigger == "amount" else None
        cap = pool.cap if pool.trigger == "amount" else None
        step = arithmetic.step(
            amount=pool.amount, remainder=pool.remainder, stake=stake, ppm=pool.ppm, cap=cap, drop_point=amount_point
        )
        pool.amount, pool.remainder = step.amount, step.remainder
        if row.given is not None:
            row.given[str(pool.id)] = [pool.generation, step.contribution]
        batch.segment.by_brand[brand] += step.contribution
        batch.segment.event_ids.add(event.id)
        batch.net += step.contribution
        day = batch.days.setdefault(event.time.date(), [0, 0, 0, 0, 0])
        batch.bets += 1
        day[0] += step.contribution
        day[2] += 1
        # A time pot past its instant with nothing in it (no seed, rollbacks) waits for a stake that gives it
        # something: paying an empty pot is refused, and the stake would be parked with its contributions.
        drops = step.drops or (
            pool.amount > 0
            and arithmetic.due_at(pool.trigger, pool.drop_point, stake, int(event.time.timestamp() * 1000))
        )
        if not drops:
            return []
        await self._book(conn, pool, batch.segment)
        batch.segment = _Segment()
        player = _player(event)
        assert player is not None
        paid = await pools.pay(
            conn, pool, player_id=player, brand_id=brand, player_currency=event.data["currency"],
            reference=_reference(event) or "", amount_before=before, event_id=event.id, per_unit=self.per_unit,
            details={"stake_base": stake, "turned_away": step.turned_away}, now=event.time,
        )  # fmt: skip
        log.info("jackpot_dropped", pool=str(pool.id), generation=pool.generation - 1, win=str(paid.win_id))
        return paid.events

    async def _book(self, conn: asyncpg.Connection, pool: Pool, segment: _Segment) -> bool:
        """Book a segment's contributions and save the pool (False: an empty segment, nothing done)."""
        if not segment.event_ids:
            return False
        await books.contributions(
            conn, pool_id=pool.id, generation=pool.generation, pool_account_id=pool.account_id, currency=pool.currency,
            by_brand=segment.by_brand, event_ids=segment.event_ids, brand_id=pool.brand_id,
        )  # fmt: skip
        contributed = sum(segment.by_brand.values())
        await pools.save(conn, pool, contributed=contributed)
        return True

    @staticmethod
    async def _write_stakes(conn: asyncpg.Connection, stakes: dict[tuple[uuid.UUID, str], _Stake]) -> None:
        # A bet rolled back in the same batch is inserted rolled back; one seen before is marked.
        rows = [
            (*r[:9], r[9] or s.rolled_back, r[10], json.dumps(s.given), s.forgone)
            for s in stakes.values()
            if (r := s.new) is not None
        ]
        if rows:
            await conn.execute(_WRITE_STAKES, *(list(column) for column in zip(*rows, strict=True)))
        marked = [(k, s.forgone) for k, s in stakes.items() if s.rolled_back_now and s.new is None]
        if marked:
            await conn.execute(
                _ROLL_BACK_STAKES, [k[0] for k, _ in marked], [k[1] for k, _ in marked], [f for _, f in marked]
            )

    async def reset(self, conn: asyncpg.Connection) -> None:
        raise ReplayRefused(
            "the jackpots' effects are money: contributions booked, pots paid and reseeded; a replay would book "
            "them again. Parked events can be applied again with `croupier events retry jackpots`."
        )
