"""Risk patterns in a queue for the RG team, and the interventions they record.

The scan (run by the RG worker every RG_FLAG_SCAN_SECONDS, and by `croupier rg scan`) raises at most
one open flag per player and kind; a person resolves it with a note. Patterns:
- long_session: a login session open for more than 3 hours;
- rising_deposits: deposits of the last 7 days at least double the 7 days before (and ≥ 3 deposits);
- night_play: 10 or more stakes between midnight and 6 a.m. local time in the last 24 hours;
- cancelled_withdrawals: 2 or more withdrawals cancelled by the player in the last 7 days;
- previously_self_excluded: the national register answered P at registration or login.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.players import Player
from models.rg import RgFlag
from services import audit
from services.rg import history
from services.rg.profiles import profiles
from services.scoping import scoped

LONG_SESSION = timedelta(hours=3)
NIGHT_STAKES = 10
CANCELLED_WITHDRAWALS = 2


class Intervention(StrEnum):
    CONTACTED = "contacted"
    WARNED = "warned"
    LIMIT_SUGGESTED = "limit_suggested"
    ACCOUNT_REVIEWED = "account_reviewed"
    REFERRED_TO_SUPPORT_SERVICE = "referred_to_support_service"


async def raise_flag(db: AsyncSession, player: Player, kind: str, details: dict[str, Any]) -> bool:
    """Open a flag unless one of this kind is already open; True if a new one was opened."""
    inserted = (
        await db.execute(
            insert(RgFlag)
            .values(
                id=uuid.uuid4(),
                player_id=player.id,
                brand_id=player.brand_id,
                kind=kind,
                details=details,
                status="open",
                created_at=clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["player_id", "kind"], index_where=text("status = 'open'"))
            .returning(col(RgFlag.id))
        )
    ).scalar_one_or_none()
    if inserted is None:
        return False
    await outbox.emit(
        db,
        "rg.flag_raised",
        f"player:{player.id}",
        {"player_id": str(player.id), "flag_id": str(inserted), "kind": kind},  # its details stay inside
        brand_id=player.brand_id,
    )
    return True


# A play session in use without a break (one span) since before `opened_before`.
_LONG_SESSIONS = text("""
SELECT s.subject_id AS player_id, max(extract(epoch FROM CAST(:now AS timestamptz) - sp.started_at)) AS seconds
FROM auth_sessions s JOIN session_spans sp ON sp.session_id = s.id
WHERE s.subject_type = 'player' AND s.scope = 'full' AND s.revoked_at IS NULL
  AND sp.ends_at > :now AND sp.started_at < :opened_before
GROUP BY s.subject_id
""")

_RISING_DEPOSITS = text("""
SELECT player_id, currency,
       sum(deposited) FILTER (WHERE day >= :recent) AS recent, sum(deposited) FILTER (WHERE day < :recent) AS before
FROM rg_activity_days WHERE day >= :before AND deposited > 0
GROUP BY player_id, currency
HAVING sum(deposited) FILTER (WHERE day < :recent) > 0
   AND sum(deposited) FILTER (WHERE day >= :recent) >= 2 * sum(deposited) FILTER (WHERE day < :recent)
""")

_NIGHT_PLAY = text("""
SELECT t.player_id, count(*) AS stakes
FROM ledger_transactions t JOIN players p ON p.id = t.player_id
WHERE t.kind = 'game_bet' AND t.status = 'committed' AND t.created_at >= :since
  AND p.jurisdiction = :jurisdiction AND extract(hour FROM t.created_at AT TIME ZONE :tz) < 6
GROUP BY t.player_id HAVING count(*) >= :threshold
""")

_CANCELLED = text("""
SELECT player_id, count(*) AS cancelled FROM payments
WHERE kind = 'withdrawal' AND status = 'cancelled' AND updated_at >= :since
GROUP BY player_id HAVING count(*) >= :threshold
""")

_DEPOSIT_COUNT = text("""
SELECT count(*) FROM payments WHERE player_id = :player AND kind = 'deposit' AND status = 'succeeded'
  AND created_at >= :since
