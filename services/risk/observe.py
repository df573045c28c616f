"""The inline part of recording signals: one row per registration, login, deposit or withdrawal, written
in the flow's own transaction with what only the request knows. Everything else (normalising, the
player's details, signals, clusters) follows on the event stream (services/risk/consumer.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import RequestMeta
from core.clock import clock
from services.risk.lists import Occasion
from services.risk.signals import CardFacts, Observed, of_request

_OBSERVE = text("""
INSERT INTO risk_observations (occasion, reference, player_id, device_id, ip, user_agent, card_bin, card_fingerprint,
                               observed_at)
VALUES (:occasion, :reference, :player, :device, CAST(:ip AS inet), :agent, :bin, :fingerprint, :at)
ON CONFLICT ON CONSTRAINT uq_risk_observations_reference DO NOTHING""")


def observed(meta: RequestMeta, card: CardFacts | None = None) -> Observed:
    return of_request(ip=meta.ip, user_agent=meta.user_agent, device=meta.device_id, card=card)


async def observe(
    db: AsyncSession, *, occasion: Occasion, reference: uuid.UUID, player_id: uuid.UUID, seen: Observed
) -> None:
    await db.execute(
        _OBSERVE,
        {
            "occasion": occasion.value,
            "reference": reference,
            "player": player_id,
            "device": seen.device_id,
            "ip": seen.ip,
            "agent": seen.user_agent,
            "bin": seen.card_bin,
            "fingerprint": seen.card_fingerprint,
            "at": clock.now(),
        },
    )
