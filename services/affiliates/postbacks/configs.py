"""Staff's side of postbacks: a partner's configs and signing secret, the delivery log, and "retry now".

- A config names a trigger (registration, first deposit, qualification), a method (GET, or POST with the
  facts as JSON too), a URL template (services/affiliates/postbacks/templates.py checks it) and optionally
  one brand (none: every brand of the partner). Configs are switched off, never deleted: the log keeps
  pointing at them.
- The partner's secret is made with its first config (and on rotation), shown once, then only its first
  characters. Rotating signs every later try with the new one, including retries of older deliveries.
- Staff of one brand see the configs of partners that work with their brand, for their brand or every brand
  (they change only their brand's), and the deliveries of their brand's players.
- Every change is audited (services/audit.py), the secret never in the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.runtime import Runtime
from models.affiliate_postbacks import (
    AffiliatePostbackAttempt,
    AffiliatePostbackConfig,
    AffiliatePostbackDelivery,
    AffiliatePostbackSecret,
    DeliveryStatus,
    PostbackMethod,
    PostbackTrigger,
)
from models.affiliates import Affiliate, AffiliateBrand
from models.players import Player
from services import audit
from services.affiliates.postbacks import templates
from services.affiliates.postbacks.consumer import CHANNEL

# A failed delivery retried by staff gets this many more tries (with the usual backoff).
RETRY_TRIES = 5


@dataclass(frozen=True)
class SecretInfo:
    affiliate_id: uuid.UUID
    fingerprint: str
    rotated_at: datetime


@dataclass(frozen=True)
class Saved:
    config: AffiliatePostbackConfig
    secret: str | None  # the partner's new secret, shown once (its first config), else None


def _brand_scope(viewer: Viewer) -> Any:
    """The partners a viewer may see: all for staff of every brand, else those with the viewer's brand."""
    if viewer.brand_id is None:
        return None
    return col(Affiliate.id).in_(
        select(AffiliateBrand.affiliate_id).where(col(AffiliateBrand.brand_id) == viewer.brand_id)
    )


def readable_configs(
    viewer: Viewer, *, affiliate_id: uuid.UUID | None = None
) -> SelectOfScalar[AffiliatePostbackConfig]:
    stmt = select(AffiliatePostbackConfig).join(Affiliate, col(Affiliate.id) == AffiliatePostbackConfig.affiliate_id)
    if (scope := _brand_scope(viewer)) is not None:  # their partners' configs for their brand or every brand
        brand = col(AffiliatePostbackConfig.brand_id)
        stmt = stmt.where(scope, or_(brand.is_(None), brand == viewer.brand_id))
    if affiliate_id is not None:
        stmt = stmt.where(col(AffiliatePostbackConfig.affiliate_id) == affiliate_id)
    return stmt


def readable_deliveries(
    viewer: Viewer,
    *,
    affiliate_id: uuid.UUID | None = None,
    config_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
) -> SelectOfScalar[AffiliatePostbackDelivery]:
    stmt = select(AffiliatePostbackDelivery).join(
        Affiliate, col(Affiliate.id) == AffiliatePostbackDelivery.affiliate_id
    )
    if (scope := _brand_scope(viewer)) is not None:  # their partners' postbacks of their brand's players
        players = select(Player.id).where(col(Player.brand_id) == viewer.brand_id)
        stmt = stmt.where(scope, col(AffiliatePostbackDelivery.player_id).in_(players))
    if affiliate_id is not None:
        stmt = stmt.where(col(AffiliatePostbackDelivery.affiliate_id) == affiliate_id)
    if config_id is not None:
        stmt = stmt.where(col(AffiliatePostbackDelivery.config_id) == config_id)
    if status is not None:
        stmt = stmt.where(col(AffiliatePostbackDelivery.status) == status.value)
    return stmt


async def attempts_of(db: AsyncSession, delivery_ids: Sequence[uuid.UUID]) -> list[list[AffiliatePostbackAttempt]]:
    """The attempts of each delivery, in try order (one statement: the log's DataLoader)."""
    rows = (
        await db.scalars(
            select(AffiliatePostbackAttempt)
            .where(col(AffiliatePostbackAttempt.delivery_id).in_(delivery_ids))
            .order_by(col(AffiliatePostbackAttempt.delivery_id), col(AffiliatePostbackAttempt.attempt))
        )
    ).all()
    found: dict[uuid.UUID, list[AffiliatePostbackAttempt]] = {i: [] for i in delivery_ids}
    for row in rows:
        found[row.delivery_id].append(row)
    return [found[i] for i in delivery_ids]


