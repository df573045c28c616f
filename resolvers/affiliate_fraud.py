"""Affiliate fraud resolvers: thin maps onto services/affiliates/fraud_review.py."""

from __future__ import annotations

import uuid

import strawberry

from core.errors import DomainError, NotFound
from models.affiliate_fraud import SubIdFlagStatus
from resolvers.common import payload_errors
from schema.affiliate_fraud import (
    AffiliateSubIdCpa,
    AffiliateSubIdFlag,
    AffiliateSubIdFlagPayload,
    ReviewAffiliateSubIdFlagInput,
)
from schema.base import Connection
from schema.context import Info
from services.affiliates import fraud_review
from services.affiliates.fraud_review import FlaggedSubId


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise DomainError("Not an id.", field=field) from exc


async def affiliate_sub_id_flags(
    info: Info,
    status: SubIdFlagStatus | None = SubIdFlagStatus.OPEN,
    first: int | None = None,
    after: str | None = None,
) -> Connection[AffiliateSubIdFlag]:
    page = await fraud_review.page(info.context.rt, info.context.viewer, status=status, first=first, after=after)
    return Connection.of(page, AffiliateSubIdFlag.of)


async def affiliate_sub_id_flag(info: Info, id: strawberry.ID) -> AffiliateSubIdFlag | None:
    try:
        found = await fraud_review.get(info.context.rt, info.context.viewer, _uuid(id, "id"))
    except NotFound:
        return None
    except DomainError:
        return None  # not an id: nothing by that name
    return AffiliateSubIdFlag.of(found)


async def flag_cpas(info: Info, found: FlaggedSubId) -> list[AffiliateSubIdCpa]:
    return [AffiliateSubIdCpa.of(c) for c in await fraud_review.cpas(info.context.rt, found.flag)]


@payload_errors(AffiliateSubIdFlagPayload)
async def review_affiliate_sub_id_flag(info: Info, input: ReviewAffiliateSubIdFlagInput) -> AffiliateSubIdFlagPayload:
    reviewed = await fraud_review.review(
        info.context.rt,
        info.context.viewer,
        flag_id=_uuid(input.flag_id, "flagId"),
        verdict=input.verdict,
        note=input.note,
    )
    return AffiliateSubIdFlagPayload(flag=AffiliateSubIdFlag.of(reviewed))
