"""The worker calls public addresses only: every address a host name resolves to is checked when the postback is
sent (a name pointing into the platform's own network is refused, the receiver never reached), unless the setting
that lets the tests reach their loopback receiver says otherwise."""

from __future__ import annotations

from typing import Any

from models.affiliate_postbacks import PostbackTrigger
from services.affiliates.postbacks.worker import Worker
from tests.affiliate_postbacks.conftest import TIMEOUT, Partner, Postbacks
from tests.conftest import DATABASE_URL


async def test_a_name_or_address_inside_the_platforms_network_is_refused_at_send_time(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    receiver = wired.receiver
    assert receiver is not None
    port = receiver.base.rpartition(":")[2]
    # A name (resolved only now, to 127.0.0.1 and ::1) and a literal loopback address: both saved outside
    # production (where the literal would be refused when saved), both refused when sent.
    await wired.configure(partner, PostbackTrigger.REGISTRATION, f"http://localhost:{port}/pb?id={{event_id}}")
    await wired.configure(partner, PostbackTrigger.REGISTRATION, f"http://127.0.0.1:{port}/pb?id={{event_id}}")
    await attribute((await make_player()).uuid, partner)
    await wired.enqueue()
    public_only = Worker(DATABASE_URL, timeout=TIMEOUT)
    assert not public_only.allow_private_hosts  # the default, as in production

    async with public_only.client() as http:
        assert await public_only.step(wired.conn, http) == 2

    assert receiver.requests == []
    deliveries = await wired.deliveries()
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("pending", 1), ("pending", 1)]
    for delivery in deliveries:
        [attempt] = await wired.attempts(delivery["id"])
        assert attempt["succeeded"] is False
        assert "resolves to an internal address" in attempt["error"], attempt["error"]

    # The tests' worker (allow_private_hosts, set explicitly) reaches the same receiver.
    await wired.settle()
    assert {d["status"] for d in await wired.deliveries()} == {"delivered"}
    assert len(receiver.requests) == 2
