"""Sessions and tokens for players and staff.

A login opens a session (device, IP, country) and returns a short-lived access JWT and an opaque
refresh token. Refreshing spends the refresh token and returns the next one; a spent token that
comes back is a stolen copy or a replay, so the whole session (the token family) is revoked.
Refresh tokens are stored only as SHA-256 hashes. Revoking a session also marks it in Redis for
one access-token lifetime, so its access tokens stop working at once, not at expiry, and ends the
game sessions launched from it (their provider tokens are checked in the database, not in Redis).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.jwt import AccessClaims, InvalidToken, parse_access_claims
from authz.subjects import RequestMeta, Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.ids import new_id
from core.logging import get_logger
from core.runtime import Runtime
from models.auth import AuthSession, RefreshToken
from models.players import Player, PlayerStatus
from models.staff import StaffStatus, StaffUser
from services import audit, game_sessions

log = get_logger(__name__)
REVOKED_KEY = "auth:revoked:{}"


class RateLimited(DomainError):
    """Too many attempts; the edge turns this into a RATE_LIMITED request error."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many attempts; retry in {retry_after} s.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    session_id: uuid.UUID


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _device_from(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    ua = user_agent.lower()
    platform = next(
        (
            name
            for key, name in (
                ("iphone", "iPhone"),
                ("ipad", "iPad"),
                ("android", "Android"),
                ("windows", "Windows"),
                ("mac os", "macOS"),
                ("linux", "Linux"),
            )
            if key in ua
        ),
        "Other",
    )
    browser = next(
        (
            name
            for key, name in (
                ("edg/", "Edge"),
                ("firefox", "Firefox"),
                ("chrome", "Chrome"),
                ("safari", "Safari"),
                ("curl", "curl"),
                ("python", "Python"),
            )
            if key in ua
        ),
        "Other",
    )
    return f"{browser} on {platform}"


def issue_access_token(rt: Runtime, session: AuthSession) -> tuple[str, datetime]:
    ttl = timedelta(seconds=rt.settings.access_token_ttl_seconds)
    claims = {
        "sub": f"{session.subject_type}:{session.subject_id}",
        "sid": str(session.id),
        "typ": "access",
        "brand": str(session.brand_id) if session.brand_id and session.subject_type == "player" else None,
    }
    if session.scope != "full":
        claims["scope"] = session.scope
    token = rt.keyring.issue(claims, issuer=rt.settings.jwt_issuer, audience=rt.settings.jwt_audience, ttl=ttl)
    return token, clock.now() + ttl


async def _new_refresh_token(db: AsyncSession, session_id: uuid.UUID) -> str:
    token = secrets.token_urlsafe(32)
    db.add(RefreshToken(session_id=session_id, token_hash=_hash_token(token)))
    await db.flush()
    return token


async def start_session(
    db: AsyncSession,
    rt: Runtime,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    meta: RequestMeta,
    scope: str = "full",
) -> IssuedTokens:
    now = clock.now()
    session = AuthSession(
        subject_type=subject_type,
        subject_id=subject_id,
        brand_id=brand_id,
        scope=scope,
        ip=meta.ip,
        country=meta.country,
        user_agent=(meta.user_agent or "")[:512] or None,
        device=_device_from(meta.user_agent),
        last_seen_at=now,
        expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds),
    )
    db.add(session)
    await db.flush()
    refresh_token = await _new_refresh_token(db, session.id)
    access_token, expires_at = issue_access_token(rt, session)
    await _in_use_until(db, session.id, now, expires_at)
    return IssuedTokens(access_token, refresh_token, expires_at, session.id)


_IN_USE_UNTIL = text("""
WITH extended AS (
  UPDATE session_spans SET ends_at = :ends WHERE session_id = :session AND ends_at >= :now RETURNING 1
)
INSERT INTO session_spans (id, session_id, started_at, ends_at)
SELECT :id, :session, :now, :ends WHERE NOT EXISTS (SELECT 1 FROM extended)
""")


async def _in_use_until(db: AsyncSession, session_id: uuid.UUID, now: datetime, ends: datetime) -> None:
    """A new access token: the session's current span runs until it expires, or, after a gap (the
    last token had expired), a new span begins now. Only the newest span can still be running."""
    await db.execute(_IN_USE_UNTIL, {"id": new_id(), "session": session_id, "now": now, "ends": ends})


async def _mark_revoked(rt: Runtime, session_ids: list[uuid.UUID]) -> None:
    if not session_ids:
        return
    ttl = rt.settings.access_token_ttl_seconds + 60
    try:
        async with rt.redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.set(REVOKED_KEY.format(sid), 1, ex=ttl)
            await pipe.execute()
    except (RedisError, OSError):
        # The database still says revoked; access checks fall back to it while Redis is away.
        log.warning("revocation_not_cached", sessions=len(session_ids))


