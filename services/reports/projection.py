"""The `reports` consumer: folds ledger, payment and registration events into the report projections.

A batch is aggregated in Python first (one running row per table key), then written with one
`INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` per table, adding the batch's sums to what is
there: a handful of statements per batch, whatever its size. The rollups the player and cohort KPIs read
(services/reports/rollups.py) follow in the same transaction. It runs in the consumer framework's
transaction, which also records what the batch applied, so its effects happen exactly once.

Which day: the UTC day of the event's `time` (when its transaction wrote it). Which brand: the
envelope's. Events from before the catalogue (schema version 0) carry neither and are not projected;
a version this code does not know is refused (the event is parked, visibly), never guessed at.

The operator's side of play. A `ledger.*` event carries the player's side of a transaction (signed
cash, bonus and pending changes); a bet always moves exactly that to the house. A win or a rollback of
a bonus holder may not: a free round's win is paid from the bonus cost, not the house, and a rollback
that undoes a bonus conversion gives the capped part back from the bonus cost. So for wins and
rollbacks the projection reads how much the transaction moved on the house_revenue and bonus_cost
accounts, in one query per batch (ledger postings never change, so a replay reads the same).

The cash/bonus split of a rollback. The stake (or win) it undoes is read too (one more query, only for
batches with rollbacks): what comes back nets out the original's cash part first, then its bonus part.
The player's side of a rollback alone cannot say it: a stake whose bonus has since converted comes back
as cash, one whose bonus was forfeited comes back without its bonus part (which the house keeps).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import asyncpg

from core.catalogue import money
from core.consumers import Consumer, Event
from services.reports import rollups, sums
from services.reports.rollups import FirstDeposit, Player
from services.reports.sums import Row

NAME = "reports"
SCHEMA_VERSION = 1  # of every type it reads; 0 marks events written before the catalogue
PAYMENT_TYPES = frozenset(
    {"payment.created", "payment.failed", "payment.requested", "payment.rejected", "payment.cancelled"}
)
LEDGER_TYPES = frozenset(f"ledger.{kind}" for kind in money.KINDS)
TYPES = frozenset({*LEDGER_TYPES, *PAYMENT_TYPES, "player.registered"})
TABLES = ("report_game_days", "report_player_days", "report_cashier_days", "report_players", *rollups.TABLES)

# What each table adds up; the order is the order of the columns in its upsert.
GAME_SUMS = (
    "stakes_cash",
    "stakes_bonus",
    "wins_cash",
    "wins_bonus",
    "bet_count",
    "win_count",
    "rollback_count",
    "stakes_rolled_back",
    "wins_rolled_back",
)
PLAYER_DAY_SUMS = (
    "stakes",
    "wins",
    "bonus_cost",
    "deposits",
    "deposit_count",
    "withdrawals",
    "withdrawal_count",
    "bet_count",
)
CASHIER_SUMS = (
    "deposits",
    "deposit_count",
    "withdrawals",
    "withdrawal_count",
    "adjustments",
    "deposit_attempts",
    "deposits_failed",
    "withdrawal_requests",
    "withdrawals_requested",
    "withdrawals_rejected",
    "withdrawals_cancelled",
    "payouts_failed",
    "bonus_granted",
    "bonus_cash",
    "bonus_game",
    "bonus_converted",
    "bonus_capped",
    "bonus_forfeited",
    "bonus_expired",
    "bonus_cancelled",
    "ftd_count",  # kept by the rollups: a first deposit counts on its own day, once
    "ftd_amount",
    "chargebacks",
    "chargeback_count",
    "chargebacks_reversed",
    "payouts_returned",
)
_TAKEN_BACK = {"bonus_forfeit": "bonus_forfeited", "bonus_expiry": "bonus_expired", "bonus_cancel": "bonus_cancelled"}
_ROLLBACK_KINDS = frozenset({"game_bet_rollback", "game_win_rollback"})
_OPERATOR_SIDE_KINDS = frozenset({"game_win", *_ROLLBACK_KINDS})


_GAME_UPSERT = sums.upsert(
    "report_game_days",
    [
        ("day", "date"),
        ("brand_id", "uuid"),
        ("currency", "varchar"),
        ("provider", "varchar"),
        ("game", "varchar"),
        ("jurisdiction", "varchar"),
    ],
    GAME_SUMS,
)
# It answers each row's counts after the batch: the rollups tell from them what became true.
_PLAYER_DAY_UPSERT = sums.upsert(
    "report_player_days",
    [("player_id", "uuid"), ("day", "date"), ("currency", "varchar")],
    PLAYER_DAY_SUMS,
    [("brand_id", "uuid")],
    returning="player_id::text AS player, day, currency, bet_count, deposit_count",
)
_CASHIER_UPSERT = sums.upsert(
    "report_cashier_days", [("day", "date"), ("brand_id", "uuid"), ("currency", "varchar")], CASHIER_SUMS
)
# Registration facts fill in what is missing; the first deposit is the earliest by (time, event id),
# whatever order the events arrive in.
_EARLIER = (
    "(excluded.first_deposit_event IS NOT NULL AND (report_players.first_deposit_event IS NULL OR "
    "(excluded.first_deposit_at, excluded.first_deposit_event) < "
    "(report_players.first_deposit_at, report_players.first_deposit_event)))"
)
_FIRST_DEPOSIT = (
    "first_deposit_on",
    "first_deposit_at",
    "first_deposit_event",
    "first_deposit_amount",
    "first_deposit_currency",
)
_KEEP_FIRST = ", ".join(
    f"{c} = CASE WHEN {_EARLIER} THEN excluded.{c} ELSE report_players.{c} END" for c in _FIRST_DEPOSIT
)
_PLAYERS_UPSERT = f"""
INSERT INTO report_players (player_id, brand_id, currency, jurisdiction, registered_on, first_deposit_on,
                            first_deposit_at, first_deposit_event, first_deposit_amount, first_deposit_currency)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::varchar[], $5::date[], $6::date[],
                     $7::timestamptz[], $8::bigint[], $9::bigint[], $10::varchar[])
