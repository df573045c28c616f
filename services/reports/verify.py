"""The projections against the ledger: `croupier reports verify --from DATE --to DATE`.

For each UTC day, brand and currency of the range it recomputes from the ledger (committed
transactions, by kind and account purpose; docs/reports.md):
- GGR: the house_revenue accounts' movement;
- bonus cost: the bonus_cost accounts' outflow;
- deposits (amount and count): what `deposit` transactions credited to players' cash;
- withdrawals (amount and count): what `withdrawal_paid` transactions took from players' pending;
- chargebacks (amount and count), their reversals and returned payouts: what `chargeback`,
  `chargeback_reversal` and `payout_returned` transactions moved on players' accounts (cash and debt);
and compares them with what the projections say: the game days (GGR), the cashier days (the others)
and the player days (all of them, summed over players). Then it recomputes the rollups the player and
cohort KPIs read (services/reports/rollups.py) from the player days and the players. Any difference is
reported.

The ledger's day is its transaction's `created_at`, the projection's the event's `time`: both come from
the same clock in the same database transaction, microseconds apart. The projections are eventually
consistent: events not yet applied by the `reports` consumer (or parked by it) are counted, so a
difference they explain can be told from a real one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import projection, rollups
from services.reports.kpis import BONUS_COST_SQL
from services.reports.periods import check_range

PLAYER_FIGURES = ("ggr", "bonus_cost", "deposits", "deposit_count", "withdrawals", "withdrawal_count")
# The cashier days alone hold these.
CHARGEBACK_FIGURES = ("chargebacks", "chargeback_count", "chargebacks_reversed", "payouts_returned")
FIGURES = PLAYER_FIGURES + CHARGEBACK_FIGURES
Key = tuple[date, uuid.UUID | None, str]  # day, brand, currency

_LEDGER = text("""
SELECT (t.created_at AT TIME ZONE 'UTC')::date AS day, t.brand_id, p.currency,
       coalesce(sum(p.amount) FILTER (WHERE a.purpose = 'house_revenue'), 0) AS ggr,
       coalesce(-sum(p.amount) FILTER (WHERE a.purpose = 'bonus_cost'), 0) AS bonus_cost,
       coalesce(sum(p.amount) FILTER (WHERE t.kind = 'deposit' AND a.owner_type = 'player'), 0) AS deposits,
       count(DISTINCT t.id) FILTER (WHERE t.kind = 'deposit') AS deposit_count,
       coalesce(-sum(p.amount) FILTER (WHERE t.kind = 'withdrawal_paid' AND a.owner_type = 'player'), 0)
           AS withdrawals,
       count(DISTINCT t.id) FILTER (WHERE t.kind = 'withdrawal_paid') AS withdrawal_count,
       coalesce(-sum(p.amount) FILTER (WHERE t.kind = 'chargeback' AND a.owner_type = 'player'), 0) AS chargebacks,
       count(DISTINCT t.id) FILTER (WHERE t.kind = 'chargeback') AS chargeback_count,
       coalesce(sum(p.amount) FILTER (WHERE t.kind = 'chargeback_reversal' AND a.owner_type = 'player'), 0)
           AS chargebacks_reversed,
       coalesce(sum(p.amount) FILTER (WHERE t.kind = 'payout_returned' AND a.owner_type = 'player'), 0)
           AS payouts_returned
FROM ledger_transactions t
JOIN ledger_postings p ON p.transaction_id = t.id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE t.status = 'committed' AND t.created_at >= :since AND t.created_at < :until
  AND (a.purpose IN ('house_revenue', 'bonus_cost')
       OR t.kind IN ('deposit', 'withdrawal_paid', 'chargeback', 'chargeback_reversal', 'payout_returned'))
