"""Lifting a risk restriction, by staff (services/risk/review.py) or by its expiry: what follows is the same.

- In the lift's transaction: a `require_kyc_level` action's KYC requirement is withdrawn — the one its signal
  raised (`actions.kyc_signal`), never one from another source (a deposit threshold, another module's signal):
  the level required falls back to the highest requirement left (services/kyc/actions.py `withdraw_level`).
- After its commit: the withdrawals it kept waiting go on, each re-checking every gate as a new request does — a
  hold on withdrawals (`hold_withdrawals`, `block_account`): `withdrawals.after_risk_lift`; a KYC requirement
  withdrawn: `kyc_waits.release_waiting`.

Expiry. An action past its `expires_at` stops counting at once (`actions.in_force` reads the clock), but what
follows a lift needs a step: `expire_due` (the server's loop, every `RISK_EXPIRY_INTERVAL_SECONDS`; `croupier
risk expire` from cron) retires each action due — `lifted_at` its expiry, `lift_reason` `expired`, no staff —
with its audit record (actor system, reason `expired`) and `risk.action_lifted` (`expired: true`), then the
above. The retiring UPDATE re-checks the row under its lock: two sweeps, or a sweep and an imposition of the
same kind (which retires an expired action the same way, services/risk/actions.py), retire it once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import SYSTEM
from core import outbox, prepared
from core.clock import clock
from core.logging import get_logger
from core.prepared import Statement
from core.runtime import Runtime
from services import audit
from services.kyc import actions as kyc_actions
from services.risk import actions
from services.risk.rules import ActionKind

EXPIRED = "expired"
log = get_logger(__name__)

_DUE = Statement("""
SELECT id FROM risk_actions WHERE lifted_at IS NULL AND expires_at <= :now ORDER BY expires_at, id LIMIT :limit
""")

_PRUNE = Statement("""
DELETE FROM risk_observations WHERE id IN (
  SELECT id FROM risk_observations WHERE observed_at < :cutoff ORDER BY observed_at LIMIT :batch
) RETURNING id
""")

_RETIRE = Statement("""
UPDATE risk_actions SET lifted_at = expires_at, lift_reason = 'expired'
WHERE id = :id AND lifted_at IS NULL AND expires_at <= :now
RETURNING id, player_id, brand_id, kind, params, rule_code
""")


async def after_lift(db: AsyncSession, *, player_id: uuid.UUID, kind: ActionKind, rule_code: str | None) -> None:
    """In the lift's transaction (after the action's row lock, before the audit record)."""
    if kind == ActionKind.REQUIRE_KYC_LEVEL:
        await kyc_actions.withdraw_level(db, player_id, actions.kyc_signal(rule_code))


async def release(rt: Runtime, player_id: uuid.UUID, kind: ActionKind) -> list[uuid.UUID]:
    """After the lift's commit: the withdrawals that go on (approved and sent, or on to finance)."""
    from services.cashier import kyc_waits, withdrawals  # the cashier reads risk: imported when lifting only

    if kind in actions.HOLDS_WITHDRAWALS:
        return await withdrawals.after_risk_lift(rt, player_id)
    if kind == ActionKind.REQUIRE_KYC_LEVEL:
        return await kyc_waits.release_waiting(rt, player_id)
    return []


def lifted_event(row: Any, *, staff_id: uuid.UUID | None, expired: bool) -> outbox.Event:
    data: dict[str, Any] = {
        "action_id": str(row.id),
        "player_id": str(row.player_id),
        "kind": str(row.kind),
        "staff_id": str(staff_id) if staff_id else None,
    }
    if expired:
        data["expired"] = True
    return outbox.event("risk.action_lifted", actions.subject(row.player_id), data, brand_id=row.brand_id)


def lifted_before(row: Any) -> dict[str, Any]:
    """The audit record's `before`: the restriction as it stood."""
    params = actions.params_of(row.params)
    return {"action_id": str(row.id), "kind": str(row.kind), **params, "rule_code": row.rule_code}


async def expire_due(rt: Runtime, *, limit: int = 500) -> int:
    """Retire the actions past their expiry (above); how many."""
    now = clock.now()
    async with rt.database.session() as db:
        due = [row.id for row in await prepared.rows(db, _DUE, {"now": now, "limit": limit})]
    retired = 0
    for action_id in due:
        async with rt.database.transaction() as db:
            rows = await prepared.rows(db, _RETIRE, {"id": action_id, "now": now})
            if not rows:
                continue  # lifted or retired meanwhile
            row = rows[0]
            kind = ActionKind(row.kind)
            await after_lift(db, player_id=row.player_id, kind=kind, rule_code=row.rule_code)
            await outbox.emit_events(db, [lifted_event(row, staff_id=None, expired=True)])
            await audit.append(
                db,
                actor=SYSTEM,
                action="risk.action_lifted",
                target_type="player",
                target_id=row.player_id,
                brand_id=row.brand_id,
                before=lifted_before(row),
                reason=EXPIRED,
            )
        retired += 1
        await release(rt, row.player_id, kind)
    return retired


async def prune_observations(rt: Runtime, *, batch: int = 5000) -> int:
    """Retention: delete the observations older than `RISK_OBSERVATIONS_KEEP_DAYS` (in batches, each its own
    transaction); how many. Their signals and clusters stay (what was linked stays linked); a replay of
    `risk-signals` (croupier events replay) then rebuilds without the devices and cards only they held."""
    cutoff = clock.now() - timedelta(days=rt.settings.risk_observations_keep_days)
    deleted = 0
    while True:
        async with rt.database.transaction() as db:
            gone = len(await prepared.rows(db, _PRUNE, {"cutoff": cutoff, "batch": batch}))
        deleted += gone
        if gone < batch:
            return deleted


async def run(rt: Runtime) -> None:
    """The server's loop (safe on several replicas: each action is retired once)."""
    while True:
        try:
            retired = await expire_due(rt)
            if retired:
                log.info("risk_actions_expired", count=retired)
            pruned = await prune_observations(rt)
            if pruned:
                log.info("risk_observations_pruned", count=pruned)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("risk_expiry_failed")
        await asyncio.sleep(rt.settings.risk_expiry_interval_seconds)
