"""The jackpot simulation: 100,000,000 bets through the jackpot's own rules, never past a cap, never off a
commitment.

    .venv/bin/python -m bench.jackpot_simulation [--bets N] [--workers N] [--quick]

Every stake goes through `services.jackpots.arithmetic.step` — the function the `jackpots` consumer runs for
each eligible stake — and every pot's drop point through `services.jackpots.commitment` (drawn with the
CSPRNG, committed, and checked against its commitment when revealed), so this checks the production rules,
not a copy. No database: the ledger side is tested in tests/jackpots; here the question is whether the
arithmetic can ever take a pot past its cap, drop it anywhere but at its committed point, or lose a
fraction of a contribution, over a number of stakes no test reaches.

Each worker process runs its own pot (the bets split between them: pots are independent, one consumer walks a
pool's stakes in one order) with a must-drop-by amount of 5,000.00 and a seed of 1,000.00 at 1.5%, stakes drawn
from a fixed table (1 to 5,000.00, heavy at the low end), one in 1,000 rolled back right after. Checked at
every stake (independently of `step`'s own logic): the pot never above its cap; it drops exactly when the
stake takes it from below the committed point to the point or above; the remainder within [0, 10⁶). At every
drop: the revealed point and salt hash to the commitment published at the seeding. At the end, exactly:
contributions + what the cap turned away == ⌊net stakes * rate / 10⁶⌋, and seeds + contributions - wins == pot.

The figure printed beside the bets per second: a bare Python loop over the same stakes (the baseline, in the
same run), so the ratio says what the rules cost.
"""

from __future__ import annotations

import argparse
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from services.jackpots import arithmetic, commitment

SEED, CAP, PPM = 100_000, 500_000, 15_000  # 1,000.00 seed, must drop by 5,000.00, 1.5% of each stake
TABLE = 1_000_003  # a prime: the stake table, walked with a stride per worker
ROLLBACK_EVERY = 1_000


@dataclass
class Outcome:
    bets: int
    rollbacks: int
    drops: int
    net_stakes: int
    contributed: int
    turned_away: int
    seeded: int
    won: int
    pot: int
    remainder: int
    seconds: float
    baseline_seconds: float
    violations: list[str]


def stakes(seed: int) -> list[int]:
    rng = random.Random(seed)
    return [max(1, min(500_000, int(rng.lognormvariate(6.0, 1.6)))) for _ in range(TABLE)]


def run(bets: int, worker: int) -> Outcome:
    table = stakes(worker)
    # The baseline: the same walk over the stakes, summing them, nothing else.
    started = time.perf_counter()
    total, index = 0, worker
    for _ in range(bets):
        total += table[index]
        index += 7
        if index >= TABLE:
            index -= TABLE
    baseline = time.perf_counter() - started

    violations: list[str] = []
    amount, remainder, seeded, won, contributed, turned_away, net = SEED, 0, SEED, 0, 0, 0, 0
    drawn = commitment.amount_point(amount, CAP)
    drops = rollbacks = 0
    step = arithmetic.step
    started = time.perf_counter()
    index = worker
    for n in range(bets):
        stake = table[index]
        index += 7
        if index >= TABLE:
            index -= TABLE
        for signed in (stake, -stake) if n % ROLLBACK_EVERY == 0 else (stake,):
            before = amount
            s = step(amount=amount, remainder=remainder, stake=signed, ppm=PPM, cap=CAP, drop_point=drawn.point)
            amount, remainder = s.amount, s.remainder
            contributed += s.contribution
            turned_away += s.turned_away
            net += signed
            if amount > CAP or not 0 <= remainder < arithmetic.PPM:
                violations.append(f"bet {n}: pot {amount} (cap {CAP}), remainder {remainder}")
            if s.drops != (signed > 0 and before < drawn.point <= amount):
                violations.append(f"bet {n}: drop {s.drops} with the pot {before} -> {amount}, point {drawn.point}")
            if signed < 0:
                rollbacks += 1
            if s.drops:
                if not commitment.verify_commitment(drawn.commitment, drawn.point, drawn.salt):
                    violations.append(f"bet {n}: the revealed point does not match its commitment")
                drops += 1
                won += amount
                amount = SEED
                seeded += SEED
                drawn = commitment.amount_point(amount, CAP)
        if len(violations) > 20:
            break
    seconds = time.perf_counter() - started
    if contributed + turned_away != net * PPM // arithmetic.PPM:
        violations.append(f"contributions {contributed} + turned away {turned_away} != floor(net stakes * rate)")
    if seeded + contributed - won != amount:
        violations.append(f"seeds {seeded} + contributions {contributed} - wins {won} != pot {amount}")
    return Outcome(
        bets, rollbacks, drops, net, contributed, turned_away, seeded, won, amount, remainder, seconds, baseline,
        violations,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bets", type=int, default=100_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1,000,000 bets")
    args = parser.parse_args()
    bets = 1_000_000 if args.quick else args.bets
    share = [bets // args.workers + (1 if n < bets % args.workers else 0) for n in range(args.workers)]
    print(f"{bets:,} bets in {args.workers} worker process(es), one pot each: seed {SEED}, cap {CAP}, {PPM} ppm")
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        outcomes = list(pool.map(run, share, range(args.workers)))
    wall = time.perf_counter() - started
    for n, o in enumerate(outcomes):
        print(
            f"  worker {n}: {o.bets:,} bets + {o.rollbacks:,} rollbacks, {o.drops:,} drops, "
            f"{o.bets / o.seconds:,.0f} bets/s (bare loop {o.bets / o.baseline_seconds:,.0f}/s, ratio "
            f"{o.baseline_seconds / o.seconds:.3f}); contributed {o.contributed:,}, turned away by the cap "
            f"{o.turned_away:,}, won {o.won:,}, pot {o.pot:,}"
        )
    violations = [v for o in outcomes for v in o.violations]
    total = sum(o.bets for o in outcomes)
    print(
        f"{total:,} bets, {sum(o.drops for o in outcomes):,} drops in {wall:,.0f} s wall: "
        + (
            "never past a cap, never off a commitment, nothing lost"
            if not violations
            else f"{len(violations)} VIOLATIONS"
        )
    )
    for v in violations[:20]:
        print("  " + v)
    if violations:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
