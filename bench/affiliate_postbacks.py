"""Affiliate postbacks: from the event to the first try of its postback, through the whole pipeline.

    .venv/bin/python -m bench.affiliate_postbacks [--quick] [--rate N] [--seconds N] [--players N]

On its own database (`croupier_postback_bench`, recreated) and the Redis of BENCH_REDIS: bench/world.py's
casino (one brand, `--players` players), a partner with a link and a registration postback to a receiver in
this process (aiohttp on a free loopback port, answering 200), then `croupier serve` (one worker,
EVENT_CONSUMERS=true: the outbox relay, every platform consumer, the postback worker) while this process
attributes players at `--rate` a second for `--seconds` — each one the attribution row and its
`affiliate.attributed` event in one transaction, as registration makes them.

Printed, over the same events: the outbox relay's publish delay (commit → stream; the baseline: no postback
can be faster than the stream that carries its event), the event → enqueued delay (the consumer's commit of
the delivery), the event → first try delay (the first attempt's
start in the delivery log), the event → arrival at the receiver, the ratio of the first try's p99 to the
relay's, and the goal (p99 under 5 s). Every postback must arrive exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from bench import common, world

DATABASE = "croupier_postback_bench"
GOAL_SECONDS = 5.0


async def seed(database_url: str, players: int, receiver: str) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """The casino, a partner on its brand with a link and a registration postback; (partner, link, players)."""
    from authz.subjects import SYSTEM
    from models.affiliate_postbacks import PostbackTrigger
    from services.affiliates.postbacks import configs

    rt = common.runtime(database_url)
    try:
        place = await world.build(rt, players=players, balance=1_000)
        conn = await asyncpg.connect(database_url)
        try:
            partner, link = uuid.uuid4(), uuid.uuid4()
            await conn.execute(
                "INSERT INTO affiliates (id, code, company, contact_email, payout_currency) "
                "VALUES ($1, 'bench-partner', 'Bench Media', 'ops@bench.test', 'EUR')",
                partner,
            )
            await conn.execute("INSERT INTO affiliate_brands VALUES ($1, $2)", partner, place.brand_id)
            await conn.execute(
                "INSERT INTO affiliate_links (id, affiliate_id, brand_id, code, tag) VALUES ($1, $2, $3, 'bench', 'b')",
                link,
                partner,
                place.brand_id,
            )
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM players ORDER BY id LIMIT $1", players)]
        finally:
            await conn.close()
        await configs.create_config(
            rt,
            SYSTEM,
            affiliate_id=partner,
            trigger=PostbackTrigger.REGISTRATION,
            url_template=receiver + "/pb?click={click_id}&sub={sub1}&ref={player_ref}&id={event_id}",
        )
        return partner, link, ids
    finally:
        await rt.close()


class Receiver:
    """The partner's endpoint: answers 200 and notes when each event id arrived (wall clock)."""

    def __init__(self) -> None:
        self.arrived: dict[int, list[float]] = {}
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived.setdefault(int(request.query["id"]), []).append(time.time())
        return web.Response(text="ok")

    async def start(self) -> web.AppRunner:
        from core import processes

        app = web.Application()
        app.router.add_get("/pb", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self.port = processes.free_port()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


async def attribute(database_url: str, brand_id: Any, partner: uuid.UUID, link: uuid.UUID, players: list[uuid.UUID],
                    rate: int, seconds: float) -> tuple[int, float]:  # fmt: skip
    """One registration-like transaction per player, `rate` a second; (events, seconds taken)."""
    conn = await asyncpg.connect(database_url)
    try:
        count = min(len(players), int(rate * seconds))
        started = time.perf_counter()
        for n, player in enumerate(players[:count]):
            async with conn.transaction():
                click = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO affiliate_clicks (id, link_id, affiliate_id, brand_id, sub_id, sub_ids) "
                    "VALUES ($1, $2, $3, $4, 's1', '{\"sub1\": \"s1\"}')",
                    click, link, partner, brand_id,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO affiliate_attributions (player_id, affiliate_id, brand_id, link_id, click_id, sub_id, "
                    "sub_ids) VALUES ($1, $2, $3, $4, $5, 's1', '{\"sub1\": \"s1\"}')",
                    player, partner, brand_id, link, click,
                )  # fmt: skip
                data = {
                    "player_id": str(player), "affiliate_id": str(partner), "affiliate_code": "bench-partner",
                    "brand_id": str(brand_id), "link_id": str(link), "click_id": str(click), "sub_id": "s1",
                    "sub_ids": {"sub1": "s1"}, "clicked_at": None,
                }  # fmt: skip
                await conn.execute(
                    "INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload) "
                    "VALUES ('affiliate.attributed', $1, $2, 1, $3::jsonb)",
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


async def measure(database_url: str, receiver: Receiver, events: int, patience: float) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        while (
            await conn.fetchval("SELECT count(*) FROM affiliate_postback_deliveries WHERE status = 'delivered'")
            < events
        ):
            if time.perf_counter() - started > patience:
                print(f"  (gave up waiting after {patience:.0f} s)")
                break
            await asyncio.sleep(0.2)
        rows = await conn.fetch(
            "SELECT o.id, o.created_at, o.published_at, d.created_at AS enqueued_at, a.started_at FROM outbox_events o "
            "JOIN affiliate_postback_deliveries d ON d.event_id = o.id "
            "JOIN affiliate_postback_attempts a ON a.delivery_id = d.id AND a.attempt = 1 "
            "WHERE o.topic = 'affiliate.attributed'"
        )
        statuses = dict(
            (r["status"], r["n"])
            for r in await conn.fetch("SELECT status, count(*) AS n FROM affiliate_postback_deliveries GROUP BY 1")
        )
    finally:
        await conn.close()

    def delay(later: datetime | None, earlier: datetime) -> float:
        return (later - earlier).total_seconds() if later else float("nan")

    published = [delay(r["published_at"], r["created_at"]) for r in rows if r["published_at"]]
    enqueued = [delay(r["enqueued_at"], r["created_at"]) for r in rows]
    first_try = [delay(r["started_at"], r["created_at"]) for r in rows]
    arrived = [receiver.arrived[r["id"]][0] - r["created_at"].timestamp() for r in rows if r["id"] in receiver.arrived]
    repeats = sum(len(times) - 1 for times in receiver.arrived.values())
    p99 = common.percentile(first_try, 99)
    print(f"  relay, commit → stream (baseline):  {seconds_summary(published)}")
    print(f"  event → enqueued by the consumer:   {seconds_summary(enqueued)}")
    print(f"  event → first try:                  {seconds_summary(first_try)}")
    print(f"  event → arrival at the receiver:    {seconds_summary(arrived)}")
    print(f"  first try p99 / relay p99:          {p99 / max(common.percentile(published, 99), 1e-6):.1f}×")
    print(f"  goal: p99 under {GOAL_SECONDS:.0f} s → {'met' if p99 < GOAL_SECONDS else 'NOT MET'} ({p99:.3f} s)")
    print(f"  deliveries {statuses}; postbacks received {len(receiver.arrived):,}, repeated {repeats}")


def main() -> None:
    args = common.arguments(__doc__ or "", rate=50, seconds=20.0, players=2000).parse_args()
    if args.quick:
        args.rate, args.seconds, args.players = 25, 8.0, 400
    common.heading("Affiliate postbacks: event → first try")
    print("\n".join(common.machine()))
    database_url = common.fresh_database(DATABASE)

    async def flush() -> None:  # the relay's dedupe keys of an earlier run (event ids start again at 1)
        redis = Redis.from_url(common.REDIS_URL)
        await redis.flushdb()
        await redis.aclose()

    async def run() -> None:
        await flush()
        receiver = Receiver()
        site = await receiver.start()
        try:
            partner, link, players = await seed(database_url, args.players, f"http://127.0.0.1:{receiver.port}")
            brand_id = await _brand(database_url)
            with common.server(database_url, EVENT_CONSUMERS="true"):
                await asyncio.sleep(2)  # the consumers join their groups
                events, took = await attribute(database_url, brand_id, partner, link, players, args.rate, args.seconds)
                print(f"  {events:,} attributions at {events / took:,.1f}/s over {took:.1f} s")
                await measure(database_url, receiver, events, patience=120)
        finally:
            await site.cleanup()

    asyncio.run(run())


async def _brand(database_url: str) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT id FROM brands WHERE code = $1", world.BRAND)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
