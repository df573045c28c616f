"""A refused deposit keeps what risk learnt of it.

The deposit's transaction rolls back on any refusal (an RG limit, the account's status, AML, a list block, a
risk restriction, KYC, a bonus code refused with it), and with it the request's observation and the hits its
inline rules applied. `Kept` collects them inside that transaction; after the rollback, `keep` writes them
again in a short transaction of its own:
- the observation (`risk_observations`): the velocity rules count refused attempts too — a burst of refused
  deposits from one device is what card testing looks like;
- the hits of the deposit's rules (score, actions, flags, `risk.rule_hit`, audit), as `inline.record_refused`
  does for the findings of a risk refusal (which carries its own: `Kept.decision` is then unset).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.runtime import Runtime
from services.risk import inline
from services.risk.lists import Occasion
from services.risk.observe import observe
from services.risk.signals import Observed
from services.risk.store import OnSession


@dataclass
class Kept:
    """Filled in by the request's transaction as it goes; read only if that transaction is refused."""

    occasion: Occasion
    seen: Observed
    reference: uuid.UUID | None = None  # the (rolled back) payment's id, once inserted
    player_id: uuid.UUID | None = None
    decision: inline.Decision | None = None  # the inline rules' decision, once taken and applied


async def keep(rt: Runtime, kept: Kept) -> None:
    if kept.reference is None or kept.player_id is None:
        return  # refused before the payment existed: nothing was observed
    async with rt.database.transaction() as db:
        await observe(db, occasion=kept.occasion, reference=kept.reference, player_id=kept.player_id, seen=kept.seen)
        if kept.decision is not None and kept.decision.findings:
            await inline.apply(OnSession(db), kept.decision)
