"""The NATS JetStream sink (services/nats_sink.py) against a real `nats-server -js` the tests start:
every event in JetStream once, under redelivery, a kill between the broker's acknowledgement and the
commit, and a redelivery long after the broker's duplicate window."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest
from nats.js.api import StreamConfig

from core import outbox, processes
from core.consumers import Event, Retried, retry_parked
from services.nats_sink import NatsSink, NatsUnavailable
from tests.conftest import ROOT, TEST_ENV, helper_log
from tests.events.nats_server import NatsServer
from tests.events.tally import all_published, dsn, emit, runner, until
from tests.providers import conftest as providers
from tests.providers.conftest import Aggregator

# The Hub88 fixtures of tests/providers, used here too.
aggregator, aggregator_key, hub88_provider, seat = (
    providers.aggregator,
    providers.aggregator_key,
    providers.hub88_provider,
    providers.seat,
)


def fresh_names() -> dict[str, str]:
    """A stream and subject prefix of the test's own, on the shared server."""
    tag = uuid.uuid4().hex[:8]
    return {"NATS_STREAM": f"T_{tag}", "NATS_SUBJECT_PREFIX": f"croupier.t{tag}.events"}


@pytest.fixture
async def sink(nats_server: NatsServer) -> AsyncIterator[NatsSink]:
    names = fresh_names()
    made = NatsSink(nats_server.url, names["NATS_STREAM"], names["NATS_SUBJECT_PREFIX"], timeout=5)
    yield made
    await made.close()


@pytest.fixture
async def db(rt: Any) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn(rt))
    yield conn
    await conn.close()


@dataclass
class Stored:
    seq: int
    subject: str
    headers: dict[str, str]
    event: dict[str, Any]


