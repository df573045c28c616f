"""Staff's review of flagged affiliate sub-ids (services/affiliates/fraud.py raises the flags).

Guarantees:
- Staff see the flags of the brand their request is scoped to (staff of every brand: all); another
  brand's flag is `NOT_FOUND`, as if it did not exist. Players and the system see none.
- A flag is reviewed once, with a note: open → cleared (a false positive: every withheld CPA of the sub-id
  is `qualified` again, payable in the next run) or confirmed (fraud: every withheld CPA of the sub-id is
  `rejected`). Under the lock the review first withholds, as a sweep would, a CPA of the sub-id that
  qualified while the flag was raised, so the verdict decides it too. A CPA on a run is not touched. The
  review takes the sub-id's lock (fraud.lock_sub_id), so a sweep never raises a flag on evidence just
  reviewed, nor withholds a CPA in the middle of a review.
- The review, the CPAs' new status (with who and when), its event (`affiliate.subid_reviewed`) and its
  audit record (the staff member, the note) commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import false
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox, prepared
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.pagination import Page, paginate
from core.prepared import Statement
from core.runtime import Runtime
from models.affiliate_fraud import AffiliateSubIdFlag, SubIdFlagStatus
from services import audit
from services.affiliates.fraud import lock_sub_id, withhold


class Verdict(StrEnum):
    CLEARED = "cleared"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class FlaggedSubId:
    """A flag as staff see it: the flag and its partner's code."""

    flag: AffiliateSubIdFlag
    affiliate_code: str


@dataclass(frozen=True)
class SubIdCpa:
    """A CPA of one of the flagged sub-id's players."""

    player_id: uuid.UUID
    status: str
    amount: int
    currency: str
    qualified_at: datetime
    reason: str | None
    reviewed_at: datetime | None


def readable_flags(viewer: Viewer) -> SelectOfScalar[AffiliateSubIdFlag]:
    stmt = select(AffiliateSubIdFlag)
    if not viewer.is_staff:
        return stmt.where(false())
    return stmt if viewer.brand_id is None else stmt.where(col(AffiliateSubIdFlag.brand_id) == viewer.brand_id)


_CODES = Statement("SELECT id, code FROM affiliates WHERE id = ANY(:ids)")


async def page(
    rt: Runtime,
    viewer: Viewer,
    *,
    status: SubIdFlagStatus | None = SubIdFlagStatus.OPEN,
    first: int | None = None,
    after: str | None = None,
) -> Page[FlaggedSubId]:
    """Flags, newest first (two statements a page: the flags, their partners' codes)."""
    stmt = readable_flags(viewer)
    if status is not None:
        stmt = stmt.where(col(AffiliateSubIdFlag.status) == status.value)
    async with rt.database.session() as db:
        found = await paginate(
            db, stmt, (col(AffiliateSubIdFlag.raised_at), col(AffiliateSubIdFlag.id)), first=first, after=after
        )
        ids = list({f.affiliate_id for f in found.items})
        codes = {r.id: r.code for r in await prepared.rows(db, _CODES, {"ids": ids})} if ids else {}
    return Page(
        items=[FlaggedSubId(f, codes.get(f.affiliate_id, "")) for f in found.items],
        cursors=found.cursors,
        has_next_page=found.has_next_page,
        has_previous_page=found.has_previous_page,
    )


_CPAS = Statement("""
SELECT q.player_id, q.status, q.amount, q.currency, q.qualified_at, q.reason, q.reviewed_at
FROM affiliate_qualifications q JOIN affiliate_attributions a ON a.player_id = q.player_id
WHERE a.affiliate_id = :affiliate AND a.brand_id = :brand AND coalesce(a.sub_id, '') = :sub
ORDER BY q.status = 'withheld' DESC, q.qualified_at DESC, q.player_id
LIMIT :limit""")


async def get(rt: Runtime, viewer: Viewer, flag_id: uuid.UUID) -> FlaggedSubId:
    async with rt.database.session() as db:
        flag = await db.scalar(readable_flags(viewer).where(col(AffiliateSubIdFlag.id) == flag_id))
        if flag is None:
            raise NotFound("No such flag.", field="flagId")
        codes = await prepared.rows(db, _CODES, {"ids": [flag.affiliate_id]})
    return FlaggedSubId(flag, codes[0].code if codes else "")


async def cpas(rt: Runtime, flag: AffiliateSubIdFlag, *, limit: int = 200) -> list[SubIdCpa]:
    """The CPAs of the flag's sub-id (its players of the flag's brand), withheld ones first (one statement)."""
    params = {"affiliate": flag.affiliate_id, "brand": flag.brand_id, "sub": flag.sub_id, "limit": limit}
    async with rt.database.session() as db:
        rows = await prepared.rows(db, _CPAS, params)
    return [
        SubIdCpa(r.player_id, r.status, r.amount, r.currency, r.qualified_at, r.reason, r.reviewed_at) for r in rows
    ]


