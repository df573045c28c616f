"""Benchmark 4: scale of data. A generator fills 1,000,000 players and 10,000,000 ledger postings; then
the back-office player search p95 and `croupier ledger verify` wall time.

    .venv/bin/python -m bench.scale [--quick] [--players N] [--postings N] [--drop] [--verify-only] [--before]

The generator is set-based SQL in the database (INSERT … SELECT generate_series): ids are derived
from the row number (md5 → uuid), so players, accounts, transactions and postings are written
without a join, already consistent: every transaction balances, every posting's balance_after is the
running balance, every cash account holds the sum of its postings — `croupier ledger verify` must
come out clean. Triggers are skipped while loading (session_replication_role = replica: the checks
they make are the ones verify repeats). It goes to its own database, `croupier_scale` (another name:
`BENCH_SCALE_DB`), reused when it already holds the requested size (`--drop` removes it afterwards).

Search: the staff query `players(filter: {search: $q})` (email, name prefix, id, phone) when the schema
has it (issue 7 adds it); otherwise it falls back to what exists: the `email` filter (exact and
prefix) and `player(id:)`, and says so. Baseline in the same run: `{ __typename }` on the same server.

Verify (`--verify-only` skips the search): `croupier ledger verify` in full (which writes a checkpoint),
then a day's new postings appended (a sixth of the players bet once: 1/30 of the postings) and
`croupier ledger verify --incremental` timed; the day is removed again afterwards. `--before` first times
the verify as it was before issue 15 on the same data (each check's own query, one after another).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx

from bench import common, world

# Another name (BENCH_SCALE_DB) lets two helpers keep their own generated data side by side.
DATABASE = os.environ.get("BENCH_SCALE_DB", "croupier_scale")
BRAND = "scale"
FIRST = [
    "Maria",
    "Jose",
    "Anna",
    "Lars",
    "Sofia",
    "Ahmed",
    "Elena",
    "Marco",
    "Julia",
    "Pieter",
    "Aino",
    "Oskar",
    "Chiara",
    "Mateo",
    "Ingrid",
    "Nikos",
    "Eva",
    "Tomas",
    "Lea",
    "Hugo",
]
LAST = [
    "Garcia",
    "Borg",
    "Nielsen",
    "Rossi",
    "Virtanen",
    "Schmidt",
    "Camilleri",
    "Jansen",
    "Novak",
    "Silva",
    "Andersson",
    "Murphy",
    "Dubois",
    "Kowalski",
    "Papadopoulos",
    "Horvat",
    "Fischer",
    "Ozturk",
    "Costa",
    "Lindqvist",
]
DEPOSIT = 100_00  # each player's first transaction; every later one is a bet of 1.00
BET = 1_00

GENERATE = """
SET session_replication_role = replica;
INSERT INTO brands (id, code, name, minimum_age, default_currency, countries, currencies, jurisdictions, created_at)
VALUES ('{brand}', '{code}', 'Scale Casino', 18, 'EUR', ARRAY['MT'], ARRAY['EUR'], ARRAY['DEFAULT'], now());
INSERT INTO ledger_accounts (id, brand_id, owner_type, owner_id, purpose, currency, balance, allow_negative)
VALUES (md5('house')::uuid, '{brand}', 'brand', '{brand}', 'house_revenue', 'EUR', NULL, true),
       (md5('adjustments')::uuid, '{brand}', 'brand', '{brand}', 'adjustments', 'EUR', NULL, true);
INSERT INTO players (id, brand_id, email, password_hash, first_name, last_name, phone, date_of_birth, country,
                     currency, marketing_consent, status, jurisdiction, created_at, updated_at)
SELECT md5('player' || n)::uuid, '{brand}',
       lower(f.name || '.' || l.name || n) || '@example.com', 'x', f.name, l.name,
       '+3567' || lpad(n::text, 8, '0'), date '1970-01-01' + (n % 15000), 'MT', 'EUR', n % 3 = 0, 'active',
       'DEFAULT', timestamptz '2024-01-01' + n * interval '1 second', now()
FROM generate_series(1, {players}) AS n
JOIN (SELECT name, ordinality - 1 AS i FROM unnest(ARRAY[{first}]) WITH ORDINALITY AS name) f ON f.i = n % {nf}
JOIN (SELECT name, ordinality - 1 AS i FROM unnest(ARRAY[{last}]) WITH ORDINALITY AS name) l ON l.i = (n / {nf}) % {nl};
INSERT INTO ledger_accounts (id, brand_id, owner_type, owner_id, purpose, currency, balance, allow_negative)
SELECT md5('cash' || n)::uuid, '{brand}', 'player', md5('player' || n)::uuid::text, 'cash', 'EUR',
       {deposit} - ({per} - 1) * {bet}, false
