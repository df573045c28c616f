"""Refresh, logout, password change, session revocation: for players and staff alike."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError, ErrorCode, forbidden
from resolvers.common import REFRESH_COOKIE, clear_auth_cookies, payload_errors, require_subject, set_auth_cookies
from schema.auth import AuthTokens
from schema.base import node_uuid
from schema.context import Info
from schema.players import Session
from schema.session_ops import (
    ChangePasswordInput,
    ChangePasswordPayload,
    LogoutInput,
    LogoutPayload,
    RefreshTokenInput,
    RefreshTokenPayload,
    RevokeSessionInput,
    RevokeSessionPayload,
)
from services import auth


@payload_errors(RefreshTokenPayload)
async def refresh_token(info: Info, input: RefreshTokenInput | None = None) -> RefreshTokenPayload:
    token = input.refresh_token if input is not None else None
    if not token:
        request: Any = info.context.request
        token = request.cookies.get(REFRESH_COOKIE) if request is not None else None
        if token and not request.headers.get(info.context.rt.settings.csrf_header):
            raise forbidden(f"Refreshing from the cookie needs the {info.context.rt.settings.csrf_header} header.")
    if not token:
        raise DomainError("Send a refresh token.", field="refreshToken", code=ErrorCode.TOKEN_INVALID)
    tokens, _ = await auth.refresh(info.context.rt, token, info.context.viewer.meta)
    set_auth_cookies(info, tokens)
    return RefreshTokenPayload(tokens=AuthTokens.from_issued(tokens))


@payload_errors(LogoutPayload)
async def logout(info: Info, input: LogoutInput | None = None) -> LogoutPayload:
    require_subject(info)
    revoked = await auth.logout(info.context.rt, info.context.viewer, all_sessions=bool(input and input.all_sessions))
    clear_auth_cookies(info)
    return LogoutPayload(revoked_sessions=len(revoked))


@payload_errors(ChangePasswordPayload)
async def change_password(info: Info, input: ChangePasswordInput) -> ChangePasswordPayload:
    require_subject(info)
    await auth.change_password(
        info.context.rt, info.context.viewer, current=input.current_password, new=input.new_password
    )
    return ChangePasswordPayload(changed=True)


@payload_errors(RevokeSessionPayload)
async def revoke_session(info: Info, input: RevokeSessionInput) -> RevokeSessionPayload:
    require_subject(info)
    session = await auth.revoke_own_session(
        info.context.rt, info.context.viewer, node_uuid(input.session_id, "Session")
    )
    return RevokeSessionPayload(session=Session.from_model(session, info.context.viewer.session_id))
