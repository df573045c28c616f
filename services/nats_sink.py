"""The NATS JetStream sink: every event leaves the platform as its envelope (JSON, CloudEvents-style) on
the subject `<prefix>.<type>` (`croupier.events.ledger.game_bet`), its id in the `Nats-Msg-Id` header.

It runs as a consumer of the event stream in sink mode (core/consumers.py): the runner writes down the
ids of a batch (`sink_inflight`) and commits before `publish`, and records them processed after it. So
every event reaches JetStream once:
- a batch acknowledged by JetStream but not recorded (a crash, an outage in between) comes again;
  within the stream's duplicate window JetStream drops the copies by their `Nats-Msg-Id`;
- before anything else, the next batch asks `delivered` which of the noted events the stream holds
  (it reads the headers of what the stream received since the note, from a throw-away consumer) and
  records those without publishing them again: a redelivery after a longer outage adds nothing either.

A batch is pipelined: its messages go out in order on one connection, then the sink waits for all the
acknowledgements, which come back on one reply subscription of the connection (a missing one fails the
batch, which is retried whole; copies are dropped as above).
Its outages (NATS away, time-outs, no JetStream answering, a stream it cannot create) are `transient`:
retried with back-off, never parked. The stream is created at the first connection, or its subjects and
duplicate window set when they differ (other settings, such as retention, are the operator's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

import asyncpg
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header, StreamConfig

from core.consumers import Event
from core.logging import get_logger
from core.settings import Settings

log = get_logger(__name__)

CLOCK_SKEW = timedelta(seconds=60)  # how far the NATS server's clock may lag the database's
READ_BATCH = 256


class NatsUnavailable(Exception):
    """NATS or its JetStream stream cannot be used now (unreachable, or the stream not creatable)."""


TRANSIENT: tuple[type[BaseException], ...] = (
    NatsUnavailable,
    nats.errors.TimeoutError,
    nats.errors.NoServersError,
    nats.errors.ConnectionClosedError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.ServerError,
    nats.js.errors.TooManyStalledMsgsError,
)


MESSAGE_TOO_LARGE = 10054  # JetStream's error code for a message over the stream's maximum size


def _events_fault(error: BaseException) -> bool:
    """Whether NATS refused the event itself (too large, a subject it cannot carry): the event is parked.
    Any other refusal (a stream missing or misconfigured, another stream capturing the subject) is the
    set-up's: an outage until fixed, never a reason to set events aside."""
    if isinstance(error, nats.errors.MaxPayloadError | nats.errors.BadSubjectError):
        return True
    return isinstance(error, nats.js.errors.APIError) and error.err_code == MESSAGE_TOO_LARGE


def _refusal(answer: Msg) -> nats.errors.Error | None:
    """Why JetStream did not store a message, from its answer (None: stored, or dropped as a duplicate
    of one it holds). nats-py's own `publish_async` raises inside its callback on an error answer and
    leaves the future pending, so a refused event looked like a time-out (an outage) there."""
    if answer.headers and answer.headers.get(Header.STATUS):  # 503: no stream listens on the subject
        return nats.js.errors.NoStreamResponseError()
    try:
        reply = json.loads(answer.data)
    except ValueError:
        return nats.js.errors.APIError(description=f"unreadable acknowledgement {answer.data[:200]!r}")
    if "error" in reply:
        try:
            nats.js.errors.APIError.from_error(reply["error"])  # raises the error's class
        except nats.js.errors.APIError as error:
            return error
    if "seq" not in reply:
        return nats.js.errors.APIError(description=f"not an acknowledgement: {answer.data[:200]!r}")
    return None


@dataclass
class _Acks:
    """The acknowledgements a batch waits for, taken off the connection's one reply subscription (not a
    future and a callback per message, as nats-py's `publish_async` has): `done` once JetStream stored
    every event, or failed with the first refusal."""

    tag: str
    waiting: set[str]
    done: asyncio.Future[None]

    def take(self, event_id: str, refusal: nats.errors.Error | None) -> None:
        if self.done.done() or event_id not in self.waiting:
            return
        if refusal is not None:
            self.done.set_exception(refusal)
            return
        self.waiting.discard(event_id)
        if not self.waiting:
            self.done.set_result(None)


def _payload(event: Event) -> bytes:
    return event.text.encode()  # the envelope as the relay wrote it


async def _quiet(error: Exception) -> None:
    """nats-py reports connection errors here (its default logs a stack): one warning line instead."""
    log.warning("nats_error", error=repr(error))


