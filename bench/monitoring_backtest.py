"""Benchmark: a transaction-monitoring backtest over a large outbox.

    .venv/bin/python -m bench.monitoring_backtest [--quick] [--events N] [--players N] [--keep]

A generator writes, set-based in the database, `events` outbox events over 30 days of `players`: 90 %
stakes (`ledger.game_bet`), 4 % deposits (`payment.succeeded`, each with its payment row: a card token out
of three per player, so the instrument join is measured), 1 % withdrawal requests, 5 % other events the
rules skip (`ledger.deposit`); 0.3 % of deposits are just under the structuring threshold. Then one
backtest of the shipped version against itself (`services/aml/monitoring/backtest.run`): events read, CPU
and wall seconds, events/s, and the time 10,000,000 events would take at that rate.

It uses its own database, `croupier_bench_am` (or `BENCH_AM_DB`), recreated unless `--keep` finds the
same number of events.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg

from bench import common

DATABASE = os.environ.get("BENCH_AM_DB", "croupier_bench_am")
BRAND = uuid.uuid5(uuid.NAMESPACE_DNS, "monitoring.croupier")

GENERATE = """
SET session_replication_role = replica;
INSERT INTO brands (id, code, name, minimum_age, default_currency, countries, currencies, jurisdictions, created_at)
VALUES ('{brand}', 'bench', 'Bench Casino', 18, 'EUR', ARRAY['MT'], ARRAY['EUR'], ARRAY['DEFAULT'], now());
CREATE TEMP TABLE gen AS
SELECT n, md5('player' || (n::bigint * 7919 % {players}))::uuid AS player,
       timestamptz '2026-11-01' + n * (interval '30 days' / {events}) AS at,
       CASE WHEN n % 100 < 90 THEN 'ledger.game_bet' WHEN n % 100 < 94 THEN 'payment.succeeded'
            WHEN n % 100 < 95 THEN 'payment.requested' ELSE 'ledger.deposit' END AS topic,
       CASE WHEN n % 1000 < 3 THEN 190000 ELSE 2000 + (n % 50) * 500 END AS amount
FROM generate_series(1, {events}) AS n;
INSERT INTO payments (id, kind, brand_id, player_id, currency, amount, method, country, status, idempotency_key,
                      instrument_token, psp, created_at, updated_at)
SELECT md5('pay' || n)::uuid, 'deposit', '{brand}', player, 'EUR', amount, 'card', 'MT', 'succeeded', 'k' || n,
       'tok_' || (n % 3), 'demo', at, at
FROM gen WHERE topic = 'payment.succeeded';
INSERT INTO outbox_events (id, topic, key, brand_id, schema_version, payload, created_at, published_at)
SELECT n, topic, 'player:' || player, '{brand}', 1,
       CASE topic
         WHEN 'ledger.game_bet' THEN jsonb_build_object('transaction_id', md5('t' || n)::uuid, 'kind', 'game_bet',
           'player_id', player, 'currency', 'EUR', 'cash', -(100 + n % 500), 'bonus', 0, 'pending', 0,
           'balances', jsonb_build_object('cash', 1000), 'reference_type', 'provider_transaction',
           'reference_id', 'hub88:' || n, 'game', 'slot', 'provider', 'hub88', 'round', 'r' || n)
         WHEN 'ledger.deposit' THEN jsonb_build_object('transaction_id', md5('t' || n)::uuid, 'kind', 'deposit',
           'player_id', player, 'currency', 'EUR', 'cash', amount, 'bonus', 0, 'pending', 0,
           'balances', jsonb_build_object('cash', 1000), 'reference_type', 'payment', 'reference_id', 'p' || n)
         ELSE jsonb_build_object('payment_id', md5('pay' || n)::uuid,
           'kind', CASE WHEN topic = 'payment.succeeded' THEN 'deposit' ELSE 'withdrawal' END,
           'status', CASE WHEN topic = 'payment.succeeded' THEN 'succeeded' ELSE 'requested' END,
           'player_id', player, 'brand_id', '{brand}', 'currency', 'EUR', 'amount', amount, 'psp', 'demo')
       END, at, at
FROM gen ORDER BY n;
SELECT setval(pg_get_serial_sequence('outbox_events', 'id'), {events});
"""


async def _generate(database_url: str, events: int, players: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(GENERATE.format(brand=BRAND, events=events, players=players))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _count(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox_events"))
    finally:
        await conn.close()


async def _backtest(database_url: str) -> tuple[float, float, float, int, dict[str, object]]:
    """(wall, this process's CPU, its PostgreSQL backend's CPU, events read, summary)."""
    from services.aml.monitoring import backtest, versions

    conn = await asyncpg.connect(database_url)
    try:
        live = await versions.live(conn)
        backend = conn.get_server_pid()
        wall, cpu, db_cpu = time.perf_counter(), time.process_time(), common.process_cpu_seconds(backend)
        result = await backtest.run(conn, version=live.number)
        db_cpu = common.process_cpu_seconds(backend) - db_cpu
        return time.perf_counter() - wall, time.process_time() - cpu, db_cpu, result.events, result.summary
    finally:
        await conn.close()


def main() -> None:
    args = common.arguments(__doc__ or "", events=2_000_000, players=0, keep=False).parse_args()
    events = 200_000 if args.quick else args.events
    players = args.players or max(events // 200, 10)
    database_url = common.url(DATABASE)
    if not (
        args.keep and asyncio.run(common.database_exists(DATABASE)) and asyncio.run(_count(database_url)) == events
    ):
        common.fresh_database(DATABASE)
        started = time.perf_counter()
        asyncio.run(_generate(database_url, events, players))
        print(f"generated {events:,} events of {players:,} players in {time.perf_counter() - started:.0f} s (SQL)")
    wall, cpu, db_cpu, read, summary = asyncio.run(_backtest(database_url))
    rate, cpu_rate = events / wall, events / (cpu + db_cpu)
    print(f"backtest: {events:,} events in the outbox, {read:,} read by the rules (the rest filtered in SQL)")
    print(
        f"  wall {wall:.1f} s: {rate:,.0f} events/s; 10,000,000 events at this rate: {10_000_000 / rate / 60:.1f} min"
    )
    print(
        f"  CPU: this process {cpu:.1f} s, its PostgreSQL backend {db_cpu:.1f} s: {cpu_rate:,.0f} events per CPU second"
    )
    print(
        f"  10,000,000 events on a quiet core each (Python and PostgreSQL overlap little): "
        f"{10_000_000 / cpu_rate / 60:.1f} min"
    )
    print(f"  {summary}")


if __name__ == "__main__":
    main()
