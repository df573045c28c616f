"""Benchmark 5: the event backbone and the reports at scale.

    .venv/bin/python -m bench.reports [--quick] [--players N] [--bets N] [--keep]

A generator writes, set-based in the database, what a month of a casino leaves behind: players
registered over 30 days, each with a deposit and `bets` rounds (a stake, and every other round a win),
as balanced ledger transactions and postings with their `ledger.*` and `player.registered` outbox
events (already published). Then, in one run:

1. the outbox relay's own rate: the newest events marked unpublished and published again to Redis;
2. a rebuild of every report projection from the whole outbox (`core.consumers.replay` of the reports
   consumer), its rate beside the relay's;
3. `reports verify` over the month: the projections equal the ledger;
4. the report queries over the month (figures by day in the reporting currency, registrations, D1/D7/D30
   retention, LTV by cohort, top games): p50/p95 of 20 runs each.

It uses its own database, `croupier_reports_bench` (or `BENCH_REPORTS_DB`; recreated unless `--keep` finds
the same size), and Redis database 10 (or `BENCH_REDIS`).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import date, timedelta

import asyncpg
from redis.asyncio import Redis

from bench import common

DATABASE = os.environ.get("BENCH_REPORTS_DB", "croupier_reports_bench")
BRAND = uuid.uuid5(uuid.NAMESPACE_DNS, "reports.croupier")
MONTH = date(2026, 11, 1)
DEPOSIT, STAKE, WIN = 100_00, 1_00, 1_50  # cents: a win of 1.50 every other round

GENERATE = """
SET session_replication_role = replica;
INSERT INTO brands (id, code, name, minimum_age, default_currency, countries, currencies, jurisdictions, created_at)
VALUES ('{brand}', 'bench', 'Bench Casino', 18, 'EUR', ARRAY['MT'], ARRAY['EUR'], ARRAY['DEFAULT'], now());
INSERT INTO ledger_accounts (id, brand_id, owner_type, owner_id, purpose, currency, balance, allow_negative)
VALUES (md5('house')::uuid, '{brand}', 'brand', '{brand}', 'house_revenue', 'EUR', NULL, true),
       (md5('psp')::uuid, '{brand}', 'psp', 'demo', 'psp_clearing', 'EUR', NULL, true);
CREATE TEMP TABLE gen AS
SELECT n, j,
       timestamptz '{month}' + (n % 30) * interval '1 day' + (n % 86000) * interval '1 second'
         + (j + (n % 7) * (j / 2)) * interval '1 hour' AS at,
       CASE WHEN j = 0 THEN 'deposit' WHEN j % 2 = 1 THEN 'game_bet' ELSE 'game_win' END AS kind,
       CASE WHEN j = 0 THEN {deposit} WHEN j % 2 = 1 THEN -{stake} ELSE {win} END AS cash,
       {deposit} - ((j + 1) / 2) * {stake} + (j / 2) * {win} AS balance
FROM generate_series(1, {players}) AS n, generate_series(0, 2 * {rounds}) AS j;
INSERT INTO players (id, brand_id, email, password_hash, first_name, last_name, date_of_birth, country, currency,
                     marketing_consent, status, jurisdiction, created_at, updated_at)
SELECT md5('player' || n)::uuid, '{brand}', 'p' || n || '@example.com', 'x', 'P', 'N' || n, date '1990-01-01',
       'MT', 'EUR', false, 'active', 'DEFAULT', timestamptz '{month}' + (n % 30) * interval '1 day', now()
FROM generate_series(1, {players}) AS n;
INSERT INTO ledger_accounts (id, brand_id, owner_type, owner_id, purpose, currency, balance, allow_negative)
SELECT md5('cash' || n)::uuid, '{brand}', 'player', md5('player' || n)::uuid::text, 'cash', 'EUR',
       {deposit} - {rounds} * {stake} + {rounds} * {win}, false
FROM generate_series(1, {players}) AS n;
INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, brand_id, player_id,
                                 reference_type, reference_id, actor_type, created_at)
