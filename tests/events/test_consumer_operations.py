"""Running the consumers as operators see them: started and stopped by the server, their figures in
/metrics, and `croupier events consumers | parked | retry | replay | run`."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import nats
import pytest

from core import processes
from core.consumers import MAX_ATTEMPTS, Runner
from core.settings import Settings
from services.nats_sink import NatsSink
from tests import cli_process
from tests.conftest import ROOT, TEST_ENV, helper_log
from tests.events.nats_server import NatsServer
from tests.events.tally import SCRATCH_TABLE, Tally, all_published, dsn, emit, runner, until


@pytest.fixture
def nats_env(nats_server: NatsServer) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"NATS_URL": nats_server.url, "NATS_STREAM": f"T_{tag}", "NATS_SUBJECT_PREFIX": f"croupier.t{tag}.events"}


@pytest.fixture
async def db(rt: Any) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn(rt))
    await conn.execute(SCRATCH_TABLE)
    yield conn
    await conn.close()


async def in_jetstream(env: dict[str, str]) -> Counter[int]:
    """How many times each event id is in the test's stream."""
    nc = await nats.connect(env["NATS_URL"])
    try:
        js = nc.jetstream()
        try:
            state = (await js.stream_info(env["NATS_STREAM"])).state
        except nats.js.errors.NotFoundError:
            return Counter()
        found: Counter[int] = Counter()
        for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
            message = await js.get_msg(env["NATS_STREAM"], seq)
            found[int((message.headers or {})["Nats-Msg-Id"])] += 1
        return found
    finally:
        await nc.close()


async def croupier(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`croupier ARGS` as a child process (forked from a warm one: tests/cli_process.py); stdout and stderr."""
    done = await cli_process.run_async(
        *args, env={**os.environ, **TEST_ENV, **(env or {})}, merge_stderr=True, timeout=120
    )
    return done.returncode, done.stdout


# ---- the server --------------------------------------------------------------------------------


async def consumer_tasks(app: Any) -> set[str]:
    """The consumers' tasks on the server's event pipeline (its own loop, in a thread)."""
    return {name for name in await app.state.event_pipeline.task_names() if name.startswith("consumer-")}


async def test_the_server_runs_each_consumer_and_stops_it_at_shutdown(
    rt: Any, db: Any, settings: Settings, nats_env: dict[str, str]
) -> None:
    from server import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert await consumer_tasks(app) == set()  # the suite's app: EVENT_CONSUMERS=false
    serving = settings.model_copy(
        update={
            "event_consumers": True,
            "nats_url": nats_env["NATS_URL"],
            "nats_stream": nats_env["NATS_STREAM"],
            "nats_subject_prefix": nats_env["NATS_SUBJECT_PREFIX"],
        }
    )
    app = create_app(serving)
    async with app.router.lifespan_context(app):
        assert await consumer_tasks(app) == {
            "consumer-affiliate-cpa",
            "consumer-affiliate-postbacks",
            "consumer-aml-monitoring",
            "consumer-aml-screening",
            "consumer-jackpots",
            "consumer-nats-sink",
            "consumer-reports",
            "consumer-risk-rules",
            "consumer-risk-signals",
            "consumer-tournaments",
            "consumer-crm-segments",
            "consumer-crm-journeys",
            "consumer-crm-suppression",
        }
        ids = await emit(rt, 3)

        async def published() -> bool:
            return set(await in_jetstream(nats_env)) >= set(ids)

        await until(published, "the server's sink to publish the events")
    assert await consumer_tasks(app) == set()
    assert not app.state.event_pipeline.running  # its thread has ended
    # Each of the test's events once. (Once, a CI run found two more events in the stream, written meanwhile by
    # something else on the worker's database; which, it did not say. They were published once too.)
    published_once = await in_jetstream(nats_env)
    assert {i: n for i, n in published_once.items() if i in ids} == Counter(ids)
    assert set(published_once.values()) == {1}, published_once


async def test_a_failure_inside_the_lifespan_still_stops_the_consumers(
    settings: Settings, nats_env: dict[str, str]
) -> None:
    """A test (or a program embedding the app) that fails inside the lifespan must not leave the pipeline's
    consumers running: they would read the next test's events from the same Redis database."""
    from server import create_app

    app = create_app(settings.model_copy(update={"event_consumers": True, "nats_url": nats_env["NATS_URL"]}))
    with pytest.raises(RuntimeError, match="the app's user failed"):
        async with app.router.lifespan_context(app):
            assert await consumer_tasks(app)
            raise RuntimeError("the app's user failed")
    assert await consumer_tasks(app) == set()
    assert not app.state.event_pipeline.running


async def test_metrics_show_what_each_consumer_did(rt: Any, db: Any, client: httpx.AsyncClient) -> None:
    assert 'croupier_consumer_events_total{consumer="idle"} 0.0' not in (await client.get("/metrics")).text
    Runner(Tally(name="idle"), dsn(rt), rt.redis)
    assert 'croupier_consumer_events_total{consumer="idle"} 0.0' in (await client.get("/metrics")).text

    ids = await emit(rt, 4)
    await all_published(db, ids)
    r = runner(rt, Tally(name="metered", poison={ids[1]}), claim_idle_ms=0)
    await r.drain(db)
    await r.observe(db)

    metrics = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in (await client.get("/metrics")).text.splitlines()
        if 'consumer="metered"' in line
    }
    assert metrics['croupier_consumer_events_total{consumer="metered"}'] == 3
    assert metrics['croupier_consumer_lag_seconds_count{consumer="metered"}'] == 3
    assert metrics['croupier_consumer_errors_total{consumer="metered"}'] >= MAX_ATTEMPTS
    assert metrics['croupier_consumer_parked_events{consumer="metered"}'] == 1
    assert metrics['croupier_consumer_behind_events{consumer="metered"}'] == 0


