"""What every mutation resolver shares: domain errors into payloads, auth cookies."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import text

from core.errors import DomainError, rate_limited, unauthenticated
from schema.base import UserError
from schema.context import Info
from services.auth import IssuedTokens, RateLimited
from services.crm import i18n

P = ParamSpec("P")
R = TypeVar("R")

ACCESS_COOKIE = "croupier_access"
REFRESH_COOKIE = "croupier_refresh"


def payload_errors(payload: type[R]) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Map a service's DomainError to `payload(errors=[...])`; rate limits stay request errors."""

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(resolver)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except RateLimited as exc:
                raise rate_limited(exc.retry_after) from exc
            except DomainError as exc:
                error = UserError.from_domain(exc)
                info = kwargs.get("info", args[0] if args else None)
                language = await refusal_language(info) if hasattr(info, "context") else None
                if language is not None:
                    error.message = i18n.gettext(error.message, language)
                return payload(errors=[error])  # type: ignore[call-arg]

        return wrapper

    return decorate


async def refusal_language(info: Any) -> str | None:
    """The language a refusal is told in (services/crm/i18n): a player's own, an anonymous visitor's
    Accept-Language among the catalogued ones; staff and partners read the English the code wrote."""
    viewer = info.context.viewer
    if viewer.is_player and viewer.id is not None:
        async with info.context.rt.database.statement() as conn:
            language = await conn.scalar(text("SELECT language FROM players WHERE id = :id"), {"id": viewer.id})
        return str(language) if language else None
    if viewer.kind == "anonymous":
        request: Any = info.context.request
        return i18n.language_for(request.headers.get("accept-language")) if request is not None else None
    return None


def require_subject(info: Info) -> None:
    if info.context.viewer.id is None:
        raise unauthenticated()


def set_auth_cookies(info: Info, tokens: IssuedTokens) -> None:
    """Browser clients (the back office) may keep tokens in HttpOnly cookies instead of memory.

    Cookie mode is opt-in: a client that wants it sends the CSRF header on every request, login
    included (it must send it on every cookie-authenticated request anyway). Everyone else (API
    clients, GraphiQL) gets the tokens in the payload only, so no cookie silently turns their next
    request into a cookie-authenticated one.
    """
    response: Any = info.context.response
    request: Any = info.context.request
    settings = info.context.rt.settings
    if response is None or request is None or not request.headers.get(settings.csrf_header):
        return
    response.set_cookie(
        ACCESS_COOKIE,
        tokens.access_token,
        max_age=settings.access_token_ttl_seconds,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/graphql",
    )


def clear_auth_cookies(info: Info) -> None:
    response: Any = info.context.response
    if response is not None:
        response.delete_cookie(ACCESS_COOKIE, path="/")
        response.delete_cookie(REFRESH_COOKIE, path="/graphql")