""")


async def scan(rt: Runtime) -> int:
    """Look for the patterns and open flags; returns how many new flags were opened."""
    now = clock.now()
    found: list[tuple[uuid.UUID, str, dict[str, Any]]] = []
    async with rt.database.session() as db:
        for row in await db.execute(_LONG_SESSIONS, {"now": now, "opened_before": now - LONG_SESSION}):
            found.append((row.player_id, "long_session", {"hours": round(float(row.seconds) / 3600, 1)}))
        today = now.date()
        for row in await db.execute(
            _RISING_DEPOSITS, {"recent": today - timedelta(days=6), "before": today - timedelta(days=13)}
        ):
            deposits = int(
                (
                    await db.execute(_DEPOSIT_COUNT, {"player": row.player_id, "since": now - timedelta(days=7)})
                ).scalar_one()
            )
            if deposits >= 3:
                found.append(
                    (
                        row.player_id,
                        "rising_deposits",
                        {"currency": row.currency, "last_7_days": int(row.recent), "previous_7_days": int(row.before)},
                    )
                )
        for code, rules in profiles().items():
            for row in await db.execute(
                _NIGHT_PLAY,
                {
                    "since": now - timedelta(hours=24),
                    "jurisdiction": code,
                    "tz": rules.timezone.key,
                    "threshold": NIGHT_STAKES,
                },
            ):
                found.append((row.player_id, "night_play", {"stakes": int(row.stakes), "timezone": rules.timezone.key}))
        for row in await db.execute(_CANCELLED, {"since": now - timedelta(days=7), "threshold": CANCELLED_WITHDRAWALS}):
            found.append((row.player_id, "cancelled_withdrawals", {"cancelled": int(row.cancelled)}))
    opened = 0
    async with rt.database.transaction() as db:
        for player_id, kind, details in found:
            player = await db.get(Player, player_id)
            if player is not None and await raise_flag(db, player, kind, details):
                opened += 1
    return opened


def readable_flags(viewer: Viewer) -> SelectOfScalar[RgFlag]:
    return scoped(select(RgFlag), viewer, player_column=col(RgFlag.player_id), brand_column=col(RgFlag.brand_id))


async def resolve(rt: Runtime, viewer: Viewer, flag_id: uuid.UUID, resolution: str) -> RgFlag:
    if not resolution.strip():
        raise DomainError("Say what was done.", field="resolution")
    async with rt.database.transaction() as db:
        flag = await db.scalar(readable_flags(viewer).where(col(RgFlag.id) == flag_id).with_for_update())
        if flag is None:
            raise NotFound("No such flag.", field="flagId")
        if flag.status != "open":
            raise DomainError("This flag is already resolved.", code=ErrorCode.INVALID_STATE, field="flagId")
        flag.status, flag.resolved_at, flag.resolved_by = "resolved", clock.now(), viewer.id
        flag.resolution = resolution.strip()[:2000]
        await db.flush()
        details = {"flag": flag.kind, "resolution": flag.resolution}
        await history.add(db, flag.player_id, "rg.flag_resolved", viewer, details)
        await outbox.emit(
            db,
            "rg.flag_resolved",
            f"player:{flag.player_id}",
            {
                "player_id": str(flag.player_id),
                "flag_id": str(flag.id),
                "kind": flag.kind,
                "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
            },
            brand_id=flag.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="rg.flag_resolved",
            target_type="player",
            target_id=flag.player_id,
            brand_id=flag.brand_id,
            after=details,
        )
    return flag


async def intervene(rt: Runtime, viewer: Viewer, player: Player, action: Intervention, note: str) -> None:
    """Record what the RG team did about a player (history + audit log)."""
    if not note.strip():
        raise DomainError("Write a note about the intervention.", field="note")
    details = {"action": action.value, "note": note.strip()[:2000]}
    async with rt.database.transaction() as db:
        await history.add(db, player.id, "rg.intervention", viewer, details)
        await outbox.emit(
            db,
            "rg.intervention_recorded",
            f"player:{player.id}",
            {
                "player_id": str(player.id),
                "action": action.value,
                "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
            },
            brand_id=player.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="rg.intervention",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after=details,
            reason=details["note"],
        )