# ---- the command line ---------------------------------------------------------------------------


async def test_the_cli_lists_replays_and_refuses_unknown_consumers(rt: Any, db: Any, nats_env: dict[str, str]) -> None:
    ids = await emit(rt, 3)
    await all_published(db, ids)

    code, out = await croupier("events", "consumers", env=nats_env)
    assert code == 0, out
    header, *rows = out.strip().splitlines()
    assert header.split() == ["consumer", "configured", "cursor", "processed", "parked", "behind", "inflight"]
    # behind: the events each still has to apply; `player.status_changed` is of no type but the sink's (every one),
    # crm-segments' (a player's own record changed) and crm-suppression's (a blocked or closed account)
    assert sorted(row.split() for row in rows) == [
        ["affiliate-cpa", "yes", "-", "0", "0", "0", "0"],
        ["affiliate-postbacks", "yes", "-", "0", "0", "0", "0"],
        ["aml-monitoring", "yes", "-", "0", "0", "0", "0"],
        ["aml-screening", "yes", "-", "0", "0", "0", "0"],
        ["crm-journeys", "yes", "-", "0", "0", "0", "0"],
        ["crm-segments", "yes", "-", "0", "0", "3", "0"],
        ["crm-suppression", "yes", "-", "0", "0", "3", "0"],
        ["jackpots", "yes", "-", "0", "0", "0", "0"],
        ["nats-sink", "yes", "-", "0", "0", "3", "0"],
        ["reports", "yes", "-", "0", "0", "0", "0"],
        ["risk-rules", "yes", "-", "0", "0", "0", "0"],
        ["risk-signals", "yes", "-", "0", "0", "0", "0"],
        ["tournaments", "yes", "-", "0", "0", "0", "0"],
    ]

    for command in (("retry", "nope"), ("parked", "nope")):
        code, out = await croupier("events", *command, env=nats_env)
        assert code == 2, out
        assert "no consumer named 'nope'" in out
        assert "Traceback" not in out

    code, out = await croupier("events", "replay", "nats-sink", env=nats_env)
    assert code == 2
    assert "--republish" in out
    assert await in_jetstream(nats_env) == Counter()

    code, out = await croupier("events", "replay", "nats-sink", "--republish", env=nats_env)
    assert code == 0, out
    assert "nats-sink: rebuilt from 3 event(s)" in out
    assert await in_jetstream(nats_env) == Counter(ids)

    code, out = await croupier("events", "consumers", env=nats_env)
    [sink] = [line.split() for line in out.strip().splitlines() if line.startswith("nats-sink")]
    assert sink == ["nats-sink", "yes", "0", "3", "0", "0", "0"]  # not settled yet


async def test_the_cli_shows_a_parked_event_and_retries_it_once_fixed(
    rt: Any, db: Any, nats_env: dict[str, str]
) -> None:
    """An event too large for NATS is parked by the sink; `retry` fails while it is, applies it after."""
    ids = await emit(rt, 2)
    huge = await db.fetchval(
        "INSERT INTO outbox_events (topic, key, payload, schema_version, created_at) "
        "VALUES ('player.status_changed', 'player:huge', $1::jsonb, 1, now()) RETURNING id",
        json.dumps({"player_id": str(uuid.uuid4()), "status": "active", "padding": "x" * 2_000_000}),
    )
    await all_published(db, [*ids, huge])
    sink = NatsSink(nats_env["NATS_URL"], nats_env["NATS_STREAM"], nats_env["NATS_SUBJECT_PREFIX"], timeout=5)
    try:
        await runner(rt, sink, claim_idle_ms=0).drain(db)
    finally:
        await sink.close()
    assert await in_jetstream(nats_env) == Counter(ids)

    code, out = await croupier("events", "parked", env=nats_env)
    assert code == 0, out
    assert f"nats-sink  event {huge} (player.status_changed)" in out
    assert "MaxPayloadError" in out
    assert "1 parked event(s)" in out

    code, out = await croupier("events", "retry", "nats-sink", env=nats_env)
    assert code == 1
    assert "0 applied, 1 failed again and stay parked" in out

    await db.execute("UPDATE outbox_events SET payload = payload - 'padding' WHERE id = $1", huge)  # the fix
    code, out = await croupier("events", "retry", "nats-sink", "--event", str(huge), env=nats_env)
    assert code == 0, out
    assert "1 applied, 0 failed again" in out
    assert await in_jetstream(nats_env) == Counter([*ids, huge])
    assert "0 parked event(s)" in (await croupier("events", "parked", "nats-sink", env=nats_env))[1]


async def test_croupier_events_run_serves_the_sink_until_stopped(rt: Any, db: Any, nats_env: dict[str, str]) -> None:
    ids = await emit(rt, 5)
    child = processes.spawn(
        [sys.executable, "-m", "cli", "events", "run", "nats-sink"],
        cwd=ROOT,
        env={**os.environ, **TEST_ENV, **nats_env},
        log_file=helper_log("events_run"),
    )
    try:

        async def published() -> bool:
            return set(await in_jetstream(nats_env)) >= set(ids)

        await until(published, "`croupier events run` to publish the events", seconds=60)
    finally:
        processes.stop(child)
    assert await in_jetstream(nats_env) == Counter(ids)
