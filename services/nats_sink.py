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
acknowledgements (a missing one fails the batch, which is retried whole; copies are dropped as above).
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
from typing import Any, ClassVar

import asyncpg
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

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
        js = await self._jetstream()
        acks: list[asyncio.Future[Any]] = []
        try:
            for event in events:
                acks.append(
                    await js.publish_async(
                        self.subject(event.type),
                        json.dumps(event.envelope(), separators=(",", ":")).encode(),
                        stream=self.stream,  # refused if another stream captures the subject
                        headers={"Nats-Msg-Id": str(event.id), "Content-Type": "application/cloudevents+json"},
                        wait_stall=self.timeout,
                    )
                )
            await asyncio.wait_for(asyncio.gather(*acks), timeout=self.timeout)
        except BaseException as exc:
            for ack in acks:
                ack.cancel()
            await self.close()  # the next batch starts on a fresh connection (and checks the stream again)
            if isinstance(exc, nats.errors.Error) and not _events_fault(exc):
                raise NatsUnavailable(f"JetStream did not take the batch: {exc!r}") from exc
            raise

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
        """The JetStream context, connected and its stream in place (or NatsUnavailable). No automatic
        reconnection: after a lost connection the next batch connects afresh."""
        if self._js is not None and self._nc is not None and self._nc.is_connected:
            return self._js
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
        try:
            await self._ensure_stream(js)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await nc.close()
            if isinstance(exc, nats.errors.Error):
                raise NatsUnavailable(f"cannot set up the JetStream stream {self.stream}: {exc!r}") from exc
            raise
        self._nc, self._js = nc, js
        return js

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
