"""Antifraud on affiliate sub-ids: flag a partner's sub-id whose players look like fraud, and withhold the
CPA of its players until staff review the flag (fraud_review.py). The checks are in fraud_rules.py.

Guarantees:
- One open flag per (partner, brand, sub-id) (a partial unique index), raised once: each flag is raised
  in its own transaction under a transaction advisory lock on its sub-id (taken by staff's review too), so
  two sweeps on two replicas, or a sweep and a review, never raise it twice nor raise a flag just reviewed.
- A flag is raised only for players no earlier flag of the sub-id named: a cleared flag is not raised again
  on the same evidence; new players (or a CPA withheld with no open flag) raise a new one. Evidence found
  while a flag is open joins it (no second event).
- Raising a flag withholds, in the same transaction, the sub-id's qualified CPAs that no commission run has
  taken (`status` `qualified` → `withheld`, with the reason); a CPA on a run (paid, booked, or on a draft:
  the run decides it from then on) is never touched. Each sweep withholds
  again, under the same lock, any CPA that qualified on a flagged sub-id meanwhile (the CPA consumer's
  transaction and a flag's can commit side by side without seeing each other).
- The flag, the withholding, its event (`affiliate.subid_flagged`) and its audit record (actor: system)
  commit together.

Why a periodic sweep rather than a consumer of the event stream: the deposit-and-leave check is about
events that never come (no bet within N days), which no event can trigger; and each check is a function of
the sub-id's players' current state (clusters, signals, daily figures), so evaluating that state is
idempotent and independent of the order events arrive in, and a sweep that crashed is simply run again.
The latency (`AFFILIATE_FRAUD_INTERVAL_SECONDS`, 5 minutes by default) is far below the time to the next commission run,
and `cpa_hold_reason` withholds at qualification on a sub-id already flagged.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import SYSTEM
from core import outbox, prepared
from core.clock import clock
from core.ids import new_id
from core.logging import get_logger
from core.prepared import Row, Statement
from core.runtime import Runtime
from services import audit
from services.affiliates.fraud_rules import Finding, Reason, SubIdKey, Thresholds, findings
from services.affiliates.runs.drafts import lock_brand_runs

log = get_logger(__name__)

MAX_EVIDENCE_PLAYERS = 200  # per reason: the flag's `player_ids` keeps every one

# A CPA taken by a commission run (services/affiliates/runs: a line with `cpa` per player, unique: paid once,
# ever; a discarded draft deletes its lines) is never withheld: from a draft on, the run decides it. Where the
# runs' tables are not installed (a deployment without the runs), no CPA is on a run.
ON_NO_RUN = "NOT EXISTS (SELECT 1 FROM affiliate_run_lines l WHERE l.player_id = q.player_id AND l.cpa)"
_RUNS_INSTALLED = Statement("SELECT to_regclass('affiliate_run_lines') IS NOT NULL AS installed")

_HOLD = Statement("""
SELECT f.id, f.status, f.reasons, f.reviewed_at FROM affiliate_subid_flags f
JOIN affiliate_attributions a ON a.player_id = :player AND a.brand_id = f.brand_id
WHERE f.affiliate_id = :affiliate AND f.sub_id = coalesce(CAST(:sub AS text), '')
ORDER BY f.raised_at DESC, f.id DESC LIMIT 1""")


async def cpa_hold_reason(
    conn: asyncpg.Connection | AsyncSession, affiliate_id: uuid.UUID, sub_id: str | None, player_id: uuid.UUID
) -> str | None:
    """Why this player's CPA is to be withheld rather than qualified, or None (one statement, in the caller's
    transaction: the CPA consumer's asyncpg connection, or a session): the latest flag of the player's
    sub-id is open (pending review) or confirmed (fraud). A cleared one holds nothing."""
    params = {"affiliate": affiliate_id, "sub": sub_id, "player": player_id}
    if isinstance(conn, AsyncSession):
        rows = list(await prepared.rows(conn, _HOLD, params))
    else:
        rows = [Row(r) for r in await conn.fetch(_HOLD.native, *[params[n] for n in _HOLD.names])]
    if not rows or rows[0].status == "cleared":
        return None
    flag = rows[0]
    if flag.status == "open":
        return hold_text(list(flag.reasons), flag.id)
    return f"sub-id confirmed fraudulent ({', '.join(flag.reasons)}) on {flag.reviewed_at:%Y-%m-%d}: flag {flag.id}"


_LOCK = Statement("SELECT pg_advisory_xact_lock(hashtextextended(:key, 2026))")
_NAMED = Statement("""
SELECT f.id, f.status, f.reasons, f.evidence, f.player_ids FROM affiliate_subid_flags f
WHERE f.affiliate_id = :affiliate AND f.brand_id = :brand AND f.sub_id = :sub
ORDER BY f.raised_at, f.id""")
_INSERT = Statement("""
INSERT INTO affiliate_subid_flags (id, affiliate_id, brand_id, sub_id, status, reasons, evidence, player_ids, raised_at)
VALUES (:id, :affiliate, :brand, :sub, 'open', :reasons, CAST(:evidence AS jsonb), :players, :at)""")
_EXTEND = Statement("""
UPDATE affiliate_subid_flags SET reasons = :reasons, evidence = CAST(:evidence AS jsonb), player_ids = :players
WHERE id = :id""")
_WITHHOLD = """
UPDATE affiliate_qualifications q SET status = 'withheld', reason = :reason
FROM affiliate_attributions a
WHERE a.player_id = q.player_id AND a.affiliate_id = :affiliate AND a.brand_id = :brand
  AND coalesce(a.sub_id, '') = :sub AND q.status = 'qualified' AND {unpaid}
