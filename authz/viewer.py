"""Turn a request's credentials into a `Viewer` (used by GraphQL over HTTP and WebSocket)."""

from __future__ import annotations

import uuid

from authz.jwt import InvalidToken
from authz.subjects import ANONYMOUS, RequestMeta, Viewer
from core.clock import clock
from core.errors import DomainError
from core.runtime import Runtime
from services import auth, staff
from services.affiliates import portal_auth
from services.affiliates import tokens as affiliate_tokens


class ViewerRejected(Exception):
    """The credentials were presented but are not good (expired, forged, revoked), or the request's
    brand cannot be chosen (`bad_input`: the token is fine, the header is missing or unknown)."""

    def __init__(self, message: str, *, bad_input: bool = False, unchecked_session: uuid.UUID | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.bad_input = bad_input
        self.unchecked_session = unchecked_session  # `revocation_later`: the session still to check


# A full session plays; any other scope (a self-excluded player's "withdrawal" login) can only
# read the account and withdraw (authz/policy.csv, role player_withdrawal).
PLAYER_ROLES = {"full": "player"}


async def viewer_for(
    rt: Runtime, access_token: str | None, *, brand_code: str | None, meta: RequestMeta, revocation_later: bool = False
) -> Viewer:
    """`revocation_later`: the session is not checked here; the caller checks the returned viewer's
    `session_id` (or ViewerRejected's `unchecked_session`) before anything else uses the viewer (the HTTP
    path: RequestGate, with the rate-limit hit in the same Redis command)."""
    if not access_token:
        return ANONYMOUS.with_meta(meta)
    if affiliate_tokens.looks_like_token(access_token):
        return await _api_token_viewer(rt, access_token, meta, revocation_later=revocation_later)
    try:
        if revocation_later:
            claims = auth.verify_access_token(rt, access_token)
        else:
            claims = await auth.authenticate(rt, access_token)
    except InvalidToken as exc:
        # Not a player's or staff member's: perhaps a partner's portal sign-in (its own audience).
        return await _portal_viewer(rt, access_token, meta, exc, revocation_later=revocation_later)
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
    try:
        scope = await staff.scope_for_request(rt, claims.subject_id, brand_code)
    except DomainError as exc:
        # A revoked session is refused as such (not for its brand, nor as disabled): the caller's check says so.
        unchecked = claims.session_id if revocation_later else None
        raise ViewerRejected(exc.message, bad_input=True, unchecked_session=unchecked) from exc
    if scope is None:
        raise ViewerRejected(
            "staff account disabled", unchecked_session=claims.session_id if revocation_later else None
        )
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


async def _api_token_viewer(rt: Runtime, token: str, meta: RequestMeta, *, revocation_later: bool) -> Viewer:
    """A partner's scoped API token (services/affiliates/tokens.py): looked up by its hash every request."""
    viewer = await affiliate_tokens.viewer_for_token(rt, token, meta)
    if viewer is None:
        raise ViewerRejected("invalid API token")
    if not revocation_later and viewer.session_id and await auth.is_session_revoked(rt, viewer.session_id):
        raise ViewerRejected("API token revoked")
    return viewer


async def _portal_viewer(
    rt: Runtime, token: str, meta: RequestMeta, refused: InvalidToken, *, revocation_later: bool
) -> Viewer:
    """A partner's portal sign-in, or the first refusal when the token is not one."""
    try:
        claims = portal_auth.is_affiliate_jwt(rt, token)
        if claims is None:
            raise ViewerRejected(str(refused)) from refused
        viewer = await portal_auth.viewer_for_sign_in(rt, claims, meta)
    except InvalidToken as exc:
        raise ViewerRejected(str(exc)) from exc
    if not revocation_later and viewer.session_id and await auth.is_session_revoked(rt, viewer.session_id):
        raise ViewerRejected("session revoked")
    return viewer


async def still_valid(rt: Runtime, viewer: Viewer) -> Viewer | None:
    """For long-lived connections: the viewer as they are now, or None when their token expired, their
    session was revoked (logout, block, password change) or their staff account was disabled."""
    if viewer.id is None:
        return viewer
    if viewer.expires_at is not None and viewer.expires_at <= clock.now():
        return None
    if viewer.session_id is not None and await auth.is_session_revoked(rt, viewer.session_id):
        return None
    if viewer.is_affiliate:  # its token revoked or its partner closed, its portal user disabled: as viewer_for
        live = portal_auth.still_signed_in if viewer.affiliate_user_id else affiliate_tokens.still_active
        return viewer if await live(rt, viewer) else None
    if not viewer.is_staff:
        return viewer
    try:
        brand = None if viewer.brand_code == "*" else viewer.brand_code
        scope = await staff.scope_for_request(rt, viewer.id, brand)
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