async def stored(url: str, stream: str) -> list[Stored]:
    """Every message the stream holds, in order."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(stream)).state
        messages = []
        for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
            try:
                message = await js.get_msg(stream, seq)
            except nats.js.errors.NotFoundError:  # purged
                continue
            messages.append(Stored(seq, message.subject or "", message.headers or {}, json.loads(message.data or b"")))
        return messages
    finally:
        await nc.close()


def ids_in(messages: list[Stored]) -> Counter[int]:
    return Counter(int(m.headers["Nats-Msg-Id"]) for m in messages)


async def outbox_ids(conn: asyncpg.Connection) -> list[int]:
    return [row["id"] for row in await conn.fetch("SELECT id FROM outbox_events ORDER BY id")]


async def envelope(conn: asyncpg.Connection, event_id: int) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events WHERE id = $1", event_id)
    enveloped: dict[str, Any] = json.loads(json.dumps(outbox.envelope_of(row)))
    return enveloped


# ---- in this process ---------------------------------------------------------------------------


async def test_a_bet_through_hub88_reaches_jetstream_once(
    rt: Any,
    db: Any,
    sink: NatsSink,
    aggregator: Aggregator,
    seat: Any,
) -> None:
    player = await seat(balance=10_000)
    bet = player.bet(356_000, round_ref="round-nats")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    [bet_event] = await db.fetch(
        "SELECT id FROM outbox_events WHERE topic = 'ledger.game_bet' AND payload->>'player_id' = $1", player.user
    )
    everything = await outbox_ids(db)
    await all_published(db, everything)

    r = runner(rt, sink)
    await r.drain(db)
    await r.drain(db)  # nothing new
    assert await r.apply(db, [Event.of(await envelope(db, bet_event["id"]))]) == set()  # redelivered: nothing

    messages = await stored(sink.url, sink.stream)
    bets = [m for m in messages if m.subject == f"{sink.prefix}.ledger.game_bet"]
    assert [m.headers["Nats-Msg-Id"] for m in bets] == [str(bet_event["id"])]
    assert bets[0].event == await envelope(db, bet_event["id"])
    assert ids_in(messages) == Counter(everything)  # the registration, the funding and the bet: each once
    assert {m.subject for m in messages} == {
        f"{sink.prefix}.{e['type']}" for e in [await envelope(db, i) for i in everything]
    }


async def test_the_sink_creates_its_stream_and_sets_its_window(rt: Any, db: Any, nats_server: NatsServer) -> None:
    names = fresh_names()
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=names["NATS_STREAM"], subjects=["elsewhere.>"], duplicate_window=30)
        made = NatsSink(nats_server.url, names["NATS_STREAM"], names["NATS_SUBJECT_PREFIX"], duplicate_window=7)
        ids = await emit(rt, 2)
        await all_published(db, ids)
        try:
            await runner(rt, made).drain(db)
        finally:
            await made.close()
        config = (await js.stream_info(names["NATS_STREAM"])).config
        assert config.duplicate_window == 7
        assert set(config.subjects or []) == {"elsewhere.>", f"{names['NATS_SUBJECT_PREFIX']}.>"}
    finally:
        await nc.close()
    assert ids_in(await stored(nats_server.url, names["NATS_STREAM"])) == Counter(ids)


async def test_nats_away_is_an_outage_retried_never_parked(rt: Any, db: Any, tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "store", tmp_path / "nats.log")
    (tmp_path / "store").mkdir()
    names = fresh_names()
    made = NatsSink(server.url, names["NATS_STREAM"], names["NATS_SUBJECT_PREFIX"], timeout=2)
    ids = await emit(rt, 3)
    await all_published(db, ids)
    r = runner(rt, made)
    try:
        for _ in range(4):  # more than MAX_ATTEMPTS
            with pytest.raises(NatsUnavailable):
                await r.drain(db)
        assert await db.fetchval("SELECT count(*) FROM consumer_parked") == 0
        server.start()
        await r.drain(db)
        assert ids_in(await stored(server.url, made.stream)) == Counter(ids)
    finally:
        await made.close()
        server.stop()


async def test_a_stream_it_cannot_set_up_is_an_outage_not_the_events_fault(rt: Any, db: Any, sink: NatsSink) -> None:
    nc = await nats.connect(sink.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=f"{sink.stream}_FOREIGN", subjects=[f"{sink.prefix}.>"])  # it owns our subjects
        ids = await emit(rt, 2)
        await all_published(db, ids)
        r = runner(rt, sink)
        for _ in range(4):
            with pytest.raises(NatsUnavailable):
                await r.drain(db)
        assert await db.fetchval("SELECT count(*) FROM consumer_parked") == 0
        await js.delete_stream(f"{sink.stream}_FOREIGN")
    finally:
        await nc.close()
    await r.drain(db)
    assert ids_in(await stored(sink.url, sink.stream)) == Counter(ids)


async def test_events_jetstream_refuses_are_parked_not_retried_forever(rt: Any, db: Any, sink: NatsSink) -> None:
    """A refusal of the event itself (here: larger than the stream's maximum) comes back in JetStream's
    answer; the sink reads it as such (not as a time-out, an outage), so the events are parked."""
    nc = await nats.connect(sink.url)
    try:
        js = nc.jetstream()
        config = StreamConfig(
            name=sink.stream, subjects=[f"{sink.prefix}.>"], duplicate_window=sink.duplicate_window, max_msg_size=64
        )
        await js.add_stream(config)
        ids = await emit(rt, 2)
        await all_published(db, ids)
        r = runner(rt, sink, claim_idle_ms=0)
        await r.drain(db)
        parked = await db.fetch("SELECT event_id, error FROM consumer_parked WHERE consumer = 'nats-sink'")
        assert sorted(row["event_id"] for row in parked) == ids
        assert len({row["error"] for row in parked}) == 1, parked
        assert "BadRequestError" in parked[0]["error"]
        assert "err_code=10054" in parked[0]["error"]  # the message is over the stream's maximum size

        config.max_msg_size = -1  # the operator lifts the limit
        await js.update_stream(config)
    finally:
        await nc.close()
    assert await retry_parked(r, db) == Retried(applied=2, parked=0)
    assert ids_in(await stored(sink.url, sink.stream)) == Counter(ids)


async def test_a_batch_published_but_not_recorded_is_not_published_again(rt: Any, db: Any, sink: NatsSink) -> None:
    """In-process version of the crash between the broker's acknowledgements and the commit."""

    class Died(BaseException):
        pass

    class DiesAfterPublishing(NatsSink):
        async def publish(self, events: Any) -> None:
            await super().publish(events)
            raise Died

    ids = await emit(rt, 5)
    await all_published(db, ids)
    dying = DiesAfterPublishing(sink.url, sink.stream, sink.prefix, duplicate_window=1, timeout=5)
    try:
        with pytest.raises(Died):
            await runner(rt, dying).drain(db)
    finally:
        await dying.close()
    assert await db.fetchval("SELECT event_ids FROM sink_inflight") == ids
    assert ids_in(await stored(sink.url, sink.stream)) == Counter(ids)

    await asyncio.sleep(1.5)  # past the duplicate window: JetStream would store a copy now
    await runner(rt, sink).drain(db)
    assert await db.fetchval("SELECT count(*) FROM sink_inflight") == 0
    assert ids_in(await stored(sink.url, sink.stream)) == Counter(ids)


# ---- a sink process killed mid-batch ----------------------------------------------------------


@dataclass
class SinkProcess:
    env: dict[str, str]
    log_file: Path
    child: processes.Child | None = None

    def start(self, **extra: str) -> None:
        self.child = processes.spawn(
            [sys.executable, "-m", "tests.events.sink_child"],
            cwd=ROOT,
            env={**os.environ, **TEST_ENV, **self.env, **extra},
            log_file=self.log_file,
        )

    def kill(self) -> None:
        assert self.child is not None
        assert self.child.poll() is None, "the sink process exited by itself"
        processes.kill(self.child)
        self.child = None

    def stop(self) -> None:
        if self.child is not None:
            processes.stop(self.child)
            self.child = None


@pytest.fixture
def sink_process(nats_server: NatsServer) -> Iterator[SinkProcess]:
    process = SinkProcess({"NATS_URL": nats_server.url, **fresh_names()}, helper_log("sink_child"))
    yield process
    process.stop()


async def _all_in_jetstream(url: str, stream: str, conn: asyncpg.Connection) -> bool:
    try:
        return set(ids_in(await stored(url, stream))) >= set(await outbox_ids(conn))
    except nats.js.errors.NotFoundError:
        return False


async def _killed_mid_batch(sink_process: SinkProcess, tmp_path: Path, db: Any, **extra: str) -> list[int]:
    """Start the sink to freeze after its first acknowledged batch; kill it there. The batch's ids."""
    pause = tmp_path / f"paused-{uuid.uuid4().hex[:6]}"
    sink_process.start(SINK_PAUSE_FILE=str(pause), **extra)

    async def paused() -> bool:
        return pause.exists() and bool(pause.read_text())

    await until(paused, "the sink to publish a batch")
    sink_process.kill()
    batch = [int(i) for i in pause.read_text().split(",")]
    inflight = await db.fetchval("SELECT event_ids FROM sink_inflight WHERE consumer = 'nats-sink'")
    assert inflight == batch  # published, noted, never recorded
    processed = await db.fetchval(
        "SELECT count(*) FROM consumer_processed WHERE consumer = 'nats-sink' AND event_id = ANY($1)", batch
    )
    assert processed == 0
    return batch


async def test_a_sink_killed_mid_batch_while_events_flow_publishes_each_event_once(
    rt: Any, db: Any, sink_process: SinkProcess, tmp_path: Path
) -> None:
    env = sink_process.env
    first = await emit(rt, 150)
    await all_published(db, first)
    stop = asyncio.Event()

    async def keep_emitting() -> list[int]:
        emitted = []
        while not stop.is_set():
            emitted += await emit(rt, 5)
            await asyncio.sleep(0.01)
        return emitted

    flowing = asyncio.create_task(keep_emitting())
    try:
        batch = await _killed_mid_batch(sink_process, tmp_path, db)
        assert set(batch) <= set(ids_in(await stored(env["NATS_URL"], env["NATS_STREAM"])))
        for _ in range(3):  # and killed at moments nobody chose, while events keep coming
            sink_process.start()
            await asyncio.sleep(random.uniform(0.3, 1.0))
            sink_process.kill()
        sink_process.start()
    finally:
        stop.set()
        await flowing
    await until(lambda: _all_in_jetstream(env["NATS_URL"], env["NATS_STREAM"], db), "every event in JetStream", 90)

    messages = await stored(env["NATS_URL"], env["NATS_STREAM"])
    everything = await outbox_ids(db)
    assert len(messages) == len(set(ids_in(messages))) == len(everything)
    assert ids_in(messages) == Counter(everything)


async def test_a_redelivery_after_the_duplicate_window_is_still_published_once(
    rt: Any, db: Any, sink_process: SinkProcess, tmp_path: Path
) -> None:
    env = sink_process.env
    ids = await emit(rt, 40)
    await all_published(db, ids)
    batch = await _killed_mid_batch(sink_process, tmp_path, db, NATS_DUPLICATE_WINDOW_SECONDS="1")

    nc = await nats.connect(env["NATS_URL"])  # the window is really short: a copy sent now is stored
    try:
        js = nc.jetstream()
        subject = f"{env['NATS_SUBJECT_PREFIX']}.probe"
        await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "probe"})
        await asyncio.sleep(1.5)
        assert not (await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "probe"})).duplicate
        await js.purge_stream(env["NATS_STREAM"], subject=subject)
    finally:
        await nc.close()

    more = await emit(rt, 10)
    sink_process.start(NATS_DUPLICATE_WINDOW_SECONDS="1")
    await until(lambda: _all_in_jetstream(env["NATS_URL"], env["NATS_STREAM"], db), "every event in JetStream", 60)
    messages = await stored(env["NATS_URL"], env["NATS_STREAM"])
    assert set(batch) <= set(ids)
    assert len(messages) == len(set(ids_in(messages))) == len(ids) + len(more)
    assert ids_in(messages) == Counter(ids + more)
