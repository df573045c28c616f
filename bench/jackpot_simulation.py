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
from a fixed table (1 to 5,000.00, heavy at the low end). Two in 1,000 are rolled back through
`arithmetic.take_back` (the consumer's rule): one right after itself (after its own drop, if it dropped the pot,
with its contribution clipped by the cap), one 400 bets later (often after a drop in between). Checked at
every stake (independently of `step`'s own logic): the pot never above its cap; it drops exactly when the
stake takes it from below the committed point to the point or above; the remainder within [0, 10⁶); after
every rollback, the pot not below its seed (a rollback never reaches into a later pot). At every drop: the
revealed point and salt hash to the commitment published at the seeding. At the end, exactly: (what bets put
in + what the cap turned away) * 10⁶ + the carried remainder == stakes * rate; what rollbacks took back + what
they forwent == what their bets had put in; seeds + contributions - taken back - wins == pot. Half the bets
the cap clips are rolled back too (after their own drop); `--cap 110000` (100.00 above the seed) makes clips
common.

The figure printed beside the bets per second: a bare Python loop over the same stakes (the baseline, in the
same run), so the ratio says what the rules cost.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from services.jackpots import arithmetic, commitment

SEED, CAP, PPM = 100_000, 500_000, 15_000  # 1,000.00 seed, must drop by 5,000.00, 1.5% of each stake
TABLE = 1_000_003  # a prime: the stake table, walked with a stride per worker
ROLLBACK_EVERY, LATE = 1_000, 400


@dataclass
class Outcome:
    bets: int
    rollbacks: int
    clipped_rollbacks: int  # of bets the cap clipped (each after its own drop)
    drops: int
    stakes: int
    contributed: int  # net of what rollbacks took back
    turned_away: int
    forgone: int  # what rollbacks could not take back: their pot had dropped
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


def run(bets: int, worker: int, cap: int = CAP) -> Outcome:
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
    amount, remainder, seeded, won, given, turned_away, staked = SEED, 0, SEED, 0, 0, 0, 0
    taken_back = forgone = rolled_given = 0
    generation = 1
    drawn = commitment.amount_point(amount, cap)
    drops = rollbacks = clipped_rollbacks = 0
    step, take_back = arithmetic.step, arithmetic.take_back
    late: deque[tuple[int, int, int]] = deque()  # (bet index it is due at, generation fed, what the bet put in)
    started = time.perf_counter()
    index = worker
    for n in range(bets):
        stake = table[index]
        index += 7
        if index >= TABLE:
            index -= TABLE
        before = amount
        s = step(amount=amount, remainder=remainder, stake=stake, ppm=PPM, cap=cap, drop_point=drawn.point)
        amount, remainder = s.amount, s.remainder
        given += s.contribution
        turned_away += s.turned_away
        staked += stake
        if amount > cap or not 0 <= remainder < arithmetic.PPM:
            violations.append(f"bet {n}: pot {amount} (cap {cap}), remainder {remainder}")
        if s.drops != (before < drawn.point <= amount):
            violations.append(f"bet {n}: drop {s.drops} with the pot {before} -> {amount}, point {drawn.point}")
        fed = (generation, s.contribution)
        if s.drops:
            if not commitment.verify_commitment(drawn.commitment, drawn.point, drawn.salt):
                violations.append(f"bet {n}: the revealed point does not match its commitment")
            drops += 1
            won += amount
            amount = SEED
            seeded += SEED
            generation += 1
            drawn = commitment.amount_point(amount, cap)
        # Rollbacks: one bet in ROLLBACK_EVERY right after itself (after its own drop, if it dropped the pot: a
        # clipped contribution), another LATE bets later (often after a drop in between).
        if n % ROLLBACK_EVERY == 0 or (s.turned_away and n % 2):  # and half the bets the cap clipped
            clipped_rollbacks += 1 if s.turned_away else 0
            late.appendleft((n, *fed))
        elif n % ROLLBACK_EVERY == ROLLBACK_EVERY // 2:
            late.append((n + LATE, *fed))
        while late and late[0][0] <= n:
            _, fed_generation, fed_amount = late.popleft()
            taken, lost = take_back(given=fed_amount, given_generation=fed_generation, generation=generation)
            amount -= taken
            taken_back += taken
            forgone += lost
            rolled_given += fed_amount
            rollbacks += 1
            if amount < SEED:  # the pot holds its seed plus the live bets of its own generation
                violations.append(f"bet {n}: a rollback took the pot to {amount}, below its seed {SEED}")
        if len(violations) > 20:
            break
    seconds = time.perf_counter() - started
    if (given + turned_away) * arithmetic.PPM + remainder != staked * PPM:
        violations.append(f"contributions {given} + turned away {turned_away} and the carry != stakes * rate")
    if taken_back + forgone != rolled_given:
        violations.append(f"taken back {taken_back} + forgone {forgone} != what the rolled-back bets gave")
    if seeded + given - taken_back - won != amount:
        violations.append(f"seeds {seeded} + contributions {given} - taken back {taken_back} - wins {won} != pot")
    return Outcome(
        bets, rollbacks, clipped_rollbacks, drops, staked, given - taken_back, turned_away, forgone, seeded, won,
        amount, remainder, seconds, baseline, violations,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bets", type=int, default=100_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1,000,000 bets")
    parser.add_argument("--cap", type=int, default=CAP, help="minor units; near the seed (110000) the cap clips often")
    args = parser.parse_args()
    bets = 1_000_000 if args.quick else args.bets
    share = [bets // args.workers + (1 if n < bets % args.workers else 0) for n in range(args.workers)]
    print(f"{bets:,} bets in {args.workers} worker process(es), one pot each: seed {SEED}, cap {args.cap}, {PPM} ppm")
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        outcomes = list(pool.map(run, share, range(args.workers), [args.cap] * args.workers))
    wall = time.perf_counter() - started
    for n, o in enumerate(outcomes):
        print(
            f"  worker {n}: {o.bets:,} bets + {o.rollbacks:,} rollbacks ({o.clipped_rollbacks:,} of clipped bets), "
            f"{o.drops:,} drops, "
            f"{o.bets / o.seconds:,.0f} bets/s (bare loop {o.bets / o.baseline_seconds:,.0f}/s, ratio "
            f"{o.baseline_seconds / o.seconds:.3f}); contributed {o.contributed:,}, turned away by the cap "
            f"{o.turned_away:,}, forgone by rollbacks {o.forgone:,}, won {o.won:,}, pot {o.pot:,}"
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
