"""Risk rules as data: what each kind of rule looks at, its parameters, its score contribution and the
actions it takes (docs/risk.md lists the defaults, seeded by migration 0037; staff edit them).

A rule is evaluated where its kind says:
- inline, in the transaction of the decision it can change (services/risk/inline.py): `velocity` at
  registration, deposit or withdrawal; `cluster_bonus_claim` at a bonus claim; `deposit_withdraw_cycling`
  at a withdrawal; `score_at_least` at the occasion it names;
- on the event stream (services/risk/stream.py, the `risk-rules` consumer): `chargeback_history`,
  `covering_bets`, `linked_accounts`, `list_watch`.

A hit adds the rule's points to the player's score with its reason (services/risk/score.py) and imposes its
actions (services/risk/actions.py).
"""

from __future__ import annotations

import json
import tomllib
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.prepared import Statement
from services.risk.store import Sql


class RuleKind(StrEnum):
    VELOCITY = "velocity"
    CLUSTER_BONUS_CLAIM = "cluster_bonus_claim"
    SCORE_AT_LEAST = "score_at_least"
    DEPOSIT_WITHDRAW_CYCLING = "deposit_withdraw_cycling"
    CHARGEBACK_HISTORY = "chargeback_history"
    COVERING_BETS = "covering_bets"
    LINKED_ACCOUNTS = "linked_accounts"
    LIST_WATCH = "list_watch"


INLINE_KINDS = frozenset(
    {
        RuleKind.VELOCITY,
        RuleKind.CLUSTER_BONUS_CLAIM,
        RuleKind.SCORE_AT_LEAST,
        RuleKind.DEPOSIT_WITHDRAW_CYCLING,
    }
)


class ActionKind(StrEnum):
    FLAG_REVIEW = "flag_review"  # a flag in the risk queue
    REQUIRE_KYC_LEVEL = "require_kyc_level"  # {"level": ...}: KYC asks for it, withdrawals wait
    BLOCK_BONUSES = "block_bonuses"  # bonus claims refused (RISK_BONUS_BLOCKED)
    ROUTE_3DS = "route_3ds"  # card deposits go through 3-D Secure
    ROUTE_PSPS = "route_psps"  # {"psps": [...]}: deposits only through these PSPs
    HOLD_WITHDRAWALS = "hold_withdrawals"  # withdrawals wait for risk staff; never approved automatically
    HOLD_DEPOSIT = "hold_deposit"  # inline deposit rules only: this deposit waits for risk staff (`held`)
    BLOCK_ACCOUNT = "block_account"  # no deposits, play, bonuses; withdrawals held (the money stays theirs)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VelocityParams(_Params):
    occasion: Literal["registration", "deposit", "withdrawal"]
    by: Literal["device", "ip", "player"]
    count: Annotated[int, Field(ge=2, le=10_000)]
    minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class ClusterBonusClaimParams(_Params):
    pass


class ScoreAtLeastParams(_Params):
    occasion: Literal["deposit", "withdrawal", "bonus_claim"]
    score: Annotated[int, Field(ge=1, le=100)]


class CyclingParams(_Params):
    window_days: Annotated[int, Field(ge=1, le=365)]
    wagered_percent: Annotated[int, Field(ge=0, le=10_000)]  # wagered below this share of the deposits...
    withdrawn_percent: Annotated[int, Field(ge=1, le=10_000)]  # ...and withdrawing at least this share


class ChargebackHistoryParams(_Params):
    count: Annotated[int, Field(ge=1, le=1000)]
    days: Annotated[int, Field(ge=1, le=3650)]


class CoveringBetsParams(_Params):
    rounds: Annotated[int, Field(ge=1, le=10_000)]  # rounds with several bets returning low..high % of stake
    low_percent: Annotated[int, Field(ge=0, le=1000)]
    high_percent: Annotated[int, Field(ge=0, le=1000)]


class LinkedAccountsParams(_Params):
    min_cluster_size: Annotated[int, Field(ge=2, le=10_000)]


class ListWatchParams(_Params):
    pass


PARAMS: dict[RuleKind, type[_Params]] = {
    RuleKind.VELOCITY: VelocityParams,
    RuleKind.CLUSTER_BONUS_CLAIM: ClusterBonusClaimParams,
    RuleKind.SCORE_AT_LEAST: ScoreAtLeastParams,
    RuleKind.DEPOSIT_WITHDRAW_CYCLING: CyclingParams,
    RuleKind.CHARGEBACK_HISTORY: ChargebackHistoryParams,
    RuleKind.COVERING_BETS: CoveringBetsParams,
    RuleKind.LINKED_ACCOUNTS: LinkedAccountsParams,
    RuleKind.LIST_WATCH: ListWatchParams,
}


class ActionSpec(_Params):
    kind: ActionKind
    level: str | None = None  # require_kyc_level
    psps: tuple[str, ...] | None = None  # route_psps

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in (("level", self.level), ("psps", list(self.psps or ()) or None)) if v}


