"""Closing a jackpot with money in its pots: each pot goes back to the jackpot's seed account through the ledger
(the operator's money: the seeds and the brands' contributions were the operator's to begin with), audited with a
reason, and the undropped pot's commitment is revealed as void, so the drop point it hid can be checked against
what was published, and it is plain that no one won it.

Under the pools' row locks (services/jackpots/pools.py: the consumer and a provider's report take the same), so
a consumer batch that read the jackpot as active before the close waits, then finds it closed and moves nothing;
a batch after it never sees the jackpot (only active ones are read). Per pool: one `jackpot_refund` transaction
(pool → seed account, key `jackpot-refund:<pool>:<generation>`; none for an empty pot), one `jackpot_refunds`
row, the commitment revealed and voided; then the jackpot closed, one audit entry and one `jackpot.closed` event.
A rollback of a bet whose pot was refunded finds the jackpot closed and takes nothing back (the jackpot is no
longer read): its contribution went back to the operator with the pot.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.ids import new_id
from services.jackpots import books, pools


async def refund_pots(
    conn: asyncpg.Connection, jackpot_id: uuid.UUID, *, reason: str, brand_id: uuid.UUID | None
) -> tuple[list[dict[str, Any]], list[outbox.Event]]:
    """Every pot of the jackpot back to its seed account; the commitments of the pots voided. Returns what went
    back per pool (for the audit entry and the event) and the events to emit."""
    now = clock.now()
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM jackpot_pools WHERE jackpot_id = $1", jackpot_id)]
    locked = await pools.lock(conn, sorted(ids))
    refunds: list[dict[str, Any]] = []
    events: list[outbox.Event] = []
    for pool in locked.values():
        tx_id = None
        if pool.amount > 0:
            result = await books.refund(
                conn, pool_id=pool.id, generation=pool.generation, pool_account_id=pool.account_id,
                seed_account_id=pool.seed_account_id, amount=pool.amount, brand_id=pool.brand_id,
            )  # fmt: skip
            if result.replayed:  # the key is per pot: a pot is refunded once
                raise DomainError("This pot was already refunded.", code=ErrorCode.INVALID_STATE)
            tx_id = result.transaction_id
        refunds.append({**pool.data(), "generation": pool.generation, "amount": pool.amount})
        await conn.execute(
            "INSERT INTO jackpot_refunds (id, pool_id, generation, amount, ledger_transaction_id, reason, refunded_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            new_id(), pool.id, pool.generation, pool.amount, tx_id, reason, now,
        )  # fmt: skip
        pool.amount = 0
        await conn.execute(
            "UPDATE jackpot_pools SET amount = 0, closed_at = $2, updated_at = now() WHERE id = $1", pool.id, now
        )
        voided = await conn.fetchrow(
            "UPDATE jackpot_commitments SET revealed_at = $3, voided_at = $3 WHERE pool_id = $1 AND generation = $2 "
            "AND revealed_at IS NULL RETURNING commitment, drop_point, salt",
            pool.id, pool.generation, now,
        )  # fmt: skip
        if voided is not None:
            data = {**pool.data(), "generation": pool.generation, "trigger": pool.trigger, "void": True, **dict(voided)}
            events.append(
                outbox.event("jackpot.commitment_revealed", pool.subject(), data, brand_id=pool.brand_id, at=now)
            )
    # The staff's reason is free text: it is in the audit record, never in an event (no room for personal data).
    closed = {"jackpot_id": str(jackpot_id), "refunds": refunds}
    events.append(outbox.event("jackpot.closed", f"jackpot:{jackpot_id}", closed, brand_id=brand_id, at=now))
    return refunds, events


def require_reason(reason: str | None) -> str:
    """Closing moves money: it always says why."""
    if reason is None or len(reason.strip()) < 3:
        raise DomainError("Say why the jackpot is closed (at least 3 characters).", field="reason")
    return reason.strip()
