"""Manual adjustments of a player's cash by staff.

Rules: a reason is mandatory; amounts above the currency's threshold need a second staff member to
approve (never the requester); request and decision are in the audit log; the money moves as one
balanced ledger transaction when the adjustment is applied, and a debit beyond the balance is
refused by the ledger (and recorded as refused), never forced.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.money import currency as currency_info
from core.money import format_amount, parse_amount
from core.pagination import Page, paginate
from core.runtime import Runtime
from models.adjustments import Adjustment, AdjustmentStatus
from models.players import Player
from services import audit, players, wallet


@dataclass(frozen=True)
class AdjustmentRequest:
    player_id: uuid.UUID
    amount: str  # decimal string, positive
    currency: str
    credit: bool  # True adds to the balance, False takes away
    reason: str
    idempotency_key: str


def approval_threshold(rt: Runtime, currency: str) -> int:
    """Above this many minor units an adjustment needs a second approver."""
    code = currency_info(currency).code
    limit = rt.settings.adjustment_second_approval_above.get(code)
    return parse_amount(limit, code) if limit else 0


def _snapshot(adjustment: Adjustment) -> dict[str, object]:
    return {
        "player_id": str(adjustment.player_id),
        "amount": format_amount(adjustment.amount, adjustment.currency),
        "currency": adjustment.currency,
        "status": adjustment.status,
    }


async def request(rt: Runtime, viewer: Viewer, form: AdjustmentRequest) -> Adjustment:
    if viewer.id is None:
        raise DomainError("Staff only.", code=ErrorCode.NOT_ALLOWED)
    reason = form.reason.strip()
    if not reason:
        raise DomainError("Give a reason.", field="reason")
    code = currency_info(form.currency).code
    minor = parse_amount(form.amount, code)
    signed = minor if form.credit else -minor
    needs_approval = minor > approval_threshold(rt, code)
    existing = await _same_request(rt, form.idempotency_key, (form.player_id, signed, code, viewer.id))
    if existing is not None:
        return existing
    try:
        async with rt.database.transaction() as db:
            player = await db.scalar(players.readable_players(viewer).where(col(Player.id) == form.player_id))
            if player is None:
                raise NotFound("No such player.", field="playerId")
            adjustment = Adjustment(
                idempotency_key=form.idempotency_key,
                brand_id=player.brand_id,
                player_id=player.id,
                currency=code,
                amount=signed,
                reason=reason,
                requested_by=viewer.id,
                status=(AdjustmentStatus.PENDING_APPROVAL if needs_approval else AdjustmentStatus.APPLIED).value,
            )
            db.add(adjustment)
            await db.flush()
            result = None
            if not needs_approval:
                result = await wallet.adjust(
                    db,
                    player_id=player.id,
                    currency=code,
                    amount=signed,
                    adjustment_id=adjustment.id,
                    actor=wallet.Actor("staff", viewer.id),
                    reason=reason,
                )
                adjustment.transaction_id = result.transaction_id
                if not result.committed:
                    adjustment.status = AdjustmentStatus.REFUSED.value
                adjustment.decided_at = clock.now()
            await audit.append(
                db,
                actor=viewer,
                action="adjustment.requested",
                target_type="player",
                target_id=player.id,
                brand_id=player.brand_id,
                after=_snapshot(adjustment),
                reason=reason,
            )
    except IntegrityError:  # a concurrent retry with the same key committed first: its result is ours
        raced = await _same_request(rt, form.idempotency_key, (form.player_id, signed, code, viewer.id))
        if raced is None:
            raise
        return raced
    if result is not None:
        result.raise_if_refused()
    return adjustment


async def _same_request(rt: Runtime, key: str, identity: tuple[object, ...]) -> Adjustment | None:
    """The adjustment already made under this key (a retry), if any; a different request is refused."""
    async with rt.database.session() as db:
        existing = await db.scalar(select(Adjustment).where(Adjustment.idempotency_key == key))
    if existing is None:
        return None
    if (existing.player_id, existing.amount, existing.currency, existing.requested_by) != identity:
        raise DomainError(
            "This idempotency key was used for a different adjustment.",
            field="idempotencyKey",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
        )
    return existing


async def decide(rt: Runtime, viewer: Viewer, adjustment_id: uuid.UUID, *, approve: bool, reason: str) -> Adjustment:
    """A second staff member approves (the money moves) or rejects a pending adjustment."""
    if viewer.id is None:
        raise DomainError("Staff only.", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.transaction() as db:
        readable = players.readable_players(viewer).with_only_columns(col(Player.id))
        adjustment = await db.scalar(
            select(Adjustment)
            .where(Adjustment.id == adjustment_id, col(Adjustment.player_id).in_(readable))
            .with_for_update()
        )
        if adjustment is None:
            raise NotFound("No such adjustment.", field="adjustmentId")
        if adjustment.status != AdjustmentStatus.PENDING_APPROVAL:
            raise DomainError(f"The adjustment is already {adjustment.status}.", code=ErrorCode.INVALID_STATE)
        if adjustment.requested_by == viewer.id:
            raise DomainError("A second staff member must decide on your own request.", code=ErrorCode.NOT_ALLOWED)
        before = _snapshot(adjustment)
        result = None
        adjustment.approved_by = viewer.id
        adjustment.decision_reason = reason.strip() or None
        adjustment.decided_at = clock.now()
        if approve:
            result = await wallet.adjust(
                db,
                player_id=adjustment.player_id,
                currency=adjustment.currency,
                amount=adjustment.amount,
                adjustment_id=adjustment.id,
                actor=wallet.Actor("staff", viewer.id),
                reason=adjustment.reason,
            )
            adjustment.transaction_id = result.transaction_id
            adjustment.status = (AdjustmentStatus.APPLIED if result.committed else AdjustmentStatus.REFUSED).value
        else:
            adjustment.status = AdjustmentStatus.REJECTED.value
        await audit.append(
            db,
            actor=viewer,
            action="adjustment.approved" if approve else "adjustment.rejected",
            target_type="player",
            target_id=adjustment.player_id,
            brand_id=adjustment.brand_id,
            before=before,
            after=_snapshot(adjustment),
            reason=reason.strip() or None,
        )
    if result is not None:
        result.raise_if_refused()
    return adjustment


async def readable_page(
    db: AsyncSession,
    viewer: Viewer,
    status: str | None = None,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[Adjustment]:
    """Adjustments of the players this viewer may read, newest first, optionally in one status."""
    readable = players.readable_players(viewer).with_only_columns(col(Player.id))
    stmt = select(Adjustment).where(col(Adjustment.player_id).in_(readable))
    if status is not None:
        stmt = stmt.where(Adjustment.status == status)
    return await paginate(
        db,
        stmt,
        (col(Adjustment.created_at), col(Adjustment.id)),
        first=first,
        after=after,
        last=last,
        before=before,
    )
