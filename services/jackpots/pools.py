"""A pot's life under its pool's row lock: seeded (with its drop point committed), grown, dropped and paid,
reseeded. Every function runs on the caller's asyncpg connection in its open transaction, with the pool row
locked by `lock` (FOR UPDATE) first: the consumer and a provider's win report queue on it, so one of two
concurrent triggers pays and the other finds the generation moved on (`jackpot_wins` is unique per pool and
generation as well).

The pool row's `amount` moves only together with its ledger account (seed, contributions, win), so the two
stay equal (`croupier ledger verify` checks it).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import asyncpg

from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.ids import new_id
from core.money import CURRENCIES
from services.jackpots import books, commitment

_POOL_COLUMNS = (
    "p.id, p.jackpot_id, p.level, p.currency, p.seed_amount, p.contribution_ppm, p.trigger, p.cap_amount, "
    "p.drop_window_seconds, p.amount, p.remainder, p.generation, p.account_id, p.seed_account_id, "
    # a pool row marked closed reads closed even to a statement that waited for its lock (the jackpots row it
    # joins is read as of the statement's start; the locked pool row as of the lock)
    "j.brand_id, CASE WHEN p.closed_at IS NULL THEN j.status ELSE 'closed' END AS status, c.drop_point"
)
_LOCK = f"""
SELECT {_POOL_COLUMNS} FROM jackpot_pools p JOIN jackpots j ON j.id = p.jackpot_id
LEFT JOIN jackpot_commitments c ON c.pool_id = p.id AND c.generation = p.generation
WHERE p.id = ANY($1::uuid[]) ORDER BY p.id FOR UPDATE OF p"""  # noqa: S608  (constant column list)


class AlreadyWon(DomainError):
    code = ErrorCode.INVALID_STATE


@dataclass
class Pool:
    """A locked pool row, with its current commitment's secret drop point (None: a provider pool)."""

    id: uuid.UUID
    jackpot_id: uuid.UUID
    level: str
    currency: str
    seed_amount: int
    ppm: int
    trigger: str
    cap: int | None
    window_seconds: int | None
    amount: int
    remainder: int
    generation: int
    account_id: uuid.UUID
    seed_account_id: uuid.UUID
    brand_id: uuid.UUID | None
    status: str
    drop_point: int | None

    @classmethod
    def of(cls, row: Any) -> Pool:
        return cls(*(row[i] for i in range(17)))

    def subject(self) -> str:
        return f"jackpot:{self.jackpot_id}"

    def data(self) -> dict[str, Any]:
        return {
            "pool_id": str(self.id),
            "jackpot_id": str(self.jackpot_id),
            "level": self.level,
            "currency": self.currency,
        }


async def lock(conn: asyncpg.Connection, pool_ids: list[uuid.UUID]) -> dict[uuid.UUID, Pool]:
    """The pools, locked in id order (the one order every path takes them in)."""
    return {row["id"]: Pool.of(row) for row in await conn.fetch(_LOCK, pool_ids)}


async def emit(conn: asyncpg.Connection, events: list[outbox.Event]) -> None:
    if events:
        await conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *outbox.events_params(events).values())


async def seed(
    conn: asyncpg.Connection, pool: Pool, *, generation: int, now: datetime | None = None
) -> list[outbox.Event]:
    """Start pot `generation`: its seed from the seed account, its drop point drawn and committed."""
    now = now or clock.now()
    tx_id = None
    if pool.seed_amount:
        result = await books.seed(
            conn,
            pool_id=pool.id,
            generation=generation,
            seed_account_id=pool.seed_account_id,
            pool_account_id=pool.account_id,
            amount=pool.seed_amount,
            brand_id=pool.brand_id,
        )
        tx_id = result.transaction_id
    pool.amount += pool.seed_amount
    pool.generation = generation
    await conn.execute(
        "INSERT INTO jackpot_seeds (id, pool_id, generation, amount, ledger_transaction_id, seeded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        new_id(), pool.id, generation, pool.seed_amount, tx_id, now,
    )  # fmt: skip
    events = [
        outbox.event(
            "jackpot.reseeded",
            pool.subject(),
            {**pool.data(), "generation": generation, "seed": pool.seed_amount, "pot": pool.amount},
            brand_id=pool.brand_id,
            at=now,
        )
    ]
    pool.drop_point = None
    drawn = _draw(pool, now)
    if drawn is not None:
        pool.drop_point = drawn.point
        await conn.execute(
            "INSERT INTO jackpot_commitments (id, pool_id, generation, trigger, commitment, drop_point, salt, "
            "published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            new_id(), pool.id, generation, pool.trigger, drawn.commitment, drawn.point, drawn.salt, now,
        )  # fmt: skip
        events.append(
            outbox.event(
                "jackpot.commitment_published",
                pool.subject(),
                {**pool.data(), "generation": generation, "trigger": pool.trigger, "commitment": drawn.commitment},
                brand_id=pool.brand_id,
                at=now,
            )
        )
    await save(conn, pool, seeded_at=now)
    return events