async def secrets_of(db: AsyncSession, affiliate_ids: Sequence[uuid.UUID]) -> list[SecretInfo | None]:
    rows = (
        await db.scalars(
            select(AffiliatePostbackSecret).where(col(AffiliatePostbackSecret.affiliate_id).in_(affiliate_ids))
        )
    ).all()
    found = {r.affiliate_id: SecretInfo(r.affiliate_id, templates.fingerprint(r.secret), r.rotated_at) for r in rows}
    return [found.get(i) for i in affiliate_ids]


async def _partner(db: AsyncSession, viewer: Viewer, affiliate_id: uuid.UUID) -> Affiliate:
    stmt = select(Affiliate).where(col(Affiliate.id) == affiliate_id)
    if (scope := _brand_scope(viewer)) is not None:
        stmt = stmt.where(scope)
    partner = await db.scalar(stmt)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


async def _check_brand(db: AsyncSession, viewer: Viewer, affiliate_id: uuid.UUID, brand_id: uuid.UUID | None) -> None:
    if brand_id is None:
        if viewer.brand_id is not None:
            raise DomainError("Staff of one brand name their brand.", field="brandId", code=ErrorCode.NOT_ALLOWED)
        return
    if viewer.brand_id is not None and brand_id != viewer.brand_id:
        raise DomainError("That is another brand.", field="brandId", code=ErrorCode.NOT_ALLOWED)
    works = await db.scalar(
        select(AffiliateBrand.brand_id).where(
            col(AffiliateBrand.affiliate_id) == affiliate_id, col(AffiliateBrand.brand_id) == brand_id
        )
    )
    if works is None:
        raise DomainError("The partner does not work with that brand.", field="brandId")


def _view(config: AffiliatePostbackConfig) -> dict[str, Any]:
    return {
        "affiliate_id": str(config.affiliate_id),
        "brand_id": str(config.brand_id) if config.brand_id else None,
        "trigger": config.trigger,
        "method": config.method,
        "url_template": config.url_template,
        "active": config.active,
    }


async def _ensure_secret(db: AsyncSession, viewer: Viewer, affiliate_id: uuid.UUID) -> str | None:
    """Make the partner's secret if it has none yet; returns it then (to show once), else None."""
    secret = templates.new_secret()
    made = await db.scalar(
        text(
            "INSERT INTO affiliate_postback_secrets (affiliate_id, secret, ref_salt, rotated_by, rotated_at) "
            "VALUES (:a, :s, :r, :by, :at) ON CONFLICT DO NOTHING RETURNING affiliate_id"
        ),
        {"a": affiliate_id, "s": secret, "r": templates.new_salt(), "by": viewer.id, "at": clock.now()},
    )
    return secret if made is not None else None


async def create_config(
    rt: Runtime,
    viewer: Viewer,
    *,
    affiliate_id: uuid.UUID,
    trigger: PostbackTrigger,
    url_template: str,
    method: PostbackMethod = PostbackMethod.GET,
    brand_id: uuid.UUID | None = None,
) -> Saved:
    template = templates.validate_template(url_template, require_https=rt.settings.is_production)
    async with rt.database.transaction() as db:
        await _partner(db, viewer, affiliate_id)
        await _check_brand(db, viewer, affiliate_id, brand_id)
        now = clock.now()
        config = AffiliatePostbackConfig(
            id=new_id(),
            affiliate_id=affiliate_id,
            brand_id=brand_id,
            trigger=trigger.value,
            method=method.value,
            url_template=template,
            created_by=viewer.id,
            created_at=now,
            updated_at=now,
        )
        db.add(config)
        await db.flush()
        secret = await _ensure_secret(db, viewer, affiliate_id)
        await audit.append(
            db,
            actor=viewer,
            action="affiliate.postback_config_created",
            target_type="affiliate_postback_config",
            target_id=config.id,
            brand_id=brand_id,
            after=_view(config) | {"secret_made": secret is not None},
        )
    return Saved(config, secret)