ON CONFLICT (player_id) DO UPDATE SET
    currency = coalesce(report_players.currency, excluded.currency),
    jurisdiction = coalesce(report_players.jurisdiction, excluded.jurisdiction),
    registered_on = coalesce(report_players.registered_on, excluded.registered_on),
    {_KEEP_FIRST}"""  # noqa: S608  (column names only)
# Both drive from the batch's own transactions (MATERIALIZED): left to itself, the planner may start from
# the house account's postings, which are most of the ledger.
_OPERATOR_SIDE = """
WITH moved AS MATERIALIZED (
    SELECT transaction_id, account_id, amount FROM ledger_postings WHERE transaction_id = ANY($1::uuid[]))
SELECT m.transaction_id::text AS key, a.purpose, sum(m.amount)::bigint AS amount
FROM moved m JOIN ledger_accounts a ON a.id = m.account_id
WHERE a.purpose IN ('house_revenue', 'bonus_cost', 'supplier_promo')
GROUP BY m.transaction_id, a.purpose"""
# (supplier_promo: a supplier's promotional win, services/provider_wallet/async_win.py, is read so that it is
# known; the house paid none of it, so it moves no GGR.)
# The stakes and wins that rollbacks undo, by the provider transaction they came from (the ledger's
# reference of a game transaction is `<provider>:<provider transaction>`).
_ORIGINALS = """
WITH undone AS MATERIALIZED (
    SELECT id, reference_id FROM ledger_transactions
    WHERE reference_type = 'provider_transaction' AND reference_id = ANY($1::varchar[])
      AND kind IN ('game_bet', 'game_win') AND status = 'committed'),
moved AS MATERIALIZED (
    SELECT u.reference_id, p.account_id, p.amount FROM undone u JOIN ledger_postings p ON p.transaction_id = u.id)
