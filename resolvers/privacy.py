"""Privacy resolvers (thin: the rules live in services/privacy/)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import strawberry
from sqlmodel import col

from core.errors import NotFound, rate_limited
from core.pagination import paginate
from models.privacy import PrivacyRequest as RequestRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.privacy import (
    DataExportPayload,
    DecideDataErasureInput,
    PlayerPrivacy,
    PlayerPrivacyInput,
    PlayerPrivacyPayload,
    PrivacyHold,
    PrivacyRequest,
    PrivacyRequestPayload,
    RequestDataErasureInput,
)
from services.auth import RateLimited
from services.privacy import erasure, export

if TYPE_CHECKING:
    from schema.players import Player


async def request_player(info: Info, player_id: str) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(uuid.UUID(player_id))
    return Player.from_model(found) if found else None


async def privacy_requests(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[PrivacyRequest]:
    """The erasure requests waiting for the data-protection officer, newest first."""
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            erasure.waiting_requests(info.context.viewer),
            (col(RequestRow.created_at), col(RequestRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, PrivacyRequest.from_model)


def _privacy(state: erasure.PrivacyState) -> PlayerPrivacy:
    return PlayerPrivacy(
        player_id=strawberry.ID(str(state.player_id)),
        erased_at=state.erased_at,
        pseudonym=state.pseudonym,
        requests=[PrivacyRequest.from_model(r) for r in state.requests],
        holds=[PrivacyHold.from_model(h) for h in state.holds],
    )


async def my_data_export(info: Info) -> strawberry.scalars.JSON:
    """The logged-in player's own copy of their data (audited; a few a day)."""
    require_subject(info)
    try:
        document: dict[str, Any] = await export.export_own(info.context.rt, info.context.viewer)
    except RateLimited as exc:
        raise rate_limited(exc.retry_after) from exc
    return strawberry.scalars.JSON(document)


async def player_privacy(info: Info, player_id: strawberry.ID) -> PlayerPrivacy | None:
    try:
        state = await erasure.state_of(info.context.rt, info.context.viewer, node_uuid(player_id, "Player"))
    except NotFound:
        return None
    return _privacy(state)


@payload_errors(DataExportPayload)
async def export_player_data(info: Info, input: PlayerPrivacyInput) -> DataExportPayload:
    require_subject(info)
    document = await export.export(info.context.rt, info.context.viewer, node_uuid(input.player_id, "Player"))
    return DataExportPayload(export=strawberry.scalars.JSON(document))


@payload_errors(PrivacyRequestPayload)
async def request_data_erasure(info: Info, input: RequestDataErasureInput) -> PrivacyRequestPayload:
    require_subject(info)
    request = await erasure.request_erasure(info.context.rt, info.context.viewer, input.reason)
    return PrivacyRequestPayload(request=PrivacyRequest.from_model(request))


@payload_errors(PlayerPrivacyPayload)
async def erase_player(info: Info, input: DecideDataErasureInput) -> PlayerPrivacyPayload:
    require_subject(info)
    rt, viewer = info.context.rt, info.context.viewer
    player_id = node_uuid(input.player_id, "Player")
    await erasure.erase(rt, viewer, player_id, input.reason)
    return PlayerPrivacyPayload(privacy=_privacy(await erasure.state_of(rt, viewer, player_id)))


@payload_errors(PrivacyRequestPayload)
async def reject_data_erasure(info: Info, input: DecideDataErasureInput) -> PrivacyRequestPayload:
    require_subject(info)
    request = await erasure.reject_request(
        info.context.rt, info.context.viewer, node_uuid(input.player_id, "Player"), input.reason
    )
    return PrivacyRequestPayload(request=PrivacyRequest.from_model(request))
