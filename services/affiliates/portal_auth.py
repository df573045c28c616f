"""Who an affiliate viewer is: a portal user's sign-in, or a partner's scoped API token.

A portal user signs in with email and password and gets a short-lived ES256 access token of its own
audience (`<jwt_audience>:affiliate`), so it can never pass for a player's or a staff member's token, nor
theirs for it. It carries the user and the partner; every request checks again, in one statement, that the
user is not disabled and the partner not closed, so disabling a user or closing a partner takes effect at
once. There is no refresh token: the portal signs in again when the token expires (15 minutes by default).

Either way the viewer is `Viewer(kind="affiliate", id=<partner id>)` with the roles of its scopes
(`roles_for`): the base role `affiliate`, one role per scope, and `affiliate_portal` (managing tokens) for a
signed-in user only, so a token can never mint another token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from authz.jwt import InvalidToken
from authz.passwords import verify_password
from authz.subjects import RequestMeta, Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.affiliate_tokens import Scope
from services.auth import RateLimited

AFFILIATE_ROLE = "affiliate"
PORTAL_ROLE = "affiliate_portal"  # a signed-in portal user: manages the partner's tokens
SCOPE_ROLES: dict[Scope, str] = {
    Scope.STATS_READ: "affiliate_stats",
    Scope.LINKS_READ: "affiliate_links_read",
    Scope.LINKS_WRITE: "affiliate_links_write",
    Scope.COMMISSIONS_READ: "affiliate_commissions",
    Scope.POSTBACKS_READ: "affiliate_postbacks",
}
ROLE_SCOPES = {role: scope for scope, role in SCOPE_ROLES.items()}
SUBJECT = "affiliate_user"


def roles_for(scopes: frozenset[Scope], *, portal_user: bool) -> frozenset[str]:
    roles = {AFFILIATE_ROLE, *(SCOPE_ROLES[s] for s in scopes)}
    if portal_user:
        roles.add(PORTAL_ROLE)
    return frozenset(roles)


def scopes_of(viewer: Viewer) -> list[Scope]:
    """The scopes a viewer holds, in their declared order."""
    return [scope for scope in Scope if SCOPE_ROLES[scope] in viewer.roles]


def audience(rt: Runtime) -> str:
    return f"{rt.settings.jwt_audience}:affiliate"


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    expires_at: datetime
    affiliate_id: uuid.UUID


_USER_BY_EMAIL = text("""
SELECT u.id, u.affiliate_id, u.password_hash, u.disabled_at, a.status
FROM affiliate_users u JOIN affiliates a ON a.id = u.affiliate_id
WHERE u.email = :email""")

_USER_STILL_ACTIVE = text("""
SELECT 1 FROM affiliate_users u JOIN affiliates a ON a.id = u.affiliate_id
WHERE u.id = :user AND u.affiliate_id = :affiliate AND u.disabled_at IS NULL AND a.status <> 'closed'""")


async def sign_in(rt: Runtime, *, email: str, password: str, meta: RequestMeta) -> SignedIn:
    """A portal user's access token. Counted against the IP and the account before the (slow) password
    check, as player and staff logins are; a success clears the account's count."""
    from services.players import _check_login_rate

    email = email.strip().lower()
    account_key = f"affiliate:{email}"
    await _check_login_rate(rt, meta.ip, account_key)
    async with rt.database.session() as db:
        user = (await db.execute(_USER_BY_EMAIL, {"email": email})).first()
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid:
        raise DomainError("Wrong email or password.", code=ErrorCode.INVALID_CREDENTIALS)
    if user.disabled_at is not None or user.status == "closed":
        raise DomainError("This portal account is disabled.", code=ErrorCode.ACCOUNT_BLOCKED)
    await rt.rate_limiter.reset(f"login:fail:{account_key}")
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE affiliate_users SET last_login_at = :now WHERE id = :id"), {"now": clock.now(), "id": user.id}
        )
    ttl = timedelta(seconds=rt.settings.access_token_ttl_seconds)
    claims = {"sub": f"{SUBJECT}:{user.id}", "aff": str(user.affiliate_id), "typ": "access", "sid": str(uuid.uuid4())}
    token = rt.keyring.issue(claims, issuer=rt.settings.jwt_issuer, audience=audience(rt), ttl=ttl)
    return SignedIn(token, clock.now() + ttl, user.affiliate_id)


async def sign_out(rt: Runtime, viewer: Viewer) -> None:
    """End a portal sign-in at once: its access token is marked revoked in Redis for the rest of its life (the
    mark every request checks with its rate-limit hit, as players' and staff's sessions are). API tokens end
    with `revokeAffiliateToken` instead."""
    if not viewer.is_affiliate or viewer.affiliate_user_id is None or viewer.session_id is None:
        raise DomainError("Only a portal sign-in signs out.", code=ErrorCode.INVALID_INPUT)
    from services import auth

    await auth.after_commit_revoked(rt, [viewer.session_id])


async def still_signed_in(rt: Runtime, viewer: Viewer) -> bool:
    """Is a signed-in portal user's user still enabled and its partner open (long-lived connections ask)?"""
    async with rt.database.session() as db:
        found = await db.scalar(_USER_STILL_ACTIVE, {"user": viewer.affiliate_user_id, "affiliate": viewer.id})
    return found is not None


def is_affiliate_jwt(rt: Runtime, token: str) -> dict[str, object] | None:
    """The claims when `token` is a valid affiliate access token, None when it is some other JWT (a player's
    or staff member's: their own check takes it). Raises InvalidToken for a forged or expired one."""
    try:
        claims = rt.keyring.verify(token, issuer=rt.settings.jwt_issuer, audience=audience(rt))
    except InvalidToken as exc:
        if "audience" in str(exc).lower():
            return None
        raise
    if claims.get("typ") != "access" or not str(claims.get("sub", "")).startswith(f"{SUBJECT}:"):
        raise InvalidToken("not an affiliate access token")
    return claims


async def viewer_for_sign_in(rt: Runtime, claims: dict[str, object], meta: RequestMeta) -> Viewer:
    """A signed-in portal user as a viewer; InvalidToken when the user was disabled or the partner closed."""
    try:
        user_id = uuid.UUID(str(claims["sub"]).partition(":")[2])
        affiliate_id = uuid.UUID(str(claims["aff"]))
        session_id = uuid.UUID(str(claims["sid"]))
        expires_at = datetime.fromtimestamp(int(str(claims["exp"])), tz=clock.now().tzinfo)
    except (KeyError, ValueError) as exc:
        raise InvalidToken("malformed claims") from exc
    async with rt.database.session() as db:
        active = await db.scalar(_USER_STILL_ACTIVE, {"user": user_id, "affiliate": affiliate_id})
    if not active:
        raise InvalidToken("portal account disabled")
    return Viewer(
        kind="affiliate",
        id=affiliate_id,
        session_id=session_id,
        roles=roles_for(frozenset(Scope), portal_user=True),
        meta=meta,
        expires_at=expires_at,
        affiliate_user_id=user_id,
    )


__all__ = ["RateLimited", "SignedIn", "roles_for", "scopes_of", "sign_in"]