SELECT m.reference_id AS key, a.purpose, sum(m.amount)::bigint AS amount
FROM moved m JOIN ledger_accounts a ON a.id = m.account_id
GROUP BY m.reference_id, a.purpose"""


class UnprojectableEvent(ValueError):
    """An event this projection cannot read (an unknown version, a missing ledger transaction)."""


def day_of(time: datetime) -> date:
    """The reporting day of an event: the UTC calendar day of its time."""
    return time.astimezone(UTC).date()


@dataclass
class _Registration:
    brand_id: str
    currency: str | None = None
    jurisdiction: str | None = None
    registered_on: date | None = None
    first_deposit: FirstDeposit | None = None


@dataclass
class _Batch:
    """A batch's effects, one running row per table key, before they are written. Ids stay the strings
    the events carry (the database parses them)."""

    game: dict[tuple[date, str, str, str, str, str], Row] = field(default_factory=dict)
    player_days: dict[tuple[str, date, str], tuple[str, Row]] = field(default_factory=dict)
    cashier: dict[tuple[date, str, str], Row] = field(default_factory=dict)
    players: dict[str, _Registration] = field(default_factory=dict)
    jurisdictions: dict[str, str] = field(default_factory=dict)  # of the batch's players
    known: dict[str, Player] = field(default_factory=dict)  # the batch's players as report_players had them

    def play(self, brand: str, day: date, currency: str, data: dict[str, Any]) -> Row:
        jurisdiction = self.jurisdictions.get(data["player_id"], "")
        key = (day, brand, currency, data.get("provider") or "", data.get("game") or "", jurisdiction)
        return sums.row(self.game, key)

    def player_day(self, player: str, day: date, currency: str, brand: str) -> Row:
        found = self.player_days.get((player, day, currency))
        if found is None:
            found = self.player_days[(player, day, currency)] = (brand, defaultdict(int))
        return found[1]

    def money(self, brand: str, day: date, currency: str) -> Row:
        return sums.row(self.cashier, (day, brand, currency))

    def player(self, player: str, brand: str) -> _Registration:
        found = self.players.get(player)
        if found is None:
            found = self.players[player] = _Registration(brand)
        return found

    def players_after(self) -> dict[str, Player]:
        """The batch's players as report_players will have them after it (those it knows anything of)."""
        after = dict(self.known)
        for player, seen in self.players.items():
            was = self.known.get(player, Player(seen.brand_id))
            after[player] = was.then(seen.registered_on, seen.first_deposit)
        return after


def _part(amount: int, total: int) -> int:
    """The share of `total` (≥ 0) that `amount` accounts for, clamped to [0, total]."""
    return min(max(amount, 0), max(total, 0))


class ReportsProjection:
    """The report projections' consumer (core.consumers.Consumer)."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        readable = [e for e in events if e.schema_version != 0]  # before the catalogue: not projected
        for event in readable:
            if event.schema_version != SCHEMA_VERSION:
                raise UnprojectableEvent(f"{event.type} v{event.schema_version} (event {event.id}) is not known here")
        ledger = await _LedgerSides.read(conn, [e for e in readable if e.type in LEDGER_TYPES])
        batch = _Batch()
        await _know_players(conn, batch, readable)
        for event in readable:
            if event.type in LEDGER_TYPES:
                _movement(batch, event, ledger)
            elif event.type in PAYMENT_TYPES:
                _payment(batch, event)
            elif event.type == "player.registered":
                _registration(batch, event)
        await _write(conn, batch)

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")


# The batch's players: their jurisdiction (fixed at registration), and what report_players holds of them.
_PLAYERS = """
SELECT u.id::text AS player, pl.jurisdiction, r.brand_id::text AS brand_id, r.registered_on, r.first_deposit_at,
       r.first_deposit_event, r.first_deposit_on, r.first_deposit_amount, r.first_deposit_currency
