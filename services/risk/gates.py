"""The questions the flows ask of risk, one function each, in the flow's own transaction: may this
registration, deposit or withdrawal go on? Each checks the lists (services/risk/lists.py: a block
raises `RiskBlocked`, a watch hit flags) and records the request's observation (services/risk/observe.py)
for the signals consumer. The next steps of issue 17 (rules and actions as data: a player's current
restrictions) are read in services/risk/inline.py, which the flows call after their own gates; a registration's
rules run here, after its observation.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import RequestMeta
from models.payments import Payment
from models.players import Player
from services.risk import inline
from services.risk.lists import Facts, Occasion, check
from services.risk.observe import observe, observed
from services.risk.signals import CardFacts, Observed


def _facts(player: Player, seen: Observed, *, email: str | None = None) -> Facts:
    return Facts(
        email=email or player.email,
        ip=seen.ip,
        device=seen.device_id,
        card_bin=seen.card_bin,
        card_fingerprint=seen.card_fingerprint,
        country=player.country,
    )


async def check_registration(db: AsyncSession, player: Player, seen: Observed) -> None:
    """After the new player's insert (a watch hit's flag names it), before the session starts."""
    await check(
        db, brand_id=player.brand_id, player_id=player.id, occasion=Occasion.REGISTRATION, facts=_facts(player, seen)
    )


async def registered(db: AsyncSession, player: Player, session_id: uuid.UUID, seen: Observed) -> None:
    """The registration's observation, then its inline rules (services/risk/inline.py), which count it."""
    await observe(db, occasion=Occasion.REGISTRATION, reference=session_id, player_id=player.id, seen=seen)
    await inline.at_registration(db, player_id=player.id, brand_id=player.brand_id, seen=seen)


async def logged_in(db: AsyncSession, player: Player, session_id: uuid.UUID, meta: RequestMeta) -> None:
    await observe(db, occasion=Occasion.LOGIN, reference=session_id, player_id=player.id, seen=observed(meta))


async def check_payment(db: AsyncSession, player: Player, payment: Payment, seen: Observed) -> None:
    """A deposit or withdrawal just inserted (a block rolls it back: no money has moved)."""
    occasion = Occasion.DEPOSIT if payment.kind == "deposit" else Occasion.WITHDRAWAL
    await check(db, brand_id=player.brand_id, player_id=player.id, occasion=occasion, facts=_facts(player, seen))
    await observe(db, occasion=occasion, reference=payment.id, player_id=player.id, seen=seen)


__all__ = ["CardFacts", "check_payment", "check_registration", "logged_in", "registered"]
