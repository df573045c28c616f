"""CRM journeys: from the event to the journey's decision, and to its first step, through the whole pipeline.

    .venv/bin/python -m bench.crm_journeys [--quick] [--rate N] [--seconds N] [--players N]

On its own database (`croupier_journey_bench`, recreated) and the Redis of BENCH_REDIS: bench/world.py's
casino (one brand, `--players` players, each with email consent), an active journey triggered by
registration (send a welcome email, no quiet hours), then `croupier serve` (one worker,
EVENT_CONSUMERS=true: the outbox relay, every platform consumer, the journeys' clock worker) while this
process writes a `player.registered` event for one player after another at `--rate` a second, as
registration writes it.

Printed, over the same events: the outbox relay's publish delay (commit → stream; the baseline: no decision
can come before the stream carries its event), the event → decision delay (the `crm-journeys` consumer's
commit of the run: `decided_at`), the event → first step (the welcome email queued by the clock worker,
which polls every `crm_journey_poll_seconds`), the ratio of the decision's p99 to the relay's, and the goal
(decision p99 under 1 s). Every event must be decided exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis

from bench import common, world

DATABASE = "croupier_journey_bench"
GOAL_SECONDS = 1.0


async def seed(database_url: str, players: int) -> list[uuid.UUID]:
    """The casino, its players' email consent and the active welcome journey; the players' ids."""
    from authz.subjects import SYSTEM
    from models.crm_journeys import JourneyStatus
    from services.crm.journeys import store

    rt = common.runtime(database_url)
    try:
        await world.build(rt, players=players, balance=1_000)
        conn = await asyncpg.connect(database_url)
        try:
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM players ORDER BY id LIMIT $1", players)]
            await conn.execute("UPDATE players SET marketing_consent = true WHERE id = ANY($1::uuid[])", ids)
            await conn.execute(
                "INSERT INTO crm_consents (player_id, product, channel, granted, source) "
                "SELECT unnest($1::uuid[]), 'casino', 'email', true, 'bench'",
                ids,
            )
        finally:
            await conn.close()
        definition = {
            "trigger": {"kind": "registered"},
            "quiet_hours": None,
            "steps": [{"kind": "send", "channel": "email", "template": "welcome"}],
        }
        journey = await store.create(rt, SYSTEM, name="Welcome", definition=definition, brand_code=world.BRAND)
        await store.set_status(rt, SYSTEM, journey.id, JourneyStatus.ACTIVE)
        return ids
    finally:
        await rt.close()


async def register(
    database_url: str, brand_id: Any, players: list[uuid.UUID], rate: int, seconds: float
) -> tuple[int, float]:
    """One `player.registered` event per player, `rate` a second; (events, seconds taken)."""
    conn = await asyncpg.connect(database_url)
    try:
        count = min(len(players), int(rate * seconds))
        started = time.perf_counter()
        for n, player in enumerate(players[:count]):
            data = {"player_id": str(player), "currency": "EUR", "jurisdiction": "MT", "marketing_consent": True}
            await conn.execute(
                "INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload) "
                "VALUES ('player.registered', $1, $2, 1, $3::jsonb)",
                f"player:{player}", brand_id, json.dumps(data),
            )  # fmt: skip
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        return count, time.perf_counter() - started
    finally:
        await conn.close()


def seconds_summary(values: list[float]) -> str:
    at = common.percentile
    return (
        f"p50 {at(values, 50):6.3f}  p95 {at(values, 95):6.3f}  p99 {at(values, 99):6.3f}  "
        f"max {max(values, default=float('nan')):6.3f} s  ({len(values):,} events)"
    )


async def measure(database_url: str, events: int, patience: float) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        while await conn.fetchval("SELECT count(*) FROM crm_journey_steps") < events:
            if time.perf_counter() - started > patience:
                print(f"  (gave up waiting after {patience:.0f} s)")
                break
            await asyncio.sleep(0.2)
        rows = await conn.fetch(
            "SELECT o.id, o.created_at, o.published_at, r.decided_at, s.at AS stepped_at FROM outbox_events o "
            "JOIN crm_journey_runs r ON r.event_id = o.id "
            "LEFT JOIN crm_journey_steps s ON s.run_id = r.id AND s.step = 0 "
            "WHERE o.topic = 'player.registered'"
        )
        decided = await conn.fetchval("SELECT count(*) FROM crm_journey_runs")
        queued = await conn.fetchval("SELECT count(*) FROM crm_messages WHERE source_kind = 'journey'")
    finally:
        await conn.close()

    def delay(later: datetime | None, earlier: datetime) -> float:
        return (later - earlier).total_seconds() if later else float("nan")

    published = [delay(r["published_at"], r["created_at"]) for r in rows if r["published_at"]]
    decision = [delay(r["decided_at"], r["created_at"]) for r in rows]
    stepped = [delay(r["stepped_at"], r["created_at"]) for r in rows if r["stepped_at"]]
    p99 = common.percentile(decision, 99)
    print(f"  relay, commit → stream (baseline):  {seconds_summary(published)}")
    print(f"  event → decision (the run):         {seconds_summary(decision)}")
    print(f"  event → first step (email queued):  {seconds_summary(stepped)}")
    print(f"  decision p99 / relay p99:           {p99 / max(common.percentile(published, 99), 1e-6):.1f}×")
    print(
        f"  goal: decision p99 under {GOAL_SECONDS:.0f} s → {'met' if p99 < GOAL_SECONDS else 'NOT MET'} ({p99:.3f} s)"
    )
    print(f"  events {events:,}; runs decided {decided:,}; journey messages queued {queued:,}")


def main() -> None:
    args = common.arguments(__doc__ or "", rate=50, seconds=20.0, players=2000).parse_args()
    if args.quick:
        args.rate, args.seconds, args.players = 25, 8.0, 400
    common.heading("CRM journeys: event → decision")
    print("\n".join(common.machine()))
    database_url = common.fresh_database(DATABASE)

    async def flush() -> None:  # the relay's dedupe keys of an earlier run (event ids start again at 1)
        redis = Redis.from_url(common.REDIS_URL)
        await redis.flushdb()
        await redis.aclose()

    async def run() -> None:
        await flush()
        players = await seed(database_url, args.players)
        conn = await asyncpg.connect(database_url)
        try:
            brand_id = await conn.fetchval("SELECT id FROM brands WHERE code = $1", world.BRAND)
        finally:
            await conn.close()
        with common.server(database_url, EVENT_CONSUMERS="true"):
            await asyncio.sleep(2)  # the consumers join their groups
            events, took = await register(database_url, brand_id, players, args.rate, args.seconds)
            print(f"  {events:,} registrations at {events / took:,.1f}/s over {took:.1f} s")
            await measure(database_url, events, patience=120)

    asyncio.run(run())


if __name__ == "__main__":
    main()
