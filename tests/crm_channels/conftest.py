"""CRM channel fixtures: a real SMTP server and a provider's webhook endpoint (module-wide, in this process),
the sender driven by the test against them, players who consented, templates and a static segment."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from authz.subjects import SYSTEM
from core.clock import clock
from services.crm.channels import templates
from services.crm.channels.sender import Sender
from tests.crm_channels.servers import Provider, SmtpServer

TIMEOUT = 0.5  # the sender's time-out per try in these tests
PRODUCTS = ("casino",)
CHANNELS = ("email", "sms", "push", "inbox")

WELCOME_HTML = (
    "<html><body><h1>Hello {{ player.first_name }}</h1><p>{{ offer }}</p>"
    '<p><a href="https://royal.example/promo?x=1&amp;y=2">See the offer</a></p></body></html>'
)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def provider(settings: Any) -> Iterator[Provider]:
    server = Provider(settings.crm_webhook_secret, late_seconds=TIMEOUT * 2).start()
    yield server
    server.stop()


@dataclass
class Channels:
    rt: Any
    sender: Sender
    smtp: SmtpServer
    provider: Provider

    async def step(self) -> int:
        return await self.sender.step(self.rt)

    async def settle(self, *, rounds: int = 20) -> None:
        """Rounds until nothing is due; between them the clock moves to the next try (no sleeping)."""
        for _ in range(rounds):
            if await self.step():
                continue
            async with self.rt.database.session() as db:
                due = await db.scalar(text("SELECT min(due_at) FROM crm_messages WHERE status = 'queued'"))
            if due is None:
                return
            clock.advance(max(timedelta(0), due - clock.now()) + timedelta(milliseconds=1))
        raise AssertionError("messages still queued after every round")

    async def message(self, message_id: uuid.UUID) -> Any:
        async with self.rt.database.session() as db:
            return (await db.execute(text("SELECT * FROM crm_messages WHERE id = :id"), {"id": message_id})).one()

    async def suppressions(self, player_id: uuid.UUID) -> list[Any]:
        async with self.rt.database.session() as db:
            return list(
                (
                    await db.execute(
                        text("SELECT * FROM crm_suppressions WHERE player_id = :p ORDER BY id"), {"p": player_id}
                    )
                ).all()
            )


@pytest.fixture
async def channels(rt: Any, settings: Any, smtp: SmtpServer, provider: Provider) -> AsyncIterator[Channels]:
    smtp.clear()
    provider.clear()
    configured = settings.model_copy(
        update={
            "crm_smtp_port": smtp.port,
            "crm_sms_webhook_url": provider.url,
            "crm_push_webhook_url": provider.url,
            "crm_send_timeout_seconds": TIMEOUT,
            "crm_send_backoff_seconds": 30.0,
            "crm_send_max_attempts": 3,
        }
    )
    async with Sender.client(configured) as http:
        yield Channels(rt, Sender(configured, http), smtp, provider)


async def grant(
    rt: Any,
    player_id: uuid.UUID,
    *,
    channels: tuple[str, ...] = CHANNELS,
    granted: bool = True,
    source: str = "player",
) -> None:
    """Consent rows as services/crm/consents.py writes them (`source` "unsubscribe": a message's link)."""
    async with rt.database.transaction() as db:
        for product in PRODUCTS:
            for channel in channels:
                await db.execute(
                    text(
                        "INSERT INTO crm_consents (player_id, product, channel, granted, source) "
                        "VALUES (:p, :product, :channel, :granted, :source) ON CONFLICT (player_id, product, channel) "
                        "DO UPDATE SET granted = excluded.granted, source = excluded.source"
                    ),
                    {"p": player_id, "product": product, "channel": channel, "granted": granted, "source": source},
                )


@pytest.fixture
def consenting(rt: Any, make_player: Any) -> Any:
    """`await consenting(**registration)`: a player who ticked marketing and granted every channel for casino."""

    numbers = iter(range(100, 1000))

    async def make(**extra: Any) -> Any:
        n = next(numbers)  # a different person each time (an exclusion covers every account of one person)
        registration = {"marketingConsent": True, "firstName": f"Ada{n}", "phone": f"+35699123{n}", **extra}
        player = await make_player(**registration)
        await grant(rt, player.uuid)
        return player

    return make


async def save_template(rt: Any, brand_id: uuid.UUID, key: str = "welcome", language: str = "en", **parts: str) -> Any:
    async with rt.database.transaction() as db:
        return await templates.save(
            db,
            SYSTEM,
            brand_id=brand_id,
            key=key,
            language=language,
            subject=parts.get("subject", "Welcome to {{ brand.name }}, {{ player.first_name }}"),
            body_html=parts.get("body_html", WELCOME_HTML),
            body_text=parts.get("body_text", "Hello {{ player.first_name }}: {{ offer }}"),
        )


async def make_segment(rt: Any, brand_id: uuid.UUID, players: list[uuid.UUID], name: str = "Spring") -> uuid.UUID:
    segment_id = uuid.uuid4()
    async with rt.database.transaction() as db:
        await db.execute(
            text("INSERT INTO crm_segments (id, brand_id, name, kind) VALUES (:id, :b, :n, 'static')"),
            {"id": segment_id, "b": brand_id, "n": name},
        )
        for player_id in players:
            await db.execute(
                text("INSERT INTO crm_segment_members (segment_id, player_id) VALUES (:s, :p)"),
                {"s": segment_id, "p": player_id},
            )
    return segment_id
