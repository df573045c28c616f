"""Tracking links: `/a/{code}` records a click and redirects to the link's landing path on its brand.

Invariants: a code is random and URL-safe (72 bits from `secrets`, so codes cannot be guessed or enumerated)
and unique; a link's brand is one the partner works with; a tag is unique per partner and brand; a landing
path is a path on the brand's own site (starts with one `/`: never another host, so a link is no open
redirect). A link is archived, never deleted (its clicks and attributions keep pointing at it); an archived
link answers 404. Staff and the partner (through its portal or a token with `links:write`) make links with
the same function; ownership is the caller's: `create` is given the partner already authorised.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.affiliates import Affiliate, AffiliateLink, AffiliateStatus
from models.brands import Brand
from services import audit
from services.affiliates import partners

CODE_BYTES = 9  # 12 URL-safe characters
TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LANDING = re.compile(r"^/(?!/)[A-Za-z0-9\-._~/%?=&+]*$")


@dataclass(frozen=True)
class LinkDraft:
    brand_id: uuid.UUID
    tag: str
    landing_path: str = "/"


@dataclass(frozen=True)
class Target:
    """What a click on a code leads to (services/affiliates/clicks.py)."""

    link: AffiliateLink
    partner_status: AffiliateStatus
    brand_code: str


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def _check(draft: LinkDraft) -> tuple[str, str]:
    return checked(draft.tag, draft.landing_path)


def checked(tag: str, landing_path: str) -> tuple[str, str]:
    """A link's tag and landing path, trimmed, or the refusal naming the field (staff and partners alike)."""
    tag = tag.strip()
    if not TAG.match(tag):
        raise DomainError("A tag is 1 to 64 letters, digits, dots, hyphens and underscores.", field="tag")
    landing = (landing_path or "/").strip() or "/"
    if len(landing) > 500 or not LANDING.match(landing) or "\\" in landing:
        raise DomainError(
            "A landing path is a path on the brand's site, starting with one '/' (at most 500 characters).",
            field="landingPath",
        )
    return tag, landing


async def create(rt: Runtime, actor: Viewer, partner_id: uuid.UUID, draft: LinkDraft) -> AffiliateLink:
    """A new link of an active partner on one of its brands (audited `affiliate.link_create`)."""
    tag, landing = _check(draft)
    try:
        async with rt.database.transaction() as db:
            partner = await partners.get(db, partner_id, lock=True)
            if partner.status != AffiliateStatus.ACTIVE.value:
                raise DomainError(
                    f"The partner is {partner.status}: no new links.", field="affiliateId", code=ErrorCode.INVALID_STATE
                )
            if draft.brand_id not in await partners.brand_ids(db, partner.id):
                raise NotFound("The partner does not work with this brand.", field="brandId")
            link = AffiliateLink(
                affiliate_id=partner.id,
                brand_id=draft.brand_id,
                code=new_code(),
                tag=tag,
                landing_path=landing,
                created_by=actor.id,
            )
            db.add(link)
            await db.flush()
            await audit.append(
                db,
                actor=actor,
                action="affiliate.link_create",
                target_type="affiliate_link",
                target_id=link.id,
                brand_id=draft.brand_id,
                after={"affiliate_id": str(partner.id), "code": link.code, "tag": tag, "landing_path": landing},
            )
    except IntegrityError as exc:
        raise DomainError(
            "The partner already has a link with this tag on this brand.", field="tag", code=ErrorCode.ALREADY_EXISTS
        ) from exc
    return link


async def archive(rt: Runtime, actor: Viewer, partner_id: uuid.UUID, link_id: uuid.UUID) -> AffiliateLink:
    """Archive a link of this partner (its code then answers 404; audited). Archiving twice changes nothing.
    Staff scoped to a brand archive that brand's links only."""
    async with rt.database.transaction() as db:
        link = await db.scalar(
            select(AffiliateLink)
            .where(col(AffiliateLink.id) == link_id, col(AffiliateLink.affiliate_id) == partner_id)
            .with_for_update()
        )
        if link is None or (actor.is_staff and actor.brand_id not in (None, link.brand_id)):
            raise NotFound("No such link.", field="linkId")
        if link.archived_at is None:
            link.archived_at = clock.now()
            await db.flush()
            await audit.append(
                db,
                actor=actor,
                action="affiliate.link_archive",
                target_type="affiliate_link",
                target_id=link.id,
                brand_id=link.brand_id,
                after={"archived_at": link.archived_at.isoformat()},
            )
    return link


async def partner_of_link(db: AsyncSession, link_id: uuid.UUID) -> uuid.UUID:
    found = await db.scalar(select(col(AffiliateLink.affiliate_id)).where(col(AffiliateLink.id) == link_id))
    if found is None:
        raise NotFound("No such link.", field="linkId")
    return found


async def target(db: AsyncSession, code: str) -> Target | None:
    """The live link behind a code, with its partner's status and brand (None: unknown, archived, or its
    partner closed — the click endpoint answers 404 for all three alike)."""
    row = (
        await db.execute(
            select(AffiliateLink, col(Affiliate.status), col(Brand.code))
            .join(Affiliate, col(Affiliate.id) == col(AffiliateLink.affiliate_id))
            .join(Brand, col(Brand.id) == col(AffiliateLink.brand_id))
            .where(col(AffiliateLink.code) == code, col(AffiliateLink.archived_at).is_(None))
        )
    ).first()
    if row is None or row[1] == AffiliateStatus.CLOSED.value:
        return None
    return Target(row[0], AffiliateStatus(row[1]), row[2])


async def links_of(
    db: AsyncSession, partner_ids: Sequence[uuid.UUID], *, archived: bool = True, brand_id: uuid.UUID | None = None
) -> dict[uuid.UUID, list[AffiliateLink]]:
    """The links of a page of partners, newest first (one statement). `brand_id`: only that brand's — staff
    scoped to a brand never see a multi-brand partner's links on other brands (the filter is in the SQL)."""
    if not partner_ids:
        return {}
    stmt = select(AffiliateLink).where(col(AffiliateLink.affiliate_id).in_(list(partner_ids)))
    if brand_id is not None:
        stmt = stmt.where(col(AffiliateLink.brand_id) == brand_id)
    if not archived:
        stmt = stmt.where(col(AffiliateLink.archived_at).is_(None))
    rows = await db.execute(stmt.order_by(col(AffiliateLink.created_at).desc(), col(AffiliateLink.id).desc()))
    found: dict[uuid.UUID, list[AffiliateLink]] = {}
    for link in rows.scalars():
        found.setdefault(link.affiliate_id, []).append(link)
    return found
