"""Turn a request's credentials into a `Viewer` (used by GraphQL over HTTP and WebSocket)."""

from __future__ import annotations

from authz.jwt import InvalidToken
from authz.subjects import ANONYMOUS, RequestMeta, Viewer
from core.clock import clock
from core.errors import DomainError
from core.runtime import Runtime
from services import auth, staff


class ViewerRejected(Exception):
    """The credentials were presented but are not good (expired, forged, revoked), or the request's
    brand cannot be chosen (`bad_input`: the token is fine, the header is missing or unknown)."""

    def __init__(self, message: str, *, bad_input: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.bad_input = bad_input


# A full session plays; any other scope (a self-excluded player's "withdrawal" login) can only
# read the account and withdraw (authz/policy.csv, role player_withdrawal).
PLAYER_ROLES = {"full": "player"}


async def viewer_for(rt: Runtime, access_token: str | None, *, brand_code: str | None, meta: RequestMeta) -> Viewer:
    if not access_token:
        return ANONYMOUS.with_meta(meta)
    try:
        claims = await auth.authenticate(rt, access_token)
    except InvalidToken as exc:
        raise ViewerRejected(str(exc)) from exc
    if claims.subject_type == "player":
        return Viewer(
            kind="player",
            id=claims.subject_id,
            session_id=claims.session_id,
            brand_id=claims.brand_id,
            roles=frozenset({PLAYER_ROLES.get(claims.scope, "player_withdrawal")}),
            meta=meta,
            expires_at=claims.expires_at,
        )
    async with rt.database.session() as db:
        try:
            scope = await staff.scope_for_request(db, claims.subject_id, brand_code)
        except DomainError as exc:
            raise ViewerRejected(exc.message, bad_input=True) from exc
    if scope is None:
        raise ViewerRejected("staff account disabled")
    return Viewer(
        kind="staff",
        id=claims.subject_id,
        session_id=claims.session_id,
        brand_id=scope.brand_id,
        brand_code=scope.brand_code,
        roles=scope.roles,
        meta=meta,
        expires_at=claims.expires_at,
    )


async def still_valid(rt: Runtime, viewer: Viewer) -> Viewer | None:
    """For long-lived connections: the viewer as they are now, or None when their token expired, their
    session was revoked (logout, block, password change) or their staff account was disabled."""
    if viewer.id is None:
        return viewer
    if viewer.expires_at is not None and viewer.expires_at <= clock.now():
        return None
    if viewer.session_id is not None and await auth.is_session_revoked(rt, viewer.session_id):
        return None
    if not viewer.is_staff:
        return viewer
    async with rt.database.session() as db:
        try:
            brand = None if viewer.brand_code == "*" else viewer.brand_code
            scope = await staff.scope_for_request(db, viewer.id, brand)
        except DomainError:
            return None
    if scope is None:
        return None
    return Viewer(
        kind="staff",
        id=viewer.id,
        session_id=viewer.session_id,
        brand_id=scope.brand_id,
        brand_code=scope.brand_code,
        roles=scope.roles,
        meta=viewer.meta,
        expires_at=viewer.expires_at,
    )