FROM generate_series(1, {players}) AS n;
INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, brand_id, player_id,
                                 reference_type, reference_id, actor_type, created_at)
SELECT md5('tx' || n || ':' || j)::uuid, 'scale:' || n || ':' || j, md5('tx' || n || ':' || j),
       CASE WHEN j = 1 THEN 'adjustment' ELSE 'game_bet' END, 'committed', '{brand}', md5('player' || n)::uuid,
       'scale', n || ':' || j, 'system', timestamptz '2024-01-01' + (n * {per} + j) * interval '10 ms'
FROM generate_series(1, {players}) AS n, generate_series(1, {per}) AS j;
INSERT INTO ledger_postings (id, transaction_id, account_id, currency, amount, balance_after, created_at)
SELECT ((n - 1) * {per} + j - 1) * 2 + side, md5('tx' || n || ':' || j)::uuid,
       CASE WHEN side = 1 THEN md5('cash' || n)::uuid
            WHEN j = 1 THEN md5('adjustments')::uuid ELSE md5('house')::uuid END,
       'EUR',
       CASE WHEN j = 1 THEN {deposit} ELSE -{bet} END * CASE WHEN side = 1 THEN 1 ELSE -1 END,
       CASE WHEN side = 1 THEN {deposit} - (j - 1) * {bet} END,
       timestamptz '2024-01-01' + (n * {per} + j) * interval '10 ms'
FROM generate_series(1, {players}) AS n, generate_series(1, {per}) AS j, generate_series(1, 2) AS side;
SELECT setval('ledger_postings_id_seq', (SELECT max(id) FROM ledger_postings));
CREATE TABLE bench_scale (players bigint NOT NULL, postings bigint NOT NULL);
INSERT INTO bench_scale VALUES ({players}, {postings});
"""


async def size_of(database: str) -> tuple[int, int] | None:
    if not await common.database_exists(database):
        return None
    conn = await asyncpg.connect(common.url(database))
    try:
        row = (
            await conn.fetchrow("SELECT players, postings FROM bench_scale")
            if await conn.fetchval("SELECT to_regclass('bench_scale') IS NOT NULL")
            else None
        )
        return (row["players"], row["postings"]) if row else None
    finally:
        await conn.close()


async def generate(players: int, postings: int) -> float:
    per = postings // players // 2  # transactions per player, two postings each
    sql = GENERATE.format(
        brand=uuid.uuid5(uuid.NAMESPACE_DNS, "scale.croupier"),
        code=BRAND,
        players=players,
        postings=players * per * 2,
        per=per,
        deposit=DEPOSIT,
        bet=BET,
        first=", ".join(f"'{n}'" for n in FIRST),
        last=", ".join(f"'{n}'" for n in LAST),
        nf=len(FIRST),
        nl=len(LAST),
    )
    conn = await asyncpg.connect(common.url(DATABASE))
    started = time.perf_counter()
    try:
        await conn.execute("SET maintenance_work_mem = '256MB'; SET synchronous_commit = off")
        async with conn.transaction():
            await conn.execute(sql)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


def email_of(n: int) -> str:
    return f"{FIRST[n % len(FIRST)]}.{LAST[(n // len(FIRST)) % len(LAST)]}{n}@example.com".lower()


async def staff_token(database_url: str) -> str:
    rt = common.runtime(database_url)
    try:
        return await world.superadmin_token(rt)
    finally:
        await rt.close()


SEARCH = "query Search($q: String!) { players(filter: {search: $q}, first: 20) { edges { node { id email } } } }"
BY_EMAIL = "query Search($q: String!) { players(filter: {email: $q}, first: 20) { edges { node { id email } } } }"
BY_ID = "query One($id: ID!) { player(id: $id) { id email } }"


async def has_search(base: str, headers: dict[str, str]) -> bool:
    async with httpx.AsyncClient(base_url=base) as http:
        answer = (
            await http.post(
                "/graphql", headers=headers, json={"query": '{ __type(name: "PlayerFilter") { inputFields { name } } }'}
            )
        ).json()
    return any(f["name"] == "search" for f in (answer.get("data", {}).get("__type") or {}).get("inputFields", []))


def searches(players: int, search: bool) -> dict[str, Any]:
    """Per kind of search, a function from a request number to (query, variables)."""
    from strawberry import relay

    rng = random.Random(8)
    picks = [rng.randint(1, players) for _ in range(5000)]

    def pick(n: int) -> int:
        return picks[n % len(picks)]

    if search:
        return {
            "email (exact)": lambda n: (SEARCH, {"q": email_of(pick(n))}),
            "name prefix": lambda n: (SEARCH, {"q": FIRST[pick(n) % len(FIRST)][:4]}),
            "id": lambda n: (SEARCH, {"q": str(uuid.UUID(bytes=_md5(f"player{pick(n)}")))}),
            "phone": lambda n: (SEARCH, {"q": f"+3567{pick(n):08d}"}),
        }
    return {
        "email (exact), `email` filter": lambda n: (BY_EMAIL, {"q": email_of(pick(n))}),
        "email prefix, `email` filter": lambda n: (BY_EMAIL, {"q": email_of(pick(n)).split("@")[0][:-1] + "*"}),
        "id, `player(id:)`": lambda n: (
            BY_ID,
            {"id": str(relay.GlobalID("Player", str(uuid.UUID(bytes=_md5(f"player{pick(n)}")))))},
        ),
    }


def _md5(value: str) -> bytes:
    import hashlib

    return hashlib.md5(value.encode()).digest()


# A day's new postings against the month the generator writes (10,000,000 postings ~ 30 days): one bet of
# 1.00 by each of 166,667 players, written as the ledger writes it (running balance, balance updated).
DAY = """
SET session_replication_role = replica;
INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, brand_id, player_id,
                                 reference_type, reference_id, actor_type, created_at)
