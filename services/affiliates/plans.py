"""Commission terms as data: what `affiliate_plans.terms` holds, its validation, and the arithmetic of a rate.

The stored JSON (amounts in minor units of the plan's currency, rates in parts per million):

    CPA       {"amount": 5000, "qualification": {"min_first_deposit": 2000, "min_wagering": 10000, "within_days": 30}}
    RevShare  {"revshare": {"kind": "flat", "rate_ppm": 250000}}
              {"revshare": {"kind": "tiered" | "ladder", "tiers": [{"from_ngr": 0, "rate_ppm": 250000}, ...]}}
    Hybrid    both of the above in one object
    any plan  "second_tier_ppm": what a parent partner earns on the commission of its sub-partners (0: nothing)

`parse(kind, terms)` returns `Terms` or raises a `DomainError` whose code names the part refused
(AFFILIATE_PLAN_INVALID: the shape or the kind, AFFILIATE_CPA_INVALID, AFFILIATE_REVSHARE_INVALID,
AFFILIATE_SECOND_TIER_INVALID) and whose `field` is the API's name of the input (`cpa.amount`,
`revshare.tiers`, ...). Stored terms always parse: a plan is validated before it is written and never edited.

Tiered and ladder differ on what a tier's rate applies to (docs/affiliate-plans.md has worked figures):
tiered pays each slice of NGR at its own tier's rate (like income tax brackets); ladder pays the whole NGR
at the rate of the highest tier it reached. Negative NGR (the house won less than it gave) is charged at
the first tier's rate either way; whether it carries into the next period is the deal's
`negative_carry_over`, applied by the runs. Amounts round toward zero to the minor unit (tiered: once, on the
sum of its slices); `positive_share` is the arithmetic the runs pay by too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.errors import DomainError, ErrorCode
from models.affiliates import PlanKind

PPM = 1_000_000
MAX_WINDOW_DAYS = 365  # a CPA qualifies within at most a year of registration
MAX_TIERS = 20
MAX_AMOUNT = 10**15  # minor units: far above any real threshold, below BIGINT


class RevShareKind(StrEnum):
    FLAT = "flat"
    TIERED = "tiered"  # each slice of NGR at its own tier's rate
    LADDER = "ladder"  # the whole NGR at the rate of the tier reached


@dataclass(frozen=True)
class Qualification:
    min_first_deposit: int  # minor units: the player's first deposit is at least this
    min_wagering: int  # minor units: cash staked (net of rollbacks) is at least this
    within_days: int  # both by this many days after registration


@dataclass(frozen=True)
class Cpa:
    amount: int  # minor units of the plan's currency, paid once per qualified player
    qualification: Qualification


@dataclass(frozen=True)
class Tier:
    from_ngr: int  # minor units of NGR in the period where this tier starts (the first starts at 0)
    rate_ppm: int


@dataclass(frozen=True)
class Share:
    """A revenue share of one NGR figure: the commission, and the rate and tier (0-based) it came from."""

    amount: int
    rate_ppm: int
    tier: int


def ppm_of(amount: int, rate_ppm: int) -> int:
    """`rate_ppm` parts per million of `amount`, rounded toward zero (never more than the rate gives)."""
    part = abs(amount) * rate_ppm // PPM
    return part if amount >= 0 else -part


@dataclass(frozen=True)
class RevShare:
    kind: RevShareKind
    tiers: tuple[Tier, ...]  # flat: one tier from 0

    def share(self, ngr: int) -> Share:
        """The commission on a period's NGR (see the module's docstring for tiered against ladder)."""
        if ngr <= 0:
            rate = self.tiers[0].rate_ppm
            return Share(ppm_of(ngr, rate), rate, 0)
        amount, reached = positive_share(self.kind, [(t.from_ngr, t.rate_ppm) for t in self.tiers], ngr)
        assert reached is not None  # the first tier starts at 0
        return Share(amount, self.tiers[reached].rate_ppm, reached)


def positive_share(kind: str, tiers: Sequence[tuple[int, int]], ngr: int) -> tuple[int, int | None]:
    """The revenue share of a positive NGR under (from_ngr, rate_ppm) tiers, and the index of the tier reached
    (None: below the first): the one arithmetic of the terms, which the plans show and the runs pay
    (services/affiliates/runs/maths.py). Tiered sums its slices exactly and rounds down once, so a partner's
    statement never loses a cent per slice."""
    reached = [i for i, (start, _) in enumerate(tiers) if ngr >= start]
    if ngr <= 0 or not reached:
        return 0, None
    top = reached[-1]
    if kind != RevShareKind.TIERED:
        return ngr * tiers[top][1] // PPM, top
    scaled = 0
    for i in reached:
        upper = tiers[i + 1][0] if i + 1 < len(tiers) else ngr
        scaled += (min(ngr, upper) - tiers[i][0]) * tiers[i][1]
    return scaled // PPM, top


@dataclass(frozen=True)
class Terms:
    kind: PlanKind
    cpa: Cpa | None
    revshare: RevShare | None
    second_tier_ppm: int

    def to_json(self) -> dict[str, Any]:
        """The stored form (what `parse` reads back)."""
        out: dict[str, Any] = {"second_tier_ppm": self.second_tier_ppm}
        if self.cpa is not None:
            q = self.cpa.qualification
            out["amount"] = self.cpa.amount
            out["qualification"] = {
                "min_first_deposit": q.min_first_deposit,
                "min_wagering": q.min_wagering,
                "within_days": q.within_days,
            }
        if self.revshare is not None:
            r = self.revshare
            out["revshare"] = (
                {"kind": r.kind.value, "rate_ppm": r.tiers[0].rate_ppm}
                if r.kind == RevShareKind.FLAT
                else {
                    "kind": r.kind.value,
                    "tiers": [{"from_ngr": t.from_ngr, "rate_ppm": t.rate_ppm} for t in r.tiers],
                }
            )
        return out


def _refuse(code: ErrorCode, field: str, message: str) -> DomainError:
    return DomainError(message, code=code, field=field)


def _int(value: Any, *, code: ErrorCode, field: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(code, field, f"{what} must be a whole number from {low} to {high}.")
    return value


def _keys(value: Any, allowed: set[str], *, code: ErrorCode, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _refuse(code, field, "An object is expected here.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _refuse(code, field, f"Unknown terms: {', '.join(unknown)}.")
    return value


def _cpa(terms: Mapping[str, Any]) -> Cpa:
    code = ErrorCode.AFFILIATE_CPA_INVALID
    amount = _int(terms.get("amount"), code=code, field="cpa.amount", low=1, high=MAX_AMOUNT, what="The CPA amount")
    if "qualification" not in terms:
        raise _refuse(code, "cpa.qualification", "A CPA needs its qualification rule.")
    rule = _keys(
        terms["qualification"],
        {"min_first_deposit", "min_wagering", "within_days"},
        code=code,
        field="cpa.qualification",
    )
    limits = {"min_first_deposit": MAX_AMOUNT, "min_wagering": MAX_AMOUNT, "within_days": MAX_WINDOW_DAYS}
    names = {"min_first_deposit": "minFirstDeposit", "min_wagering": "minWagering", "within_days": "withinDays"}
    values = {
        key: _int(
            rule.get(key),
            code=code,
            field=f"cpa.qualification.{names[key]}",
            low=1 if key == "within_days" else 0,
            high=high,
            what=f"The qualification's {key.replace('_', ' ')}",
        )
        for key, high in limits.items()
    }
    return Cpa(amount, Qualification(**values))


def _revshare(value: Any) -> RevShare:
    code = ErrorCode.AFFILIATE_REVSHARE_INVALID
    spec = _keys(value, {"kind", "rate_ppm", "tiers"}, code=code, field="revshare")
    try:
        kind = RevShareKind(str(spec.get("kind")))
    except ValueError as exc:
        raise _refuse(code, "revshare.kind", "A revenue share is flat, tiered or ladder.") from exc
    if kind == RevShareKind.FLAT:
        if "tiers" in spec:
            raise _refuse(code, "revshare.tiers", "A flat revenue share has one rate and no tiers.")
        rate = _int(spec.get("rate_ppm"), code=code, field="revshare.ratePpm", low=0, high=PPM, what="The rate")
        return RevShare(kind, (Tier(0, rate),))
    if "rate_ppm" in spec:
        raise _refuse(code, "revshare.ratePpm", f"A {kind.value} revenue share takes its rates from its tiers.")
    tiers = spec.get("tiers")
    if not isinstance(tiers, list) or not 2 <= len(tiers) <= MAX_TIERS:
        raise _refuse(code, "revshare.tiers", f"A {kind.value} revenue share has 2 to {MAX_TIERS} tiers.")
    parsed: list[Tier] = []
    for i, raw in enumerate(tiers):
        tier = _keys(raw, {"from_ngr", "rate_ppm"}, code=code, field=f"revshare.tiers[{i}]")
        from_ngr = _int(
            tier.get("from_ngr"), code=code, field=f"revshare.tiers[{i}].fromNgr", low=0, high=MAX_AMOUNT,
            what="A tier's start",
        )  # fmt: skip
        rate = _int(
            tier.get("rate_ppm"), code=code, field=f"revshare.tiers[{i}].ratePpm", low=0, high=PPM, what="A rate"
        )
        if i == 0 and from_ngr != 0:
            raise _refuse(code, "revshare.tiers[0].fromNgr", "The first tier starts at an NGR of zero.")
        if parsed and from_ngr <= parsed[-1].from_ngr:
            raise _refuse(code, f"revshare.tiers[{i}].fromNgr", "Tiers start at strictly increasing NGR.")
        parsed.append(Tier(from_ngr, rate))
    return RevShare(kind, tuple(parsed))


def parse(kind: str, terms: Any) -> Terms:
    """Validated terms of a plan of `kind` (see the module's docstring), or a DomainError naming the part."""
    invalid = ErrorCode.AFFILIATE_PLAN_INVALID
    try:
        plan_kind = PlanKind(kind)
    except ValueError as exc:
        raise _refuse(invalid, "kind", "A plan is cpa, revshare or hybrid.") from exc
    spec = _keys(terms, {"amount", "qualification", "revshare", "second_tier_ppm"}, code=invalid, field="terms")
    has_cpa = "amount" in spec or "qualification" in spec
    has_revshare = "revshare" in spec
    wants_cpa = plan_kind in (PlanKind.CPA, PlanKind.HYBRID)
    wants_revshare = plan_kind in (PlanKind.REVSHARE, PlanKind.HYBRID)
    if has_cpa != wants_cpa:
        raise _refuse(
            ErrorCode.AFFILIATE_CPA_INVALID,
            "cpa",
            f"A {plan_kind.value} plan {'needs' if wants_cpa else 'has no'} CPA terms.",
        )
    if has_revshare != wants_revshare:
        raise _refuse(
            ErrorCode.AFFILIATE_REVSHARE_INVALID,
            "revshare",
            f"A {plan_kind.value} plan {'needs' if wants_revshare else 'has no'} a revenue share.",
        )
    second = _int(
        spec.get("second_tier_ppm", 0), code=ErrorCode.AFFILIATE_SECOND_TIER_INVALID, field="secondTierPpm", low=0,
        high=PPM, what="The second tier's rate",
    )  # fmt: skip
    return Terms(
        kind=plan_kind,
        cpa=_cpa(spec) if wants_cpa else None,
        revshare=_revshare(spec["revshare"]) if wants_revshare else None,
        second_tier_ppm=second,
    )