RETURNING q.player_id"""
_WITHHOLD_OFF_RUNS = Statement(_WITHHOLD.format(unpaid=ON_NO_RUN))
_WITHHOLD_WITHOUT_RUNS = Statement(_WITHHOLD.format(unpaid="true"))
_COUNT_WITHHELD = Statement("""
UPDATE affiliate_subid_flags f SET withheld = (
  SELECT count(*) FROM affiliate_qualifications q JOIN affiliate_attributions a ON a.player_id = q.player_id
  WHERE a.affiliate_id = f.affiliate_id AND a.brand_id = f.brand_id AND coalesce(a.sub_id, '') = f.sub_id
    AND q.status = 'withheld')
WHERE f.id = :id RETURNING f.withheld""")
_OPEN = Statement("SELECT affiliate_id, brand_id, sub_id FROM affiliate_subid_flags WHERE status = 'open'")


def lock_key(key: SubIdKey) -> str:
    affiliate_id, brand_id, sub_id = key
    return f"affiliate-subid:{affiliate_id}:{brand_id}:{sub_id}"


async def lock_sub_id(db: AsyncSession, key: SubIdKey) -> None:
    """Serialise every change of one sub-id's flags (raise, extend, withhold, review) until the commit."""
    await prepared.rows(db, _LOCK, {"key": lock_key(key)})


def _params(key: SubIdKey) -> dict[str, Any]:
    return {"affiliate": key[0], "brand": key[1], "sub": key[2]}


def hold_text(reasons: list[str], flag_id: uuid.UUID) -> str:
    return f"sub-id flagged ({', '.join(reasons)}), pending review: flag {flag_id}"[:500]


def _merged(finding: Finding, evidence: dict[str, Any], named: list[uuid.UUID]) -> Finding:
    """The open flag's evidence (and the players it named) with this finding's added: a check found again
    says what it finds now; each check's players capped."""
    merged = Finding(finding.key)
    for reason, entry in evidence.items():
        merged.add(Reason(reason), entry["detail"], entry["players"])
    for reason, entry in finding.evidence.items():
        if reason in merged.evidence:
            merged.evidence[reason]["detail"] = entry["detail"]
        merged.add(Reason(reason), entry["detail"], entry["players"])
    merged.player_ids |= finding.player_ids | set(named)
    for entry in merged.evidence.values():
        del entry["players"][MAX_EVIDENCE_PLAYERS:]
    return merged


async def withhold(db: AsyncSession, key: SubIdKey, flag_id: uuid.UUID, reasons: list[str]) -> list[uuid.UUID]:
    """Withhold the sub-id's qualified CPAs that no commission run has taken (under the sub-id's lock); the
    players withheld."""
    installed = (await prepared.rows(db, _RUNS_INSTALLED, {}))[0].installed
    if installed:  # a draft being made now commits first, and this sees its lines (see lock_brand_runs)
        await lock_brand_runs(db, key[1])
    statement = _WITHHOLD_OFF_RUNS if installed else _WITHHOLD_WITHOUT_RUNS
    rows = await prepared.rows(db, statement, {**_params(key), "reason": hold_text(reasons, flag_id)})
    if rows:
        await prepared.rows(db, _COUNT_WITHHELD, {"id": flag_id})
    return [row.player_id for row in rows]


