"""Demo consents and a suppressed player, so the CRM demo has both kinds of audience: Carla (Royal) takes
casino and live-casino news by SMS too and no sports e-mail; Erik (Royal, Malta, consented at sign-up) is
self-excluded, so every send and offer to him is refused (SELF_EXCLUDED) and the log says so. Needs the demo
players (integrations/demo/seed.py); safe to run twice (consents are set to the same values, an exclusion in
force is kept)."""

from __future__ import annotations

import contextlib
from datetime import date

from sqlalchemy import text

from authz.subjects import SYSTEM, RequestMeta, Viewer
from core.errors import DomainError
from core.runtime import Runtime
from models.players import Player
from services import players
from services.crm import consents
from services.rg import exclusions

CARLA = "carla@example.com"
ERIK = "erik@example.com"
CARLA_CONSENTS = [
    consents.ConsentChange("casino", "sms", True),
    consents.ConsentChange("live_casino", "sms", True),
    consents.ConsentChange("sports", "email", False),
]


async def _royal_player(rt: Runtime, email: str) -> Player | None:
    async with rt.database.session() as db:
        player_id = await db.scalar(
            text(
                "SELECT p.id FROM players p JOIN brands b ON b.id = p.brand_id WHERE b.code = 'royal' AND p.email = :e"
            ),
            {"e": email},
        )
        return await db.get(Player, player_id) if player_id else None


async def seed_crm_suppression(rt: Runtime, password: str) -> list[str]:
    lines = []
    carla = await _royal_player(rt, CARLA)
    if carla is not None:
        viewer = Viewer(kind="player", id=carla.id, brand_id=carla.brand_id)
        async with rt.database.transaction() as db:
            await consents.set_consents(db, viewer, carla.id, CARLA_CONSENTS)
        lines.append(f"{CARLA}: casino and live casino by SMS too, no sports e-mail")
    if await _royal_player(rt, ERIK) is None:
        form = players.Registration(
            brand="royal", email=ERIK, password=password, date_of_birth=date(1992, 3, 8), country="MT",
            currency="EUR", marketing_consent=True, first_name="Erik", last_name="Ellul",
        )  # fmt: skip
        with contextlib.suppress(DomainError):
            await players.register(rt, form, RequestMeta(ip="127.0.0.1", user_agent="croupier seed-demo"))
    erik = await _royal_player(rt, ERIK)
    if erik is not None:
        async with rt.database.session() as db:
            excluded = await exclusions.active(db, erik.id)
        if excluded is None:
            await exclusions.self_exclude(rt, SYSTEM, erik, exclusions.SelfExclusion.ONE_YEAR)
        lines.append(f"{ERIK}: self-excluded for a year (every send and offer refused: SELF_EXCLUDED)")
    return lines