SELECT md5('day' || n)::uuid, 'scale-day:' || n, md5('day' || n), 'game_bet', 'committed', '{brand}',
       md5('player' || n)::uuid, 'scale', 'day:' || n, 'system', now()
FROM generate_series(1, {day}) AS n;
INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, balance_after, created_at)
SELECT md5('day' || n)::uuid, CASE WHEN side = 1 THEN a.id ELSE md5('house')::uuid END, 'EUR',
       CASE WHEN side = 1 THEN -{bet} ELSE {bet} END, CASE WHEN side = 1 THEN a.balance - {bet} END, now()
FROM generate_series(1, {day}) AS n JOIN ledger_accounts a ON a.id = md5('cash' || n)::uuid,
     generate_series(1, 2) AS side
ORDER BY n, side;
UPDATE ledger_accounts SET balance = balance - {bet} WHERE id IN (SELECT md5('cash' || n)::uuid
                                                                 FROM generate_series(1, {day}) AS n);
"""
# The day removed again (bench.verify_steps keeps the checkpoint it verified the day from).
REMOVE_DAY = """
SET session_replication_role = replica;
UPDATE ledger_accounts SET balance = balance + {bet} WHERE id IN (SELECT md5('cash' || n)::uuid
                                                                 FROM generate_series(1, {day}) AS n);
DELETE FROM ledger_postings WHERE transaction_id IN (SELECT md5('day' || n)::uuid FROM generate_series(1, {day}) AS n);
DELETE FROM ledger_transactions WHERE idempotency_key LIKE 'scale-day:%';
"""
# Back to the generated month (the next run reuses the database and expects its size).
UNDO_DAY = REMOVE_DAY + "DELETE FROM ledger_verify_checkpoints;\n"


async def write_sql(database_url: str, sql: str) -> float:
    conn = await asyncpg.connect(database_url)
    started = time.perf_counter()
    try:
        async with conn.transaction():
            await conn.execute(sql)
    finally:
        await conn.close()
    return time.perf_counter() - started


async def vacuum(database_url: str) -> None:
    """What autovacuum (off on this machine) would do after the day's removal: without it the next run's
    index scans over the window walk the removed day's dead rows."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("VACUUM ANALYZE ledger_transactions, ledger_postings, ledger_accounts")
        if await conn.fetchval("SELECT to_regclass('ledger_verify_balances') IS NOT NULL"):
            await conn.execute("VACUUM ANALYZE ledger_verify_balances")
    finally:
        await conn.close()


