"""What risk's inline rules add to a decision (services/risk/inline.py): registration, deposit, withdrawal and
bonus claim, each measured inside a transaction against a populated database, beside a baseline from the same
run (a trivial one-statement transaction), so the ratios hold on a busier or quieter machine.

    .venv/bin/python -m bench.risk_inline [--quick] [--iterations N] [--observations N] [--players N]

Uses its own database (`BENCH_DB`, default `croupier_bench_risk`; recreated on every run) and Redis
(`BENCH_REDIS`). Seeds the default rules (every inline kind enabled), `--players` players, `--observations`
risk observations spread over the last week (devices shared by two or three players, addresses by five or
six), a score for one player in ten, deposits, withdrawals and days of play for the cycling sums, and clusters.
Then, round robin over the four occasions so drift hits them alike: each iteration opens a transaction, runs
one statement (the BEGIN sent), times the occasion's inline call (`at_registration`, `at_deposit`,
`at_withdrawal`, `at_claim`: the decision's one statement, nothing firing), and rolls back. The baseline is a
whole transaction of one `SELECT 1`, timed the same way. Figures: bench/README.md §"Risk: inline rules".
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg

from bench import common

DATABASE = os.environ.get("BENCH_DB", "croupier_bench_risk")
GOAL_MS = 5.0


async def seed(database_url: str, players: int, observations: int) -> list[dict[str, Any]]:
    """The populated tables (plain SQL: seeding speed); the players the benchmark decides for."""
    from core.clock import clock

    rng = random.Random(17)
    now = clock.now()
    conn = await asyncpg.connect(database_url)
    try:
        brand_id = uuid.uuid4()
        await conn.execute(
            """INSERT INTO brands (id, code, name, default_currency, currencies, countries, minimum_age)
               VALUES ($1, 'bench', 'Bench', 'EUR', '{EUR}', '{MT}', 18)""",
            brand_id,
        )
        ids = [uuid.uuid4() for _ in range(players)]
        await conn.copy_records_to_table(
            "players",
            columns=[
                "id",
                "brand_id",
                "email",
                "password_hash",
                "date_of_birth",
                "country",
                "currency",
                "marketing_consent",
                "status",
                "jurisdiction",
                "created_at",
                "updated_at",
            ],
            records=[
                (p, brand_id, f"p{i}@bench.test", "x", date(1990, 1, 1), "MT", "EUR", False, "active", "MT", now, now)
                for i, p in enumerate(ids)
            ],
        )
        devices = [f"device-{i:06d}" for i in range(max(1, players * 2 // 5))]
        ips = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(max(1, players // 5))]
        occasions = ("registration", "login", "deposit", "withdrawal")
        await conn.copy_records_to_table(
            "risk_observations",
            columns=["occasion", "reference", "player_id", "device_id", "ip", "user_agent", "observed_at"],
            records=[
                (
                    occasions[n % 4],
                    uuid.uuid4(),
                    ids[n % players],
                    devices[(n % players) * len(devices) // players],
                    ips[(n % players) * len(ips) // players],
                    "bench",
                    now - timedelta(minutes=rng.uniform(0, 7 * 24 * 60)),
                )
                for n in range(observations)
            ],
        )
        await conn.copy_records_to_table(
            "risk_score_items",
            columns=[
                "player_id",
                "rule_code",
                "brand_id",
                "points",
                "reason",
                "details",
                "hits",
                "first_hit_at",
                "last_hit_at",
                "expires_at",
            ],
            records=[
                (p, "linked-accounts", brand_id, 15, "bench", "{}", 1, now, now, now + timedelta(days=90))
                for p in ids[::10]
            ],
        )
        await conn.copy_records_to_table(
            "risk_clusters",
            columns=["player_id", "cluster_id", "joined_at"],
            records=[(p, ids[i - i % 3], now) for i, p in enumerate(ids)],
        )
        payments = []
        for i, p in enumerate(ids):
            for k in range(3):
                kind, status = ("deposit", "succeeded") if k < 2 else ("withdrawal", "paid")
                payments.append(
                    (
                        uuid.uuid4(),
                        brand_id,
                        p,
                        kind,
                        status,
                        "EUR",
                        2000 + i % 50,
                        "card",
                        "MT",
                        f"bench-{i}-{k}",
                        now - timedelta(days=rng.uniform(0, 10)),
                        now,
                    )
                )
        await conn.copy_records_to_table(
            "payments",
            columns=[
                "id",
                "brand_id",
                "player_id",
                "kind",
                "status",
                "currency",
                "amount",
                "method",
                "country",
                "idempotency_key",
                "created_at",
                "updated_at",
            ],
            records=payments,
        )
        today = now.date()
        await conn.copy_records_to_table(
            "rg_activity_days",
            columns=["player_id", "currency", "day", "deposited", "wagered", "won"],
            records=[(p, "EUR", today - timedelta(days=d), 4000, 9000, 7000) for p in ids for d in (0, 3)],
        )
    finally:
        await conn.close()
    return [
        {"id": p, "brand": brand_id, "device": devices[i * len(devices) // players], "ip": ips[i * len(ips) // players]}
        for i, p in enumerate(ids)
    ]


class _RollBack(Exception):
    """Leaves the measured transaction without a trace (the data stays the same for every iteration)."""


async def measure(rt: Any, chosen: list[dict[str, Any]], iterations: int) -> dict[str, list[float]]:
    from core import prepared
    from core.prepared import Statement
    from services.risk import inline
    from services.risk.signals import of_request

    one = Statement("SELECT 1")
    campaign = uuid.uuid4()

    async def registration(db: Any, p: dict[str, Any], seen: Any) -> None:
        await inline.at_registration(db, player_id=p["id"], brand_id=p["brand"], seen=seen)

    async def deposit(db: Any, p: dict[str, Any], seen: Any) -> None:
        await inline.at_deposit(db, player_id=p["id"], brand_id=p["brand"], currency="EUR", seen=seen)

    async def withdrawal(db: Any, p: dict[str, Any], seen: Any) -> None:
        await inline.at_withdrawal(db, player_id=p["id"], brand_id=p["brand"], currency="EUR", seen=seen)

    async def claim(db: Any, p: dict[str, Any], seen: Any) -> None:
        await inline.at_claim(db, player_id=p["id"], brand_id=p["brand"], campaign_id=campaign, seen=seen)

    occasions: dict[str, Callable[[Any, dict[str, Any], Any], Awaitable[None]]] = {
        "registration": registration,
        "deposit": deposit,
        "withdrawal": withdrawal,
        "bonus claim": claim,
    }
    samples: dict[str, list[float]] = {name: [] for name in ["baseline", *occasions]}
    fired = 0
    for i in range(iterations):
        p = chosen[i % len(chosen)]
        seen = of_request(ip=p["ip"], user_agent="bench", device=p["device"])
        started = time.perf_counter()
        async with rt.database.transaction() as db:
            await prepared.rows(db, one)
        samples["baseline"].append((time.perf_counter() - started) * 1000)
        for name, call in occasions.items():
            try:
                async with rt.database.transaction() as db:  # the flows' kind of session (not a read session)
                    await prepared.rows(db, one)  # BEGIN sent: only the inline call is timed
                    started = time.perf_counter()
                    try:
                        await call(db, p, seen)
                    except inline.RiskRefused:
                        fired += 1
                    samples[name].append((time.perf_counter() - started) * 1000)
                    raise _RollBack
            except _RollBack:
                pass
    if fired:
        print(f"note: {fired} decisions were refused by a rule (the data made one fire)")
    return samples


async def explain(rt: Any, p: dict[str, Any]) -> None:
    """The decision's plan for each occasion (`--explain`): every subquery on an index."""
    from sqlalchemy import text

    from core.clock import clock
    from services.risk import inline

    for occasion in inline.OCCASION_KINDS:
        params = {
            "player": p["id"],
            "brand": p["brand"],
            "now": clock.now(),
            "device": p["device"],
            "ip": p["ip"],
            "currency": "EUR",
            "campaign": uuid.uuid4(),
        }
        async with rt.database.session() as db:
            query = text("EXPLAIN (ANALYZE, COSTS OFF) " + inline.DECIDE[occasion].text)
            plan = (await db.execute(query, params)).scalars()
            common.heading(f"plan: {occasion}")
            print("\n".join(plan))