async def revoke_sessions(
    db: AsyncSession,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    reason: str,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke a subject's live sessions (one, all, or all but one); returns the revoked ids.

    Every way a login session ends comes through here, and a player's game sessions launched from the
    revoked ones end with them, in this transaction (services/game_sessions.py): their tokens take no
    more bets, while wins and rollbacks of rounds already open still settle. Each ended session of a
    player is a `player.session_ended` event, `reason` its code (core/catalogue/players.py).
    Call `after_commit_revoked` with the result once the transaction has committed.
    """
    stmt = (
        update(AuthSession)
        .where(
            col(AuthSession.subject_type) == subject_type,
            col(AuthSession.subject_id) == subject_id,
            col(AuthSession.revoked_at).is_(None),
        )
        .values(revoked_at=clock.now(), revoke_reason=reason)
        .returning(col(AuthSession.id), col(AuthSession.brand_id))
    )
    if only is not None:
        stmt = stmt.where(col(AuthSession.id) == only)
    if keep is not None:
        stmt = stmt.where(col(AuthSession.id) != keep)
    rows = (await db.execute(stmt)).all()
    revoked = [row.id for row in rows]
    if subject_type == "player":
        await game_sessions.end_for_login_sessions(db, revoked)
        for row in rows:
            await outbox.emit(
                db,
                "player.session_ended",
                f"player:{subject_id}",
                {"player_id": str(subject_id), "session_id": str(row.id), "reason": reason},
                brand_id=row.brand_id,
            )
    return revoked


async def after_commit_revoked(rt: Runtime, session_ids: list[uuid.UUID]) -> None:
    await _mark_revoked(rt, session_ids)


async def refresh(rt: Runtime, refresh_token: str, meta: RequestMeta) -> tuple[IssuedTokens, AuthSession]:
    """Spend a refresh token and issue the next pair; a reused token revokes its whole session."""
    reused: AuthSession | None = None
    async with rt.database.transaction() as db:
        row = (
            await db.execute(
                select(RefreshToken, AuthSession)
                .join(AuthSession, col(AuthSession.id) == col(RefreshToken.session_id))
                .where(col(RefreshToken.token_hash) == _hash_token(refresh_token))
                .with_for_update()
            )
        ).first()
        if row is None:
            raise DomainError("The refresh token is not valid.", code=ErrorCode.TOKEN_INVALID, field="refreshToken")
        token, session = row
        now = clock.now()
        if session.revoked_at is not None or session.expires_at <= now:
            raise DomainError(
                "The session has ended; log in again.", code=ErrorCode.TOKEN_INVALID, field="refreshToken"
            )
        if token.used_at is not None:
            revoked = await revoke_sessions(
                db,
                subject_type=session.subject_type,
                subject_id=session.subject_id,
                reason="refresh_token_reuse",
                only=session.id,
            )
            await audit.append(
                db,
                actor=Viewer().with_meta(meta),
                action="auth.refresh_token_reused",
                actor_type=session.subject_type,
                actor_id=session.subject_id,
                target_type="session",
                target_id=session.id,
                brand_id=session.brand_id,
            )
            reused = session
        else:
            if not await _subject_is_active(db, session):
                raise DomainError("The account can no longer sign in.", code=ErrorCode.ACCOUNT_BLOCKED)
            token.used_at = now
            session.last_seen_at = now
            if meta.ip:
                session.ip = meta.ip
            next_refresh = await _new_refresh_token(db, session.id)
            access_token, expires_at = issue_access_token(rt, session)
            await _in_use_until(db, session.id, now, expires_at)
            issued = IssuedTokens(access_token, next_refresh, expires_at, session.id)
    if reused is not None:
        await _mark_revoked(rt, revoked)
        raise DomainError(
            "This refresh token was already used; the session has been revoked.",
            code=ErrorCode.TOKEN_REUSED,
            field="refreshToken",
        )
    return issued, session


async def _subject_is_active(db: AsyncSession, session: AuthSession) -> bool:
    if session.subject_type == "player":
        status = await db.scalar(select(col(Player.status)).where(col(Player.id) == session.subject_id))
        return status == PlayerStatus.ACTIVE
    status = await db.scalar(select(col(StaffUser.status)).where(col(StaffUser.id) == session.subject_id))
    return status == StaffStatus.ACTIVE


async def is_session_revoked(rt: Runtime, session_id: uuid.UUID) -> bool:
    try:
        # In the process's shared pipeline (core/redis_batch.py): with the checks of every other request
        # asking at the same time.
        return bool(await rt.redis_batch.execute("EXISTS", REVOKED_KEY.format(session_id)))
    except (RedisError, OSError):
        return await is_session_revoked_in_database(rt, session_id)


async def is_session_revoked_in_database(rt: Runtime, session_id: uuid.UUID) -> bool:
    """The revocation as the database has it (when Redis cannot be asked)."""
    async with rt.database.session() as db:
        revoked_at = await db.scalar(select(col(AuthSession.revoked_at)).where(col(AuthSession.id) == session_id))
    return revoked_at is not None


def verify_access_token(rt: Runtime, access_token: str) -> AccessClaims:
    """An access token's claims, its signature, issuer, audience and expiry checked (not its session: see
    `authenticate`). Raises InvalidToken."""
    return parse_access_claims(
        rt.keyring.verify(access_token, issuer=rt.settings.jwt_issuer, audience=rt.settings.jwt_audience)
    )


async def authenticate(rt: Runtime, access_token: str) -> AccessClaims:
    """Verify an access token and that its session is still live. Raises InvalidToken."""
    claims = verify_access_token(rt, access_token)
    if await is_session_revoked(rt, claims.session_id):
        raise InvalidToken("session revoked")
    return claims


async def logout(rt: Runtime, viewer: Viewer, *, all_sessions: bool) -> list[uuid.UUID]:
    if viewer.id is None or viewer.session_id is None:
        return []
    async with rt.database.transaction() as db:
        revoked = await revoke_sessions(
            db,
            subject_type=viewer.kind,
            subject_id=viewer.id,
            reason="logout",
            only=None if all_sessions else viewer.session_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action=f"{viewer.kind}.logout",
            target_type="session",
            target_id=viewer.session_id,
            brand_id=viewer.brand_id,
            after={"revoked_sessions": len(revoked)},
        )
    await after_commit_revoked(rt, revoked)
    return revoked


async def revoke_own_session(rt: Runtime, viewer: Viewer, session_id: uuid.UUID) -> AuthSession:
    """A player or staff member ends one of their own sessions (e.g. a lost phone)."""
    assert viewer.id is not None
    async with rt.database.transaction() as db:
        session: AuthSession | None = await db.scalar(
            select(AuthSession).where(
                col(AuthSession.id) == session_id,
                col(AuthSession.subject_type) == viewer.kind,
                col(AuthSession.subject_id) == viewer.id,
            )
        )
        if session is None:
            raise DomainError("No such session.", field="sessionId", code=ErrorCode.NOT_FOUND)
        revoked = await revoke_sessions(
            db, subject_type=viewer.kind, subject_id=viewer.id, reason="revoked", only=session_id
        )
        await audit.append(
            db,
            actor=viewer,
            action=f"{viewer.kind}.session_revoked",
            target_type="session",
            target_id=session_id,
            brand_id=viewer.brand_id,
        )
        await db.refresh(session)
    await after_commit_revoked(rt, revoked)
    return session


async def change_password(rt: Runtime, viewer: Viewer, *, current: str, new: str) -> None:
    """Change the viewer's password; every other session of theirs ends."""
    from authz.passwords import hash_password, password_problem, verify_password

    model: type[Player] | type[StaffUser] = Player if viewer.kind == "player" else StaffUser
    # Someone holding a stolen access token must not be able to guess the password through here.
    failures_key = f"password:fail:{viewer.kind}:{viewer.id}"
    attempt = await rt.rate_limiter.hit(
        failures_key, limit=rt.settings.login_failures_per_account, window=rt.settings.login_account_window_seconds
    )
    if not attempt.allowed:  # counted before the slow check, so parallel guesses cannot all slip through
        raise RateLimited(attempt.retry_after)
    async with rt.database.session() as db:
        account: Player | StaffUser | None = await db.get(model, viewer.id)
    if account is None:
        raise DomainError("No such account.", code=ErrorCode.NOT_FOUND)
    if not await verify_password(account.password_hash, current):
        raise DomainError("The current password is wrong.", field="currentPassword", code=ErrorCode.INVALID_CREDENTIALS)
    problem = password_problem(new)
    if problem:
        raise DomainError(problem, field="newPassword", code=ErrorCode.WEAK_PASSWORD)
    new_hash = await hash_password(new)
    async with rt.database.transaction() as db:
        await db.execute(update(model).where(col(model.id) == viewer.id).values(password_hash=new_hash))
        assert viewer.id is not None
        revoked = await revoke_sessions(
            db, subject_type=viewer.kind, subject_id=viewer.id, reason="password_changed", keep=viewer.session_id
        )
        if viewer.kind == "player":
            await outbox.emit(
                db,
                "player.password_changed",
                f"player:{viewer.id}",
                {"player_id": str(viewer.id), "sessions_ended": len(revoked)},
                brand_id=viewer.brand_id,
            )
        await audit.append(
            db,
            actor=viewer,
            action=f"{viewer.kind}.password_changed",
            target_type=viewer.kind,
            target_id=viewer.id,
            brand_id=viewer.brand_id,
            after={"revoked_sessions": len(revoked)},
        )
    await after_commit_revoked(rt, revoked)
    await rt.rate_limiter.reset(failures_key)
