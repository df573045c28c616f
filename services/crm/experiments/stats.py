"""The intervals an experiment's result shows, at 95 % (z = 1.959964).

- A proportion: Wilson's score interval (Wilson 1927), which stays inside [0, 1] and behaves at 0 and n.
- A difference of two proportions (variant - control): Newcombe's hybrid score interval (Newcombe 1998, method
  10), built from the two Wilson intervals: d - √((p₁-l₁)² + (u₂-p₂)²) to d + √((u₁-p₁)² + (p₂-l₂)²). Chosen
  over Wald because Wald's coverage collapses at the small rates conversions have (and gives zero width at 0/n).
- A difference of two means (NGR per exposed player): Welch's standard error with the normal quantile,
  (m₁ - m₂) ± z·√(s₁²/n₁ + s₂²/n₂) — a large-sample interval; None below two players in a group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def wilson(successes: int, trials: int, z: float = Z95) -> Interval | None:
    """The Wilson score interval of successes/trials; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends (no rounding residue)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, low, high)


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval | None:
    """Newcombe's hybrid score interval for p₁ - p₂ (x₁/n₁ the variant, x₂/n₂ the control)."""
    first, second = wilson(x1, n1, z), wilson(x2, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = first.estimate, second.estimate
    d = p1 - p2
    low = d - math.sqrt((p1 - first.low) ** 2 + (second.high - p2) ** 2)
    high = d + math.sqrt((first.high - p1) ** 2 + (p2 - second.low) ** 2)
    return Interval(d, low, high)


@dataclass(frozen=True)
class Moments:
    """A group's count, sum and sum of squares (what SQL aggregates cheaply)."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (n - 1)."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


def mean_difference(first: Moments, second: Moments, z: float = Z95) -> Interval | None:
    """Welch's interval for mean₁ - mean₂ with the normal quantile; None below two in a group."""
    if first.n < 2 or second.n < 2:
        return None
    d = first.mean - second.mean
    se = math.sqrt(first.variance / first.n + second.variance / second.n)
    return Interval(d, d - z * se, d + z * se)
