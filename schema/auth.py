"""Tokens returned by login and refresh."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.auth import IssuedTokens


@strawberry.type(
    description="Bearer credentials. Send `Authorization: Bearer <accessToken>`; refresh before "
    "`accessTokenExpiresAt` with `refreshToken` (each refresh token works once)."
)
class AuthTokens:
    access_token: str
    refresh_token: str
    access_token_expires_at: datetime
    token_type: str = "Bearer"

    @classmethod
    def from_issued(cls, tokens: IssuedTokens) -> AuthTokens:
        return cls(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            access_token_expires_at=tokens.access_expires_at,
        )
