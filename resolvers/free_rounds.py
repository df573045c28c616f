"""Free-rounds resolvers: thin, each one service call (services/free_rounds)."""

from __future__ import annotations

import uuid

import strawberry

from core.errors import NotFound, forbidden
from models.free_rounds import FreeRoundsStatus
from resolvers.common import payload_errors, require_subject
from schema.base import node_uuid
from schema.context import Info
from schema.free_rounds import (
    CancelFreeRoundsInput,
    FreeRoundsGrant,
    FreeRoundsGrantPayload,
    GrantFreeRoundsInput,
    SendFreeRoundsInput,
)
from services.free_rounds import grants, queries


def _staff(info: Info) -> None:
    require_subject(info)
    if not info.context.viewer.is_staff:
        raise forbidden("Free rounds are granted by staff.")


async def free_rounds_grants(
    info: Info,
    player_id: strawberry.ID | None = None,
    status: FreeRoundsStatus | None = None,
    first: int = 50,
) -> list[FreeRoundsGrant]:
    require_subject(info)
    player = node_uuid(player_id, "Player") if player_id else None
    async with info.context.rt.database.session() as db:
        rows = await queries.grants(
            db, info.context.viewer, player_id=player, status=status.value if status else None, first=first
        )
    return [FreeRoundsGrant.of(row) for row in rows]


async def _payload(info: Info, grant_id: uuid.UUID) -> FreeRoundsGrantPayload:
    async with info.context.rt.database.session() as db:
        view = await queries.grant(db, info.context.viewer, grant_id)
    if view is None:
        raise NotFound("No such free rounds grant.", field="grantId")
    return FreeRoundsGrantPayload(grant=FreeRoundsGrant.of(view))


@payload_errors(FreeRoundsGrantPayload)
async def grant_free_rounds(info: Info, input: GrantFreeRoundsInput) -> FreeRoundsGrantPayload:
    _staff(info)
    grant = await grants.grant_by_staff(
        info.context.rt,
        info.context.viewer,
        player_id=node_uuid(input.player_id, "Player"),
        campaign_id=node_uuid(input.campaign_id, "BonusCampaign"),
        reason=input.reason,
    )
    return await _payload(info, grant.id)


@payload_errors(FreeRoundsGrantPayload)
async def send_free_rounds(info: Info, input: SendFreeRoundsInput) -> FreeRoundsGrantPayload:
    _staff(info)
    grant_id = node_uuid(input.grant_id, "FreeRoundsGrant")
    async with info.context.rt.database.session() as db:
        if await queries.grant(db, info.context.viewer, grant_id) is None:
            raise NotFound("No such free rounds grant.", field="grantId")
    await grants.deliver(info.context.rt, grant_id)
    return await _payload(info, grant_id)


@payload_errors(FreeRoundsGrantPayload)
async def cancel_free_rounds(info: Info, input: CancelFreeRoundsInput) -> FreeRoundsGrantPayload:
    _staff(info)
    grant = await grants.cancel(
        info.context.rt, info.context.viewer, node_uuid(input.grant_id, "FreeRoundsGrant"), input.reason
    )
    return await _payload(info, grant.id)
