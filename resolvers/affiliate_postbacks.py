"""Affiliate postback resolvers (staff): thin maps onto services/affiliates/postbacks/configs.py, and the
per-request DataLoaders of the log (partner codes, attempts: one statement per page)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col
from strawberry.dataloader import DataLoader

from core.errors import NotFound, bad_input
from core.pagination import paginate
from core.runtime import Runtime
from models.affiliate_postbacks import AffiliatePostbackAttempt as AttemptRow
from models.affiliate_postbacks import AffiliatePostbackConfig as ConfigRow
from models.affiliate_postbacks import AffiliatePostbackDelivery as DeliveryRow
from resolvers.common import payload_errors
from schema.affiliate_postbacks import (
    AffiliatePostbackConfig,
    AffiliatePostbackConfigPayload,
    AffiliatePostbackDelivery,
    AffiliatePostbackSecret,
    AffiliatePostbackStatus,
    CreateAffiliatePostbackConfigInput,
    RetryAffiliatePostbackInput,
    RetryAffiliatePostbackPayload,
    RotateAffiliatePostbackSecretInput,
    RotateAffiliatePostbackSecretPayload,
    UpdateAffiliatePostbackConfigInput,
)
from schema.base import Connection, node_uuid
from schema.context import Info
from services.affiliates.postbacks import configs


class PostbackLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.partner_code: DataLoader[uuid.UUID, str | None] = DataLoader(self._partner_codes)
        self.attempts: DataLoader[uuid.UUID, list[AttemptRow]] = DataLoader(self._attempts)

    async def _partner_codes(self, ids: Sequence[uuid.UUID]) -> list[str | None]:
        async with self.rt.database.session() as db:
            return await configs.partner_codes(db, ids)

    async def _attempts(self, ids: Sequence[uuid.UUID]) -> list[list[AttemptRow]]:
        async with self.rt.database.session() as db:
            return await configs.attempts_of(db, ids)


async def _partner(info: Info, code: str | None) -> uuid.UUID | None:
    """The partner a list is narrowed to; an unknown code (or one outside the viewer's brand) is the caller's
    mistake, answered as such (a DomainError raised in a query field would be an internal error)."""
    if code is None:
        return None
    async with info.context.rt.database.session() as db:
        try:
            return await configs.partner_id(db, info.context.viewer, code)
        except NotFound as missing:
            raise bad_input(missing.message, field="partnerCode") from missing


async def postback_configs(
    info: Info,
    partner_code: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AffiliatePostbackConfig]:
    stmt = configs.readable_configs(info.context.viewer, affiliate_id=await _partner(info, partner_code))
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(ConfigRow.created_at), col(ConfigRow.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, AffiliatePostbackConfig.from_model)


async def postback_deliveries(
    info: Info,
    partner_code: str | None = None,
    status: AffiliatePostbackStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AffiliatePostbackDelivery]:
    """The delivery log, newest first."""
    stmt = configs.readable_deliveries(
        info.context.viewer, affiliate_id=await _partner(info, partner_code), status=status
    )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(DeliveryRow.created_at), col(DeliveryRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, AffiliatePostbackDelivery.from_model)


async def postback_secret(info: Info, partner_code: str) -> AffiliatePostbackSecret | None:
    affiliate_id = await _partner(info, partner_code)
    assert affiliate_id is not None
    async with info.context.rt.database.session() as db:
        [found] = await configs.secrets_of(db, [affiliate_id])
    if found is None:
        return None
    return AffiliatePostbackSecret(
        affiliate_id=found.affiliate_id, fingerprint=found.fingerprint, rotated_at=found.rotated_at
    )


@payload_errors(AffiliatePostbackConfigPayload)
async def create_postback_config(
    info: Info, input: CreateAffiliatePostbackConfigInput
) -> AffiliatePostbackConfigPayload:
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        affiliate_id = await configs.partner_id(db, viewer, input.partner_code)
        brand = await configs.brand_id(db, input.brand_code) if input.brand_code else None
    saved = await configs.create_config(
        info.context.rt,
        viewer,
        affiliate_id=affiliate_id,
        trigger=input.trigger,
        url_template=input.url_template,
        method=input.method,
        brand_id=brand,
    )
    return AffiliatePostbackConfigPayload(config=AffiliatePostbackConfig.from_model(saved.config), secret=saved.secret)


@payload_errors(AffiliatePostbackConfigPayload)
async def update_postback_config(
    info: Info, input: UpdateAffiliatePostbackConfigInput
) -> AffiliatePostbackConfigPayload:
    config = await configs.update_config(
        info.context.rt,
        info.context.viewer,
        config_id=node_uuid(input.config_id, "AffiliatePostbackConfig"),
        url_template=input.url_template,
        method=input.method,
        active=input.active,
    )
    return AffiliatePostbackConfigPayload(config=AffiliatePostbackConfig.from_model(config))


@payload_errors(RotateAffiliatePostbackSecretPayload)
async def rotate_postback_secret(
    info: Info, input: RotateAffiliatePostbackSecretInput
) -> RotateAffiliatePostbackSecretPayload:
    async with info.context.rt.database.session() as db:
        affiliate_id = await configs.partner_id(db, info.context.viewer, input.partner_code)
    secret = await configs.rotate_secret(
        info.context.rt, info.context.viewer, affiliate_id=affiliate_id, reason=input.reason
    )
    return RotateAffiliatePostbackSecretPayload(secret=secret)


@payload_errors(RetryAffiliatePostbackPayload)
async def retry_postback(info: Info, input: RetryAffiliatePostbackInput) -> RetryAffiliatePostbackPayload:
    delivery = await configs.retry_now(
        info.context.rt, info.context.viewer, delivery_id=node_uuid(input.delivery_id, "AffiliatePostbackDelivery")
    )
    return RetryAffiliatePostbackPayload(delivery=AffiliatePostbackDelivery.from_model(delivery))
