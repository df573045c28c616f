"""What a run reads of a plan's `terms`: its revenue share and its second-tier rate.

services/affiliates/plans.py (helper affplans) validates terms when a plan is made; this is only the reading a
run needs, strict enough that a plan it cannot read stops the run (INVALID_INPUT naming the plan) rather than
paying by a guess. Shapes (the issue's contract):
- revenue share: `{"revshare": {"kind": "flat", "rate_ppm": 250000}}` or
  `{"revshare": {"kind": "tiered" | "ladder", "tiers": [{"from_ngr": 0, "rate_ppm": 200000}, …]}}`,
  `from_ngr` in minor units of the plan's currency (an integer, or a decimal string), tiers ascending;
- `second_tier_ppm`: what a parent earns on its sub-partners' commission (0 or absent: nothing).
CPA amounts are not read here: a qualification row carries its amount (fixed when the player qualified).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from core.errors import DomainError, ErrorCode
from core.money import parse_amount

KINDS = ("flat", "tiered", "ladder")


@dataclass(frozen=True)
class Tier:
    from_ngr: int
    rate_ppm: int


@dataclass(frozen=True)
class RevShare:
    kind: str
    rate_ppm: int | None = None
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True)
class PlanTerms:
    revshare: RevShare | None
    second_tier_ppm: int


def _ppm(value: Any, plan: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise DomainError(f"Plan {plan}: a rate is an integer of parts per million.", code=ErrorCode.INVALID_INPUT)
    return value


def _minor(value: Any, currency: str, plan: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        return parse_amount(value, currency, allow_zero=True)
    raise DomainError(f"Plan {plan}: a tier's from_ngr is an amount.", code=ErrorCode.INVALID_INPUT)


def read_terms(kind: str, terms: dict[str, Any], currency: str, plan: str) -> PlanTerms:
    """The plan's terms as the run uses them (a CPA plan has no revenue share)."""
    second = _ppm(terms.get("second_tier_ppm", 0) or 0, plan)
    raw = terms.get("revshare")
    if kind == "cpa" or raw is None:
        if kind in ("revshare", "hybrid"):
            raise DomainError(f"Plan {plan} has no revenue share terms.", code=ErrorCode.INVALID_INPUT)
        return PlanTerms(None, second)
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
        raise DomainError(f"Plan {plan}: revshare.kind is one of {KINDS}.", code=ErrorCode.INVALID_INPUT)
    if raw["kind"] == "flat":
        return PlanTerms(RevShare("flat", rate_ppm=_ppm(raw.get("rate_ppm"), plan)), second)
    tiers = tuple(
        Tier(_minor(t.get("from_ngr"), currency, plan), _ppm(t.get("rate_ppm"), plan))
        for t in raw.get("tiers") or []
        if isinstance(t, dict)
    )
    if not tiers or any(b.from_ngr <= a.from_ngr for a, b in pairwise(tiers)):
        raise DomainError(f"Plan {plan}: tiers ascend strictly by from_ngr.", code=ErrorCode.INVALID_INPUT)
    return PlanTerms(RevShare(raw["kind"], tiers=tiers), second)
