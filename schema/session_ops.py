"""Inputs and payloads shared by players and staff: refresh, logout, password, sessions."""

from __future__ import annotations

import strawberry

from schema.auth import AuthTokens
from schema.base import UserError
from schema.input_limits import PASSWORD, TOKEN, text
from schema.players import Session


@strawberry.input
class RefreshTokenInput:
    refresh_token: str | None = text(
        TOKEN, default=None, description="Omit to use the refresh cookie set at login (then send the CSRF header)."
    )


@strawberry.type
class RefreshTokenPayload:
    tokens: AuthTokens | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class LogoutInput:
    all_sessions: bool = False


@strawberry.type
class LogoutPayload:
    revoked_sessions: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangePasswordInput:
    current_password: str = text(PASSWORD)
    new_password: str = text(PASSWORD)


@strawberry.type
class ChangePasswordPayload:
    changed: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeSessionInput:
    session_id: strawberry.ID


@strawberry.type
class RevokeSessionPayload:
    session: Session | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
