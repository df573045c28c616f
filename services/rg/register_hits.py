"""Register hits: what a national self-exclusion register said about an existing account, kept.

The register is asked at registration (a hit refuses: no account exists) and at every login to play
(services/rg/gates.py). A hit at login refuses the login and is recorded here, once per hit: the player's
row in `rg_register_hits` opens, marketing consent is withdrawn (as an exclusion withdraws it), and
`player.excluded` is emitted with source `register:<name>`, kind `self_exclusion` and no end (the register
decides when it ends) — so the `crm-suppression` consumer clears the player's audiences and queued sends,
and `suppression.refusal` answers REGISTER_HIT. A later login whose check answers "not registered" or
"previously excluded" closes the row (`cleared_at`); consent stays withdrawn until the player gives it
again. Nothing here affects play: the register check itself refuses each login while the hit lasts.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from core import outbox
from core.clock import clock
from core.runtime import Runtime
from services.crm import consents
from services.wallet import lock_player_money

_OPEN = text("""
INSERT INTO rg_register_hits (player_id, register_name, hit_at, cleared_at) VALUES (:player, :register, :now, NULL)
ON CONFLICT (player_id) DO UPDATE
    SET register_name = excluded.register_name, hit_at = excluded.hit_at, cleared_at = NULL
    WHERE rg_register_hits.cleared_at IS NOT NULL
RETURNING player_id""")
_CONSENT_OFF = text("UPDATE players SET marketing_consent = false WHERE id = :player AND marketing_consent")
_CLEAR = text("UPDATE rg_register_hits SET cleared_at = :now WHERE player_id = :player AND cleared_at IS NULL")


async def record_hit(rt: Runtime, player_id: uuid.UUID, register: str) -> bool:
    """Record a register's "excluded" answer about the player (own transaction). True: a new hit."""
    now = clock.now()
    async with rt.database.transaction() as db:
        if (await db.execute(_OPEN, {"player": player_id, "register": register[:32], "now": now})).first() is None:
            return False  # already open: each refused login does not announce it again
        row = (await lock_player_money(db, player_id, standing=True)).player  # the one lock order (wallet.py)
        assert row is not None
        await db.execute(_CONSENT_OFF, {"player": player_id})
        source = f"register:{register}"
        await outbox.emit(
            db,
            "player.excluded",
            f"player:{player_id}",
            {
                "player_id": str(player_id),
                "kind": "self_exclusion",
                "ends_at": None,
                "source": source,
                "marketing_consent_before": bool(row.marketing_consent),
            },
            brand_id=row.brand_id,
        )
        if row.marketing_consent:
            await consents.announce(db, player_id, row.brand_id, consent=False, cause="exclusion")
    return True


async def clear(rt: Runtime, player_id: uuid.UUID) -> None:
    """The registers answered otherwise: an open hit closes (one statement, for players whose
    jurisdiction has registers)."""
    async with rt.database.transaction() as db:
        await db.execute(_CLEAR, {"player": player_id, "now": clock.now()})
