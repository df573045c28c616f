"""Partners' scoped API tokens: create (the secret shown once), list, revoke, and authenticate a request.

A token is `caf_` + 32 random bytes in URL-safe base64 (256 bits), so its SHA-256 is all that needs
keeping: a guess cannot be tested offline against a hash of that much entropy, and a slow hash would only
slow every API request. `prefix` (the first 12 characters) lets a partner recognise a token in its list.

Invariants: a token acts only for its own partner and only with its own scopes (never more than a portal
user holds, and never `affiliate_portal`: a token cannot manage tokens); it stops working at its expiry or
revocation, when its partner is suspended or closed (an integration runs unattended: a partner under review makes
no automated reads; reactivated, its tokens work again), and when the portal user who made it is disabled (a token
is that person's credential: their leaving ends their integrations; the partner makes new ones as another user).
A partner that is not active makes no new token. Every list and lookup filters by the partner in its WHERE
clause.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import RequestMeta, Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound, forbidden
from core.runtime import Runtime
from models.affiliate_tokens import AffiliateApiToken, Scope
from services import audit, auth
from services.affiliates.portal_auth import roles_for

TOKEN_PREFIX = "caf_"
PREFIX_LENGTH = 12
MAX_LIFETIME = timedelta(days=366)
MAX_LIVE_TOKENS = 20  # per partner: enough for every integration, few enough to review
LAST_USED_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often per token


@dataclass(frozen=True)
class CreatedToken:
    token: AffiliateApiToken
    secret: str


def looks_like_token(credential: str) -> bool:
    return credential.startswith(TOKEN_PREFIX)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_active(token: AffiliateApiToken, now: datetime) -> bool:
    return token.revoked_at is None and token.expires_at > now


async def create(
    db: AsyncSession, viewer: Viewer, *, name: str, scopes: Sequence[Scope], expires_at: datetime
) -> CreatedToken:
    affiliate_id = _own_partner(viewer)
    name = name.strip()
    now = clock.now()
    status = await db.scalar(text("SELECT status FROM affiliates WHERE id = :id"), {"id": affiliate_id})
    if status != "active":
        raise DomainError(
            f"The partner is {status}: it makes no API token until reactivated.", code=ErrorCode.INVALID_STATE
        )
    if not name:
        raise DomainError("Give the token a name.", field="name")
    if not scopes:
        raise DomainError("Choose at least one scope.", field="scopes")
    if expires_at.tzinfo is None:
        raise DomainError("Give the expiry with its time zone.", field="expiresAt")
    if expires_at <= now:
        raise DomainError("The expiry must be in the future.", field="expiresAt")
    if expires_at > now + MAX_LIFETIME:
        raise DomainError("A token lives at most a year.", field="expiresAt", code=ErrorCode.LIMIT_REACHED)
    live = await db.scalar(
        text(
            "SELECT count(*) FROM affiliate_api_tokens "
            "WHERE affiliate_id = :affiliate AND revoked_at IS NULL AND expires_at > :now"
        ),
        {"affiliate": affiliate_id, "now": now},
    )
    if int(live or 0) >= MAX_LIVE_TOKENS:
        raise DomainError(
            f"At most {MAX_LIVE_TOKENS} live tokens: revoke one first.", code=ErrorCode.LIMIT_REACHED, field="name"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AffiliateApiToken(
        affiliate_id=affiliate_id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=_hash(secret),
        scopes=[s.value for s in Scope if s in set(scopes)],
        expires_at=expires_at,
        created_by=viewer.affiliate_user_id,
        created_at=now,
    )
    db.add(token)
    await db.flush()
    await _audit(db, viewer, "affiliate.token_created", token)
    return CreatedToken(token, secret)


def listed(affiliate_id: uuid.UUID) -> SelectOfScalar[AffiliateApiToken]:
    """The partner's tokens, newest first (the ownership filter is the statement's WHERE)."""
    return (
        select(AffiliateApiToken)
        .where(col(AffiliateApiToken.affiliate_id) == affiliate_id)
        .order_by(col(AffiliateApiToken.created_at).desc(), col(AffiliateApiToken.id).desc())
    )


async def revoke(rt: Runtime, viewer: Viewer, token_id: uuid.UUID) -> AffiliateApiToken:
    """Revoke one of the viewer's partner's tokens (another partner's is NOT_FOUND, as an unknown id is).
    Revoking a revoked token changes nothing."""
    affiliate_id = _own_partner(viewer)
    async with rt.database.transaction() as db:
        token = await db.scalar(
            select(AffiliateApiToken)
            .where(col(AffiliateApiToken.id) == token_id, col(AffiliateApiToken.affiliate_id) == affiliate_id)
            .with_for_update()
        )
        if token is None:
            raise NotFound("No such token.", field="id")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            await db.flush()
            await _audit(db, viewer, "affiliate.token_revoked", token)
    # Its requests already in flight on other replicas stop at their next check (services/auth.py's mark).
    with contextlib.suppress(RedisError, OSError):
        await auth.after_commit_revoked(rt, [token.id])
    return token


# A token works while unrevoked, unexpired, its partner active and the portal user who made it enabled.
_USABLE = """t.revoked_at IS NULL AND t.expires_at > :now AND a.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM affiliate_users u WHERE u.id = t.created_by AND u.disabled_at IS NOT NULL)"""
_AUTHENTICATE = text(f"""
SELECT t.id, t.affiliate_id, t.scopes, t.expires_at, t.last_used_at
FROM affiliate_api_tokens t JOIN affiliates a ON a.id = t.affiliate_id
WHERE t.token_hash = :hash AND {_USABLE}""")  # noqa: S608  (a constant)


async def viewer_for_token(rt: Runtime, secret: str, meta: RequestMeta) -> Viewer | None:
    """The viewer a presented API token acts as, or None when it is unknown, revoked, expired, its partner not
    active or its maker disabled. Its last use is
    written at most once a minute, so a busy integration does not write a row per request."""
    now = clock.now()
    async with rt.database.session() as db:
        row = (await db.execute(_AUTHENTICATE, {"hash": _hash(secret), "now": now})).first()
        if row is None:
            return None
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_EVERY:
            await db.execute(
                update(AffiliateApiToken)
                .where(col(AffiliateApiToken.id) == row.id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
            await db.commit()
    scopes = frozenset(Scope(s) for s in row.scopes if s in Scope._value2member_map_)
    return Viewer(
        kind="affiliate",
        id=row.affiliate_id,
        session_id=row.id,
        roles=roles_for(scopes, portal_user=False),
        meta=meta,
        expires_at=row.expires_at,
    )


_STILL_ACTIVE = text(f"""
SELECT 1 FROM affiliate_api_tokens t JOIN affiliates a ON a.id = t.affiliate_id
WHERE t.id = :token AND t.affiliate_id = :affiliate AND {_USABLE}""")  # noqa: S608  (a constant)


async def still_active(rt: Runtime, viewer: Viewer) -> bool:
    """Is an API token's viewer still good: the token neither revoked nor expired, its partner active and its
    maker enabled (long-lived connections ask, as `viewer_for_token` does each HTTP request)?"""
    async with rt.database.session() as db:
        found = await db.scalar(_STILL_ACTIVE, {"token": viewer.session_id, "affiliate": viewer.id, "now": clock.now()})
    return found is not None


async def _audit(db: AsyncSession, viewer: Viewer, action: str, token: AffiliateApiToken) -> None:
    """Who made or revoked which token (never its secret): the portal user, for its partner."""
    await audit.append(
        db,
        actor=viewer,
        action=action,
        actor_id=viewer.affiliate_user_id,
        target_type="affiliate_api_token",
        target_id=token.id,
        after={
            "affiliate_id": str(token.affiliate_id),
            "name": token.name,
            "prefix": token.prefix,
            "scopes": list(token.scopes),
            "expires_at": token.expires_at.isoformat(),
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        },
    )


def _own_partner(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_affiliate or viewer.id is None:
        raise forbidden("Only a partner manages its tokens.")
    return viewer.id
