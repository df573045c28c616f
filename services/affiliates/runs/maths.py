"""The commission maths of a run, with no database: what a partner re-computes from its statement.

Per deal and currency (only the plan's currency earns revenue share; other currencies are listed, at 0):
- `ngr` = Σ over the deal's player lines of (stakes - wins - bonus cost), the platform's own NGR
  (services/reports/kpis.py), for the days the deal was in force;
- `carry_in` = the deal's negative balance left by its previous run (0 when the deal has no negative carry-over);
- `base` = ngr + carry_in;
- base ≤ 0: no revenue share; `carry_out` = base with negative carry-over, else 0 (the loss is forgotten);
- base > 0: revenue share = rate(base), rounded down to the minor unit; carry_out = 0.

Rates (parts per million): flat — base * rate; ladder — base * the rate of the highest tier whose `from_ngr`
base reaches; tiered — each slice of base between two tiers' `from_ngr` at its own tier's rate, summed, then
rounded down once.

Each player line gets the share of the deal's revenue share its NGR bears (revshare * line NGR / deal NGR),
rounded down, the cents left over going one each to the lines with the largest remainders (ties: the first
line), so the lines add up to the deal exactly. A second-tier line pays a parent `second_tier_ppm` of one
sub-partner's commission (revenue share + CPA) in one currency, rounded down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.affiliates.plans import RevShare, RevShareKind, positive_share

PPM = 1_000_000


@dataclass(frozen=True)
class Rate:
    amount: int  # minor units, ≥ 0
    tier: int | None  # index of the tier reached (None: flat)
    rate_ppm: int | None  # the rate of that tier (flat: the rate)


@dataclass(frozen=True)
class DealSums:
    ngr: int
    carry_in: int
    base: int
    revshare: int
    carry_out: int
    tier: int | None
    rate_ppm: int | None


def revshare_of(terms: RevShare, base: int) -> Rate:
    """The revenue share of a positive base under the terms (flat, ladder or tiered): the plans' own arithmetic
    (services/affiliates/plans.py `positive_share`), so the plan shown and the run paid never differ."""
    if base <= 0:
        return Rate(0, None, None)
    if terms.kind == RevShareKind.FLAT:
        rate = terms.tiers[0].rate_ppm
        return Rate(positive_share(terms.kind, [(0, rate)], base)[0], None, rate)
    amount, top = positive_share(terms.kind, [(t.from_ngr, t.rate_ppm) for t in terms.tiers], base)
    if top is None:  # below the first tier
        return Rate(0, None, 0)
    return Rate(amount, top, terms.tiers[top].rate_ppm)


def settle_deal(terms: RevShare | None, *, ngr: int, carry_in: int, negative_carry_over: bool) -> DealSums:
    """A deal's period: its NGR and the carry-over in give the base; the base gives the share or a carry-over."""
    carried = min(carry_in, 0) if negative_carry_over else 0
    base = ngr + carried
    if terms is None or base <= 0:
        carry_out = base if negative_carry_over and base < 0 else 0
        flat = terms is not None and terms.kind == RevShareKind.FLAT
        return DealSums(ngr, carried, base, 0, carry_out, None, terms.tiers[0].rate_ppm if terms and flat else None)
    rate = revshare_of(terms, base)
    return DealSums(ngr, carried, base, rate.amount, 0, rate.tier, rate.rate_ppm)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over lines by their weights (NGR), exactly: floors, then the largest remainders one each.

    `total` is 0 whenever the weights' sum is not positive (no revenue share without positive NGR)."""
    whole = sum(weights)
    if total == 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = [total * w - s * whole for w, s in zip(weights, shares, strict=True)]
    left = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return shares


def second_tier_of(commission: int, ppm: int) -> int:
    return max(commission, 0) * ppm // PPM