def main() -> None:
    parser = common.arguments(__doc__ or "", iterations=3000, observations=20_000, players=2000, explain=False)
    args = parser.parse_args()
    iterations = 300 if args.quick else args.iterations
    for line in common.machine():
        print(line)
    database_url = common.fresh_database(DATABASE)
    chosen = asyncio.run(seed(database_url, args.players, args.observations))
    common.analyze(database_url)
    rt = common.runtime(database_url)

    async def run() -> dict[str, list[float]]:
        from services.risk import rules
        from services.risk.store import OnSession

        async with rt.database.transaction() as db:
            await rules.install_defaults(OnSession(db))
        await measure(rt, chosen, min(200, iterations))  # warm: prepared statements, plans, caches
        try:
            found = await measure(rt, chosen, iterations)
            if args.explain:
                await explain(rt, chosen[0])
            return found
        finally:
            await rt.database.engine.dispose()

    samples = asyncio.run(run())
    common.heading(
        f"risk inline: {iterations} decisions per occasion, {args.observations} observations, {args.players} players"
    )
    base50 = common.percentile(samples["baseline"], 50)
    base95 = common.percentile(samples["baseline"], 95)
    print(f"{'baseline (1-statement transaction)':36} p50 {base50:6.3f}  p95 {base95:6.3f} ms")
    worst = 0.0
    for name, values in samples.items():
        if name == "baseline":
            continue
        p50, p95 = common.percentile(values, 50), common.percentile(values, 95)
        worst = max(worst, p95)
        print(
            f"{'+ ' + name:36} p50 {p50:6.3f}  p95 {p95:6.3f} ms   "
            f"x baseline: p50 {p50 / base50:4.2f}  p95 {p95 / base95:4.2f}"
        )
    print(f"worst p95 added: {worst:.3f} ms (goal < {GOAL_MS} ms): {'met' if worst < GOAL_MS else 'NOT met'}")
    common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