SELECT md5('tx' || n || ':' || j)::uuid, 'bench:' || n || ':' || j, md5('tx' || n || ':' || j), kind, 'committed',
       '{brand}', md5('player' || n)::uuid,
       CASE WHEN j = 0 THEN 'payment' ELSE 'provider_transaction' END, 'demo:' || n || ':' || j, 'system', at
FROM gen;
INSERT INTO ledger_postings (id, transaction_id, account_id, currency, amount, balance_after, created_at)
SELECT row_number() OVER () , md5('tx' || n || ':' || j)::uuid,
       CASE WHEN side = 1 THEN md5('cash' || n)::uuid WHEN j = 0 THEN md5('psp')::uuid ELSE md5('house')::uuid END,
       'EUR', CASE WHEN side = 1 THEN cash ELSE -cash END, CASE WHEN side = 1 THEN balance END, at
FROM gen, generate_series(1, 2) AS side;
SELECT setval('ledger_postings_id_seq', (SELECT max(id) FROM ledger_postings));
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at, published_at)
SELECT topic, key, '{brand}', 1, payload, at, at FROM (
  SELECT 'player.registered' AS topic, 'player:' || md5('player' || n)::uuid AS key,
         jsonb_build_object('player_id', md5('player' || n)::uuid, 'currency', 'EUR', 'jurisdiction', 'DEFAULT')
           AS payload,
         timestamptz '{month}' + (n % 30) * interval '1 day' AS at, n, -1 AS j
  FROM generate_series(1, {players}) AS n
  UNION ALL
  SELECT 'ledger.' || kind, 'player:' || md5('player' || n)::uuid,
         jsonb_build_object('transaction_id', md5('tx' || n || ':' || j)::uuid, 'kind', kind,
           'player_id', md5('player' || n)::uuid, 'currency', 'EUR', 'cash', cash, 'bonus', 0, 'pending', 0,
           'balances', jsonb_build_object('cash', balance),
           'reference_type', CASE WHEN j = 0 THEN 'payment' ELSE 'provider_transaction' END,
           'reference_id', 'demo:' || n || ':' || j)
         || CASE WHEN j = 0 THEN jsonb_build_object('psp', 'demo')
                 ELSE jsonb_build_object('game', 'game-' || (n % 50), 'provider', 'demo',
                                         'round', n || ':' || (j + 1) / 2)
            END,
         at, n, j
  FROM gen
) AS e ORDER BY at, n, j;
CREATE TABLE bench_reports (players bigint NOT NULL, rounds bigint NOT NULL);
INSERT INTO bench_reports VALUES ({players}, {rounds});
"""


async def _size(conn: asyncpg.Connection) -> tuple[int, int] | None:
    exists = await conn.fetchval("SELECT to_regclass('bench_reports') IS NOT NULL")
    if not exists:
        return None
    row = await conn.fetchrow("SELECT players, rounds FROM bench_reports")
    return (row["players"], row["rounds"]) if row else None


def prepare(players: int, rounds: int, keep: bool) -> str:
    database_url = common.url(DATABASE)

    async def size() -> tuple[int, int] | None:
        if not await common.database_exists(DATABASE):
            return None
        conn = await asyncpg.connect(database_url)
        try:
            return await _size(conn)
        finally:
            await conn.close()

    if keep and asyncio.run(size()) == (players, rounds):
        print(f"reusing {DATABASE}: {players:,} players, {rounds} rounds each")
        return database_url
    common.fresh_database(DATABASE)

    async def generate() -> float:
        sql = GENERATE.format(
            brand=BRAND, month=MONTH, players=players, rounds=rounds, deposit=DEPOSIT, stake=STAKE, win=WIN
        )
        conn = await asyncpg.connect(database_url)
        started = time.perf_counter()
        try:
            await conn.execute(
                "SET maintenance_work_mem = '256MB'; SET synchronous_commit = off; SET work_mem = '256MB'"
            )
            async with conn.transaction():
                await conn.execute(sql)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        return time.perf_counter() - started

    took = asyncio.run(generate())
    print(f"generated {players:,} players and their month in {took:.0f} s (SQL, generate_series)")
    return database_url


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    events = await conn.fetchval("SELECT count(*) FROM outbox_events")
    postings = await conn.fetchval("SELECT count(*) FROM ledger_postings")
    return int(events), int(postings)


async def relay_rate(database_url: str, redis: Redis, events: int) -> float:
    """Events per second the relay publishes: the newest `events` marked unpublished, then published."""
    from core.outbox import Relay

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE outbox_events SET published_at = NULL WHERE id > (SELECT max(id) FROM outbox_events) - $1", events
        )
        relay = Relay(database_url, redis)
        started = time.perf_counter()
        while await relay.publish_batch(conn):
            pass
        return relay.published / (time.perf_counter() - started)
    finally:
        await conn.close()


async def rebuild(database_url: str, redis: Redis) -> tuple[int, float]:
    from core.consumers import Runner, replay
    from services.reports.projection import ReportsProjection

    conn = await asyncpg.connect(database_url)
    try:
        runner = Runner(ReportsProjection(), database_url, redis, member="bench", batch=5_000)
        started = time.perf_counter()
        applied = await replay(runner, conn)
        return applied, time.perf_counter() - started
    finally:
        await conn.close()


async def queries(database_url: str) -> dict[str, list[float]]:
    from services.reports import cohorts, kpis, verify
    from services.reports.periods import Period

    rt = common.runtime(database_url)
    end = MONTH + timedelta(days=29)
    async with rt.database.session() as db:
        checked = await verify.verify(db, start=MONTH, end=end)
        print(f"reports verify over the month: {'clean' if checked.ok else checked.differences[:5]}")
        timings: dict[str, list[float]] = {}
        runs = {
            "figures by day (EUR)": lambda: kpis.figures(
                db, brands=None, start=MONTH, end=end, period=Period.DAY, reporting_currency="EUR"
            ),
            "registrations by week": lambda: kpis.registrations(
                db, brands=None, start=MONTH, end=end, period=Period.WEEK
            ),
            "retention D1/D7/D30 by week": lambda: cohorts.retention(
                db, brands=None, start=MONTH, end=end, as_of=end, period=Period.WEEK
            ),
            "LTV by cohort month": lambda: cohorts.lifetime_value(db, brands=None, start=MONTH, end=end, as_of=end),
            "top 100 games": lambda: kpis.game_figures(db, brands=None, start=MONTH, end=end),
        }
        for name, run in runs.items():
            timings[name] = []
            for _ in range(20):
                started = time.perf_counter()
                await run()
                timings[name].append((time.perf_counter() - started) * 1000)
    await rt.close()
    return timings


def main() -> None:
    parser = common.arguments(__doc__ or "", players=1_000_000, rounds=4, keep=False)
    options = parser.parse_args()
    players = 20_000 if options.quick else options.players
    common.heading("Benchmark 5: events and reports at scale")
    for line in common.machine():
        print(line)
    database_url = prepare(players, options.rounds, options.keep)

    async def measure() -> None:
        conn = await asyncpg.connect(database_url)
        events, postings = await counts(conn)
        await conn.close()
        print(f"data: {players:,} players, {events:,} events, {postings:,} postings")
        redis = Redis.from_url(common.REDIS_URL)
        await redis.flushdb()
        try:
            relay = await relay_rate(database_url, redis, min(events, 200_000))
            applied, took = await rebuild(database_url, redis)
        finally:
            await redis.flushdb()
            await redis.aclose()
        rate = applied / took
        print(f"outbox relay to Redis: {relay:,.0f} events/s")
        print(f"rebuild of every projection from {applied:,} events: {took:.1f} s, {rate:,.0f} events/s "
              f"({rate / relay:.2f} x the relay's rate)")  # fmt: skip
        for name, values in (await queries(database_url)).items():
            p50, p95 = common.percentile(values, 50), common.percentile(values, 95)
            print(f"{name:<32} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (goal p95 < 200 ms)")

    asyncio.run(measure())


if __name__ == "__main__":
    main()