GROUP BY 1, 2, 3""")
# Each projection's version of the figures it holds.
_PROJECTIONS = {
    "game days": text("""
        SELECT day, brand_id, currency, sum(stakes_cash + stakes_bonus - wins_cash - wins_bonus) AS ggr
        FROM report_game_days WHERE day BETWEEN :start AND :end GROUP BY 1, 2, 3"""),
    "cashier days": text(f"""
        SELECT day, brand_id, currency, sum({BONUS_COST_SQL}) AS bonus_cost, sum(deposits) AS deposits,
               sum(deposit_count) AS deposit_count, sum(withdrawals) AS withdrawals,
               sum(withdrawal_count) AS withdrawal_count, sum(chargebacks) AS chargebacks,
               sum(chargeback_count) AS chargeback_count, sum(chargebacks_reversed) AS chargebacks_reversed,
               sum(payouts_returned) AS payouts_returned
        FROM report_cashier_days WHERE day BETWEEN :start AND :end GROUP BY 1, 2, 3"""),  # noqa: S608
    "player days": text("""
        SELECT day, brand_id, currency, sum(stakes - wins) AS ggr, sum(bonus_cost) AS bonus_cost,
               sum(deposits) AS deposits, sum(deposit_count) AS deposit_count, sum(withdrawals) AS withdrawals,
               sum(withdrawal_count) AS withdrawal_count
        FROM report_player_days WHERE day BETWEEN :start AND :end GROUP BY 1, 2, 3"""),
}
_BEHIND = text("""
SELECT count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM consumer_processed p WHERE p.consumer = :consumer AND p.event_id = o.id)
           AND o.id > coalesce((SELECT cursor FROM event_consumers WHERE name = :consumer), 0)) AS unapplied,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM consumer_parked k WHERE k.consumer = :consumer AND k.event_id = o.id
           AND k.retried_at IS NULL)) AS parked
FROM outbox_events o
WHERE o.created_at >= :since AND o.created_at < :until AND o.topic = ANY(CAST(:types AS varchar[]))
  AND o.schema_version > 0""")
_BRAND_CODES = text("SELECT id, code FROM brands")


@dataclass(frozen=True)
class Difference:
    day: date
    brand_id: uuid.UUID | None
    brand: str  # its code, for people
    currency: str
    figure: str  # ggr, bonus_cost, deposits, deposit_count, withdrawals, withdrawal_count (or a rollup's)
    projection: str  # which table says otherwise
    ledger: int  # what the ledger says (for a rollup: its recomputation from the projections)
    projected: int
    against: str = "ledger"  # or "player days", for a rollup


@dataclass(frozen=True)
class ReportVerification:
    start: date
    end: date
    checked: int  # (day, brand, currency) rows compared
    differences: list[Difference]
    unapplied_events: int  # events of these days the consumer has not applied yet
    parked_events: int  # events of these days it set aside as failing

    @property
    def ok(self) -> bool:
        return not self.differences


async def verify(db: AsyncSession, *, start: date, end: date) -> ReportVerification:
    """Compare every day from `start` to `end` (inclusive) of the projections with the ledger."""
    check_range(start, end)
    since = datetime.combine(start, time(), UTC)
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    ledger = await _figures(db, _LEDGER, {"since": since, "until": until})
    projected = {name: await _figures(db, sql, {"start": start, "end": end}) for name, sql in _PROJECTIONS.items()}
    codes = {row.id: row.code for row in await db.execute(_BRAND_CODES)}
    keys = set(ledger).union(*projected.values())
    differences = []
    for key in sorted(keys, key=lambda k: (k[0], str(k[1]), k[2])):
        expected = ledger.get(key, {})
        for name, table in projected.items():
            found = table.get(key, {})
            for figure in _held_by(name):
                want, got = expected.get(figure, 0), found.get(figure, 0)
                if want != got:
                    brand = codes.get(key[1], str(key[1])) if key[1] is not None else "(no brand)"
                    differences.append(Difference(key[0], key[1], brand, key[2], figure, name, want, got))
    for mismatch in await rollups.check(db, start=start, end=end):
        brand_id = uuid.UUID(mismatch.brand_id)
        differences.append(
            Difference(
                mismatch.day,
                brand_id,
                codes.get(brand_id, mismatch.brand_id),
                mismatch.currency or "-",  # across currencies, or none
                mismatch.figure,
                mismatch.table.removeprefix("report_").replace("_", " "),
                mismatch.expected,
                mismatch.found,
                against=mismatch.against,
            )
        )
    behind = (
        await db.execute(
            _BEHIND,
            {"since": since, "until": until, "consumer": projection.NAME, "types": sorted(projection.TYPES)},
        )
    ).one()
    return ReportVerification(start, end, len(keys), differences, int(behind.unapplied), int(behind.parked))


def _held_by(projection_name: str) -> tuple[str, ...]:
    if projection_name == "game days":
        return ("ggr",)
    if projection_name == "cashier days":
        return tuple(f for f in FIGURES if f != "ggr")
    return PLAYER_FIGURES


async def _figures(db: AsyncSession, sql: TextClause, params: dict[str, object]) -> dict[Key, dict[str, int]]:
    found: dict[Key, dict[str, int]] = defaultdict(dict)
    for row in (await db.execute(sql, params)).mappings():
        key = (row["day"], row["brand_id"], row["currency"])
        for figure in FIGURES:
            if figure in row:
                found[key][figure] = found[key].get(figure, 0) + int(row[figure] or 0)
    return found
