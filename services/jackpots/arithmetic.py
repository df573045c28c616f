"""The pure rules of a pot, in exact integers: what a stake contributes, the cap, when the pot drops, and what a
rollback takes back.

The consumer (services/jackpots/consumer.py) and the simulation (bench/jackpot_simulation.py) run this code,
so the 100-million-bet simulation checks the rules production runs.

A bet's contribution is `stake * ppm / 10⁶` minor units. The part below one minor unit is not rounded away: it
is carried in the pool's `remainder` (millionths of a minor unit, 0 ≤ remainder < 10⁶) to the next stake. An
amount pool never holds more than its cap: a contribution that would pass the cap is clipped to it (the excess
stays with the house, `turned_away`). What a bet actually put in (after the clip) is recorded with the pot's
generation (`jackpot_stakes.given`).

A rollback is not a negative stake: it takes back exactly what its bet put in, and only from the same pot
(`take_back`): never more (a clipped bet gave less than its share), never from a later pot (the pot its money
went into was paid to a winner; that part is `forgone`, the house's loss). It leaves the remainder alone: the
fraction its bet carried stays in the pool's carry. So, for a pool, at any time:

- over all bets B (rolled back or not), with r₀ the remainder at the start:
  `(Σ given + Σ turned_away) * 10⁶ + remainder == Σ B * ppm + r₀`  (the carry is exact, nothing lost);
- every rolled-back bet's `given` is `taken_back + forgone`;
- a pot of generation g holds its seed plus the `given` of g's bets not rolled back (so a rollback never takes
  a pot below its seed, nor below zero): pot == seed + Σ given - Σ taken_back, over that generation.
"""

from __future__ import annotations

from dataclasses import dataclass

PPM = 1_000_000


@dataclass(frozen=True)
class Step:
    """One stake applied to a pot: what it added (negative for a rollback) and the pot after it."""

    contribution: int
    remainder: int
    amount: int  # the pot after the stake
    turned_away: int  # minor units a cap refused
    drops: bool  # this stake took the pot to its committed point (amount pools)


def contribute(stake: int, ppm: int, remainder: int) -> tuple[int, int]:
    """The whole minor units a stake (negative: a stake rolled back) adds, and the remainder carried on."""
    return divmod(remainder + stake * ppm, PPM)


def step(*, amount: int, remainder: int, stake: int, ppm: int, cap: int | None, drop_point: int | None) -> Step:
    """Apply one stake to a pot of `amount`. `drop_point` (amount pools): the pot drops on the stake that takes it
    to the point or past it; the point is never above the cap, so the drop always happens by the cap."""
    contribution, remainder = contribute(stake, ppm, remainder)
    turned_away = 0
    if cap is not None and amount + contribution > cap:
        turned_away = amount + contribution - cap
        contribution = cap - amount
    after = amount + contribution
    drops = drop_point is not None and stake > 0 and amount < drop_point <= after
    return Step(contribution, remainder, after, turned_away, drops)


def take_back(*, given: int, given_generation: int, generation: int) -> tuple[int, int]:
    """What a rollback takes back from the pot now in `generation` of a bet that put `given` into pot
    `given_generation`, and what it cannot (forgone: that pot dropped; its money was paid to a winner)."""
    if given_generation == generation:
        return given, 0
    return 0, given


def convert(stake: int, numerator: int, denominator: int) -> int:
    """A stake in the pool's currency, at a rate of numerator/denominator pool minor units per stake minor unit,
    rounded down (what the rounding keeps is the house's, and the rate is recorded with the stake)."""
    return stake * numerator // denominator


def due_at(trigger: str, drop_point: int | None, stake: int, at_ms: int) -> bool:
    """A time pool drops on the first stake at or after its committed instant (milliseconds since the epoch)."""
    return trigger == "time" and drop_point is not None and stake > 0 and at_ms >= drop_point
