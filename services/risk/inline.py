"""Risk's rules evaluated inline, and the restrictions the flows read, in the transaction of their decision
(docs/risk-rules-inline.md).

One statement answers a decision's whole question when nothing fires: the player's actions in force (the
restrictions) and the brand's enabled rules of the occasion, each with what it measures (a velocity
count, the score, the deposit-withdraw cycling sums, the linked accounts that hold the offer) computed
in the same statement by an indexed subquery that runs only for a rule that exists. A rule that fires
is applied through services/risk/hits.py (score, actions, flag, event, audit) in the flow's transaction;
a hit that refuses the request (a linked account claimed the offer, a rule that blocks) is applied after
the rollback in a transaction of its own (`record_refused`), as a list block is.

Where each occasion is decided (one call each):
- registration (`at_registration`, after `gates.registered` inserted the observation it counts);
- deposit (`at_deposit`): `blocked` refuses (RISK_RESTRICTED); velocity and score_at_least rules may hold
  the deposit (`held`, no PSP asked); `three_ds` and `psps` shape the cascade;
- withdrawal (`at_withdrawal`): velocity, cycling and score_at_least rules; `withdrawals_held` keeps the
  withdrawal from automatic approval and from finance until risk lifts the hold;
- bonus claim (`at_claim`): `bonuses_blocked` refuses (RISK_BONUS_BLOCKED), cluster_bonus_claim refuses
  (RISK_BONUS_ABUSE), score_at_least applies;
- game launch (`check_launch`): `blocked` refuses (RISK_RESTRICTED).
At deposit, withdrawal and claim a `require_kyc_level` action in force is made a KYC requirement
(services/kyc/actions.require_level, reason `risk.<rule code>` or `risk.staff`) before the KYC gate asks.

The audit records of what a hit at a deposit, withdrawal or claim imposed wait for the end of the flow's
transaction (`audit_deferred`, which the flow calls last): the audit chain's lock is held from the first record
to the commit, and the flows take the player's KYC row and money lock after their risk decision. Audited at
the hit, a deposit held the chain's lock while it waited for the KYC row that a KYC officer's step held while
it waited for the chain's lock: a deadlock (tests/risk/test_review_inline.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.prepared import Statement
from core.runtime import Runtime
from services import audit
from services.kyc import actions as kyc_actions
from services.risk import actions, hits
from services.risk.actions import InForce, Restrictions
from services.risk.rules import (
    ActionKind,
    ClusterBonusClaimParams,
    CyclingParams,
    Rule,
    RuleKind,
    ScoreAtLeastParams,
    VelocityParams,
    from_row,
)
from services.risk.signals import Observed
from services.risk.store import OnSession, Sql

log = get_logger("services.risk.inline")

OCCASION_KINDS: dict[str, list[str]] = {
    "registration": [RuleKind.VELOCITY.value],
    "deposit": [RuleKind.VELOCITY.value, RuleKind.SCORE_AT_LEAST.value],
    "withdrawal": [RuleKind.VELOCITY.value, RuleKind.DEPOSIT_WITHDRAW_CYCLING.value, RuleKind.SCORE_AT_LEAST.value],
    "bonus_claim": [RuleKind.CLUSTER_BONUS_CLAIM.value, RuleKind.SCORE_AT_LEAST.value],
}

# The decision's one statement. The actions in force come as one JSON value (a row even without rules);
# each rule of the occasion comes with `measured`, from the one subquery its kind and params select
# (PostgreSQL runs a CASE branch's subquery only for the rows that take it).
_DECIDE_SQL = """
WITH in_force AS (
  SELECT coalesce(json_agg(json_build_object('id', a.id, 'kind', a.kind, 'params', a.params,
                                             'rule_code', a.rule_code, 'reason', a.reason)
                           ORDER BY a.imposed_at), '[]'::json) AS actions
  FROM risk_actions a
  WHERE a.player_id = :player AND a.lifted_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > :now)
)
SELECT f.actions, r.* FROM in_force f LEFT JOIN LATERAL (
  SELECT id, code, name, kind, params, points, actions AS rule_actions, brand_id, version,
    CASE
      WHEN kind = 'velocity' AND params->>'by' = 'device' THEN ARRAY[(
        SELECT count(*) FROM risk_observations o
        WHERE o.device_id = CAST(:device AS varchar) AND o.occasion = '__OCCASION__'
          AND o.observed_at > :now - make_interval(mins => (params->>'minutes')::int))]
      WHEN kind = 'velocity' AND params->>'by' = 'ip' THEN ARRAY[(
        SELECT count(*) FROM risk_observations o
        WHERE o.ip = CAST(:ip AS inet) AND o.occasion = '__OCCASION__'
          AND o.observed_at > :now - make_interval(mins => (params->>'minutes')::int))]
      WHEN kind = 'velocity' THEN ARRAY[(
        SELECT count(*) FROM risk_observations o
        WHERE o.player_id = :player AND o.occasion = '__OCCASION__'
          AND o.observed_at > :now - make_interval(mins => (params->>'minutes')::int))]
      WHEN kind = 'score_at_least' THEN ARRAY[(
        SELECT least(coalesce(sum(s.points), 0), 100)::bigint FROM risk_score_items s
        WHERE s.player_id = :player AND s.expires_at > :now)]
      WHEN kind = 'deposit_withdraw_cycling' THEN (
        SELECT ARRAY[
          coalesce(sum(p.amount) FILTER (WHERE p.kind = 'deposit' AND p.status = 'succeeded'), 0)::bigint,
          (SELECT coalesce(sum(d.wagered), 0)::bigint FROM rg_activity_days d
           WHERE d.player_id = :player AND d.currency = CAST(:currency AS varchar)
             AND d.day >= CAST(:now AS date) - (params->>'window_days')::int),
          coalesce(sum(p.amount) FILTER (WHERE p.kind = 'withdrawal'
                                         AND p.status NOT IN ('rejected', 'cancelled', 'failed')), 0)::bigint]
        FROM payments p
        WHERE p.player_id = :player AND p.currency = CAST(:currency AS varchar)
          AND p.created_at > :now - make_interval(days => (params->>'window_days')::int))
      WHEN kind = 'cluster_bonus_claim' THEN ARRAY[(
        SELECT count(DISTINCT b.player_id) FROM player_bonuses b
        WHERE b.campaign_id = CAST(:campaign AS uuid) AND b.player_id <> :player AND b.player_id IN (
          SELECT c2.player_id FROM risk_clusters c1 JOIN risk_clusters c2 ON c2.cluster_id = c1.cluster_id
          WHERE c1.player_id = :player
          UNION
          SELECT o2.player_id FROM risk_observations o1 JOIN risk_observations o2 ON o2.device_id = o1.device_id
          WHERE o1.player_id = :player AND o1.device_id IS NOT NULL
          UNION
          SELECT o3.player_id FROM risk_observations o3 WHERE o3.device_id = CAST(:device AS varchar)))]
    END AS measured
  FROM risk_rules
  WHERE enabled AND kind IN (__KINDS__) AND (brand_id IS NULL OR brand_id = :brand)
    AND (params->>'occasion' IS NULL OR params->>'occasion' = '__OCCASION__')
) r ON true
ORDER BY r.code
"""


# One statement per occasion, its kinds and occasion written in, and no parameter ever null (what is absent is a
# value that matches nothing: NO_DEVICE, NO_IP, NO_CAMPAIGN): a plan made for any parameters (PostgreSQL's generic
# plan, kept with the connection's prepared statement) is then as cheap as one made for the values, so PostgreSQL
# keeps it instead of planning every execution afresh (~1 ms: a null folded into a custom plan made it look cheaper).
NO_DEVICE = ""  # device ids are 8 to 128 characters (services/risk/signals.py)
NO_IP = "::"  # the unspecified address: never a client's
NO_CAMPAIGN = uuid.UUID(int=0)
DECIDE = {
    occasion: Statement(
        _DECIDE_SQL.replace("__OCCASION__", occasion).replace("__KINDS__", ", ".join(f"'{k}'" for k in kinds))
    )
    for occasion, kinds in OCCASION_KINDS.items()
}


@dataclass(frozen=True)
class Finding:
    """A rule that fired at this decision, not yet applied."""

    rule: Rule
    reason: str
    details: dict[str, Any]


@dataclass
class Decision:
    occasion: str
    player_id: uuid.UUID
    brand_id: uuid.UUID
    restrictions: Restrictions
    findings: list[Finding] = field(default_factory=list)
    hold_deposit: bool = False  # a deposit rule that fired holds this deposit
    imposed: list[ActionKind] = field(default_factory=list)  # restrictions this decision's hits put in force


class RiskRefused(DomainError):
    """The request is refused by risk; `findings` are the hits to record once its transaction rolled back."""

    def __init__(self, message: str, *, code: ErrorCode, decision: Decision, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message, code=code)
        self.decision = decision
        self.findings = tuple(findings)


_BY = {"device": "from this device", "ip": "from this IP address", "player": "by this player"}
_NOUN = {"registration": "registrations", "deposit": "deposits", "withdrawal": "withdrawals"}


def _parse_actions(raw: Any) -> Restrictions:
    found = json.loads(raw) if isinstance(raw, str) else raw
    return Restrictions(
        tuple(
            InForce(uuid.UUID(str(a["id"])), ActionKind(a["kind"]), a["params"] or {}, a["rule_code"], a["reason"])
            for a in found or ()
        )
    )


def _finding(rule: Rule, measured: Sequence[int] | None, occasion: str) -> Finding | None:
    if not measured:
        return None
    params = rule.params
    if isinstance(params, VelocityParams):
        count = int(measured[0])
        if count < params.count:
            return None
        what = _NOUN[params.occasion]
        reason = f"{count} {what} {_BY[params.by]} in {params.minutes} minutes"
        return Finding(
            rule, reason, {"count": count, "by": params.by, "minutes": params.minutes, "limit": params.count}
        )
    if isinstance(params, ScoreAtLeastParams):
        value = int(measured[0])
        if value < params.score:
            return None
        return Finding(rule, f"risk score {value} (at least {params.score}) at a {occasion}", {"score": value})
    if isinstance(params, CyclingParams):
        deposited, wagered, withdrawn = (int(v) for v in measured)
        if deposited <= 0:
            return None
        if (
            wagered * 100 >= params.wagered_percent * deposited
            or withdrawn * 100 < params.withdrawn_percent * deposited
        ):
            return None
        reason = (
            f"withdrawing {withdrawn * 100 // deposited}% of {params.window_days} days' deposits "
            f"after wagering {wagered * 100 // deposited}% of them"
        )
        details = {"deposited": deposited, "wagered": wagered, "withdrawn": withdrawn, "days": params.window_days}
        return Finding(rule, reason, details)
    if isinstance(params, ClusterBonusClaimParams):
        others = int(measured[0])
        if others <= 0:
            return None
        reason = f"{others} linked account{'s' if others > 1 else ''} already claimed this offer"
        return Finding(rule, reason, {"linked_claimants": others})
    return None


async def decide(
    sql: Sql,
    *,
    occasion: str,
    player_id: uuid.UUID,
    brand_id: uuid.UUID,
    seen: Observed | None = None,
    currency: str | None = None,
    campaign_id: uuid.UUID | None = None,
) -> Decision:
    """The restrictions in force and the rules of `occasion` that fire, in one statement (nothing applied)."""
    params = {
        "player": player_id,
        "brand": brand_id,
        "now": clock.now(),
        "device": (seen.device_id if seen else None) or NO_DEVICE,
        "ip": (seen.ip if seen else None) or NO_IP,
        "currency": currency or "",
        "campaign": campaign_id or NO_CAMPAIGN,
    }
    rows = await sql.fetch(DECIDE[occasion], params)
    decision = Decision(occasion, player_id, brand_id, _parse_actions(rows[0].actions) if rows else Restrictions())
    for row in rows:
        if row.id is None:
            continue  # no rule: the in-force row alone
        rule = from_row(_RuleRow(row))
        found = _finding(rule, row.measured, occasion)
        if found is not None:
            decision.findings.append(found)
    return decision


class _RuleRow:
    """The rule's columns of a decision row, under the names `rules.from_row` reads."""

    def __init__(self, row: Any) -> None:
        self.id, self.code, self.name, self.kind = row.id, row.code, row.name, row.kind
        self.params = json.loads(row.params) if isinstance(row.params, str) else row.params
        self.points, self.brand_id, self.version = row.points, row.brand_id, row.version
        self.actions = json.loads(row.rule_actions) if isinstance(row.rule_actions, str) else row.rule_actions


