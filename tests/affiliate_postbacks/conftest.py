"""Postback fixtures: a partner with a link on the test brand, players attributed to it the way registration
does it (the attribution row and its `affiliate.attributed` event in one transaction), CPA qualifications,
a real receiver on a loopback port, and the consumer and the delivery worker driven by the test."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from authz.subjects import SYSTEM
from core.clock import clock
from core.consumers import Runner
from models.affiliate_postbacks import PostbackMethod, PostbackTrigger
from services.affiliates.postbacks import configs
from services.affiliates.postbacks.consumer import PostbacksConsumer
from services.affiliates.postbacks.worker import Worker
from tests.affiliate_postbacks.receiver import Receiver
from tests.cashier.conftest import psp  # noqa: F401  (fixture)
from tests.conftest import DATABASE_URL

TIMEOUT = 0.5  # the worker's time-out per try in these tests
BACKOFF = 2.0  # its first backoff; the tests move the clock rather than wait


@dataclass
class Partner:
    id: uuid.UUID
    code: str
    brand_id: uuid.UUID
    link_id: uuid.UUID
    deal_id: uuid.UUID | None = None


_EVENT = """
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
VALUES (:topic, :key, :brand, 1, CAST(:payload AS jsonb), now()) RETURNING id"""


async def raw_event(db: Any, topic: str, player_id: uuid.UUID, brand_id: uuid.UUID, data: dict[str, Any]) -> int:
    """An event as its owner's service writes it, in the caller's transaction (affcore's and affplans' types
    are not in this branch's catalogue yet: written with the data their catalogue modules give them)."""
    found = await db.scalar(
        text(_EVENT), {"topic": topic, "key": f"player:{player_id}", "brand": brand_id, "payload": json.dumps(data)}
    )
    return int(found)


@pytest.fixture
async def partner(rt: Any, brand: Any) -> Partner:
    return await make_partner(rt, brand, "acme")


async def make_partner(rt: Any, brand: Any, code: str) -> Partner:
    affiliate_id, link_id = uuid.uuid4(), uuid.uuid4()
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliates (id, code, company, contact_email, payout_currency) "
                "VALUES (:id, :code, :company, :email, 'EUR')"
            ),
            {"id": affiliate_id, "code": code, "company": f"{code.title()} Media", "email": f"ops@{code}.test"},
        )
        await db.execute(
            text("INSERT INTO affiliate_brands (affiliate_id, brand_id) VALUES (:a, :b)"),
            {"a": affiliate_id, "b": brand.id},
        )
        await db.execute(
            text(
                "INSERT INTO affiliate_links (id, affiliate_id, brand_id, code, tag, landing_path) "
                "VALUES (:id, :a, :b, :code, 'spring', '/')"
            ),
            {"id": link_id, "a": affiliate_id, "b": brand.id, "code": f"{code}-link"},
        )
    return Partner(affiliate_id, code, brand.id, link_id)


@pytest.fixture
def attribute(rt: Any) -> Any:
    """`await attribute(player, partner, sub1=..)`: the click and the attribution, as registration makes
    them; returns (event id, click id)."""

    async def make(player_id: uuid.UUID, partner: Partner, **sub_ids: str) -> tuple[int, uuid.UUID]:
        click_id = uuid.uuid4()
        params = {"click": click_id, "link": partner.link_id, "a": partner.id, "b": partner.brand_id}
        async with rt.database.transaction() as db:
            await db.execute(
                text(
                    "INSERT INTO affiliate_clicks (id, link_id, affiliate_id, brand_id, ip, sub_id, sub_ids) "
                    "VALUES (:click, :link, :a, :b, '203.0.113.7', :sub, CAST(:subs AS jsonb))"
                ),
                params | {"sub": sub_ids.get("sub1"), "subs": json.dumps(sub_ids)},
            )
            await db.execute(
                text(
                    "INSERT INTO affiliate_attributions (player_id, affiliate_id, brand_id, link_id, click_id, sub_id, "
                    "sub_ids, clicked_at) VALUES (:p, :a, :b, :link, :click, :sub, CAST(:subs AS jsonb), now())"
                ),
                params | {"p": player_id, "sub": sub_ids.get("sub1"), "subs": json.dumps(sub_ids)},
            )
            event_id = await raw_event(
                db,
                "affiliate.attributed",
                player_id,
                partner.brand_id,
                {
                    "player_id": str(player_id),
                    "affiliate_id": str(partner.id),
                    "affiliate_code": partner.code,
                    "brand_id": str(partner.brand_id),
                    "link_id": str(partner.link_id),
                    "click_id": str(click_id),
                    "sub_id": sub_ids.get("sub1"),
                    "sub_ids": sub_ids,
                    "clicked_at": None,
                },
            )
        return event_id, click_id

    return make


