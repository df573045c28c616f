"""The `jackpots` consumer's lag under the wallet's load.

    .venv/bin/python -m bench.jackpot_lag [--quick] [--players N] [--calls N]

On its own database (`croupier_jackpot_bench`, recreated) and the Redis of BENCH_REDIS: bench/world.py's
casino (one brand, a Hub88 aggregator, funded players with sessions) and a progressive jackpot over every
game of the brand with three levels (mini, major, grand: seeds 10.00, 100.00, 1,000.00 EUR, must drop by 14.00,
110.00 and 5,000.00 EUR, at 1%, 0.5% and 0.2% of each stake: the load's 1.00 EUR bets drop the mini pot every few
hundred bets, so wins are paid under the load too), then `croupier serve` (one worker, EVENT_CONSUMERS=true:
every platform consumer runs, the jackpots one among them) takes 16 clients of signed Hub88 bets and wins
(bench/wallet.py's load).

Printed: the wallet's rate and latency under that load; the `jackpots` consumer's lag (event commit to the
commit of its effects, from the server's own `croupier_consumer_lag_seconds` histogram, read from /metrics
before and after, percentiles interpolated within its buckets) beside the `reports` consumer's over the same
events (the baseline: the platform's oldest consumer); how long after the load each caught up; the drops paid,
and `croupier ledger verify`-clean books and `jackpots verify` on every drop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from redis.asyncio import Redis

from bench import common, wallet
from bench.events import caught_up, histogram_summary, lag_histogram, last_id

DATABASE = "croupier_jackpot_bench"


async def create_jackpot(database_url: str, brand_id: Any) -> Any:
    from authz.subjects import SYSTEM
    from services.jackpots.admin import JackpotSpec, LevelSpec, create_jackpot

    rt = common.runtime(database_url)
    try:
        async with rt.database.transaction() as db:
            return await create_jackpot(
                db,
                JackpotSpec(
                    "bench-progressive",
                    "Bench Progressive",
                    "local",
                    "progressive",
                    "EUR",
                    [brand_id],
                    [
                        LevelSpec("mini", 1_000, 10_000, "amount", 1_400),
                        LevelSpec("major", 10_000, 5_000, "amount", 11_000),
                        LevelSpec("grand", 100_000, 2_000, "amount", 500_000),
                    ],
                ),
                actor=SYSTEM,
            )
    finally:
        await rt.close()


async def verified(database_url: str, jackpot_id: Any) -> tuple[int, int, bool]:
    from services import ledger
    from services.jackpots import views

    rt = common.runtime(database_url)
    try:
        async with rt.database.session() as db:
            drops = await views.verify(db, jackpot_id)
            books = await ledger.verify(db)
        return len(drops), sum(not d.ok for d in drops), books.ok
    finally:
        await rt.close()


async def flush() -> None:
    redis = Redis.from_url(common.REDIS_URL)
    await redis.flushdb()
    await redis.aclose()


def main() -> None:
    args = common.arguments(__doc__ or "", players=2000, calls=12_800).parse_args()
    if args.quick:
        args.players, args.calls = 500, 3_200
    common.heading("Jackpots: the consumer's lag under the wallet's load")
    print("\n".join(common.machine()))
    database_url = common.fresh_database(DATABASE)
    # The relay's dedupe keys of an earlier run (event ids start again at 1 in the fresh database) would keep
    # every event out of the stream: the consumers would get them only from the sweep, 30 s late.
    asyncio.run(flush())
    place = asyncio.run(wallet.seed(database_url, args.players))
    jackpot = asyncio.run(create_jackpot(database_url, place.brand_id))
    pem = place.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with ProcessPoolExecutor(2, initializer=wallet._load_key, initargs=(pem,)) as pool:
        warm = wallet.scripts(wallet.Level("warm-up", 8, 400), place.seats, pool)
        signed = wallet.scripts(wallet.Level("16 clients", 16, args.calls), place.seats, pool)
    common.analyze(database_url)
    with common.server(database_url, EVENT_CONSUMERS="true") as served:

        async def run() -> None:
            conn = await asyncpg.connect(database_url)
            try:
                await wallet.drive(served.base, warm)
                await caught_up(conn, ["reports", "jackpots"], 0, 120)
                first_id = await last_id(conn)
                before = {name: await lag_histogram(served.base, name) for name in ("jackpots", "reports")}
                load = await wallet.drive(served.base, signed)
                drained = await caught_up(conn, ["reports", "jackpots"], first_id, 300)
                after = {name: await lag_histogram(served.base, name) for name in ("jackpots", "reports")}
                bad = {status: n for status, n in load.statuses.items() if status != "RS_OK"}
                print(
                    f"  load: 16 clients, {load.calls:,} Hub88 calls at {load.rate:,.0f} calls/s, "
                    f"{load.latencies.summary()}" + (f"  NOT OK: {bad}" if bad else "")
                )
                print(f"  jackpots consumer lag: {histogram_summary(before['jackpots'], after['jackpots'])}")
                print(f"  reports consumer lag:  {histogram_summary(before['reports'], after['reports'])}  (baseline)")
                print(f"  both caught up {drained:.1f} s after the load ended")
                pools = await conn.fetch(
                    "SELECT level, amount, generation, contributed_total, won_total FROM jackpot_pools "
                    "WHERE jackpot_id = $1 ORDER BY position",
                    jackpot.id,
                )
                for row in pools:
                    print(
                        f"  {row['level']:<6} pot {row['amount']:>7,}  drops {row['generation'] - 1:>4,}  "
                        f"contributed {row['contributed_total']:>9,}  won {row['won_total']:>9,}"
                    )
                batches = await conn.fetchval(
                    "SELECT count(*) FROM ledger_transactions WHERE kind = 'jackpot_contribution'"
                )
                bets = await conn.fetchval("SELECT count(*) FROM jackpot_stakes")
                print(f"  {bets:,} stakes contributed in {batches:,} contribution transactions (batched per pool)")
            finally:
                await conn.close()

        asyncio.run(run())
    drops, wrong, books = asyncio.run(verified(database_url, jackpot.id))
    print(
        f"  jackpots verify: {drops:,} drops checked, {wrong} wrong; ledger verify {'clean' if books else 'NOT CLEAN'}"
    )


if __name__ == "__main__":
    main()
