"""A jackpot's ledger: its accounts and transactions, on the caller's asyncpg connection in its open transaction
(the consumer's, or a session's own connection: `native`).

Accounts (derived: balance = sum of postings, never locked or updated):
- the pool, one per level: `system` / `jackpot-pool:<pool id>` / jackpot_pool, in the pool's currency, under
  the jackpot's brand (local) or no brand (network);
- the seed account, one per jackpot: `system` / `jackpot:<jackpot id>` / jackpot_seed: where seeds come from
  (its balance, negative, is what the operator has put into the pots);
- each brand's jackpot funding account (`brand` / jackpot_funding), in the pool's currency: the house side of
  contributions, which leave from it (kept apart from house_revenue, so GGR in the reports stays the games'
  own result: the jackpot's cost to the operator is this account's and the seed account's balance); a win paid
  in another currency than the pool's passes through the brand's funding accounts in both currencies (the
  pool's currency in, the player's out, at the rate recorded with the win).

Transactions, each under an idempotency key that a redelivery or a retry would repeat:
- `jackpot_seed`        seed → pool                  `jackpot-seed:<pool>:<generation>`
- `jackpot_refund`      pool → seed (a closed jackpot) `jackpot-refund:<pool>:<generation>`
- `jackpot_contribution` funding → pool (or back)     `jackpot-contribution:<pool>:<generation>:<digest of event ids>`
- `jackpot_win`          pool → player's cash        `jackpot-win:<pool>:<generation>`
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from fractions import Fraction

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models.ledger import AccountPurpose, TransactionKind
from services.ledger import Entry, Leg, Result
from services.ledger_native import record_on_connection

_ACCOUNT = """
WITH made AS (
  INSERT INTO ledger_accounts (id, brand_id, owner_type, owner_id, purpose, currency, balance, allow_negative,
                               created_at)
  VALUES ($1, $2, $3, $4, $5, $6, NULL, true, now())
  ON CONFLICT ON CONSTRAINT uq_ledger_accounts_owner DO NOTHING RETURNING id)
SELECT id, true AS created FROM made
UNION ALL
SELECT id, coalesce(xmin = pg_current_xact_id_if_assigned()::xid, false) FROM ledger_accounts
WHERE brand_id IS NOT DISTINCT FROM $2 AND owner_type = $3 AND owner_id = $4 AND purpose = $5 AND currency = $6
LIMIT 1"""
# `created` is also true for a row an earlier statement of this transaction made (it rolls back with it, so it is
# not yet one to remember). A row another transaction inserted and committed while this statement waited on it:
# read it afresh.
_EXISTING = """
SELECT id FROM ledger_accounts
WHERE brand_id IS NOT DISTINCT FROM $1 AND owner_type = $2 AND owner_id = $3 AND purpose = $4 AND currency = $5"""
# Funding accounts by (brand, currency), remembered once seen committed (never one made in a transaction that may
# still roll back): a consumer batch then spends no statement on them.
_FUNDING: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
_CASH = (
    "SELECT id FROM ledger_accounts WHERE owner_type = 'player' AND owner_id = $1 AND purpose = 'cash' "
    "AND currency = $2"
)


async def native(db: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under a session, inside the session's open database transaction."""
    await db.execute(text("SELECT 1"))  # the session sends its BEGIN with its first statement
    connection = await db.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    assert driver.is_in_transaction()
    return driver


async def account(
    conn: asyncpg.Connection, *, brand_id: uuid.UUID | None, owner_type: str, owner_id: str, purpose: str, currency: str
) -> uuid.UUID:
    return (await _account(conn, brand_id, owner_type, owner_id, purpose, currency))[0]


async def _account(
    conn: asyncpg.Connection, brand_id: uuid.UUID | None, owner_type: str, owner_id: str, purpose: str, currency: str
) -> tuple[uuid.UUID, bool]:
    """The account, created on first use; and whether this transaction created it."""
    row = await conn.fetchrow(_ACCOUNT, uuid.uuid4(), brand_id, owner_type, owner_id, purpose, currency)
    if row is not None:
        return row["id"], row["created"]
    found: uuid.UUID = await conn.fetchval(_EXISTING, brand_id, owner_type, owner_id, purpose, currency)
    return found, False


async def pool_account(
    conn: asyncpg.Connection, pool_id: uuid.UUID, brand_id: uuid.UUID | None, currency: str
) -> uuid.UUID:
    return await account(
        conn,
        brand_id=brand_id,
        owner_type="system",
        owner_id=f"jackpot-pool:{pool_id}",
        purpose=AccountPurpose.JACKPOT_POOL.value,
        currency=currency,
    )


async def seed_account(
    conn: asyncpg.Connection, jackpot_id: uuid.UUID, brand_id: uuid.UUID | None, currency: str
) -> uuid.UUID:
    return await account(
        conn,
        brand_id=brand_id,
        owner_type="system",
        owner_id=f"jackpot:{jackpot_id}",
        purpose=AccountPurpose.JACKPOT_SEED.value,
        currency=currency,
    )


