"""KYC resolvers (thin: the rules live in services/kyc/)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlmodel import col

from core.errors import NotFound
from core.pagination import paginate
from models.kyc import KycState
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.kyc import (
    Kyc,
    KycCase,
    KycHighRiskInput,
    KycLevelDecisionInput,
    KycPayload,
    KycProviderCheckInput,
    KycRequestMoreInput,
    KycRequireLevelInput,
    KycRestrictionInput,
    KycStartVerificationInput,
    KycStartVerificationPayload,
    KycStatus,
    KycVerification,
)
from services import players
from services.kyc import actions, reviews, view
from services.kyc.idv import applicants

if TYPE_CHECKING:
    from schema.players import Player


async def _overview(info: Info, player_id: uuid.UUID) -> Kyc:
    async with info.context.rt.database.session() as db:
        player = await players.get_readable(db, info.context.viewer, player_id)
        return Kyc.of(await view.overview(db, player, for_player=info.context.viewer.is_player))


async def player_kyc(info: Info, player_id: uuid.UUID) -> Kyc | None:
    try:
        return await _overview(info, player_id)
    except NotFound:
        return None


async def case_player(info: Info, player_id: str) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(uuid.UUID(player_id))
    return Player.from_model(found) if found is not None else None


async def kyc_review_queue(
    info: Info,
    status: KycStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[KycCase]:
    stmt = view.review_queue(info.context.viewer, status)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(KycState.updated_at), col(KycState.player_id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, KycCase.from_model)


def _player(input_id: str) -> uuid.UUID:
    return node_uuid(input_id, "Player")


@payload_errors(KycPayload)
async def kyc_approve_level(info: Info, input: KycLevelDecisionInput) -> KycPayload:
    player_id = _player(input.player_id)
    outcome = await reviews.approve_level(
        info.context.rt, info.context.viewer, player_id=player_id, level=input.level, reason=input.reason
    )
    return KycPayload(kyc=await _overview(info, player_id), awaiting_second_approval=outcome.awaiting_second_approval)


@payload_errors(KycPayload)
async def kyc_reject_level(info: Info, input: KycLevelDecisionInput) -> KycPayload:
    player_id = _player(input.player_id)
    await reviews.reject_level(
        info.context.rt, info.context.viewer, player_id=player_id, level=input.level, reason=input.reason
    )
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycPayload)
async def kyc_request_more(info: Info, input: KycRequestMoreInput) -> KycPayload:
    player_id = _player(input.player_id)
    await reviews.request_more(
        info.context.rt, info.context.viewer, player_id=player_id, level=input.level, what=input.what
    )
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycPayload)
async def kyc_restrict(info: Info, input: KycRestrictionInput) -> KycPayload:
    player_id = _player(input.player_id)
    await actions.restrict(info.context.rt, info.context.viewer, player_id=player_id, reason=input.reason)
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycPayload)
async def kyc_require_level(info: Info, input: KycRequireLevelInput) -> KycPayload:
    player_id = _player(input.player_id)
    await actions.require_level_by_staff(
        info.context.rt, info.context.viewer, player_id=player_id, level=input.level, reason=input.reason
    )
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycPayload)
async def kyc_lift_restriction(info: Info, input: KycRestrictionInput) -> KycPayload:
    player_id = _player(input.player_id)
    await actions.lift_restriction(info.context.rt, info.context.viewer, player_id=player_id, reason=input.reason)
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycPayload)
async def kyc_set_high_risk(info: Info, input: KycHighRiskInput) -> KycPayload:
    player_id = _player(input.player_id)
    await actions.set_high_risk(
        info.context.rt, info.context.viewer, player_id=player_id, high_risk=input.high_risk, reason=input.reason
    )
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycPayload)
async def kyc_record_provider_check(info: Info, input: KycProviderCheckInput) -> KycPayload:
    player_id = _player(input.player_id)
    await actions.record_provider_check(
        info.context.rt,
        info.context.viewer,
        player_id=player_id,
        provider=input.provider,
        passed=input.passed,
        reference=input.reference,
    )
    return KycPayload(kyc=await _overview(info, player_id))


@payload_errors(KycStartVerificationPayload)
async def kyc_start_verification(
    info: Info, input: KycStartVerificationInput | None = None
) -> KycStartVerificationPayload:
    require_subject(info)
    viewer = info.context.viewer
    assert viewer.id is not None
    started = await applicants.start_verification(
        info.context.rt, viewer, player_id=viewer.id, lang=input.lang if input else None
    )
    return KycStartVerificationPayload(url=started.url, verification=KycVerification.from_model(started.applicant))
