"""Closed-loop resolvers: thin; services/cashier/closed_loop*.py decide."""

from __future__ import annotations

import uuid

from sqlmodel import col

from core.errors import NotFound
from core.money import currency as currency_info
from models.players import Player
from resolvers.common import payload_errors, require_subject
from schema.base import Money, node_uuid
from schema.closed_loop import (
    ClosedLoop,
    ClosedLoopException,
    ClosedLoopShare,
    GrantClosedLoopExceptionInput,
    GrantClosedLoopExceptionPayload,
    RevokeClosedLoopExceptionInput,
    RevokeClosedLoopExceptionPayload,
)
from schema.context import Info
from services.cashier import closed_loop, closed_loop_exceptions
from services.players import readable_players


async def player_closed_loop(info: Info, player_id: uuid.UUID, currency: str | None) -> ClosedLoop | None:
    """The player's loop shares in `currency` (default: the player's own), three statements in all."""
    async with info.context.rt.database.session() as db:
        player: Player | None = await db.scalar(
            readable_players(info.context.viewer).where(col(Player.id) == player_id)
        )
        if player is None:
            return None
        code = currency_info(currency).code if currency else player.currency
        shares = await closed_loop.loop_shares(db, player.id, code)
        exceptions = await closed_loop_exceptions.of_player(db, player.id, code)
    return ClosedLoop(
        currency=code,
        enforced=closed_loop.enforced(player),
        owed=Money.of(sum(s.owed for s in shares), code),
        shares=[ClosedLoopShare.of(s) for s in shares],
        exceptions=[ClosedLoopException.of(e) for e in exceptions],
        loop=shares,
    )


@payload_errors(GrantClosedLoopExceptionPayload)
async def grant_closed_loop_exception(
    info: Info, input: GrantClosedLoopExceptionInput
) -> GrantClosedLoopExceptionPayload:
    require_subject(info)
    row = await closed_loop_exceptions.grant(
        info.context.rt,
        info.context.viewer,
        player_id=node_uuid(input.player_id, "Player"),
        currency=input.currency,
        method=input.method.value,
        instrument=input.instrument,
        amount=input.amount,
        reason=input.reason,
    )
    return GrantClosedLoopExceptionPayload(exception=ClosedLoopException.of(row))


@payload_errors(RevokeClosedLoopExceptionPayload)
async def revoke_closed_loop_exception(
    info: Info, input: RevokeClosedLoopExceptionInput
) -> RevokeClosedLoopExceptionPayload:
    require_subject(info)
    try:
        exception_id = uuid.UUID(str(input.exception_id))
    except ValueError as exc:
        raise NotFound("No such closed-loop exception.", field="exceptionId") from exc
    row = await closed_loop_exceptions.revoke(
        info.context.rt, info.context.viewer, exception_id=exception_id, reason=input.reason
    )
    return RevokeClosedLoopExceptionPayload(exception=ClosedLoopException.of(row))
