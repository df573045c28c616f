"""What anyone may read of a jackpot: the jackpots and their pots now, a pool's history (contributions by
day, wins, reseeds) and its commitments (a drop point and salt only once revealed), and the check of every
revealed drop (`verify`). Plain dataclasses: GraphQL types and the CLI render them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, ErrorCode
from services.jackpots.commitment import verify_commitment


@dataclass(frozen=True)
class PoolState:
    id: uuid.UUID
    jackpot_id: uuid.UUID
    level: str
    position: int
    currency: str
    amount: int  # the pot now
    seed_amount: int
    contribution_ppm: int
    trigger: str
    cap_amount: int | None
    drop_window_seconds: int | None
    generation: int
    seeded_at: datetime | None
    contributed_total: int
    won_total: int
    commitment: str | None  # the current pot's published commitment (None: a provider pot)


@dataclass(frozen=True)
class JackpotView:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    type: str
    currency: str
    brand_id: uuid.UUID | None
    brand_ids: list[str]
    games: list[str]
    providers: list[str]
    min_bet: int
    status: str
    created_at: datetime
    pools: list[PoolState]

    def settings(self) -> dict[str, Any]:
        return {"status": self.status, "games": self.games, "providers": self.providers, "min_bet": self.min_bet}


def _pool(item: Mapping[str, Any] | RowMapping, jackpot_id: uuid.UUID) -> PoolState:
    seeded = item.get("seeded_at")
    return PoolState(
        id=uuid.UUID(str(item["id"])), jackpot_id=jackpot_id, level=item["level"], position=item["position"],
        currency=item["currency"], amount=item["amount"], seed_amount=item["seed_amount"],
        contribution_ppm=item["contribution_ppm"], trigger=item["trigger"], cap_amount=item["cap_amount"],
        drop_window_seconds=item["drop_window_seconds"], generation=item["generation"],
        seeded_at=datetime.fromisoformat(seeded) if isinstance(seeded, str) else seeded,
        contributed_total=item["contributed_total"], won_total=item["won_total"], commitment=item["commitment"],
    )  # fmt: skip


def jackpot_view(row: Mapping[str, Any] | RowMapping) -> JackpotView:
    items = row["pools"] if isinstance(row["pools"], list) else json.loads(row["pools"])
    return JackpotView(
        id=row["id"], code=row["code"], name=row["name"], kind=row["kind"], type=row["type"], currency=row["currency"],
        brand_id=row["brand_id"], brand_ids=list(row["brand_ids"]), games=list(row["games"]),
        providers=list(row["providers"]), min_bet=row["min_bet"], status=row["status"], created_at=row["created_at"],
        pools=[_pool(item, row["id"]) for item in items],
    )  # fmt: skip


@dataclass(frozen=True)
class DayView:
    day: date
    contributed: int
    taken_back: int
    bets: int
    rollbacks: int
    forgone: int  # what rollbacks could not take back: their pot had dropped (the house's loss)


@dataclass(frozen=True)
class WinView:
    id: uuid.UUID
    pool_id: uuid.UUID
    generation: int
    trigger: str
    player_id: uuid.UUID
    brand_id: uuid.UUID
    amount: int
    amount_before: int
    amount_after: int
    drop_point: int | None
    paid_amount: int
    paid_currency: str
    fx_rate: str
    reference: str
    ledger_transaction_id: uuid.UUID
    won_at: datetime


@dataclass(frozen=True)
class SeedView:
    generation: int
    amount: int
    ledger_transaction_id: uuid.UUID | None
    seeded_at: datetime


@dataclass(frozen=True)
class RefundView:
    """A closed jackpot's pot, back to the seed account."""

    generation: int
    amount: int
    ledger_transaction_id: uuid.UUID | None
    reason: str
    refunded_at: datetime


@dataclass(frozen=True)
class PoolHistory:
    pool: PoolState
    days: list[DayView]
    wins: list[WinView]
    seeds: list[SeedView]
    refunds: list[RefundView] = field(default_factory=list)

    def adds_up(self) -> bool:
        """Seeds + contributions - wins - refunds == the pot now (what the pool's ledger account says as well)."""
        moved = sum(s.amount for s in self.seeds) + sum(d.contributed - d.taken_back for d in self.days)
        paid = sum(w.amount for w in self.wins) + sum(r.amount for r in self.refunds)
        return moved - paid == self.pool.amount


@dataclass(frozen=True)
class CommitmentView:
    pool_id: uuid.UUID
    generation: int
    trigger: str
    commitment: str
    published_at: datetime
    revealed_at: datetime | None
    voided_at: datetime | None  # revealed without a drop: the jackpot was closed
    drop_point: int | None  # None until revealed
    salt: str | None  # None until revealed


