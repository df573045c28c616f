"""Turn a request's credentials into a `Viewer` (used by GraphQL over HTTP and WebSocket)."""

from __future__ import annotations

from authz.jwt import InvalidToken
from authz.subjects import ANONYMOUS, RequestMeta, Viewer
from core.errors import DomainError
from services import auth, staff
from services.runtime import Runtime


class ViewerRejected(Exception):
    """The credentials were presented but are not good (expired, forged, revoked), or the request's
    brand cannot be chosen (`bad_input`: the token is fine, the header is missing or unknown)."""

    def __init__(self, message: str, *, bad_input: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.bad_input = bad_input


async def viewer_for(rt: Runtime, access_token: str | None, *, brand_code: str | None,
                     meta: RequestMeta) -> Viewer:
    if not access_token:
        return ANONYMOUS.with_meta(meta)
    try:
        claims = await auth.authenticate(rt, access_token)
    except InvalidToken as exc:
        raise ViewerRejected(str(exc)) from exc
    if claims.subject_type == "player":
        return Viewer(kind="player", id=claims.subject_id, session_id=claims.session_id,
                      brand_id=claims.brand_id, roles=frozenset({"player"}), meta=meta)
    async with rt.database.session() as db:
        try:
            scope = await staff.scope_for_request(db, claims.subject_id, brand_code)
        except DomainError as exc:
            raise ViewerRejected(exc.message, bad_input=True) from exc
    if scope is None:
        raise ViewerRejected("staff account disabled")
    return Viewer(kind="staff", id=claims.subject_id, session_id=claims.session_id, brand_id=scope.brand_id,
                  brand_code=scope.brand_code, roles=scope.roles, meta=meta)
