"""What a player did, counted for limits: money per local day, and time played.

Money counters are written by the code that records the ledger movement, in its database
transaction (deposit credits in services/wallet.py, bets, wins and rollbacks in
services/provider_wallet/), so a limit check under the player's lock sees every committed movement
and nothing uncommitted. Loss is stakes minus wins; a rollback counts on the day of what it undoes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import prepared
from core.prepared import Statement

_COUNT = Statement("""
INSERT INTO rg_activity_days (player_id, currency, day, deposited, wagered, won)
VALUES (:player, :currency, :day, :deposited, :wagered, :won)
ON CONFLICT (player_id, currency, day) DO UPDATE SET
    deposited = rg_activity_days.deposited + EXCLUDED.deposited,
    wagered = rg_activity_days.wagered + EXCLUDED.wagered,
    won = rg_activity_days.won + EXCLUDED.won
""")

# Per currency: money limits count every currency, converted by the caller (services/rg/limits.py).
_TOTALS = text("""
SELECT currency, sum(deposited) AS deposited, sum(wagered) AS wagered, sum(won) AS won
FROM rg_activity_days WHERE player_id = :player AND day >= :first AND day < :after
GROUP BY currency
""")

# Deposits credited in the period plus those started but not finished (they reserve their amount; a deposit a
# risk rule holds is one: its release goes on to the PSPs), read in one statement: a deposit credited in between
# moves from one sum to the other and is seen once.
_DEPOSITED_AND_IN_FLIGHT = text("""
SELECT currency, sum(amount) AS amount FROM (
  SELECT currency, deposited AS amount FROM rg_activity_days
  WHERE player_id = :player AND day >= :first AND day < :after
  UNION ALL
  SELECT currency, amount FROM payments
  WHERE player_id = :player AND kind = 'deposit' AND status IN ('created', 'pending', 'held')
) AS counted GROUP BY currency
""")

# Time played: while any session of the player could play, each instant counted once.
# - Login sessions: their spans (unbroken runs of access tokens, models/auth.py SessionSpan), cut at a
#   revocation. A player who left and came back on the refresh token has two spans; the gap between
#   them is not counted.
# - Game sessions: their spans (unbroken runs of bets, models/games.py GameSessionSpan), cut where the
#   game session ended or expired. A game token can bet after its login lapsed (the frontend closed,
#   the provider's client still open), so bets count time of their own.
# Each interval is cut at now and the period's bounds; overlaps (a game played while logged in) are merged.
_TIME_PLAYED = text("""
WITH cut AS (
  SELECT greatest(sp.started_at, :since) AS lo,
         least(coalesce(s.revoked_at, :now), sp.ends_at, :now, :until) AS hi
  FROM auth_sessions s JOIN session_spans sp ON sp.session_id = s.id
  WHERE s.subject_type = 'player' AND s.subject_id = :player AND s.scope = 'full' AND sp.ends_at > :since
  UNION ALL
  SELECT greatest(gp.started_at, :since), least(coalesce(g.ended_at, :now), g.expires_at, gp.ends_at, :now, :until)
  FROM game_session_spans gp JOIN game_sessions g ON g.id = gp.game_session_id
  WHERE gp.player_id = :player AND gp.ends_at > :since
)
SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0)
FROM unnest((SELECT range_agg(tstzrange(lo, hi)) FROM cut WHERE lo < hi)) AS r
""")

# A bet in a game session: its current span runs on for the idle window, or after a gap a new span
# begins. Only the newest span of a game session can still be running.
_PLAYING_UNTIL = text("""
WITH extended AS (
  UPDATE game_session_spans SET ends_at = :ends WHERE game_session_id = :game_session AND ends_at >= :now
  RETURNING 1
)
INSERT INTO game_session_spans (id, game_session_id, player_id, started_at, ends_at)
SELECT :id, :game_session, :player, :now, :ends WHERE NOT EXISTS (SELECT 1 FROM extended)
""")


@dataclass(frozen=True)
class Totals:
    deposited: int = 0
    wagered: int = 0
    won: int = 0

    @property
    def lost(self) -> int:
        return self.wagered - self.won


async def count(
    db: AsyncSession,
    *,
    player_id: uuid.UUID,
    currency: str,
    day: date,
    deposited: int = 0,
    wagered: int = 0,
    won: int = 0,
) -> None:
    await prepared.execute(
        db,
        _COUNT,
        {"player": player_id, "currency": currency, "day": day, "deposited": deposited, "wagered": wagered, "won": won},
    )


async def totals(db: AsyncSession, player_id: uuid.UUID, first: date, after: date) -> dict[str, Totals]:
    """The period's deposits, stakes and wins, per currency."""
    rows = (await db.execute(_TOTALS, {"player": player_id, "first": first, "after": after})).all()
    return {r.currency: Totals(int(r.deposited), int(r.wagered), int(r.won)) for r in rows}


async def deposits_with_in_flight(db: AsyncSession, player_id: uuid.UUID, first: date, after: date) -> dict[str, int]:
    """The period's deposits, credited or still in flight, per currency."""
    rows = (await db.execute(_DEPOSITED_AND_IN_FLIGHT, {"player": player_id, "first": first, "after": after})).all()
    return {r.currency: int(r.amount) for r in rows if r.amount}


async def seconds_played(
    db: AsyncSession, player_id: uuid.UUID, *, since: datetime, until: datetime, now: datetime
) -> int:
    value = (
        await db.execute(_TIME_PLAYED, {"player": player_id, "since": since, "until": until, "now": now})
    ).scalar_one()
    return max(0, int(value))


async def count_play_time(
    db: AsyncSession, player_id: uuid.UUID, game_session_id: uuid.UUID, now: datetime, idle: timedelta
) -> None:
    """A bet in a game session: time played runs until `idle` after it (counted as it passes)."""
    await db.execute(
        _PLAYING_UNTIL,
        {"id": uuid.uuid4(), "game_session": game_session_id, "player": player_id, "now": now, "ends": now + idle},
    )
