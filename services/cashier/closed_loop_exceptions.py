"""Closed-loop exceptions: staff waive (part of) a player's loop share, with a reason, when its instrument can
no longer take a payout (an expired card, a closed e-wallet, a PSP that cannot pay out to it), and revoke a
waiver granted by mistake. Each step is audited (who, what, before, after, why) and announced
(`closed_loop.exception_granted` / `_revoked`); one staff member suffices: a waiver moves no money, and the
withdrawal it lets through still meets finance's approval and four eyes above their thresholds.

A waiver covers an amount, not the instrument for ever: deposits through the same instrument after it open
the share again (docs/closed-loop.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.money import currency as currency_info
from core.money import format_amount, parse_amount
from core.runtime import Runtime
from models.closed_loop import ClosedLoopException
from models.players import Player
from services import audit
from services.cashier import closed_loop
from services.players import readable_players

REASON_MAX = 500
AUDIT_ACTIONS = {"granted": "closed_loop.exception_grant", "revoked": "closed_loop.exception_revoke"}


def _staff(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Only staff grant closed-loop exceptions.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


def _reason(reason: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise DomainError("A reason is required.", field="reason")
    return cleaned[:REASON_MAX]


async def _player(db: AsyncSession, viewer: Viewer, player_id: uuid.UUID) -> Player:
    found: Player | None = await db.scalar(readable_players(viewer).where(col(Player.id) == player_id))
    if found is None:
        raise NotFound("No such player.", field="playerId")
    return found


async def grant(
    rt: Runtime,
    viewer: Viewer,
    *,
    player_id: uuid.UUID,
    currency: str,
    method: str,
    instrument: str,
    amount: str | None,
    reason: str,
) -> ClosedLoopException:
    """Waive `amount` (None: all it is owed now) of the open share (`method`, `instrument`: the share's key, or
    the token its payouts go to); the waiver is kept against the share's key."""
    staff_id = _staff(viewer)
    why = _reason(reason)
    code = currency_info(currency).code
    async with rt.database.transaction() as db:
        player = await _player(db, viewer, player_id)
        await closed_loop.lock(db, player.id)  # after requests that claimed the share: their claims count
        share = next(
            (
                s
                for s in await closed_loop.loop_shares(db, player.id, code)
                # the share's key (a card's fingerprint), or the token it pays out to
                if s.method == method and instrument in (s.instrument, s.instrument_token)
            ),
            None,
        )
        if share is None or share.owed == 0:
            raise DomainError(
                "No open loop share of this player has that method and instrument.",
                field="instrument",
                code=ErrorCode.NOT_FOUND,
            )
        minor = share.owed if amount is None else parse_amount(amount, code)
        if minor > share.owed:
            raise DomainError(
                f"The share is owed {format_amount(share.owed, code)} {code}; waive at most that.", field="amount"
            )
        row = ClosedLoopException(
            brand_id=player.brand_id,
            player_id=player.id,
            currency=code,
            method=method,
            instrument=share.instrument,
            amount=minor,
            reason=why,
            granted_by=staff_id,
        )
        db.add(row)
        before = {"owed": format_amount(share.owed, code)}
        after = {**_figures(row), "owed": format_amount(share.owed - minor, code)}
        await _record(db, viewer, row, "granted", before, after)
        return row


async def revoke(rt: Runtime, viewer: Viewer, *, exception_id: uuid.UUID, reason: str) -> ClosedLoopException:
    """The waiver ends: its amount is owed to the share again (from the next withdrawal request on)."""
    staff_id = _staff(viewer)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        row = await db.get(ClosedLoopException, exception_id, with_for_update=True, populate_existing=True)
        if row is None or (viewer.brand_id is not None and viewer.brand_id != row.brand_id):
            raise NotFound("No such closed-loop exception.", field="exceptionId")
        if row.revoked_at is not None:
            raise DomainError(
                "This closed-loop exception is revoked already.", field="exceptionId", code=ErrorCode.INVALID_STATE
            )
        row.revoked_at, row.revoked_by, row.revoke_reason = clock.now(), staff_id, why
        await _record(db, viewer, row, "revoked", {"revoked": False, **_figures(row)}, {"revoked": True})
        return row


async def of_player(db: AsyncSession, player_id: uuid.UUID, currency: str) -> Sequence[ClosedLoopException]:
    """A player's exceptions in a currency, newest first, revoked ones included (the caller checked the
    viewer may read the player)."""
    return (
        await db.scalars(
            select(ClosedLoopException)
            .where(col(ClosedLoopException.player_id) == player_id, col(ClosedLoopException.currency) == currency)
            .order_by(col(ClosedLoopException.created_at).desc(), col(ClosedLoopException.id).desc())
        )
    ).all()


def _figures(row: ClosedLoopException) -> dict[str, Any]:
    return {
        "exception_id": str(row.id),
        "method": row.method,
        "amount": format_amount(row.amount, row.currency),
        "currency": row.currency,
    }


async def _record(
    db: AsyncSession, viewer: Viewer, row: ClosedLoopException, step: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """The step's event and audit record (last: the audit chain's lock is held until the commit). `step`: granted
    or revoked. The event leaves out the instrument (a vault token, an address) and the reason: events leave the
    platform; the audit record keeps both."""
    await db.flush()
    staff_id = row.revoked_by if step == "revoked" else row.granted_by
    await outbox.emit(
        db,
        f"closed_loop.exception_{step}",
        f"player:{row.player_id}",
        {
            "exception_id": str(row.id),
            "player_id": str(row.player_id),
            "currency": row.currency,
            "method": row.method,
            "amount": row.amount,
            "staff_id": str(staff_id),
        },
        brand_id=row.brand_id,
    )
    await audit.append(
        db,
        actor=viewer,
        action=AUDIT_ACTIONS[step],
        target_type="player",
        target_id=row.player_id,
        brand_id=row.brand_id,
        before=before,
        after=after,
        reason=row.revoke_reason if step == "revoked" else row.reason,
    )