async def apply(sql: Sql, decision: Decision, findings: Sequence[Finding] | None = None) -> Decision:
    """Apply the findings (score, actions, flags, events, audit); the restrictions re-read when one was imposed."""
    for found in decision.findings if findings is None else findings:
        outcome = await hits.apply(
            sql,
            found.rule,
            player_id=decision.player_id,
            brand_id=decision.brand_id,
            occasion=decision.occasion,
            reason=found.reason,
            details=found.details,
        )
        decision.hold_deposit = decision.hold_deposit or outcome.hold_deposit
        decision.imposed.extend(outcome.imposed)
    if decision.imposed:
        decision.restrictions = await actions.in_force(sql, decision.player_id)
    return decision


_DEFERRED = "risk.inline.audit_deferred"


class _AuditLast(OnSession):
    """A flow's session whose audit records wait for `audit_deferred`, the flow's last step."""

    async def audit(self, entries: Sequence[audit.SystemEntry]) -> None:
        self.db.info.setdefault(_DEFERRED, []).extend(entries)


def forget_deferred(db: AsyncSession) -> None:
    """The hits whose effects a savepoint's rollback undid: no audit record for them."""
    db.info.pop(_DEFERRED, None)


async def audit_deferred(db: AsyncSession) -> None:
    """The flow's last step in its transaction: the audit records of the hits its risk decisions applied."""
    entries = db.info.pop(_DEFERRED, [])
    if entries:
        await OnSession(db).audit(entries)