FROM unnest($1::uuid[]) AS u(id)
LEFT JOIN players pl ON pl.id = u.id
LEFT JOIN report_players r ON r.player_id = u.id"""


async def _know_players(conn: asyncpg.Connection, batch: _Batch, events: Sequence[Event]) -> None:
    """What the batch needs to know of its players before it starts (one query)."""
    players = {e.data["player_id"] for e in events if e.type in LEDGER_TYPES or e.type == "player.registered"}
    if not players:
        return
    for row in await conn.fetch(_PLAYERS, list(players)):
        player = row["player"]
        if row["jurisdiction"] is not None:
            batch.jurisdictions[player] = row["jurisdiction"]
        if row["brand_id"] is not None:
            first = None
            if row["first_deposit_event"] is not None:
                first = (
                    row["first_deposit_at"],
                    row["first_deposit_event"],
                    row["first_deposit_on"],
                    row["first_deposit_amount"],
                    row["first_deposit_currency"],
                )
            batch.known[player] = Player(row["brand_id"], row["registered_on"], first)


if TYPE_CHECKING:
    _checked: Consumer = ReportsProjection()  # mypy holds it to the framework's protocol


Moved = dict[str, int]  # what one ledger transaction moved, by account purpose


@dataclass(frozen=True)
class _LedgerSides:
    """The ledger's side of a batch's wins and rollbacks: what each moved on the house and bonus-cost
    accounts (by transaction id), and what the stakes and wins they undo moved (by provider reference)."""

    moved: dict[str, Moved]
    originals: dict[str, Moved]

    @classmethod
    async def read(cls, conn: asyncpg.Connection, events: Sequence[Event]) -> _LedgerSides:
        wanted = {e.data["transaction_id"] for e in events if e.data["kind"] in _OPERATOR_SIDE_KINDS}
        undone = {key for e in events if e.data["kind"] in _ROLLBACK_KINDS and (key := _undone(e.data)) is not None}
        moved = await _amounts(conn, _OPERATOR_SIDE, wanted) if wanted else {}
        missing = wanted - moved.keys()
        if missing:
            raise UnprojectableEvent(f"no house or bonus-cost postings for ledger transaction(s) {sorted(missing)}")
        originals = await _amounts(conn, _ORIGINALS, undone) if undone else {}
        return cls(moved, originals)

    def original(self, data: dict[str, Any]) -> Moved | None:
        key = _undone(data)
        return self.originals.get(key) if key is not None else None


async def _amounts(conn: asyncpg.Connection, sql: str, keys: Iterable[str]) -> dict[str, Moved]:
    found: dict[str, Moved] = {}
    for row in await conn.fetch(sql, list(keys)):
        found.setdefault(row["key"], {})[row["purpose"]] = row["amount"]
    return found


def _undone(data: dict[str, Any]) -> str | None:
    """The ledger reference of the stake or win a rollback undoes."""
    if not data.get("provider") or not data.get("provider_reference"):
        return None
    return f"{data['provider']}:{data['provider_reference']}"


def _movement(batch: _Batch, event: Event, ledger: _LedgerSides) -> None:
    """One `ledger.<kind>` event: the player's signed cash / bonus / pending changes, by kind."""
    if event.brand is None:
        raise UnprojectableEvent(f"{event.type} (event {event.id}) names no brand")
    data = event.data
    kind: str = data["kind"]
    brand, day, currency, player = event.brand, day_of(event.time), data["currency"], data["player_id"]
    cash, bonus, pending = int(data["cash"]), int(data["bonus"]), int(data["pending"])
    debt = int(data.get("debt", 0))  # present when a chargeback's debt moved (booked, repaid, cancelled)

    if kind == "game_bet":  # cash and bonus money to the house
        play = batch.play(brand, day, currency, data)
        play["stakes_cash"] -= cash
        play["stakes_bonus"] -= bonus
        play["bet_count"] += 1
        mine = batch.player_day(player, day, currency, brand)
        mine["stakes"] -= cash + bonus
        mine["bet_count"] += 1
    elif kind in _OPERATOR_SIDE_KINDS:
        moved = ledger.moved[data["transaction_id"]]
        house, cost = moved.get("house_revenue", 0), moved.get("bonus_cost", 0)
        play = batch.play(brand, day, currency, data)
        mine = batch.player_day(player, day, currency, brand)
        if kind == "game_win":  # what the house paid, to cash and/or bonus
            paid = -house
            to_bonus = _part(bonus, paid)
            play["wins_cash"] += paid - to_bonus
            play["wins_bonus"] += to_bonus
            play["win_count"] += 1
            mine["wins"] += paid
        elif kind == "game_bet_rollback":  # the house gives (part of) a stake back: its cash part first
            refund = -house
            stake = ledger.original(data)
            from_cash = _part(-stake.get("cash", 0) if stake is not None else cash, refund)
            play["stakes_cash"] -= from_cash
            play["stakes_bonus"] -= refund - from_cash
            play["stakes_rolled_back"] += refund
            play["rollback_count"] += 1
            mine["stakes"] -= refund
        else:  # game_win_rollback: the house takes a win back, its cash part first
            taken = house
            win = ledger.original(data)
            if win is not None:
                paid = -win.get("house_revenue", 0)
                won_cash = paid - _part(win.get("bonus", 0), paid)
            else:
                won_cash = -cash
            to_cash = _part(won_cash, taken)
            play["wins_cash"] -= to_cash
            play["wins_bonus"] -= taken - to_cash
            play["wins_rolled_back"] += taken
            play["rollback_count"] += 1
            mine["wins"] -= taken
        if cost:  # a free round's win (or its rollback), a conversion's capped part given back
            batch.money(brand, day, currency)["bonus_game"] -= cost
            mine["bonus_cost"] -= cost
    elif kind == "deposit":  # to cash, and first to the debt of a chargeback where the player owes one
        paid_in = cash + debt
        _add(batch.money(brand, day, currency), deposits=paid_in, deposit_count=1)
        _add(batch.player_day(player, day, currency, brand), deposits=paid_in, deposit_count=1)
        registration = batch.player(player, brand)
        candidate = (event.time, event.id, day, paid_in, currency)
        if registration.first_deposit is None or candidate[:2] < registration.first_deposit[:2]:
            registration.first_deposit = candidate
    elif kind == "withdrawal_paid":  # pending → the PSP
        _add(batch.money(brand, day, currency), withdrawals=-pending, withdrawal_count=1)
        _add(batch.player_day(player, day, currency, brand), withdrawals=-pending, withdrawal_count=1)
    elif kind == "chargeback":  # the PSP took it back: from cash, the rest owed
        _add(batch.money(brand, day, currency), chargebacks=-(cash + debt), chargeback_count=1)
    elif kind == "chargeback_reversal":  # a won dispute: back to the debt still owed, then cash
        batch.money(brand, day, currency)["chargebacks_reversed"] += cash + debt
    elif kind == "payout_returned":  # the bank sent a paid withdrawal back to cash
        batch.money(brand, day, currency)["payouts_returned"] += cash
    elif kind == "adjustment":
        batch.money(brand, day, currency)["adjustments"] += cash + bonus
    elif kind in ("bonus_grant", "bonus_cash"):  # bonus cost → bonus balance / cash
        granted = bonus + cash
        batch.money(brand, day, currency)["bonus_granted" if kind == "bonus_grant" else "bonus_cash"] += granted
        batch.player_day(player, day, currency, brand)["bonus_cost"] += granted
    elif kind == "bonus_conversion":  # bonus → cash up to the cap, the rest back to the bonus cost
        capped = -(cash + bonus)
        _add(batch.money(brand, day, currency), bonus_converted=cash, bonus_capped=capped)
        batch.player_day(player, day, currency, brand)["bonus_cost"] -= capped
    elif kind in _TAKEN_BACK:  # the bonus balance back to the bonus cost
        batch.money(brand, day, currency)[_TAKEN_BACK[kind]] -= bonus
        batch.player_day(player, day, currency, brand)["bonus_cost"] += bonus
    # withdrawal_hold and withdrawal_void move money within the player's own accounts: nothing to report.


