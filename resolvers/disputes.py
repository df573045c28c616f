"""Dispute resolvers (thin: the rules live in services/disputes.py and services/cashier/chargebacks.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import strawberry
from sqlmodel import col

from core.errors import NotFound
from core.pagination import paginate
from models.disputes import Dispute as DisputeRow
from models.disputes import DisputeState
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.disputes import CloseDisputeLostInput, Dispute, DisputeFilter, DisputePayload, SubmitDisputeEvidenceInput
from services import disputes

if TYPE_CHECKING:
    from schema.players import Player


async def dispute_player(info: Info, player_id: str) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(uuid.UUID(player_id))
    return Player.from_model(found) if found else None


async def disputes_list(
    info: Info,
    filter: DisputeFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Dispute]:
    f = filter or DisputeFilter()
    where = disputes.DisputeFilter(
        states=tuple(DisputeState(s) for s in f.states or ()),
        player_id=node_uuid(f.player_id, "Player") if f.player_id is not None else None,
    )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            disputes.queue(info.context.viewer, where),
            (col(DisputeRow.created_at), col(DisputeRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, Dispute.from_model)


async def dispute(info: Info, id: strawberry.ID) -> Dispute | None:
    dispute_id = node_uuid(id, "Dispute")
    async with info.context.rt.database.session() as db:
        try:
            return Dispute.from_model(await disputes.get_readable(db, info.context.viewer, dispute_id))
        except NotFound:
            return None


@payload_errors(DisputePayload)
async def submit_dispute_evidence(info: Info, input: SubmitDisputeEvidenceInput) -> DisputePayload:
    require_subject(info)
    found = await disputes.submit_evidence(
        info.context.rt, info.context.viewer, node_uuid(input.dispute_id, "Dispute"), input.note
    )
    return DisputePayload(dispute=Dispute.from_model(found))


@payload_errors(DisputePayload)
async def close_dispute_lost(info: Info, input: CloseDisputeLostInput) -> DisputePayload:
    require_subject(info)
    found = await disputes.close_lost(
        info.context.rt, info.context.viewer, node_uuid(input.dispute_id, "Dispute"), input.reason
    )
    return DisputePayload(dispute=Dispute.from_model(found))