def _imposes(finding: Finding, *kinds: ActionKind) -> bool:
    return any(a.kind in kinds for a in finding.rule.actions)


def holds_deposit(finding: Finding) -> bool:
    return _imposes(finding, ActionKind.HOLD_DEPOSIT)


async def record_refused(rt: Runtime, refusal: RiskRefused) -> None:
    """After the refused request rolled back: its hits, in a transaction of their own."""
    if not refusal.findings:
        return
    async with rt.database.transaction() as db:
        await apply(OnSession(db), refusal.decision, refusal.findings)


async def require_kyc(db: AsyncSession, restrictions: Restrictions, player_id: uuid.UUID) -> None:
    """A `require_kyc_level` action in force becomes a KYC requirement (in the gate's transaction, before the
    KYC gate asks): Player.kyc shows it, and withdrawals wait for it as for any other."""
    for action in restrictions.actions:
        if action.kind != ActionKind.REQUIRE_KYC_LEVEL:
            continue
        try:
            await kyc_actions.require_level(
                db, player_id, str(action.params["level"]), actions.kyc_signal(action.rule_code)
            )
        except ValueError as exc:  # a level this player's jurisdiction does not have: logged, not a refusal
            log.warning("risk.kyc_level_unknown", player_id=str(player_id), error=str(exc))