def _payment(batch: _Batch, event: Event) -> None:
    """A payment's state change: the cashier's pipeline counts (the money itself is in ledger events)."""
    data = event.data
    row = batch.money(event.brand or data["brand_id"], day_of(event.time), data["currency"])
    deposit = data["kind"] == "deposit"
    match event.type:
        case "payment.created" if deposit:
            row["deposit_attempts"] += 1
        case "payment.failed":
            row["deposits_failed" if deposit else "payouts_failed"] += 1
        case "payment.requested":
            _add(row, withdrawal_requests=1, withdrawals_requested=int(data["amount"]))
        case "payment.rejected":
            row["withdrawals_rejected"] += 1
        case "payment.cancelled":
            row["withdrawals_cancelled"] += 1


def _registration(batch: _Batch, event: Event) -> None:
    if event.brand is None:
        raise UnprojectableEvent(f"player.registered (event {event.id}) names no brand")
    data = event.data
    registration = batch.player(data["player_id"], event.brand)
    registration.currency = data["currency"]
    registration.jurisdiction = data["jurisdiction"]
    registration.registered_on = day_of(event.time)


def _add(row: Row, **amounts: int) -> None:
    for column, amount in amounts.items():
        row[column] += amount


async def _write(conn: asyncpg.Connection, batch: _Batch) -> None:
    if batch.game:
        await conn.execute(_GAME_UPSERT, *sums.columns(list(batch.game.items()), GAME_SUMS))
    counts: dict[rollups.DayKey, tuple[int, int]] = {}
    if batch.player_days:
        rows = [((*key, brand), added) for key, (brand, added) in batch.player_days.items()]
        for row in await conn.fetch(_PLAYER_DAY_UPSERT, *sums.columns(rows, PLAYER_DAY_SUMS)):
            counts[(row["player"], row["day"], row["currency"])] = (row["bet_count"], row["deposit_count"])
    await rollups.apply(
        conn,
        days=batch.player_days,
        counts=counts,
        before=batch.known,
        after=batch.players_after(),
        cashier=batch.cashier,
    )
    if batch.cashier:
        await conn.execute(_CASHIER_UPSERT, *sums.columns(list(batch.cashier.items()), CASHIER_SUMS))
    if batch.players:
        players = list(batch.players.items())
        first = [r.first_deposit for _, r in players]
        await conn.execute(
            _PLAYERS_UPSERT,
            [player for player, _ in players],
            [r.brand_id for _, r in players],
            [r.currency for _, r in players],
            [r.jurisdiction for _, r in players],
            [r.registered_on for _, r in players],
            [f[2] if f else None for f in first],
            [f[0] if f else None for f in first],
            [f[1] if f else None for f in first],
            [f[3] if f else None for f in first],
            [f[4] if f else None for f in first],
        )