def _draw(pool: Pool, now: datetime) -> commitment.DropPoint | None:
    if pool.trigger == "amount":
        assert pool.cap is not None
        return commitment.amount_point(pool.amount, pool.cap)
    if pool.trigger == "time":
        assert pool.window_seconds is not None
        start = int(now.timestamp() * 1000)
        return commitment.draw(start, start + pool.window_seconds * 1000)
    return None


async def save(conn: asyncpg.Connection, pool: Pool, *, seeded_at: datetime | None = None, contributed: int = 0,
               won: int = 0) -> None:  # fmt: skip
    await conn.execute(
        "UPDATE jackpot_pools SET amount = $2, remainder = $3, generation = $4, seeded_at = coalesce($5, seeded_at), "
        "contributed_total = contributed_total + $6, won_total = won_total + $7, updated_at = now() WHERE id = $1",
        pool.id, pool.amount, pool.remainder, pool.generation, seeded_at, contributed, won,
    )  # fmt: skip


def rate(source: str, target: str, per_unit: dict[str, Fraction]) -> Fraction | None:
    """Target minor units per source minor unit (None: no rate stated for one of them)."""
    if source == target:
        return Fraction(1)
    if source not in per_unit or target not in per_unit:
        return None
    exponent = CURRENCIES[target].exponent - CURRENCIES[source].exponent
    return per_unit[source] / per_unit[target] * Fraction(10) ** exponent


@dataclass(frozen=True)
class Paid:
    win_id: uuid.UUID
    amount: int
    paid_amount: int
    paid_currency: str
    events: list[outbox.Event]


async def pay(
    conn: asyncpg.Connection, pool: Pool, *, player_id: uuid.UUID, brand_id: uuid.UUID, player_currency: str,
    reference: str, amount_before: int, event_id: int | None, per_unit: dict[str, Fraction],
    details: dict[str, Any] | None = None, now: datetime | None = None,
) -> Paid:  # fmt: skip
    """The pot, whole, to the player's cash (capped: an amount pot never holds more than its cap); its
    commitment revealed; the next pot seeded. Raises AlreadyWon if this generation was paid."""
    now = now or clock.now()
    amount = pool.amount
    if amount <= 0:
        raise DomainError("The pot is empty.", code=ErrorCode.INVALID_STATE)
    fx = rate(pool.currency, player_currency, per_unit)
    cash = await books.cash_account(conn, player_id, player_currency)
    if fx is None or cash is None:
        raise DomainError(f"No way to pay {player_currency} from a {pool.currency} pot.", code=ErrorCode.INVALID_INPUT)
    paid_amount = int(amount * fx)  # rounded down, at the rate recorded
    win_id = new_id()
    result = await books.win(
        conn, pool_id=pool.id, generation=pool.generation, pool_account_id=pool.account_id, currency=pool.currency,
        amount=amount, player_id=player_id, brand_id=brand_id, cash_account_id=cash, paid_currency=player_currency,
        paid_amount=paid_amount, rate=fx,
    )  # fmt: skip
    inserted = await conn.fetchval(
        "INSERT INTO jackpot_wins (id, pool_id, generation, trigger, player_id, brand_id, amount, amount_before, "
        "amount_after, drop_point, paid_amount, paid_currency, fx_rate, reference, ledger_transaction_id, event_id, "
        "details, won_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
        "$17::jsonb, $18) ON CONFLICT ON CONSTRAINT uq_jackpot_wins_generation DO NOTHING RETURNING id",
        win_id, pool.id, pool.generation, pool.trigger, player_id, brand_id, amount, amount_before, amount,
        pool.drop_point, paid_amount, player_currency, str(fx), reference, result.transaction_id, event_id,
        json.dumps(details) if details is not None else None, now,
    )  # fmt: skip
    if inserted is None or result.replayed:
        raise AlreadyWon(f"Pot {pool.generation} of this pool was already won.", code=ErrorCode.INVALID_STATE)
    events = [
        outbox.event(
            "jackpot.won",
            pool.subject(),
            {
                **pool.data(),
                "win_id": str(win_id),
                "generation": pool.generation,
                "trigger": pool.trigger,
                "player_id": str(player_id),
                "amount": amount,
                "paid_amount": paid_amount,
                "paid_currency": player_currency,
                "reference": reference,
                "drop_point": pool.drop_point,
            },
            brand_id=brand_id,
            at=now,
        )
    ]
    revealed = await conn.fetchrow(
        "UPDATE jackpot_commitments SET revealed_at = $3 WHERE pool_id = $1 AND generation = $2 "
        "RETURNING commitment, drop_point, salt",
        pool.id, pool.generation, now,
    )  # fmt: skip
    if revealed is not None:
        events.append(
            outbox.event(
                "jackpot.commitment_revealed",
                pool.subject(),
                {
                    **pool.data(),
                    "generation": pool.generation,
                    "trigger": pool.trigger,
                    "commitment": revealed["commitment"],
                    "drop_point": revealed["drop_point"],
                    "salt": revealed["salt"],
                    "win_id": str(win_id),
                },
                brand_id=pool.brand_id,
                at=now,
            )
        )
    pool.amount -= amount
    await save(conn, pool, won=amount)
    events += await seed(conn, pool, generation=pool.generation + 1, now=now)
    return Paid(win_id, amount, paid_amount, player_currency, events)