async def verify_as_before(database_url: str) -> float:
    """The verify before issue 15, on the same data: each check's own query with the LIMIT appended, one
    after another on one connection (services/ledger_verify/checks.py keeps them as `Check.full`)."""
    from services.ledger_verify import CHECKS

    conn = await asyncpg.connect(database_url)
    started = time.perf_counter()
    try:
        for check in CHECKS:
            await conn.fetch(f"{check.full} LIMIT 100")
        await conn.fetchval("SELECT count(*) FROM ledger_transactions")
        await conn.fetchval("SELECT count(*) FROM ledger_postings")
    finally:
        await conn.close()
    return time.perf_counter() - started


def verify_wall_time(database_url: str, *options: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "ledger", "verify", *options],
        cwd=common.ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": common.REDIS_URL},
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, (done.stdout + done.stderr).strip().splitlines()[-1]


def search_benchmark(database_url: str, players: int, seconds: int) -> None:
    token = asyncio.run(staff_token(database_url))
    headers = {"Authorization": f"Bearer {token}", "X-Croupier-Brand": BRAND}
    with common.server(database_url) as served:
        search = asyncio.run(has_search(served.base, headers))
        if not search:
            print(
                "the schema has no `players(filter: {search:})` yet (issue 7): measuring the `email` filter and "
                "`player(id:)` instead; name prefix and phone cannot be searched yet"
            )

        async def measure() -> None:
            def typename(_: int) -> common.Request:
                return ("POST", "/graphql", {"query": "{ __typename }"}, headers)

            await common.load(served.base, typename, clients=2, seconds=3)  # warm-up: the policy, the caches
            floor = await common.load(served.base, typename, clients=4, seconds=seconds)
            print(f"{'baseline { __typename }':<40}{floor.line()}")
            for label, make in searches(players, search).items():

                def request(n: int, make: Any = make) -> common.Request:
                    query, variables = make(n)
                    return ("POST", "/graphql", {"query": query, "variables": variables}, headers)

                # Warm-up: the first request touching new fields evaluates the policy for them (slow on main).
                await common.load(served.base, request, clients=1, seconds=1)
                run = await common.load(served.base, request, clients=4, seconds=seconds)
                print(f"{label:<40}{run.line(floor.rate)}")

        asyncio.run(measure())


def main() -> None:
    args = common.arguments(
        __doc__ or "", players=1_000_000, postings=10_000_000, drop=False, verify_only=False, before=False
    ).parse_args()
    players, postings = (100_000, 1_000_000) if args.quick else (args.players, args.postings)
    seconds = 5 if args.quick else 15
    print("\n".join(common.machine()))
    if asyncio.run(size_of(DATABASE)) == (players, postings):
        print(f"{DATABASE}: {players:,} players and {postings:,} postings already there (reused)")
        database_url = common.url(DATABASE)
        from core import migrations

        migrations.upgrade(database_url)  # a database generated before the latest revision
    else:
        database_url = common.fresh_database(DATABASE)
        took = asyncio.run(generate(players, postings))
        print(f"generated {players:,} players and {postings:,} postings in {took:.0f} s (SQL, generate_series)")
    if not args.verify_only:
        search_benchmark(database_url, players, seconds)
    if args.before:
        load = os.getloadavg()[0]
        took = asyncio.run(verify_as_before(common.url(DATABASE)))
        print(f"ledger verify as before (each check's own query, one connection): {took:.1f} s [load {load:.2f}]")
    load = os.getloadavg()[0]
    took, said = verify_wall_time(database_url)
    print(f"croupier ledger verify: {took:.1f} s wall ({said}) [load average {load:.2f} before]")
    day = players // 6  # a day of a 30-day month: a sixth of the players bet once, 1/30 of the postings
    params = {"brand": uuid.uuid5(uuid.NAMESPACE_DNS, "scale.croupier"), "day": day, "bet": BET}
    wrote = asyncio.run(write_sql(common.url(DATABASE), DAY.format(**params)))
    print(f"a day's new postings: {day * 2:,} ({day:,} bets) appended in {wrote:.1f} s")
    try:
        load = os.getloadavg()[0]
        took, said = verify_wall_time(database_url, "--incremental")
        print(f"croupier ledger verify --incremental: {took:.1f} s wall ({said}) [load average {load:.2f} before]")
    finally:
        asyncio.run(write_sql(common.url(DATABASE), UNDO_DAY.format(**params)))
        asyncio.run(vacuum(common.url(DATABASE)))
    print(
        "\ngoals (issue 8): search p95 under 2 s (aim 100 ms). Issue 15: ledger verify in full < 30 s on "
        "10,000,000 postings (96 s before); --incremental < 1 s for a day's new postings (the time inside "
        "the command; the wall time adds Python's start)"
    )
    if args.drop:
        common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
