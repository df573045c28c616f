"""Which sessions can play, and how a game session ends with the login session it was launched from.

A player plays through two kinds of session: a login session (`auth_sessions`, one sign-in on one
device) and the game sessions launched from it (`game_sessions`, one launched game whose token the
provider's wallet calls carry; `auth_session_id` names its login session). One rule says which can play:
- a login session can play while it is neither revoked nor expired and has the `full` scope (a
  `withdrawal` session may only take money out): `login_can_play`;
- a game session can play — take bets — while it is real money, not ended and not expired:
  `game_can_play` in SQL, `can_bet` on a row already read (the provider wallet's context statement).

Invariants:
- Ending a login session ends its game sessions in the same transaction: every path that ends one
  (logout, logout everywhere, revoking one, a password change, a staff block or closure, a self-
  exclusion, a reality-check stop, a reused refresh token) goes through `services/auth.revoke_sessions`,
  which calls `end_for_login_sessions`. The row then carries `ended_at`, so the wallet's hot path
  reads the answer in the statement it already runs: no extra round trip, no cache to go stale.
- A launch cannot outlive a logout that races it: `hold_login` runs after the launch wrote its game
  session and holds the login row (FOR SHARE) until commit, so a concurrent revocation either ended
  the login first (the launch is refused and writes nothing) or waits and then ends the new game too.
  The launch's insert has already taken its key-share lock on the player row by then, the same
  player-then-login order a staff block takes, so the two cannot deadlock.
- Ending stops bets only. Wins and rollbacks of rounds already open still settle (the Hub88 contract
  checks a token's expiry on bets only), so no stake is left without its outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import prepared
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.prepared import Statement
from models.auth import AuthSession
from models.games import GameMode, GameSession

PLAYING_SCOPE = "full"


def login_can_play(now: datetime) -> ColumnElement[bool]:
    """For `AuthSession` rows in a statement: the login session may still play."""
    return and_(
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > now,
        col(AuthSession.scope) == PLAYING_SCOPE,
    )


def game_can_play(now: datetime) -> ColumnElement[bool]:
    """For `GameSession` rows in a statement: the game session may still take bets."""
    return and_(
        col(GameSession.mode) == GameMode.REAL.value,
        col(GameSession.ended_at).is_(None),
        col(GameSession.expires_at) > now,
    )


def can_bet(ended_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """`game_can_play` for a real-money session row already read (its mode is checked with its owner)."""
    return ended_at is None and expires_at is not None and expires_at > now


async def end_for_login_sessions(db: AsyncSession, login_session_ids: Sequence[uuid.UUID]) -> None:
    """End the game sessions launched from these login sessions (call in the transaction that ends them,
    after the statement that revoked them, so a launch that held one of them is seen here)."""
    if not login_session_ids:
        return
    await db.execute(
        update(GameSession)
        .where(col(GameSession.auth_session_id).in_(list(login_session_ids)), col(GameSession.ended_at).is_(None))
        .values(ended_at=clock.now())
    )


# Every game session of a player still able to bet, ended (also on a risk consumer's connection: risk's
# `block_account`, services/risk/actions.py).
END_FOR_PLAYER = Statement("""
UPDATE game_sessions SET ended_at = :now WHERE player_id = :player AND ended_at IS NULL RETURNING id
""")


async def end_for_player(db: AsyncSession, player_id: uuid.UUID) -> None:
    """End every game session of a player still able to bet (a spent time limit: those whose login
    session lapsed without being revoked are not reached through `end_for_login_sessions`; risk's
    `block_account`)."""
    await prepared.rows(db, END_FOR_PLAYER, {"player": player_id, "now": clock.now()})


async def hold_login(db: AsyncSession, login_session_id: uuid.UUID) -> None:
    """Refuse a launch whose login session can no longer play, and hold that session until commit."""
    can_play = await db.scalar(
        select(login_can_play(clock.now()).label("can_play"))
        .where(col(AuthSession.id) == login_session_id)
        .with_for_update(read=True)
    )
    if not can_play:
        raise DomainError("Your login session has ended; log in again.", code=ErrorCode.TOKEN_INVALID)
