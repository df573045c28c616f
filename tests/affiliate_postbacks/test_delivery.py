"""Postbacks against a real receiver: macros and signature, failures, time-outs and late answers ending in
exactly one success per event, never a request after the success, the last try, staff's retry, a worker
that died mid-try, and the consumer's exactly-once enqueueing."""

from __future__ import annotations

import contextlib
import itertools
from datetime import timedelta
from typing import Any

from authz.subjects import SYSTEM
from core.clock import clock
from models.affiliate_postbacks import PostbackMethod, PostbackTrigger
from services.affiliates.postbacks import configs, templates
from tests.affiliate_postbacks.conftest import Partner, Postbacks
from tests.affiliate_postbacks.receiver import DROP, FAIL, HANG, LATE, OK, SLOW, UNAVAILABLE

TEMPLATE = (
    "/pb?click={click_id}&s1={sub1}&s2={sub2}&s5={sub5}&ref={player_ref}&ev={event}&id={event_id}"
    "&amount={amount}&cur={currency}"
)


async def test_registration_postback_reaches_the_partner_with_its_macros_and_a_valid_signature(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    await wired.configure(partner, PostbackTrigger.REGISTRATION, wired.receiver.base + TEMPLATE)  # type: ignore[union-attr]
    player = await make_player()
    event_id, click_id = await attribute(player.uuid, partner, sub1="spring sale&x=1", sub2="ig/story")

    assert await wired.enqueue() >= 1
    assert await wired.step() == 1

    [request] = wired.receiver.requests  # type: ignore[union-attr]
    assert request.signed
    assert request.query == {
        "click": str(click_id),
        "s1": "spring sale&x=1",  # percent-encoded: a sub-id cannot add a parameter
        "s2": "ig/story",
        "s5": "",
        "ref": templates.player_ref(await _salt(wired, partner), player.uuid),
        "ev": "registration",
        "id": str(event_id),
        "amount": "",
        "cur": "",
    }
    assert str(player.uuid) not in request.url
    assert str(player.uuid.hex) not in request.url
    assert player.email not in request.url
    [delivery] = await wired.deliveries()
    assert (delivery["status"], delivery["attempts"], delivery["trigger"]) == ("delivered", 1, "registration")
    [attempt] = await wired.attempts(delivery["id"])
    assert (attempt["succeeded"], attempt["http_status"], attempt["error"]) == (True, 200, None)
    assert attempt["latency_ms"] >= 0


async def test_failures_time_outs_and_late_answers_end_in_exactly_one_success_per_event(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(partner, PostbackTrigger.REGISTRATION, receiver.base + "/pb?id={event_id}")
    scripts = [
        (FAIL, UNAVAILABLE, DROP, OK),  # errors, then an answer
        (HANG, HANG, SLOW),  # no answer twice (the worker times out), then a slow answer in time
        (LATE, OK),  # an answer after the worker gave up: tried again, the partner deduplicates by event id
        (OK,),
    ]
    events = []
    for script in scripts:
        player = await make_player()
        event_id, _ = await attribute(player.uuid, partner)
        receiver.will(event_id, *script)
        events.append(event_id)
    await wired.enqueue()
    await wired.settle()

    for event_id, script in zip(events, scripts, strict=True):
        requests = receiver.of(event_id)
        assert [r.behaviour for r in requests] == list(script), event_id
        assert all(r.signed for r in requests)
    deliveries = {d["event_id"]: d for d in await wired.deliveries()}
    for event_id, script in zip(events, scripts, strict=True):
        delivery = deliveries[event_id]
        assert (delivery["status"], delivery["attempts"]) == ("delivered", len(script))
        tries = await wired.attempts(delivery["id"])
        assert [t["succeeded"] for t in tries] == [False] * (len(script) - 1) + [True]
        assert [t["attempt"] for t in tries] == list(range(1, len(script) + 1))
        assert all(t["error"] for t in tries[:-1])
    errors = [t["error"] for t in await wired.attempts(deliveries[events[0]]["id"])]
    assert errors[:2] == ["HTTP 500", "HTTP 503"]
    timed_out = await wired.attempts(deliveries[events[1]]["id"])
    assert timed_out[0]["error"].startswith("no answer within")
    assert timed_out[0]["http_status"] is None

    # Long after: nothing is sent again, whatever the worker does.
    seen = len(receiver.requests)
    clock.advance(timedelta(days=2))
    assert await wired.step() == 0
    assert len(receiver.requests) == seen
    outcomes = await _event_types(wired)
    assert outcomes.count("affiliate.postback_delivered") == len(events)


async def test_a_postback_fails_after_its_last_try_with_growing_backoff_then_staff_retry_it(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(partner, PostbackTrigger.REGISTRATION, receiver.base + "/pb?id={event_id}")
    player = await make_player()
    event_id, _ = await attribute(player.uuid, partner)
    receiver.will(event_id, *[FAIL] * 6)
    await wired.enqueue()
    await wired.settle()

    [delivery] = await wired.deliveries()
    assert (delivery["status"], delivery["attempts"], delivery["max_attempts"]) == ("failed", 6, 6)
    tries = await wired.attempts(delivery["id"])
    assert len(tries) == 6
    assert not any(t["succeeded"] for t in tries)
    gaps = [(b["started_at"] - a["started_at"]).total_seconds() for a, b in itertools.pairwise(tries)]
    for n, gap in enumerate(gaps, start=1):  # backoff * 2^(n-1), ± 20 % jitter
        assert 2.0 * 2 ** (n - 1) * 0.8 <= gap <= 2.0 * 2 ** (n - 1) * 1.2 + 1, gaps
    assert "affiliate.postback_failed" in await _event_types(wired)

    retried = await configs.retry_now(wired.rt, SYSTEM, delivery_id=delivery["id"])
    assert (retried.status, retried.max_attempts) == ("pending", 11)
    await wired.settle()
    [delivery] = await wired.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 7)
    assert len(receiver.of(event_id)) == 7


async def test_a_partner_that_is_down_is_a_failed_try_logged_with_its_error(
    postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "http://127.0.0.1:9/pb?id={event_id}")
    player = await make_player()
    await attribute(player.uuid, partner)
    await postbacks.enqueue()
    assert await postbacks.step() == 1
    [delivery] = await postbacks.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    [attempt] = await postbacks.attempts(delivery["id"])
    assert attempt["succeeded"] is False
    assert attempt["http_status"] is None
    assert attempt["error"].startswith("ConnectError")
    assert delivery["next_attempt_at"] > clock.now()


async def test_a_worker_that_died_mid_try_is_taken_over_after_its_lease_and_the_lost_try_logged(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(partner, PostbackTrigger.REGISTRATION, receiver.base + "/pb?id={event_id}")
    player = await make_player()
    await attribute(player.uuid, partner)
    await wired.enqueue()
    [claimed] = await wired.worker.claim(wired.conn)  # …and the worker dies before it sends anything
    assert claimed.attempt == 1
    assert await wired.step() == 0  # leased: no other worker takes it meanwhile

    clock.advance(timedelta(seconds=wired.worker.lease_seconds + 1))
    assert await wired.step() == 1
    [delivery] = await wired.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    lost, sent = await wired.attempts(delivery["id"])
    assert (lost["succeeded"], lost["error"]) == (False, "the worker stopped during this try: its outcome is unknown")
    assert sent["succeeded"] is True
    assert len(receiver.requests) == 1


async def test_a_stale_outcome_changes_nothing_once_another_worker_took_the_delivery_over(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(partner, PostbackTrigger.REGISTRATION, receiver.base + "/pb?id={event_id}")
    player = await make_player()
    event_id, _ = await attribute(player.uuid, partner)
    receiver.will(event_id, OK, FAIL)  # the take-over's try succeeds, the stale worker's late one fails
    await wired.enqueue()
    [stale] = await wired.worker.claim(wired.conn)
    clock.advance(timedelta(seconds=wired.worker.lease_seconds + 1))
    assert await wired.step() == 1  # another worker: delivered on try 2
    outcome = await wired.worker.send(wired.http, stale)  # the first worker comes back and reports
    await wired.worker.record(wired.conn, [outcome])
    [delivery] = await wired.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert [(t["attempt"], t["succeeded"]) for t in await wired.attempts(delivery["id"])] == [(1, False), (2, True)]
    clock.advance(timedelta(days=1))
    assert await wired.step() == 0  # still delivered: never sent again


async def test_the_consumer_enqueues_one_delivery_per_config_and_event_however_often_it_sees_it(
    postbacks: Postbacks, partner: Partner, make_player: Any, attribute: Any, rt: Any
) -> None:
    from core.consumers import Event

    first = await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "https://acme.test/a?id={event_id}")
    second = await postbacks.configure(partner, PostbackTrigger.REGISTRATION, "https://acme.test/b?id={event_id}")
    await postbacks.configure(partner, PostbackTrigger.FIRST_DEPOSIT, "https://acme.test/ftd?id={event_id}")
    player = await make_player()
    event_id, _ = await attribute(player.uuid, partner)
    await postbacks.enqueue()
    await postbacks.enqueue()
    row = await postbacks.conn.fetchrow(
        "SELECT id, topic, key, brand_id, schema_version, payload, created_at FROM outbox_events WHERE id = $1",
        event_id,
    )
    async with postbacks.conn.transaction():  # a redelivery that slipped past the processed ids
        await postbacks.runner.consumer.apply(postbacks.conn, [Event.of_row(row)])  # type: ignore[union-attr]

    deliveries = await postbacks.deliveries()
    assert sorted(d["config_id"] for d in deliveries) == sorted([first.id, second.id])
    assert {d["event_id"] for d in deliveries} == {event_id}
    assert {d["url"] for d in deliveries} == {
        f"https://acme.test/a?id={event_id}",
        f"https://acme.test/b?id={event_id}",
    }


async def test_post_configs_send_the_facts_as_signed_json(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any, qualify: Any
) -> None:
    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(
        partner, PostbackTrigger.QUALIFICATION, receiver.base + "/cpa/{event_id}", method=PostbackMethod.POST
    )
    player = await make_player()
    await attribute(player.uuid, partner, sub1="s-1")
    event_id = await qualify(player.uuid, partner, amount=5000)
    await wired.enqueue()
    await wired.settle()
    [request] = receiver.requests
    assert (request.method, request.path, request.signed) == ("POST", f"/cpa/{event_id}", True)
    import json

    body = json.loads(request.body or "{}")
    assert (body["event"], body["amount"], body["currency"], body["sub1"]) == ("qualification", "50.00", "EUR", "s-1")
    assert request.headers["content-type"] == "application/json"


async def test_a_tampered_request_fails_the_partners_signature_check(partner: Partner) -> None:
    secret = templates.new_secret()
    header = templates.signature(secret, 1_700_000_000, "GET", "https://acme.test/pb?id=1", None)
    assert templates.verify(secret, header, "GET", "https://acme.test/pb?id=1", None, now=1_700_000_010)
    assert not templates.verify(secret, header, "GET", "https://acme.test/pb?id=2", None, now=1_700_000_010)
    assert not templates.verify(secret, header, "POST", "https://acme.test/pb?id=1", None, now=1_700_000_010)
    assert not templates.verify("whsec_other", header, "GET", "https://acme.test/pb?id=1", None, now=1_700_000_010)
    assert not templates.verify(secret, header, "GET", "https://acme.test/pb?id=1", None, now=1_700_001_000)


async def _salt(postbacks: Postbacks, partner: Partner) -> str:
    salt: str = await postbacks.conn.fetchval(
        "SELECT ref_salt FROM affiliate_postback_secrets WHERE affiliate_id = $1", partner.id
    )
    return salt


async def _event_types(postbacks: Postbacks) -> list[str]:
    return [r["topic"] for r in await postbacks.conn.fetch("SELECT topic FROM outbox_events ORDER BY id")]


async def test_the_running_worker_is_woken_by_the_consumers_commit_not_its_poll(
    wired: Postbacks, partner: Partner, make_player: Any, attribute: Any
) -> None:
    import asyncio
    import time

    from services.affiliates.postbacks.worker import Worker
    from tests.conftest import DATABASE_URL

    receiver = wired.receiver
    assert receiver is not None
    await wired.configure(partner, PostbackTrigger.REGISTRATION, receiver.base + "/pb?id={event_id}")
    worker = Worker(DATABASE_URL, timeout=0.5, poll_seconds=60, allow_private_hosts=True)  # a poll: a minute late
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.5)  # it is listening, idle
        player = await make_player()
        event_id, _ = await attribute(player.uuid, partner)
        enqueued = time.monotonic()
        await wired.enqueue()
        for _ in range(100):
            if receiver.of(event_id):
                break
            await asyncio.sleep(0.05)
        [request] = receiver.of(event_id)
        assert request.at - enqueued < 3.0
        for _ in range(100):  # …and records it
            if (await wired.deliveries())[0]["status"] == "delivered":
                break
            await asyncio.sleep(0.05)
        assert (await wired.deliveries())[0]["status"] == "delivered"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