async def raise_flag(db: AsyncSession, finding: Finding, *, now: datetime) -> uuid.UUID | None:
    """Raise (or extend) the sub-id's flag for this finding, in the caller's transaction; the id of a flag
    newly raised, or None (nothing new, or the open flag extended)."""
    key = finding.key
    await lock_sub_id(db, key)
    earlier = await prepared.rows(db, _NAMED, _params(key))
    open_flag = next((f for f in earlier if f.status == "open"), None)
    if open_flag is not None:
        merged = _merged(finding, dict(open_flag.evidence), list(open_flag.player_ids))
        if merged.player_ids - set(open_flag.player_ids) or set(merged.reasons) - set(open_flag.reasons):
            await prepared.rows(db, _EXTEND, _flag_params(open_flag.id, merged))
        await withhold(db, key, open_flag.id, merged.reasons)
        return None
    named = {p for flag in earlier for p in flag.player_ids}
    unreviewed = {
        uuid.UUID(p["player_id"]) for p in finding.evidence.get(Reason.WITHHELD_UNREVIEWED, {}).get("players", [])
    }
    if not (finding.player_ids - named) and not unreviewed:
        return None  # reviewed already, on this evidence
    flag_id = new_id()
    merged = _merged(finding, {}, [])
    await prepared.rows(db, _INSERT, {**_params(key), **_flag_params(flag_id, merged), "at": now})
    withheld = await withhold(db, key, flag_id, merged.reasons)
    count = await prepared.rows(db, _COUNT_WITHHELD, {"id": flag_id})
    data = {
        "flag_id": str(flag_id),
        "affiliate_id": str(key[0]),
        "brand_id": str(key[1]),
        "sub_id": key[2],
        "checks": merged.reasons,
        "players": len(merged.player_ids),
        "withheld": int(count[0].withheld),
    }
    await outbox.emit_events(
        db, [outbox.event("affiliate.subid_flagged", f"affiliate:{key[0]}", data, brand_id=key[1], at=now)]
    )
    await audit.append(
        db,
        actor=SYSTEM,
        action="affiliate.subid_flagged",
        target_type="affiliate_subid_flag",
        target_id=flag_id,
        brand_id=key[1],
        after={**data, "withheld_player_ids": sorted(str(p) for p in withheld)},
        reason="; ".join(e["detail"] for e in merged.evidence.values())[:500],
    )
    return flag_id


def _flag_params(flag_id: uuid.UUID, finding: Finding) -> dict[str, Any]:
    return {
        "id": flag_id,
        "reasons": finding.reasons,
        "evidence": json.dumps(finding.evidence, sort_keys=True),
        "players": sorted(finding.player_ids),
    }


async def sweep(rt: Runtime, thresholds: Thresholds | None = None) -> list[uuid.UUID]:
    """Run the checks and raise a flag for each sub-id with new evidence, each in its own transaction; then
    withhold what qualified on a flagged sub-id meanwhile. The flags newly raised."""
    rules = thresholds or Thresholds.load()
    now = clock.now()
    async with rt.database.session() as db:
        found = await findings(db, rules, now=now)
    raised: list[uuid.UUID] = []
    for key in sorted(found, key=lambda k: (str(k[0]), str(k[1]), k[2])):
        async with rt.database.transaction() as db:
            flag_id = await raise_flag(db, found[key], now=now)
        if flag_id is not None:
            raised.append(flag_id)
    async with rt.database.session() as db:
        open_keys = [(r.affiliate_id, r.brand_id, r.sub_id) for r in await prepared.rows(db, _OPEN, {})]
    for key in open_keys:
        async with rt.database.transaction() as db:
            await lock_sub_id(db, key)
            flags = [f for f in await prepared.rows(db, _NAMED, _params(key)) if f.status == "open"]
            if flags:  # still open under the lock (not reviewed meanwhile)
                await withhold(db, key, flags[0].id, list(flags[0].reasons))
    return raised


async def run(rt: Runtime) -> None:
    """The server's loop (safe on several replicas: see the module's guarantees). It waits an interval first:
    a server that restarts often does not sweep at each start."""
    while True:
        await asyncio.sleep(rt.settings.affiliate_fraud_interval_seconds)
        try:
            raised = await sweep(rt, Thresholds.load())  # read each time: an edit applies from the next sweep
            if raised:
                log.info("affiliate_subids_flagged", count=len(raised))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("affiliate_fraud_sweep_failed")