_WIN_COLUMNS = (
    "id, pool_id, generation, trigger, player_id, brand_id, amount, amount_before, amount_after, drop_point, "
    "paid_amount, paid_currency, fx_rate, reference, ledger_transaction_id, won_at"
)


async def win_view(db: AsyncSession, win_id: uuid.UUID) -> WinView:
    row = (await db.execute(text(f"SELECT {_WIN_COLUMNS} FROM jackpot_wins WHERE id = :id"), {"id": win_id})).mappings()  # noqa: S608
    found = row.first()
    if found is None:
        raise DomainError("No such win.", code=ErrorCode.NOT_FOUND)
    return WinView(**found)


async def pool_state(db: AsyncSession, pool_id: uuid.UUID) -> PoolState:
    row = (
        (
            await db.execute(
                text(
                    "SELECT p.*, c.commitment FROM jackpot_pools p LEFT JOIN jackpot_commitments c "
                    "ON c.pool_id = p.id AND c.generation = p.generation WHERE p.id = :id"
                ),
                {"id": pool_id},
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise DomainError("No such pool.", code=ErrorCode.NOT_FOUND, field="poolId")
    return _pool(row, row["jackpot_id"])


async def history(db: AsyncSession, pool_id: uuid.UUID, *, since: date | None = None) -> PoolHistory:
    """The pool's contributions by day, wins, seeds and refunds (oldest first), from `since` on: five statements."""
    pool = await pool_state(db, pool_id)
    params = {"id": pool_id, "since": since or date(1970, 1, 1)}
    days = (
        await db.execute(
            text(
                "SELECT day, contributed, taken_back, bets, rollbacks, forgone FROM jackpot_days "
                "WHERE pool_id = :id AND day >= :since ORDER BY day"
            ),
            params,
        )
    ).mappings()
    wins = (
        await db.execute(
            text(
                f"SELECT {_WIN_COLUMNS} FROM jackpot_wins WHERE pool_id = :id AND won_at >= :since ORDER BY generation"  # noqa: S608
            ),
            params,
        )
    ).mappings()
    seeds = (
        await db.execute(
            text(
                "SELECT generation, amount, ledger_transaction_id, seeded_at FROM jackpot_seeds "
                "WHERE pool_id = :id AND seeded_at >= :since ORDER BY generation"
            ),
            params,
        )
    ).mappings()
    refunds = (
        await db.execute(
            text(
                "SELECT generation, amount, ledger_transaction_id, reason, refunded_at FROM jackpot_refunds "
                "WHERE pool_id = :id AND refunded_at >= :since"
            ),
            params,
        )
    ).mappings()
    return PoolHistory(
        pool,
        [DayView(**d) for d in days],
        [WinView(**w) for w in wins],
        [SeedView(**s) for s in seeds],
        [RefundView(**r) for r in refunds],
    )


async def commitments(db: AsyncSession, pool_id: uuid.UUID) -> list[CommitmentView]:
    """Every commitment of the pool, newest first; the point and salt of revealed ones only."""
    rows = (
        await db.execute(
            text(
                "SELECT pool_id, generation, trigger, commitment, published_at, revealed_at, voided_at, "
                "CASE WHEN revealed_at IS NOT NULL THEN drop_point END AS drop_point, "
                "CASE WHEN revealed_at IS NOT NULL THEN salt END AS salt "
                "FROM jackpot_commitments WHERE pool_id = :id ORDER BY generation DESC"
            ),
            {"id": pool_id},
        )
    ).mappings()
    return [CommitmentView(**row) for row in rows]


@dataclass(frozen=True)
class VerifiedDrop:
    pool_id: uuid.UUID
    level: str
    generation: int
    trigger: str
    commitment: str
    drop_point: int
    salt: str
    problems: list[str]
    # The published figures of the drop, so the standalone script checks the point itself (None: no win recorded).
    amount_before: int | None = None
    amount_after: int | None = None
    won_at_ms: int | None = None
    # The range the point was to be drawn from: [pot at seeding + 1, cap] (amount), [seeding, seeding + window] (time).
    point_from: int | None = None
    point_to: int | None = None
    void: bool = False  # a closed jackpot's pot: revealed, never dropped (refunded to the seed account)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pool_id": str(self.pool_id), "ok": self.ok}


_DROPS = """
SELECT p.id AS pool_id, p.level, p.cap_amount, p.drop_window_seconds, p.account_id, c.generation, c.trigger,
       c.commitment, c.drop_point, c.salt, c.voided_at,
       (SELECT r.amount FROM jackpot_refunds r WHERE r.pool_id = p.id AND r.generation = c.generation) AS refunded,
       (SELECT s.seeded_at FROM jackpot_seeds s WHERE s.pool_id = p.id AND s.generation = c.generation) AS seeded_at,
       w.id AS win_id, w.amount, w.amount_before, w.amount_after, w.won_at, w.ledger_transaction_id,
       (SELECT s.amount FROM jackpot_seeds s WHERE s.pool_id = p.id AND s.generation = c.generation) AS seed,
       (SELECT coalesce(sum(lp.amount), 0) FROM ledger_transactions t
          JOIN ledger_postings lp ON lp.transaction_id = t.id
          WHERE t.reference_type = 'jackpot_pool' AND t.reference_id = p.id::text AND t.kind = 'jackpot_contribution'
            AND (t.details ->> 'generation')::int = c.generation AND lp.account_id = p.account_id) AS contributed,
       (SELECT coalesce(sum(lp.amount), 0) FROM ledger_postings lp
          WHERE lp.transaction_id = w.ledger_transaction_id AND lp.account_id = p.account_id) AS paid_from_pool
FROM jackpot_pools p JOIN jackpot_commitments c ON c.pool_id = p.id
LEFT JOIN jackpot_wins w ON w.pool_id = p.id AND w.generation = c.generation
WHERE p.jackpot_id = :id AND c.revealed_at IS NOT NULL
ORDER BY p.position, c.generation"""


async def verify(db: AsyncSession, jackpot_id: uuid.UUID) -> list[VerifiedDrop]:
    """Every revealed drop of the jackpot, checked: the commitment hashes to the revealed point and salt; the
    pot dropped where committed (an amount pot on the stake that took it from below the point to the point or
    above, never past its cap; a time pot at or after the instant); it paid the whole pot from the pool's
    ledger account; and the pot was its seed plus the contributions booked to it (the ledger)."""
    found = []
    for r in (await db.execute(text(_DROPS), {"id": jackpot_id})).mappings():
        problems = []
        if not verify_commitment(r["commitment"], r["drop_point"], r["salt"]):
            problems.append("the commitment does not hash to the revealed drop point and salt")
        low, high = _point_range(r)
        if low is not None and high is not None and not low <= r["drop_point"] <= high:
            problems.append(f"the drop point {r['drop_point']} is outside the range [{low}, {high}] of its pot")
        if r["voided_at"] is not None:
            if r["win_id"] is not None or r["refunded"] is None:
                problems.append("voided, but won or never refunded")
            elif (r["seed"] or 0) + r["contributed"] != r["refunded"]:
                problems.append(f"seed {r['seed']} + contributions {r['contributed']} != refund {r['refunded']}")
        elif r["win_id"] is None:
            problems.append("revealed but no win recorded")
        else:
            point = r["drop_point"]
            if r["trigger"] == "amount" and not r["amount_before"] < point <= r["amount_after"]:
                problems.append(f"dropped at {r['amount_after']} (from {r['amount_before']}), not at {point}")
            if r["trigger"] == "amount" and r["cap_amount"] is not None and r["amount"] > r["cap_amount"]:
                problems.append("paid more than the cap")
            if r["trigger"] == "time" and int(r["won_at"].timestamp() * 1000) < point:
                problems.append("dropped before the committed instant")
            if r["amount"] != r["amount_after"] or -r["paid_from_pool"] != r["amount"]:
                problems.append("the pool's ledger account did not pay the whole pot")
            if (r["seed"] or 0) + r["contributed"] != r["amount_after"]:
                problems.append(f"seed {r['seed']} + contributions {r['contributed']} != pot {r['amount_after']}")
        found.append(
            VerifiedDrop(
                r["pool_id"],
                r["level"],
                r["generation"],
                r["trigger"],
                r["commitment"],
                r["drop_point"],
                r["salt"],
                problems,
                r["amount_before"],
                r["amount_after"],
                int(r["won_at"].timestamp() * 1000) if r["won_at"] is not None else None,
                low,
                high,
                r["voided_at"] is not None,
            )
        )
    return found


def _point_range(r: Any) -> tuple[int | None, int | None]:
    """Where services/jackpots/commitment.py draws the point: an amount pot's above its seed (the pot at seeding),
    at most its cap; a time pot's within its window from its seeding."""
    if r["trigger"] == "amount" and r["cap_amount"] is not None:
        return min((r["seed"] or 0) + 1, r["cap_amount"]), r["cap_amount"]
    if r["trigger"] == "time" and r["seeded_at"] is not None and r["drop_window_seconds"] is not None:
        start = int(r["seeded_at"].timestamp() * 1000)
        return start, start + r["drop_window_seconds"] * 1000
    return None, None
