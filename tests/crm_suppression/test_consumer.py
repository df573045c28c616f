"""The `crm-suppression` consumer: a player who may no longer be reached leaves every audience and every
queued send — within 60 seconds of the fact, measured with the server's own consumers running."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import asyncpg

from core.settings import Settings
from tests.conftest import DATABASE_URL
from tests.crm_suppression.conftest import (
    SELF_EXCLUDE,
    SET_CONSENTS,
    SET_STATUS,
    TIME_OUT,
    UPDATE_PROFILE,
    Crm,
    refusal,
)
from tests.events.tally import until
from tests.rg.conftest import login

ERASE = """mutation($input: DecideDataErasureInput!) { erasePlayer(input: $input) { errors { code message } } }"""


async def test_exclusions_clear_the_player_s_audiences_and_queued_sends_and_leave_others_alone(
    gql: Any, make_player: Any, brand: Any, crm: Crm
) -> None:
    excluded, timed_out, bystander = [await make_player(marketingConsent=True) for _ in range(3)]
    segment = await crm.segment(brand.id, excluded, timed_out, bystander)
    sends = {
        p.uuid: [await crm.queue(p), await crm.queue(p, channel="inbox")] for p in (excluded, timed_out, bystander)
    }
    await gql(SELF_EXCLUDE, {"input": {"length": "ONE_YEAR", "confirm": True}}, token=excluded.token)
    await gql(TIME_OUT, {"input": {"length": "WEEK"}}, token=timed_out.token)

    assert await crm.drain() > 0
    for player, reason in ((excluded, "SELF_EXCLUDED"), (timed_out, "TIMED_OUT")):
        for message_id in sends[player.uuid]:
            assert tuple(await crm.message(message_id)) == ("cancelled", reason)
        assert await crm.members(player) == 0
        assert sorted(await crm.suppressions(player), key=str) == sorted(
            [(reason, "crm-suppression", m) for m in sends[player.uuid]], key=str
        )
    for message_id in sends[bystander.uuid]:
        assert (await crm.message(message_id))["status"] == "queued"
    assert await crm.conn.fetchval("SELECT count(*) FROM crm_segment_members WHERE segment_id = $1", segment) == 1

    # A redelivery (the consumer run again over the same events) changes nothing.
    await crm.conn.execute("DELETE FROM consumer_processed WHERE consumer = 'crm-suppression'")
    await crm.conn.execute("UPDATE event_consumers SET cursor = 0 WHERE name = 'crm-suppression'")
    before = await crm.suppressions(excluded)
    await crm.drain()
    assert await crm.suppressions(excluded) == before


async def test_a_withdrawn_consent_a_block_and_an_erasure_clear_them_too(
    gql: Any, make_player: Any, make_staff: Any, brand: Any, crm: Crm
) -> None:
    withdrawn = await make_player(marketingConsent=True)
    blocked = await make_player(marketingConsent=True)
    erased = await make_player(marketingConsent=True)
    await crm.segment(brand.id, withdrawn, blocked, erased)
    queued = {p.uuid: await crm.queue(p) for p in (withdrawn, blocked, erased)}

    await gql(UPDATE_PROFILE, {"input": {"marketingConsent": False}}, token=withdrawn.token)
    support = await make_staff("support")
    status = {"playerId": blocked.id, "status": "BLOCKED", "reason": "fraud"}
    assert (await gql(SET_STATUS, {"input": status}, token=support.token, brand="royal"))["data"]["setPlayerStatus"][
        "errors"
    ] == []
    dpo = await make_staff("dpo")
    body = await gql(
        ERASE, {"input": {"playerId": erased.id, "reason": "art. 17 request"}}, token=dpo.token, brand="royal"
    )
    assert body["data"]["erasePlayer"]["errors"] == [], body

    await crm.drain()
    for player, reason in ((withdrawn, "NO_CONSENT"), (blocked, "ACCOUNT_CLOSED"), (erased, "ACCOUNT_CLOSED")):
        assert tuple(await crm.message(queued[player.uuid])) == ("cancelled", reason), reason
        assert await crm.members(player) == 0


async def test_a_register_hit_at_login_clears_them_and_refuses_until_the_register_answers_otherwise(
    rt: Any, gql: Any, make_player: Any, nordic: Any, crm: Crm, monkeypatch: Any
) -> None:
    briton = await make_player(brand_code="nordic", country="GB", currency="GBP", marketingConsent=True)
    await crm.segment(nordic.id, briton)
    queued = await crm.queue(briton)
    assert await refusal(rt, briton) is None

    monkeypatch.setattr(rt.settings, "rg_demo_register", f"{briton.email}:Y")  # signs up with GAMSTOP
    for _ in range(2):  # each refused login asks the register again; the hit is announced once
        assert (await login(gql, briton))["errors"][0]["code"] == "SELF_EXCLUDED"
    excluded = await crm.conn.fetch("SELECT payload FROM outbox_events WHERE topic = 'player.excluded'")
    assert len(excluded) == 1
    assert '"source": "register:gamstop"' in excluded[0]["payload"]
    assert await refusal(rt, briton) == "REGISTER_HIT"
    await crm.drain()
    assert tuple(await crm.message(queued)) == ("cancelled", "REGISTER_HIT")
    assert await crm.members(briton) == 0

    monkeypatch.setattr(rt.settings, "rg_demo_register", f"{briton.email}:P")  # the register's exclusion ended
    assert (await login(gql, briton))["errors"] == []
    assert await refusal(rt, briton) == "NO_CONSENT"  # consent stays withdrawn until given again


async def test_a_late_event_does_not_undo_what_the_player_chose_since(gql: Any, make_player: Any, crm: Crm) -> None:
    player = await make_player(marketingConsent=True)
    await gql(UPDATE_PROFILE, {"input": {"marketingConsent": False}}, token=player.token)
    change = {"product": "casino", "channel": "email", "granted": True}
    await gql(SET_CONSENTS, {"input": {"consents": [change]}}, token=player.token)  # consents again
    after = await crm.queue(player)
    await crm.drain()  # the withdrawal's event arrives only now
    assert (await crm.message(after))["status"] == "queued"


async def test_a_self_exclusion_empties_the_player_s_queue_within_60_seconds_with_the_server_s_consumers(
    settings: Settings, gql: Any, make_player: Any, brand: Any
) -> None:
    from server import create_app

    player = await make_player(marketingConsent=True)
    conn = await asyncpg.connect(DATABASE_URL)
    crm = Crm(conn, runner=None)  # type: ignore[arg-type]
    try:
        await crm.segment(brand.id, player)
        # Due in an hour (a journey's delayed step): the server's sender, running here too, leaves them queued.
        later = timedelta(hours=1)
        queued = [
            await crm.queue(player, due_in=later),
            await crm.queue(player, channel="inbox", product="sports", due_in=later),
        ]
        serving = create_app(settings.model_copy(update={"event_consumers": True}))
        async with serving.router.lifespan_context(serving):
            started = time.monotonic()
            body = await gql(SELF_EXCLUDE, {"input": {"length": "PERMANENT", "confirm": True}}, token=player.token)
            assert body["data"]["selfExclude"]["errors"] == []

            async def cleared() -> bool:
                statuses = {(await crm.message(m))["status"] for m in queued}
                return statuses == {"cancelled"} and await crm.members(player) == 0

            await until(cleared, "the queue and the audiences cleared", seconds=60)
            elapsed = time.monotonic() - started
    finally:
        await conn.close()
    assert elapsed < 60
    print(f"crm-suppression: self-exclusion to an empty queue in {elapsed:.2f} s")