_DECIDE = Statement("""
UPDATE affiliate_qualifications q SET status = :to, reason = :reason, reviewed_by = :staff, reviewed_at = :now
FROM affiliate_attributions a
WHERE a.player_id = q.player_id AND a.affiliate_id = :affiliate AND a.brand_id = :brand
  AND coalesce(a.sub_id, '') = :sub AND q.status = 'withheld'
RETURNING q.player_id, q.deal_id, q.amount, q.currency, q.qualified_at, a.sub_id""")


async def review(rt: Runtime, viewer: Viewer, *, flag_id: uuid.UUID, verdict: Verdict, note: str) -> FlaggedSubId:
    """Clear or confirm an open flag, with a note (see the module's guarantees)."""
    why = note.strip()
    if not why:
        raise DomainError("Say why.", field="note")
    why = why[:500]
    now = clock.now()
    async with rt.database.transaction() as db:
        seen = await db.scalar(readable_flags(viewer).where(col(AffiliateSubIdFlag.id) == flag_id))
        if seen is None:
            raise NotFound("No such flag.", field="flagId")
        key = (seen.affiliate_id, seen.brand_id, seen.sub_id)
        await lock_sub_id(db, key)
        flag = await db.scalar(
            readable_flags(viewer)
            .where(col(AffiliateSubIdFlag.id) == flag_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert flag is not None  # flags are never deleted
        if flag.status != SubIdFlagStatus.OPEN:
            raise DomainError(f"This flag was already {flag.status}.", code=ErrorCode.INVALID_STATE, field="flagId")
        # A CPA that qualified while the flag was raised (the CPA consumer read no flag, then committed after
        # it) waits for the next sweep to be withheld: withheld now, so the verdict decides it too — else a
        # confirmed sub-id would leave it payable.
        await withhold(db, key, flag.id, list(flag.reasons))
        confirmed = verdict == Verdict.CONFIRMED
        changed = await prepared.rows(
            db,
            _DECIDE,
            {
                "to": "rejected" if confirmed else "qualified",
                "reason": f"sub-id confirmed fraudulent: {why}"[:500] if confirmed else None,
                "staff": viewer.id,
                "now": now,
                "affiliate": flag.affiliate_id,
                "brand": flag.brand_id,
                "sub": flag.sub_id,
            },
        )
        players = sorted(str(r.player_id) for r in changed)
        flag.status, flag.reviewed_by, flag.reviewed_at, flag.review_note = verdict.value, viewer.id, now, why
        flag.released, flag.rejected = (None, len(players)) if confirmed else (len(players), None)
        await db.flush()
        data = {
            "flag_id": str(flag.id),
            "affiliate_id": str(flag.affiliate_id),
            "brand_id": str(flag.brand_id),
            "sub_id": flag.sub_id,
            "verdict": verdict.value,
            "player_ids": players[:100],
            "changed": len(players),
            "staff_id": str(viewer.id) if viewer.id else None,
        }
        event = outbox.event("affiliate.subid_reviewed", f"affiliate:{flag.affiliate_id}", data, brand_id=flag.brand_id)
        released = [] if confirmed else [_qualified(flag, row) for row in changed]
        await outbox.emit_events(db, [event, *released])
        await audit.append(
            db,
            actor=viewer,
            action="affiliate.subid_reviewed",
            target_type="affiliate_subid_flag",
            target_id=flag.id,
            brand_id=flag.brand_id,
            before={"status": SubIdFlagStatus.OPEN.value, "reasons": list(flag.reasons), "withheld": flag.withheld},
            after={"status": verdict.value, "player_ids": players, "to": "rejected" if confirmed else "qualified"},
            reason=why,
        )
        codes = await prepared.rows(db, _CODES, {"ids": [flag.affiliate_id]})
    return FlaggedSubId(flag, codes[0].code if codes else "")


def _qualified(flag: AffiliateSubIdFlag, row: Any) -> outbox.Event:
    """`affiliate.qualified` for a CPA a clear released: it was announced `affiliate.withheld` (or withheld
    after its announcement), and the qualification postback follows this event only (its delivery is unique
    per config and player: a partner told once already is not told again)."""
    data = {
        "player_id": str(row.player_id),
        "affiliate_id": str(flag.affiliate_id),
        "deal_id": str(row.deal_id),
        "sub_id": row.sub_id,
        "amount": row.amount,
        "currency": row.currency,
        "qualified_at": row.qualified_at.isoformat(),
    }
    return outbox.event("affiliate.qualified", f"player:{row.player_id}", data, brand_id=flag.brand_id)
