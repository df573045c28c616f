"""The incremental verify of a day, statement by statement, in this checkout and another, alternated on the
same data: what each statement costs PostgreSQL, and the ratio between the two checkouts in the same hour.

    .venv/bin/python -m bench.verify_steps [--against PATH] [--reps N] [--explain]

Uses `bench.scale`'s generated database (`BENCH_SCALE_DB`; run `bench.scale --verify-only` once first). It
makes sure there is a clean checkpoint with stored balances (a full `croupier ledger verify` of this checkout
if not) and the day of `bench.scale` on top of it (333,332 postings, 166,666 transactions), then runs
`bench.verify_probe` in each checkout in turn, `--reps` times: the incremental run, rolled back at its end,
so every run verifies the same day from the same checkpoint. Before each run the stored balances are
vacuumed (autovacuum is off on the benchmark machine; a rolled-back run leaves its updates dead behind it).
`--against` is another checkout (its own `.venv`), such as a worktree at main for "before". The day is
removed at the end (`--keep-day` keeps it); the checkpoint stays.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench import common, scale

PROBE = Path(__file__).with_name("verify_probe.py")


async def state(database_url: str) -> tuple[bool, bool]:
    """(a checkpoint with balances exists, the day is there)."""
    conn = await asyncpg.connect(database_url)
    try:
        checkpoint = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ledger_verify_checkpoints WHERE balances)")
        day = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM ledger_transactions WHERE idempotency_key = 'scale-day:1')"
        )
        return bool(checkpoint), bool(day)
    finally:
        await conn.close()


async def vacuum_balances(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("VACUUM ANALYZE ledger_verify_balances")
    finally:
        await conn.close()


def probe(checkout: Path, database_url: str, explain: bool) -> dict[str, Any]:
    done = subprocess.run(
        # This checkout's probe, run on the other checkout's code (its services/ first on the path).
        [str(checkout / ".venv" / "bin" / "python"), str(PROBE), *(["--explain"] if explain else [])],
        cwd=checkout,
        env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": common.REDIS_URL, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the probe failed in {checkout}:\n{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def report(label: str, run: dict[str, Any], explain: bool) -> None:
    print(
        f"{label:<10} {run['mode']} {'OK' if run['ok'] else 'NOT OK'}: {run['postings']:,} postings, "
        f"{run['transactions']:,} transactions; {run['seconds']:.2f} s inside, PostgreSQL CPU "
        f"{run['postgres_cpu']:.2f} s [load {run['load']:.2f}]",
        flush=True,
    )
    for step in sorted(run["steps"], key=lambda s: -s["cpu_ms"])[:12]:
        if step["ms"] >= 20 or step["cpu_ms"] >= 20:
            print(f"    {step['ms']:>6} ms  cpu {step['cpu_ms']:>6} ms  {step['sql'][:110]}")
        if explain and step.get("plan"):
            print("      " + step["plan"].replace("\n", "\n      "))


def main() -> None:
    args = common.arguments(__doc__ or "", against="", reps=3, explain=False, keep_day=False).parse_args()
    print("\n".join(common.machine()))
    database_url = common.url(scale.DATABASE)
    if asyncio.run(scale.size_of(scale.DATABASE)) is None:
        sys.exit(f"{scale.DATABASE} has no generated data: run `python -m bench.scale --verify-only` first")
    players, _ = asyncio.run(scale.size_of(scale.DATABASE)) or (0, 0)
    params = {"brand": uuid.uuid5(uuid.NAMESPACE_DNS, "scale.croupier"), "day": players // 6, "bet": scale.BET}
    checkpoint, day = asyncio.run(state(database_url))
    if day and not checkpoint:
        asyncio.run(scale.write_sql(database_url, scale.REMOVE_DAY.format(**params)))
        day = False
    if not checkpoint:
        took, said = scale.verify_wall_time(database_url)
        print(f"no checkpoint yet: croupier ledger verify {took:.1f} s wall ({said})")
    if not day:
        wrote = asyncio.run(scale.write_sql(database_url, scale.DAY.format(**params)))
        print(f"a day's new postings: {players // 6 * 2:,} appended in {wrote:.1f} s")
        asyncio.run(scale.vacuum(database_url))
    checkouts = [("this", common.ROOT)] + ([("against", Path(args.against).resolve())] if args.against else [])
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in checkouts}
    try:
        for rep in range(args.reps):
            for label, checkout in checkouts if rep % 2 == 0 else checkouts[::-1]:
                asyncio.run(vacuum_balances(database_url))
                run = probe(checkout, database_url, args.explain)
                runs[label].append(run)
                report(label, run, args.explain)
    finally:
        if not args.keep_day:
            asyncio.run(scale.write_sql(database_url, scale.REMOVE_DAY.format(**params)))
            asyncio.run(scale.vacuum(database_url))
    for label, done in runs.items():
        seconds = sorted(r["seconds"] for r in done)
        cpu = sorted(r["postgres_cpu"] for r in done)
        print(f"{label}: median {seconds[len(seconds) // 2]:.2f} s inside, PostgreSQL CPU {cpu[len(cpu) // 2]:.2f} s")
    if len(runs) == 2 and all(runs.values()):
        mine = sorted(r["postgres_cpu"] for r in runs["this"])[len(runs["this"]) // 2]
        theirs = sorted(r["postgres_cpu"] for r in runs["against"])[len(runs["against"]) // 2]
        print(f"PostgreSQL CPU, this / against: {mine / theirs:.2f} ×")


if __name__ == "__main__":
    main()