@dataclass
class NatsSink:
    name: ClassVar[str] = "nats-sink"
    types: ClassVar[frozenset[str] | None] = None  # every event leaves
    transient: ClassVar[tuple[type[BaseException], ...]] = TRANSIENT

    url: str
    stream: str = "CROUPIER_EVENTS"
    prefix: str = "croupier.events"
    duplicate_window: float = 120.0
    timeout: float = 10.0
    _nc: NATS | None = field(default=None, repr=False)
    _js: JetStreamContext | None = field(default=None, repr=False)
    _replies: str = field(default="", repr=False)  # the connection's reply subjects: `<this>.<batch>.<event id>`
    _batches: int = field(default=0, repr=False)
    _acks: _Acks | None = field(default=None, repr=False)  # the batch being published

    @classmethod
    def from_settings(cls, settings: Settings) -> NatsSink | None:
        if not settings.nats_url:
            return None
        return cls(
            url=settings.nats_url,
            stream=settings.nats_stream,
            prefix=settings.nats_subject_prefix,
            duplicate_window=settings.nats_duplicate_window_seconds,
            timeout=settings.nats_timeout_seconds,
        )

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.{event_type}"

    async def publish(self, events: Sequence[Event]) -> None:
        nc = await self._connection()
        self._batches += 1
        tag = str(self._batches)
        acks = self._acks = _Acks(tag, {str(event.id) for event in events}, asyncio.get_running_loop().create_future())
        try:
            # No await in here yields to the loop (below nats-py's 2 MiB outbound buffer): the messages
            # go out together, in order, when the wait for their acknowledgements lets the flusher run.
            for event in events:
                await nc.publish(
                    self.subject(event.type),
                    _payload(event),
                    reply=f"{self._replies}.{tag}.{event.id}",
                    headers={
                        "Nats-Msg-Id": str(event.id),
                        "Nats-Expected-Stream": self.stream,  # refused if another stream captures the subject
                        "Content-Type": "application/cloudevents+json",
                    },
                )
            try:
                await asyncio.wait_for(acks.done, timeout=self.timeout)
            except TimeoutError:
                raise NatsUnavailable(
                    f"JetStream acknowledged {len(events) - len(acks.waiting)} of {len(events)} events "
                    f"within {self.timeout} s"
                ) from None
        except BaseException as exc:
            await self.close()  # the next batch starts on a fresh connection (and checks the stream again)
            if isinstance(exc, nats.errors.Error) and not _events_fault(exc):
                raise NatsUnavailable(f"JetStream did not take the batch: {exc!r}") from exc
            raise
        finally:
            self._acks = None

    async def _acknowledged(self, msg: Msg) -> None:
        """JetStream's answer to one message, on the reply subject `<replies>.<batch>.<event id>`."""
        acks = self._acks
        tag, _, event_id = msg.subject[len(self._replies) + 1 :].partition(".")
        if acks is not None and tag == acks.tag:  # else a late answer to a batch given up on: ignored
            acks.take(event_id, _refusal(msg))

    async def delivered(self, event_ids: Collection[int], since: datetime) -> set[int]:
        """Which of these events the stream holds: the `Nats-Msg-Id` headers of what it received from
        `since` (less the clock skew allowed) on, read by a throw-away consumer."""
        wanted = {str(event_id) for event_id in event_ids}
        if not wanted:
            return set()
        js = await self._jetstream()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since - CLOCK_SKEW,
            ack_policy=AckPolicy.NONE,
            headers_only=True,
            mem_storage=True,
            inactive_threshold=60.0,  # removed by the server if we die before deleting it
        )
        found: set[int] = set()
        try:
            reader = await js.pull_subscribe(f"{self.prefix}.>", stream=self.stream, config=config)
            try:
                pending = (await reader.consumer_info()).num_pending
                while pending and wanted - {str(i) for i in found}:
                    for message in await reader.fetch(min(pending, READ_BATCH), timeout=self.timeout):
                        message_id = (message.headers or {}).get("Nats-Msg-Id")
                        if message_id in wanted:
                            found.add(int(message_id))
                        pending = message.metadata.num_pending
            finally:
                with contextlib.suppress(Exception):
                    await reader.unsubscribe()
                if config.name:
                    with contextlib.suppress(Exception):
                        await js.delete_consumer(self.stream, config.name)
        except nats.errors.Error as exc:  # whatever it is, not the events' fault: try again later
            await self.close()
            raise NatsUnavailable(f"cannot read the stream {self.stream}: {exc!r}") from exc
        return found

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Nothing to forget: JetStream keeps what it received (a replay publishes every event again;
        readers tell the copies by their `Nats-Msg-Id`, JetStream drops those within its window)."""

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _jetstream(self) -> JetStreamContext:
        await self._connection()
        assert self._js is not None
        return self._js

    async def _connection(self) -> NATS:
        """The connection, its stream in place and its reply subscription open (or NatsUnavailable). No
        automatic reconnection: after a lost connection the next batch connects afresh."""
        if self._nc is None or self._js is None or not self._nc.is_connected:
            await self._connect()
        assert self._nc is not None
        return self._nc

    async def _connect(self) -> None:
        await self.close()
        try:
            nc = await nats.connect(
                self.url,
                name="croupier-event-sink",
                allow_reconnect=False,
                max_reconnect_attempts=1,  # at the first connection: two tries (0 would mean forever)
                reconnect_time_wait=0.5,
                connect_timeout=max(1, int(self.timeout)),
                error_cb=_quiet,
            )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            raise NatsUnavailable(f"cannot reach NATS at {self.url}: {exc!r}") from exc
        js = nc.jetstream(timeout=self.timeout)
        replies = nc.new_inbox()
        try:
            await self._ensure_stream(js)
            await nc.subscribe(f"{replies}.*.*", cb=self._acknowledged)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await nc.close()
            if isinstance(exc, nats.errors.Error):
                raise NatsUnavailable(f"cannot set up the JetStream stream {self.stream}: {exc!r}") from exc
            raise
        self._nc, self._js, self._replies = nc, js, replies

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        subjects = [f"{self.prefix}.>"]
        try:
            info = await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                StreamConfig(name=self.stream, subjects=subjects, duplicate_window=self.duplicate_window)
            )
            log.info("nats_stream_created", stream=self.stream, subjects=subjects, window=self.duplicate_window)
            return
        config = info.config
        if set(subjects) <= set(config.subjects or []) and config.duplicate_window == self.duplicate_window:
            return
        config.subjects = sorted(set(config.subjects or []) | set(subjects))
        config.duplicate_window = self.duplicate_window
        await js.update_stream(config)
        log.info("nats_stream_updated", stream=self.stream, subjects=config.subjects, window=self.duplicate_window)
