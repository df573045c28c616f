"""The people who sign in to the partner portal for a partner (`affiliate_users`).

Staff create a portal user with a password (checked like every password: authz/passwords.py) and disable one;
a disabled user, or any user of a closed partner, cannot sign in (the sign-in itself is the affiliate
subject's: afftokens). An email signs in for one partner only (unique across partners). Audited; the password
hash never leaves this module's rows and is never logged or audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.passwords import hash_password, password_problem
from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.affiliates import AffiliateStatus, AffiliateUser
from services import audit
from services.affiliates import partners


async def create(
    rt: Runtime, viewer: Viewer, affiliate_id: uuid.UUID, *, email: str, password: str, display_name: str | None
) -> AffiliateUser:
    """A portal user of a partner the viewer may read (audited `affiliate.user_create`)."""
    address = partners.normalise_email(email, field="email", test_domains=not rt.settings.is_production)
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="password", code=ErrorCode.WEAK_PASSWORD)
    name = (display_name or "").strip() or None
    if name is not None and len(name) > 120:
        raise DomainError("At most 120 characters.", field="displayName")
    password_hash = await hash_password(password)
    try:
        async with rt.database.transaction() as db:
            partner = await partners.get_readable(db, viewer, affiliate_id)
            if partner.status == AffiliateStatus.CLOSED.value:
                raise DomainError("The partner is closed.", field="affiliateId", code=ErrorCode.INVALID_STATE)
            user = AffiliateUser(
                affiliate_id=partner.id,
                email=address,
                password_hash=password_hash,
                display_name=name,
                created_by=viewer.id if viewer.is_staff else None,
            )
            db.add(user)
            await db.flush()
            await audit.append(
                db,
                actor=viewer,
                action="affiliate.user_create",
                target_type="affiliate_user",
                target_id=user.id,
                brand_id=viewer.brand_id,
                after={"affiliate_id": str(partner.id), "email": address, "display_name": name},
            )
    except IntegrityError as exc:
        raise DomainError(
            "A portal user with this email exists.", field="email", code=ErrorCode.ALREADY_EXISTS
        ) from exc
    return user


async def disable(rt: Runtime, viewer: Viewer, user_id: uuid.UUID, reason: str) -> AffiliateUser:
    """Disable a portal user of a partner the viewer may read (audited with the reason; twice: nothing new)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason.", field="reason")
    async with rt.database.transaction() as db:
        user = await db.scalar(
            select(AffiliateUser)
            .where(col(AffiliateUser.id) == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if user is None:
            raise NotFound("No such portal user.", field="userId")
        await partners.get_readable(db, viewer, user.affiliate_id)  # NOT_FOUND outside the viewer's brands
        if user.disabled_at is None:
            user.disabled_at = clock.now()
            await db.flush()
            await audit.append(
                db,
                actor=viewer,
                action="affiliate.user_disable",
                target_type="affiliate_user",
                target_id=user.id,
                brand_id=viewer.brand_id,
                after={"disabled_at": user.disabled_at.isoformat()},
                reason=reason,
            )
    return user


async def users_of(db: AsyncSession, affiliate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AffiliateUser]]:
    """The portal users of a page of partners (one statement)."""
    if not affiliate_ids:
        return {}
    rows = await db.execute(
        select(AffiliateUser)
        .where(col(AffiliateUser.affiliate_id).in_(list(affiliate_ids)))
        .order_by(col(AffiliateUser.created_at), col(AffiliateUser.id))
    )
    found: dict[uuid.UUID, list[AffiliateUser]] = {}
    for user in rows.scalars():
        found.setdefault(user.affiliate_id, []).append(user)
    return found