# ---- the occasions -----------------------------------------------------------------------------------------


def _restricted(decision: Decision, what: str, findings: Sequence[Finding] = ()) -> RiskRefused:
    return RiskRefused(
        f"Your account is restricted: {what} is not available. Contact support.",
        code=ErrorCode.RISK_RESTRICTED,
        decision=decision,
        findings=findings,
    )


async def at_registration(db: AsyncSession, *, player_id: uuid.UUID, brand_id: uuid.UUID, seen: Observed) -> Decision:
    """After `gates.registered` (its observation is counted)."""
    sql = OnSession(db)
    decision = await decide(sql, occasion="registration", player_id=player_id, brand_id=brand_id, seen=seen)
    return await apply(sql, decision) if decision.findings else decision


async def at_deposit(
    db: AsyncSession, *, player_id: uuid.UUID, brand_id: uuid.UUID, currency: str, seen: Observed
) -> Decision:
    """After the deposit's insert and observation and the cashier's own gates: refused (RiskRefused), or the
    decision (`hold_deposit`, and `restrictions.three_ds`/`psps` for the routing)."""
    sql = _AuditLast(db)  # audited by the flow's last step (audit_deferred)
    decision = await decide(
        sql, occasion="deposit", player_id=player_id, brand_id=brand_id, seen=seen, currency=currency
    )
    if decision.restrictions.blocked:
        raise _restricted(decision, "depositing")
    blocking = [f for f in decision.findings if _imposes(f, ActionKind.BLOCK_ACCOUNT)]
    if blocking:
        raise _restricted(decision, "depositing", decision.findings)
    if decision.findings:
        await apply(sql, decision)
    await require_kyc(db, decision.restrictions, player_id)
    return decision


