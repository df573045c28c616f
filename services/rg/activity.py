"""What a player did, counted for limits: money per local day, and time logged in.

Money counters are written by the code that records the ledger movement, in its database
transaction (deposit credits in services/wallet.py, bets, wins and rollbacks in
services/provider_wallet.py), so a limit check under the player's lock sees every committed movement
and nothing uncommitted. Loss is stakes minus wins; a rollback counts on the day of what it undoes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_COUNT = text("""
INSERT INTO rg_activity_days (player_id, currency, day, deposited, wagered, won)
VALUES (:player, :currency, :day, :deposited, :wagered, :won)
ON CONFLICT (player_id, currency, day) DO UPDATE SET
    deposited = rg_activity_days.deposited + EXCLUDED.deposited,
    wagered = rg_activity_days.wagered + EXCLUDED.wagered,
    won = rg_activity_days.won + EXCLUDED.won
""")

_TOTALS = text("""
SELECT coalesce(sum(deposited), 0) AS deposited, coalesce(sum(wagered), 0) AS wagered,
       coalesce(sum(won), 0) AS won
FROM rg_activity_days WHERE player_id = :player AND currency = :currency AND day >= :first AND day < :after
""")

# Deposits credited in the period plus those started but not finished (they reserve their amount), read
# in one statement: a deposit credited in between moves from one sum to the other and is seen once.
_DEPOSITED_AND_IN_FLIGHT = text("""
SELECT (SELECT coalesce(sum(deposited), 0) FROM rg_activity_days
        WHERE player_id = :player AND currency = :currency AND day >= :first AND day < :after)
     + (SELECT coalesce(sum(amount), 0) FROM payments
        WHERE player_id = :player AND currency = :currency AND kind = 'deposit' AND status IN ('created', 'pending'))
""")

# Time logged in: each session from its start to its revocation, or to the expiry of the last access
# token it was given (it is refreshed while the frontend is open), or now.
# Time in play sessions: their spans (unbroken runs of access tokens, models/auth.py SessionSpan), cut at
# a revocation, now and the period's bounds. A player who left and came back on the refresh token has
# two spans, and the time between them is not counted.
_TIME_PLAYED = text("""
SELECT coalesce(sum(extract(epoch FROM
    least(coalesce(s.revoked_at, :now), sp.ends_at, :now, :until) - greatest(sp.started_at, :since)
)), 0)
FROM auth_sessions s JOIN session_spans sp ON sp.session_id = s.id
WHERE s.subject_type = 'player' AND s.subject_id = :player AND s.scope = 'full'
  AND sp.started_at < least(:now, :until)
  AND least(coalesce(s.revoked_at, :now), sp.ends_at) > :since
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
    await db.execute(
        _COUNT,
        {"player": player_id, "currency": currency, "day": day, "deposited": deposited, "wagered": wagered, "won": won},
    )


async def totals(db: AsyncSession, player_id: uuid.UUID, currency: str, first: date, after: date) -> Totals:
    row = (await db.execute(_TOTALS, {"player": player_id, "currency": currency, "first": first, "after": after})).one()
    return Totals(int(row.deposited), int(row.wagered), int(row.won))


async def deposits_with_in_flight(
    db: AsyncSession, player_id: uuid.UUID, currency: str, first: date, after: date
) -> int:
    return int(
        (
            await db.execute(
                _DEPOSITED_AND_IN_FLIGHT, {"player": player_id, "currency": currency, "first": first, "after": after}
            )
        ).scalar_one()
    )


async def seconds_logged_in(
    db: AsyncSession, player_id: uuid.UUID, *, since: datetime, until: datetime, now: datetime
) -> int:
    value = (
        await db.execute(_TIME_PLAYED, {"player": player_id, "since": since, "until": until, "now": now})
    ).scalar_one()
    return max(0, int(value))
