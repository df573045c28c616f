"""National self-exclusion registers asked again before a message goes out.

The platform asks a player's registers (GAMSTOP, Spelpaus, ROFUS: services/rg/registers.py) at registration and
at every login to play. A player who stays signed out but signs up with the register must still not get marketing:
so the sender asks again before it sends to a player of a jurisdiction with registers, at most once per
`CRM_REGISTER_RECHECK_SECONDS` per player (the answer kept in Redis). A hit is recorded as at login
(services/rg/register_hits.py: the player's open hit, consent withdrawn, `player.excluded` so every audience and
queued send drops the player) and the suppression check right after answers REGISTER_HIT. A register that does
not answer defers the message (`RegisterUnavailable`): nothing is sent without the register's word.
"""

from __future__ import annotations

import uuid

from sqlmodel import col, select

from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.crm import CrmMessage
from models.players import Player
from services.rg import gates
from services.rg.profiles import profile
from services.rg.registers import RegisterUnavailable

__all__ = ["RegisterUnavailable", "before_send"]


def _key(player_id: uuid.UUID) -> str:
    return f"crm:register-clear:{player_id}"


async def before_send(rt: Runtime, message_id: uuid.UUID) -> None:
    """Ask the registers of the message's player unless they answered "not excluded" recently. A hit is recorded
    (then suppression refuses the send); raises `RegisterUnavailable` when a register does not answer."""
    async with rt.database.session() as db:
        player = await db.scalar(
            select(Player)
            .join(CrmMessage, col(CrmMessage.player_id) == col(Player.id))
            .where(col(CrmMessage.id) == message_id)
        )
    if player is None or not profile(player.jurisdiction).registers:
        return
    if await rt.redis.exists(_key(player.id)):
        return
    try:
        await gates.check_registers(rt, profile(player.jurisdiction), gates.person_of(player), player.id)
    except DomainError as refused:
        if refused.code == ErrorCode.REGISTER_UNAVAILABLE:
            raise RegisterUnavailable(str(refused.message)) from refused
        return  # excluded: recorded by check_registers; the suppression check answers REGISTER_HIT
    await rt.redis.set(_key(player.id), "1", ex=max(1, int(rt.settings.crm_register_recheck_seconds)))