async def update_config(
    rt: Runtime,
    viewer: Viewer,
    *,
    config_id: uuid.UUID,
    url_template: str | None = None,
    method: PostbackMethod | None = None,
    active: bool | None = None,
) -> AffiliatePostbackConfig:
    """Change a config: later deliveries use it; those already enqueued keep the URL they were made with."""
    template = (
        templates.validate_template(url_template, require_https=rt.settings.is_production)
        if url_template is not None
        else None
    )
    async with rt.database.transaction() as db:
        config = await db.scalar(
            readable_configs(viewer).where(col(AffiliatePostbackConfig.id) == config_id).with_for_update()
        )
        if config is None:
            raise NotFound("No such postback config.")
        if viewer.brand_id is not None and config.brand_id != viewer.brand_id:
            raise DomainError("This config serves every brand.", code=ErrorCode.NOT_ALLOWED)
        before = _view(config)
        if template is not None:
            config.url_template = template
        if method is not None:
            config.method = method.value
        if active is not None:
            config.active = active
        config.updated_at = clock.now()
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="affiliate.postback_config_updated",
            target_type="affiliate_postback_config",
            target_id=config.id,
            brand_id=config.brand_id,
            before=before,
            after=_view(config),
        )
    return config


async def rotate_secret(rt: Runtime, viewer: Viewer, *, affiliate_id: uuid.UUID, reason: str) -> str:
    """A new signing secret for the partner (shown once); its `player_ref`s stay as they were."""
    if not reason.strip():
        raise DomainError("Say why.", field="reason")
    if viewer.brand_id is not None:
        raise DomainError(
            "A partner's secret serves every brand: staff of every brand rotate it.", code=ErrorCode.NOT_ALLOWED
        )
    async with rt.database.transaction() as db:
        await _partner(db, viewer, affiliate_id)
        secret = await _ensure_secret(db, viewer, affiliate_id)
        if secret is None:
            secret = templates.new_secret()
            await db.execute(
                text(
                    "UPDATE affiliate_postback_secrets SET secret = :s, rotated_by = :by, rotated_at = :at "
                    "WHERE affiliate_id = :a"
                ),
                {"a": affiliate_id, "s": secret, "by": viewer.id, "at": clock.now()},
            )
        await audit.append(
            db,
            actor=viewer,
            action="affiliate.postback_secret_rotated",
            target_type="affiliate",
            target_id=affiliate_id,
            after={"fingerprint": templates.fingerprint(secret)},
            reason=reason.strip()[:500],
        )
    return secret


async def retry_now(rt: Runtime, viewer: Viewer, *, delivery_id: uuid.UUID) -> AffiliatePostbackDelivery:
    """Make a waiting or failed delivery due now (a failed one gets `RETRY_TRIES` more tries)."""
    async with rt.database.transaction() as db:
        found = readable_deliveries(viewer).where(col(AffiliatePostbackDelivery.id) == delivery_id)
        delivery = await db.scalar(found.with_for_update(of=AffiliatePostbackDelivery))
        if delivery is None:
            raise NotFound("No such postback delivery.")
        if delivery.status == DeliveryStatus.DELIVERED:
            raise DomainError("The partner already answered this postback.", code=ErrorCode.INVALID_STATE)
        if delivery.status == DeliveryStatus.SENDING:
            raise DomainError("A try of this postback is under way.", code=ErrorCode.INVALID_STATE)
        before = {"status": delivery.status, "attempts": delivery.attempts, "max_attempts": delivery.max_attempts}
        if delivery.status == DeliveryStatus.FAILED:
            delivery.max_attempts = delivery.attempts + RETRY_TRIES
        delivery.status = DeliveryStatus.PENDING.value
        delivery.next_attempt_at = clock.now()
        await db.flush()
        await db.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
        await audit.append(
            db,
            actor=viewer,
            action="affiliate.postback_retried",
            target_type="affiliate_postback_delivery",
            target_id=delivery.id,
            before=before,
            after={"status": delivery.status, "max_attempts": delivery.max_attempts},
        )
    return delivery


async def partner_id(db: AsyncSession, viewer: Viewer, code: str) -> uuid.UUID:
    """The partner of a code, among those the viewer may see."""
    stmt = select(Affiliate.id).where(col(Affiliate.code) == code.strip().lower())
    if (scope := _brand_scope(viewer)) is not None:
        stmt = stmt.where(scope)
    found = await db.scalar(stmt)
    if found is None:
        raise NotFound("No such partner.")
    return found


async def brand_id(db: AsyncSession, code: str) -> uuid.UUID:
    found = await db.scalar(text("SELECT id FROM brands WHERE code = :c"), {"c": code.strip().lower()})
    if found is None:
        raise DomainError("No such brand.", field="brandCode", code=ErrorCode.NOT_FOUND)
    return uuid.UUID(str(found))


async def partner_codes(db: AsyncSession, affiliate_ids: Sequence[uuid.UUID]) -> list[str | None]:
    found = await db.execute(select(Affiliate.id, Affiliate.code).where(col(Affiliate.id).in_(affiliate_ids)))
    codes = {row[0]: row[1] for row in found}
    return [codes.get(i) for i in affiliate_ids]
