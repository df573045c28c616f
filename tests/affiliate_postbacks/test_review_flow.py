"""Adversarial review of the delivery worker: a URL httpx refuses, and a batch that outlasts its lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from core.clock import clock
from core.errors import DomainError
from models.affiliate_postbacks import PostbackTrigger
from services.affiliates.postbacks import templates
from services.affiliates.postbacks.worker import Worker
from tests.affiliate_postbacks.conftest import BACKOFF, TIMEOUT, Partner, Postbacks
from tests.affiliate_postbacks.receiver import HANG, OK, Receiver
from tests.conftest import DATABASE_URL


async def _registrations(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any, *scripts: tuple[str, ...]
) -> tuple[Receiver, list[int]]:
    """A registration postback config on the receiver, and one attributed player per script, enqueued."""
    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(partner, PostbackTrigger.REGISTRATION, receiver.base + "/pb?id={event_id}")
    events = []
    for script in scripts:
        event_id, _ = await attribute((await make_player()).uuid, partner)
        receiver.will(event_id, *script)
        events.append(event_id)
    await wired.enqueue()
    return receiver, events


async def test_a_url_httpx_refuses_is_a_failed_try_not_a_crash_that_resends_its_batch(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    receiver, [good_event, bad_event] = await _registrations(wired, partner, make_player, attribute, (OK,), (OK,))
    # A port urlsplit accepts (it never reads it) but httpx refuses: saved before validation checked ports.
    await wired.conn.execute(
        "UPDATE affiliate_postback_deliveries SET url = 'http://127.0.0.1:abc/pb' WHERE event_id = $1", bad_event
    )

    assert await wired.step() == 2  # no exception: the good one is recorded, not left to its lease
    deliveries = {d["event_id"]: d for d in await wired.deliveries()}
    assert deliveries[good_event]["status"] == "delivered"
    assert deliveries[bad_event]["status"] == "pending"
    [attempt] = await wired.attempts(deliveries[bad_event]["id"])
    assert attempt["succeeded"] is False
    assert "InvalidURL" in attempt["error"]

    clock.advance(timedelta(seconds=wired.worker.lease_seconds + 1))
    await wired.step()
    assert len(receiver.of(good_event)) == 1  # never sent again after its success


@pytest.mark.parametrize("url", ["https://partner.test:abc/pb", "https://partner.test:99999/pb"])
def test_a_template_with_a_bad_port_is_refused_when_saved(url: str) -> None:
    with pytest.raises(DomainError):
        templates.validate_template(url, require_https=False)


async def test_a_delivery_sent_early_in_a_slow_batch_is_not_taken_over_and_sent_again(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    """The batch's later tries wait for a free slot: its lease must cover them all, not one time-out."""
    receiver, events = await _registrations(wired, partner, make_player, attribute, (OK,), (HANG,), (HANG,))
    settings: dict[str, Any] = {"timeout": TIMEOUT, "backoff": BACKOFF, "concurrency": 1, "lease_margin": 0.2}
    worker = Worker(DATABASE_URL, **settings, allow_private_hosts=True)
    other = Worker(DATABASE_URL, **settings, allow_private_hosts=True)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        first = asyncio.create_task(worker.step(wired.conn, wired.http))
        # Every try ends within its time-out; the batch as a whole takes three of them.
        await asyncio.sleep(TIMEOUT + 0.4)
        await other.step(conn, wired.http)
        await first
    finally:
        await conn.close()
    assert len(receiver.of(events[0])) == 1  # sent once, delivered: never again


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/pb",
        "https://localhost/pb",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5:8000/admin",
        "https://[::1]/pb",
        "https://0.0.0.0/pb",
    ],
)
def test_a_production_template_may_not_call_an_internal_address(url: str) -> None:
    with pytest.raises(DomainError):
        templates.validate_template(url, require_https=True)
    templates.validate_template("https://partner.example/pb?c={click_id}", require_https=True)