@pytest.fixture
def qualify(rt: Any) -> Any:
    """`await qualify(player_id, partner, amount=5000)`: a CPA qualification and its `affiliate.qualified`
    event (affplans' consumer makes them); returns the event id."""

    async def make(player_id: uuid.UUID, partner: Partner, amount: int = 5000, status: str = "qualified") -> int:
        async with rt.database.transaction() as db:
            if partner.deal_id is None:
                plan_id, partner.deal_id = uuid.uuid4(), uuid.uuid4()
                await db.execute(
                    text(
                        "INSERT INTO affiliate_plans (id, code, name, kind, currency, terms) "
                        "VALUES (:id, :code, 'CPA 50', 'cpa', 'EUR', CAST(:terms AS jsonb))"
                    ),
                    {"id": plan_id, "code": f"cpa-{partner.code}", "terms": json.dumps({"amount": amount})},
                )
                await db.execute(
                    text(
                        "INSERT INTO affiliate_deals (id, affiliate_id, brand_id, plan_id, effective_from) "
                        "VALUES (:id, :a, :b, :plan, current_date)"
                    ),
                    {"id": partner.deal_id, "a": partner.id, "b": partner.brand_id, "plan": plan_id},
                )
            await db.execute(
                text(
                    "INSERT INTO affiliate_qualifications (player_id, affiliate_id, brand_id, deal_id, status, amount, "
                    "currency, qualified_at) VALUES (:p, :a, :b, :d, :s, :amount, 'EUR', now())"
                ),
                {"p": player_id, "a": partner.id, "b": partner.brand_id, "d": partner.deal_id, "s": status,
                 "amount": amount},
            )  # fmt: skip
            return await raw_event(
                db,
                "affiliate.qualified",
                player_id,
                partner.brand_id,
                {
                    "player_id": str(player_id),
                    "affiliate_id": str(partner.id),
                    "deal_id": str(partner.deal_id),
                    "sub_id": None,
                    "amount": amount,
                    "currency": "EUR",
                    "qualified_at": clock.now().isoformat(),
                },
            )

    return make


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(slow_seconds=TIMEOUT / 3, late_seconds=TIMEOUT * 2).start()
    yield server
    server.stop()


@dataclass
class Postbacks:
    rt: Any
    runner: Runner
    worker: Worker
    conn: asyncpg.Connection
    http: httpx.AsyncClient
    receiver: Receiver | None = None
    secrets: dict[uuid.UUID, str] = field(default_factory=dict)

    async def configure(
        self,
        partner: Partner,
        trigger: PostbackTrigger,
        template: str,
        *,
        method: PostbackMethod = PostbackMethod.GET,
        brand_id: uuid.UUID | None = None,
    ) -> Any:
        saved = await configs.create_config(
            self.rt, SYSTEM, affiliate_id=partner.id, trigger=trigger, url_template=template, method=method,
            brand_id=brand_id,
        )  # fmt: skip
        if saved.secret is not None:
            self.secrets[partner.id] = saved.secret
            if self.receiver is not None:
                self.receiver.secret = saved.secret
        return saved.config

    async def enqueue(self) -> int:
        """What the consumer does with the events so far."""
        return await self.runner.drain(self.conn)

    async def step(self) -> int:
        """One round of the worker."""
        return await self.worker.step(self.conn, self.http)

    async def settle(self, *, rounds: int = 40) -> None:
        """Rounds until nothing waits; between them the clock moves to the next due try (no sleeping)."""
        for _ in range(rounds):
            if await self.step():
                continue
            due = await self.conn.fetchval(
                "SELECT min(next_attempt_at) FROM affiliate_postback_deliveries WHERE status IN ('pending', 'sending')"
            )
            if due is None:
                return
            clock.advance(max(timedelta(0), due - clock.now()) + timedelta(milliseconds=1))
        raise AssertionError("deliveries still waiting after every round")

    async def deliveries(self) -> list[Any]:
        return list(await self.conn.fetch("SELECT * FROM affiliate_postback_deliveries ORDER BY event_id, config_id"))

    async def attempts(self, delivery_id: uuid.UUID) -> list[Any]:
        return list(
            await self.conn.fetch(
                "SELECT * FROM affiliate_postback_attempts WHERE delivery_id = $1 ORDER BY attempt", delivery_id
            )
        )


@pytest.fixture
async def postbacks(rt: Any) -> AsyncIterator[Postbacks]:
    conn = await asyncpg.connect(DATABASE_URL)
    worker = Worker(
        DATABASE_URL, timeout=TIMEOUT, backoff=BACKOFF, backoff_max=60.0, concurrency=8, allow_private_hosts=True
    )  # the receiver is on loopback
    consumer = PostbacksConsumer(max_attempts=6)
    runner = Runner(consumer, DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}")
    try:
        async with worker.client() as http:
            yield Postbacks(rt, runner, worker, conn, http)
    finally:
        await conn.close()


@pytest.fixture
def wired(postbacks: Postbacks, receiver: Receiver) -> Postbacks:
    postbacks.receiver = receiver
    return postbacks
