"""Reads behind the jackpot surfaces (GraphQL, the back office, the live ticker): which jackpots a viewer
may see, their pots in one statement for many jackpots, and pages of a pot's history.

Visibility is a filter in the SQL statement, never a check afterwards: a player sees the jackpots their
brand plays (a local jackpot of the brand, a network jackpot that lists it); an anonymous visitor those
of the brand they name; staff those of their brand scope, or every one when their roles span every brand.
Jackpots are public by nature (anyone may check a pool's history), so a visible jackpot shows its levels,
history and commitments whole; what staff alone read (winners, ledger ids) is the policy's, per field.

Pages are keyset pages newest first (core/pagination.py), at most 100 rows: a pot's history grows for
as long as the jackpot runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, cast, false, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.pagination import Page, paginate
from models.jackpots import Jackpot, JackpotCommitment, JackpotDay, JackpotPool, JackpotSeed, JackpotWin
from services.games import Audience

Scope = Audience  # whose jackpots: `brand_id` None with `staff` set means every brand


def _plays(brand_id: uuid.UUID) -> Any:
    """The jackpot is played by this brand (a local jackpot lists its own brand, a network one each of its)."""
    return col(Jackpot.brand_ids).op("@>")(cast([str(brand_id)], JSONB))


def visible(scope: Scope, *, status: str | None = None) -> Select[Any]:
    """The jackpots `scope` may see (optionally of one status), as a statement to page or narrow."""
    stmt = select(Jackpot)
    if scope.brand_id is not None:
        stmt = stmt.where(_plays(scope.brand_id))
    elif not scope.staff:
        stmt = stmt.where(false())  # no brand and not staff: nothing
    if status is not None:
        stmt = stmt.where(col(Jackpot.status) == status)
    return stmt


async def jackpot_page(
    db: AsyncSession,
    scope: Scope,
    *,
    status: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[Jackpot]:
    return await paginate(
        db,
        visible(scope, status=status),
        (col(Jackpot.created_at), col(Jackpot.id)),
        first=first,
        after=after,
        last=last,
        before=before,
    )


async def visible_jackpot(db: AsyncSession, scope: Scope, jackpot_id: uuid.UUID) -> Jackpot | None:
    found: Jackpot | None = await db.scalar(visible(scope).where(col(Jackpot.id) == jackpot_id))
    return found


async def pools_of(db: AsyncSession, jackpot_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[JackpotPool]]:
    """The pots of these jackpots, each jackpot's in level order (one statement)."""
    found: dict[uuid.UUID, list[JackpotPool]] = {i: [] for i in jackpot_ids}
    if not jackpot_ids:
        return found
    rows = await db.scalars(
        select(JackpotPool)
        .where(col(JackpotPool.jackpot_id).in_(list(jackpot_ids)))
        .order_by(col(JackpotPool.jackpot_id), col(JackpotPool.position))
    )
    for pool in rows:
        found[pool.jackpot_id].append(pool)
    return found


async def visible_pool(db: AsyncSession, scope: Scope, pool_id: uuid.UUID) -> JackpotPool | None:
    """A pot, when its jackpot is visible to `scope`."""
    jackpots = visible(scope).with_only_columns(col(Jackpot.id))
    found: JackpotPool | None = await db.scalar(
        select(JackpotPool).where(col(JackpotPool.id) == pool_id, col(JackpotPool.jackpot_id).in_(jackpots))
    )
    return found


# ---- a pot's history, a page at a time ----------------------------------------------------------


async def contribution_days(db: AsyncSession, pool_id: uuid.UUID, **page: Any) -> Page[JackpotDay]:
    stmt = select(JackpotDay).where(col(JackpotDay.pool_id) == pool_id)
    return await paginate(db, stmt, (col(JackpotDay.day),), **page)


async def wins(db: AsyncSession, pool_id: uuid.UUID, **page: Any) -> Page[JackpotWin]:
    stmt = select(JackpotWin).where(col(JackpotWin.pool_id) == pool_id)
    return await paginate(db, stmt, (col(JackpotWin.generation),), **page)


async def reseeds(db: AsyncSession, pool_id: uuid.UUID, **page: Any) -> Page[JackpotSeed]:
    stmt = select(JackpotSeed).where(col(JackpotSeed.pool_id) == pool_id)
    return await paginate(db, stmt, (col(JackpotSeed.generation),), **page)


async def commitments(db: AsyncSession, pool_id: uuid.UUID, **page: Any) -> Page[JackpotCommitment]:
    stmt = select(JackpotCommitment).where(col(JackpotCommitment.pool_id) == pool_id)
    return await paginate(db, stmt, (col(JackpotCommitment.generation),), **page)


async def pots_now(db: AsyncSession, jackpot_id: uuid.UUID) -> tuple[str, list[JackpotPool]] | None:
    """A jackpot's status and its pots, in one statement (what a live tick shows); None if it is gone."""
    rows = (
        await db.execute(
            select(col(Jackpot.status), JackpotPool)
            .join(JackpotPool, col(JackpotPool.jackpot_id) == col(Jackpot.id))
            .where(col(Jackpot.id) == jackpot_id)
            .order_by(col(JackpotPool.position))
        )
    ).all()
    if not rows:
        return None
    return str(rows[0][0]), [row[1] for row in rows]