async def funding(conn: asyncpg.Connection, brand_id: uuid.UUID, currency: str) -> uuid.UUID:
    cached = _FUNDING.get((brand_id, currency))
    if cached is not None:
        return cached
    found, created = await _account(
        conn, brand_id, "brand", str(brand_id), AccountPurpose.JACKPOT_FUNDING.value, currency
    )
    if not created:
        _FUNDING[(brand_id, currency)] = found
    return found


def forget_cached_accounts() -> None:
    """Tests that empty the database call this; in production account ids never disappear."""
    _FUNDING.clear()


async def cash_account(conn: asyncpg.Connection, player_id: uuid.UUID, currency: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(_CASH, str(player_id), currency)
    return found


async def seed(
    conn: asyncpg.Connection, *, pool_id: uuid.UUID, generation: int, seed_account_id: uuid.UUID,
    pool_account_id: uuid.UUID, amount: int, brand_id: uuid.UUID | None,
) -> Result:  # fmt: skip
    return await _pot_move(
        conn, TransactionKind.JACKPOT_SEED, "jackpot-seed", pool_id, generation, seed_account_id, pool_account_id,
        amount, brand_id,
    )  # fmt: skip


async def _pot_move(
    conn: asyncpg.Connection, kind: TransactionKind, key: str, pool_id: uuid.UUID, generation: int,
    source: uuid.UUID, target: uuid.UUID, amount: int, brand_id: uuid.UUID | None,
) -> Result:  # fmt: skip
    """A whole pot's worth between the seed account and the pool (a seed, a refund), keyed per pot."""
    return await record_on_connection(
        conn,
        Entry(
            idempotency_key=f"{key}:{pool_id}:{generation}",
            kind=kind.value,
            legs=(Leg(source, -amount), Leg(target, amount)),
            actor_type="system",
            brand_id=brand_id,
            reference_type="jackpot_pool",
            reference_id=str(pool_id),
            details={"generation": generation},
        ),
    )


async def contributions(
    conn: asyncpg.Connection, *, pool_id: uuid.UUID, generation: int, pool_account_id: uuid.UUID, currency: str,
    by_brand: Mapping[uuid.UUID, int], event_ids: Iterable[int], brand_id: uuid.UUID | None,
) -> Result | None:  # fmt: skip
    """One transaction for a batch's net contributions to a pool (per brand: a network pool's brands each pay
    their own stakes' share). None when they net to nothing."""
    legs = [Leg(await funding(conn, brand, currency), -amount) for brand, amount in sorted(by_brand.items()) if amount]
    total = sum(by_brand.values())
    if total == 0 and not legs:
        return None
    if total:
        legs.append(Leg(pool_account_id, total))
    if len(legs) < 2:  # brands' amounts that cancel out exactly and leave the pool unmoved: nothing to book
        return None
    ids = sorted(set(event_ids))
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
    return await record_on_connection(
        conn,
        Entry(
            idempotency_key=f"jackpot-contribution:{pool_id}:{generation}:{digest}",
            kind=TransactionKind.JACKPOT_CONTRIBUTION.value,
            legs=tuple(legs),
            actor_type="system",
            brand_id=brand_id,
            reference_type="jackpot_pool",
            reference_id=str(pool_id),
            details={"generation": generation, "events": len(ids), "first_event": ids[0], "last_event": ids[-1]},
        ),
    )


async def win(
    conn: asyncpg.Connection, *, pool_id: uuid.UUID, generation: int, pool_account_id: uuid.UUID, currency: str,
    amount: int, player_id: uuid.UUID, brand_id: uuid.UUID, cash_account_id: uuid.UUID, paid_currency: str,
    paid_amount: int, rate: Fraction,
) -> Result:  # fmt: skip
    legs = [Leg(pool_account_id, -amount)]
    if paid_currency == currency:
        legs.append(Leg(cash_account_id, amount))
    else:  # through the brand's funding accounts: the pool's currency in, the player's out
        legs += [
            Leg(await funding(conn, brand_id, currency), amount),
            Leg(await funding(conn, brand_id, paid_currency), -paid_amount),
            Leg(cash_account_id, paid_amount),
        ]
    return await record_on_connection(
        conn,
        Entry(
            idempotency_key=f"jackpot-win:{pool_id}:{generation}",
            kind=TransactionKind.JACKPOT_WIN.value,
            legs=tuple(legs),
            actor_type="system",
            brand_id=brand_id,
            player_id=player_id,
            reference_type="jackpot_pool",
            reference_id=str(pool_id),
            details={"generation": generation, "rate": str(rate)},
        ),
    )


async def refund(
    conn: asyncpg.Connection, *, pool_id: uuid.UUID, generation: int, pool_account_id: uuid.UUID,
    seed_account_id: uuid.UUID, amount: int, brand_id: uuid.UUID | None,
) -> Result:  # fmt: skip
    """A closed jackpot's pot back to its seed account (services/jackpots/closing.py)."""
    return await _pot_move(
        conn, TransactionKind.JACKPOT_REFUND, "jackpot-refund", pool_id, generation, pool_account_id, seed_account_id,
        amount, brand_id,
    )  # fmt: skip