@dataclass(frozen=True)
class Rule:
    id: uuid.UUID
    code: str
    name: str
    kind: RuleKind
    params: Any  # the kind's parameters model
    points: int
    actions: tuple[ActionSpec, ...]
    brand_id: uuid.UUID | None
    version: int


def parse_params(kind: RuleKind, raw: dict[str, Any]) -> _Params:
    try:
        params = PARAMS[kind].model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "params"
        raise DomainError(f"{where}: {problem['msg']}", code=ErrorCode.INVALID_INPUT, field="params") from exc
    if isinstance(params, CoveringBetsParams) and params.low_percent > params.high_percent:
        raise DomainError("low_percent is above high_percent.", code=ErrorCode.INVALID_INPUT, field="params")
    return params


def parse_actions(kind: RuleKind, raw: list[dict[str, Any]]) -> tuple[ActionSpec, ...]:
    try:
        actions = tuple(ActionSpec.model_validate(a) for a in raw)
    except ValidationError as exc:
        raise DomainError(f"actions: {exc.errors()[0]['msg']}", code=ErrorCode.INVALID_INPUT, field="actions") from exc
    kinds = [a.kind for a in actions]
    if len(set(kinds)) != len(kinds):
        raise DomainError("Each action once.", code=ErrorCode.INVALID_INPUT, field="actions")
    for action in actions:
        if (action.kind == ActionKind.REQUIRE_KYC_LEVEL) != bool(action.level):
            raise DomainError("`level` goes with require_kyc_level.", code=ErrorCode.INVALID_INPUT, field="actions")
        if (action.kind == ActionKind.ROUTE_PSPS) != bool(action.psps):
            raise DomainError("`psps` goes with route_psps.", code=ErrorCode.INVALID_INPUT, field="actions")
        if action.kind == ActionKind.HOLD_DEPOSIT and not _deposit_inline(kind):
            raise DomainError(
                "hold_deposit acts on the deposit being decided: only inline deposit rules take it.",
                code=ErrorCode.INVALID_INPUT,
                field="actions",
            )
    return actions


def _deposit_inline(kind: RuleKind) -> bool:
    return kind in (RuleKind.VELOCITY, RuleKind.SCORE_AT_LEAST)


def _json(value: Any) -> Any:
    """A jsonb column as read: decoded by an ORM session, its text on a consumer's asyncpg connection."""
    return json.loads(value) if isinstance(value, str) else value


def from_row(row: Any) -> Rule:
    kind = RuleKind(row.kind)
    return Rule(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=kind,
        params=PARAMS[kind].model_validate(_json(row.params)),
        points=row.points,
        actions=tuple(ActionSpec.model_validate(a) for a in _json(row.actions)),
        brand_id=row.brand_id,
        version=row.version,
    )


_ENABLED = Statement("""
SELECT id, code, name, kind, params, points, actions, brand_id, version FROM risk_rules
WHERE enabled AND kind = ANY(:kinds) AND (brand_id IS NULL OR brand_id = :brand)
ORDER BY code
""")


async def enabled(sql: Sql, brand_id: uuid.UUID, kinds: frozenset[RuleKind] | set[RuleKind]) -> list[Rule]:
    """The brand's enabled rules of these kinds (its own and every brand's), in one statement."""
    rows = await sql.fetch(_ENABLED, {"kinds": sorted(k.value for k in kinds), "brand": brand_id})
    return [from_row(row) for row in rows]


DEFAULTS = Path(__file__).with_name("defaults.toml")

_INSTALL = Statement("""
INSERT INTO risk_rules (id, code, name, kind, params, points, actions, brand_id, enabled, version, updated_at)
SELECT d.id, d.code, d.name, d.kind, d.params, d.points, d.actions, NULL, true, 1, :at
FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS varchar[]), CAST(:names AS varchar[]), CAST(:kinds AS varchar[]),
            CAST(:params AS jsonb[]), CAST(:points AS smallint[]), CAST(:actions AS jsonb[]))
     AS d(id, code, name, kind, params, points, actions)
ON CONFLICT (code) DO NOTHING
""")


def defaults() -> list[dict[str, Any]]:
    """The default rules, each checked as staff's edits are (a bad default fails loudly at start-up)."""
    found: list[dict[str, Any]] = tomllib.loads(DEFAULTS.read_text())["rule"]
    for raw in found:
        kind = RuleKind(raw["kind"])
        parse_params(kind, raw["params"])
        parse_actions(kind, raw["actions"])
    return found


async def install_defaults(sql: Sql) -> None:
    """Add the default rules missing by code (one statement; an edited or disabled rule stays as it is)."""
    found = defaults()
    await sql.fetch(
        _INSTALL,
        {
            "ids": [uuid.uuid5(uuid.NAMESPACE_URL, f"croupier:risk-rule:{r['code']}") for r in found],
            "codes": [r["code"] for r in found],
            "names": [r["name"] for r in found],
            "kinds": [r["kind"] for r in found],
            "params": [json.dumps(r["params"]) for r in found],
            "points": [r["points"] for r in found],
            "actions": [json.dumps(r["actions"]) for r in found],
            "at": clock.now(),
        },
    )
