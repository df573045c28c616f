"""The platform's consumers of the event stream: the one list the server runs (each as a member of its
Redis consumer group, core/consumers.py) and `croupier events` manages by name, with the figures an
operator looks at (`status`, `parked_events`).

A module that follows from events adds its consumer in `platform_consumers`. A consumer's name is its
identity: its consumer group, its rows in `event_consumers` / `consumer_processed` / `consumer_parked`,
its metrics' label. Renaming one is a new consumer that starts from the first event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from redis.asyncio import Redis

from core import outbox
from core.consumers import AnyConsumer, Runner, Sink
from core.settings import Settings
from services.affiliates.cpa import CpaConsumer
from services.affiliates.postbacks.consumer import PostbacksConsumer
from services.aml.consumer import ScreeningConsumer
from services.aml.monitoring.consumer import MonitoringConsumer
from services.crm.journeys.consumer import JourneysConsumer
from services.crm.segments.consumer import SegmentsConsumer
from services.crm.suppression_consumer import SuppressionConsumer
from services.jackpots.consumer import JackpotConsumer
from services.reports.projection import ReportsProjection
from services.risk.consumer import SignalsConsumer
from services.risk.stream import RulesConsumer
from services.tournaments.consumer import TournamentsConsumer
from services.tournaments.live import BoardHook


class UnknownConsumer(LookupError):
    code = "UNKNOWN_CONSUMER"

    def __init__(self, name: str, known: list[str]) -> None:
        listed = ", ".join(known) if known else "none is configured"
        super().__init__(f"no consumer named {name!r} runs here (configured: {listed})")
        self.name = name
        self.known = known


def platform_consumers(settings: Settings) -> list[AnyConsumer]:
    """Every consumer this configuration runs."""
    consumers: list[AnyConsumer] = [
        ReportsProjection(),
        ScreeningConsumer(settings),
        MonitoringConsumer(),
        SignalsConsumer(),
        RulesConsumer(),
        TournamentsConsumer(),
        JackpotConsumer(settings.stated_rates),
        CpaConsumer(settings.stated_rates),
        PostbacksConsumer(settings.affiliate_postback_max_attempts),
        SegmentsConsumer(),
        JourneysConsumer(),
        SuppressionConsumer(),
    ]
    if settings.nats_url:
        # Imported only here: nats-py and aiohttp cost every process that starts (the server, each
        # `croupier` command) 0.2 to 0.45 s of CPU, for a sink most configurations do not run.
        from services.nats_sink import NatsSink

        if (sink := NatsSink.from_settings(settings)) is not None:
            consumers.append(sink)
    return consumers


def find(settings: Settings, name: str) -> AnyConsumer:
    consumers = platform_consumers(settings)
    for consumer in consumers:
        if consumer.name == name:
            return consumer
    raise UnknownConsumer(name, [c.name for c in consumers])


def wire(consumer: AnyConsumer, dsn: str, redis: Redis) -> AnyConsumer:
    """What a consumer hands on outside its transaction, connected (the server's runners and the CLI's
    replays alike)."""
    if isinstance(consumer, TournamentsConsumer):  # scores committed → the live leaderboards
        hook = BoardHook(redis, dsn)
        consumer.on_scores_changed, consumer.on_replayed = hook, hook.rebuild
    return consumer


def runners(settings: Settings, database_url: str, redis: Redis) -> list[Runner]:
    """One runner per consumer, each a member of its group (the server starts them with its relay)."""
    dsn = outbox.asyncpg_dsn(database_url)
    return [Runner(wire(consumer, dsn, redis), dsn, redis) for consumer in platform_consumers(settings)]


@dataclass(frozen=True)
class ConsumerStatus:
    name: str
    configured: bool  # in this configuration's list (a consumer removed since still has its rows)
    cursor: int | None  # None: it never ran
    processed: int  # events above the cursor already processed (rows the cursor has not pruned yet)
    parked: int
    behind: int  # events in the outbox above the cursor it has not processed yet
    inflight: int  # a sink's events handed to its broker and not yet recorded (a crash leaves them)


_STATUS = """
SELECT n.name, c.cursor,
       (SELECT count(*) FROM consumer_processed p WHERE p.consumer = n.name) AS processed,
       (SELECT count(*) FROM consumer_parked k WHERE k.consumer = n.name AND k.retried_at IS NULL) AS parked,
       (SELECT count(*) FROM outbox_events o WHERE o.id > coalesce(c.cursor, 0)
          AND (NOT ($2::jsonb ? n.name) OR jsonb_typeof($2::jsonb -> n.name) = 'null'
               OR ($2::jsonb -> n.name) ? o.topic)
          AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = n.name AND p.event_id = o.id))
          AS behind,
       coalesce((SELECT cardinality(s.event_ids) FROM sink_inflight s WHERE s.consumer = n.name), 0) AS inflight
FROM (SELECT unnest($1::text[]) AS name UNION SELECT name FROM event_consumers) n
LEFT JOIN event_consumers c ON c.name = n.name
ORDER BY n.name"""


async def status(conn: asyncpg.Connection, settings: Settings) -> list[ConsumerStatus]:
    """Where each consumer stands: the configured ones, and any other that has left rows behind."""
    platform = platform_consumers(settings)
    configured = [c.name for c in platform]
    # the types each records (core/consumers.Runner._types: a sink, or no types, records every event)
    types = {c.name: None if isinstance(c, Sink) or c.types is None else sorted(c.types) for c in platform}
    return [
        ConsumerStatus(
            name=row["name"],
            configured=row["name"] in configured,
            cursor=row["cursor"],
            processed=row["processed"],
            parked=row["parked"],
            behind=row["behind"],
            inflight=row["inflight"],
        )
        for row in await conn.fetch(_STATUS, configured, json.dumps(types))
    ]


@dataclass(frozen=True)
class ParkedEvent:
    consumer: str
    event_id: int
    type: str | None  # None: the event is no longer in the outbox table
    parked_at: datetime
    error: str


async def parked_events(conn: asyncpg.Connection, consumer: str | None = None) -> list[ParkedEvent]:
    """Events set aside as poison and not retried since, oldest first."""
    rows = await conn.fetch(
        "SELECT k.consumer, k.event_id, o.topic, k.parked_at, k.error FROM consumer_parked k "
        "LEFT JOIN outbox_events o ON o.id = k.event_id "
        "WHERE k.retried_at IS NULL AND ($1::text IS NULL OR k.consumer = $1) ORDER BY k.parked_at, k.event_id",
        consumer,
    )
    return [ParkedEvent(row["consumer"], row["event_id"], row["topic"], row["parked_at"], row["error"]) for row in rows]


async def known_names(conn: asyncpg.Connection, settings: Settings) -> list[str]:
    """Consumers configured here or with rows in the database."""
    rows = await conn.fetch(
        "SELECT name FROM event_consumers UNION SELECT consumer FROM consumer_parked "
        "UNION SELECT unnest($1::text[]) ORDER BY 1",
        [c.name for c in platform_consumers(settings)],
    )
    return [row[0] for row in rows]