async def at_withdrawal(
    db: AsyncSession, *, player_id: uuid.UUID, brand_id: uuid.UUID, currency: str, seen: Observed
) -> Decision:
    """After the withdrawal's hold, before the KYC gate and the automatic approval: `restrictions.
    withdrawals_held` (this decision's hits included) keeps it for risk staff."""
    sql = _AuditLast(db)  # audited by the flow's last step (audit_deferred)
    decision = await decide(
        sql, occasion="withdrawal", player_id=player_id, brand_id=brand_id, seen=seen, currency=currency
    )
    if decision.findings:
        await apply(sql, decision)
    await require_kyc(db, decision.restrictions, player_id)
    return decision


# What the cluster_bonus_claim check links a claimant by: their cluster (or themselves, before any link), every
# device they were seen on, and this request's device. Each is a turn taken in one sorted order (no deadlock
# cycle between two claims), held until the claim commits.
_CLAIM_TURN = Statement("""
SELECT count(pg_advisory_xact_lock(hashtextextended('risk-claim:' || :campaign || ':' || k.key, 0)))
FROM (
  SELECT key FROM (
    SELECT coalesce((SELECT 'c' || CAST(cluster_id AS text) FROM risk_clusters WHERE player_id = :player),
                    'c' || CAST(:player AS text)) AS key
    UNION
    SELECT 'd' || device_id FROM risk_observations WHERE player_id = :player AND device_id IS NOT NULL
    UNION
    SELECT 'd' || CAST(:device AS varchar) WHERE :device <> ''
  ) keys ORDER BY key
) k
""")


async def at_claim(
    db: AsyncSession, *, player_id: uuid.UUID, brand_id: uuid.UUID, campaign_id: uuid.UUID, seen: Observed | None
) -> Decision:
    """A bonus claim (by code, by offer, or with a deposit), the campaign known, before the bonus is issued."""
    sql = _AuditLast(db)  # audited by the flow's last step (audit_deferred)
    # Two linked accounts claiming the offer at once would each miss the other's uncommitted claim: claims of
    # one campaign from one cluster, or from one device, take their turn (held until the claim commits).
    await sql.fetch(
        _CLAIM_TURN,
        {"campaign": str(campaign_id), "player": player_id, "device": (seen.device_id if seen else None) or ""},
    )
    decision = await decide(
        sql, occasion="bonus_claim", player_id=player_id, brand_id=brand_id, seen=seen, campaign_id=campaign_id
    )
    if decision.restrictions.bonuses_blocked:
        raise RiskRefused(
            "Bonus offers are not available on this account.", code=ErrorCode.RISK_BONUS_BLOCKED, decision=decision
        )
    if any(f.rule.kind == RuleKind.CLUSTER_BONUS_CLAIM for f in decision.findings):
        raise RiskRefused(
            "This offer has already been claimed from a linked account.",
            code=ErrorCode.RISK_BONUS_ABUSE,
            decision=decision,
            findings=decision.findings,
        )
    if any(_imposes(f, ActionKind.BLOCK_BONUSES, ActionKind.BLOCK_ACCOUNT) for f in decision.findings):
        raise RiskRefused(
            "Bonus offers are not available on this account.",
            code=ErrorCode.RISK_BONUS_BLOCKED,
            decision=decision,
            findings=decision.findings,
        )
    if decision.findings:
        await apply(sql, decision)
    await require_kyc(db, decision.restrictions, player_id)
    return decision


async def check_launch(db: AsyncSession, player_id: uuid.UUID) -> None:
    """Real-money play: refused while `block_account` is in force. After the player's risk turn (a block being
    imposed commits first and is seen; one imposed after ends the session this launch writes)."""
    await actions.take_turn(OnSession(db), player_id)
    if (await actions.in_force(OnSession(db), player_id)).blocked:
        raise DomainError(
            "Your account is restricted: real-money play is not available. Contact support.",
            code=ErrorCode.RISK_RESTRICTED,
        )
