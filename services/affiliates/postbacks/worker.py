"""The postback delivery worker: sends what is due, logs every attempt, retries with exponential backoff.

A round (`step`):
1. claim: one statement takes up to `batch` due deliveries (`pending`, or `sending` whose lease ran out:
   a worker that died mid-try) FOR UPDATE SKIP LOCKED, counts the try (`attempts + 1`), and leases them
   (`sending` until now + timeout * ceil(batch / concurrency) + margin: the batch's last wave included). A
   lease that ran out logs the lost try as an attempt of unknown outcome; one that ran out on the last try
   fails the delivery instead of trying again;
2. send, `concurrency` at a time, each bounded by `timeout` in all (connect, send, wait, read) — so a try
   always ends before its lease and no other worker sends the same delivery meanwhile;
3. record, in one transaction: the attempts (time, HTTP status, latency, error) and each delivery's outcome —
   `delivered` on a 2xx (never sent again), else `pending` for the next try after
   backoff * 2^(try - 1) (± 20 %, at most `backoff_max`), or `failed` after the last; events
   `affiliate.postback_delivered` / `affiliate.postback_failed`. A stale worker's outcome (its lease taken
   over) is logged but changes nothing.
Between rounds the worker waits for the consumer's NOTIFY, the next due time, or `poll_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
from prometheus_client import Counter, Histogram

from core import outbox
from core.clock import clock
from core.logging import get_logger
from core.settings import Settings
from models.affiliate_postbacks import DeliveryStatus
from services.affiliates.postbacks import network, templates
from services.affiliates.postbacks.consumer import CHANNEL

log = get_logger(__name__)

LEASE_MARGIN_SECONDS = 30.0
LOST_TRY = "the worker stopped during this try: its outcome is unknown"

ATTEMPTS = Counter("croupier_affiliate_postback_attempts_total", "Postback tries, by outcome", ["outcome"])
FIRST_TRY = Histogram(
    "croupier_affiliate_postback_first_try_seconds",
    "From the event to the first try of its postback",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)

_CLAIM = """
WITH due AS (
    SELECT id, status AS was FROM affiliate_postback_deliveries
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1
    ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED),
lost AS (
    INSERT INTO affiliate_postback_attempts (delivery_id, attempt, started_at, latency_ms, succeeded, error)
    SELECT d.id, d.attempts, d.next_attempt_at - make_interval(secs => $5), 0, false, $4
    FROM affiliate_postback_deliveries d JOIN due USING (id) WHERE due.was = 'sending' AND d.attempts > 0
    ON CONFLICT DO NOTHING)
UPDATE affiliate_postback_deliveries d
SET status = CASE WHEN due.was = 'sending' AND d.attempts >= d.max_attempts THEN 'failed' ELSE 'sending' END,
    attempts = CASE WHEN due.was = 'sending' AND d.attempts >= d.max_attempts THEN d.attempts ELSE d.attempts + 1 END,
    next_attempt_at = $3,
    last_error = CASE WHEN due.was = 'sending' THEN $4 ELSE d.last_error END
FROM due, affiliate_postback_secrets s
WHERE d.id = due.id AND s.affiliate_id = d.affiliate_id
RETURNING d.id, d.status, d.attempts, d.max_attempts, d.method, d.url, d.body, d.event_id, d.event_at,
          d.affiliate_id, d.config_id, d.trigger, s.secret"""
_LOG_ATTEMPTS = """
INSERT INTO affiliate_postback_attempts (delivery_id, attempt, started_at, latency_ms, http_status, succeeded, error)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::boolean[], $7::varchar[])
ON CONFLICT DO NOTHING"""
_OUTCOMES = """
UPDATE affiliate_postback_deliveries d
SET status = o.status, next_attempt_at = o.next_at, last_error = o.error,
    delivered_at = CASE WHEN o.status = 'delivered' THEN o.ended_at END
FROM unnest($1::uuid[], $2::int[], $3::varchar[], $4::timestamptz[], $5::varchar[], $6::timestamptz[])
    AS o(id, attempt, status, next_at, error, ended_at)
WHERE d.id = o.id AND d.status = 'sending' AND d.attempts = o.attempt
RETURNING d.id, d.status, d.attempts, d.affiliate_id, d.config_id, d.trigger, d.event_id"""
_NEXT_DUE = "SELECT min(next_attempt_at) FROM affiliate_postback_deliveries WHERE status IN ('pending', 'sending')"


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    attempt: int
    max_attempts: int
    method: str
    url: str
    body: str | None
    event_id: int
    event_at: datetime
    secret: str


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    started_at: datetime
    latency_ms: int
    http_status: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


@dataclass
class Worker:
    dsn: str
    timeout: float = 10.0
    backoff: float = 30.0
    backoff_max: float = 3600.0
    concurrency: int = 16
    batch: int = 64
    poll_seconds: float = 1.0
    lease_margin: float = LEASE_MARGIN_SECONDS
    retry_seconds: float = 2.0
    allow_private_hosts: bool = False  # network.py: the tests' loopback receiver only
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def from_settings(cls, settings: Settings, dsn: str) -> Worker:
        return cls(
            dsn,
            timeout=settings.affiliate_postback_timeout_seconds,
            backoff=settings.affiliate_postback_backoff_seconds,
            backoff_max=settings.affiliate_postback_backoff_max_seconds,
            concurrency=settings.affiliate_postback_concurrency,
            allow_private_hosts=settings.affiliate_postback_allow_private_hosts,
        )

    def client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            transport=network.transport(limits=limits, allow_private=self.allow_private_hosts),
            follow_redirects=False,
            trust_env=False,
        )

    async def run(self) -> None:
        """Forever: rounds of claim, send, record; restart after an outage of the database."""
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (an outage: log it, back off, start again)
                log.warning("postback_worker_restarting", error=repr(exc))
                await asyncio.sleep(self.retry_seconds)

    async def _serve(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        try:
            await conn.add_listener(CHANNEL, lambda *_: self._wake.set())
            async with self.client() as client:
                while True:
                    self._wake.clear()
                    if await self.step(conn, client) >= self.batch:
                        continue  # more may be due at once
                    await self._idle(conn)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _idle(self, conn: asyncpg.Connection) -> None:
        """Until the consumer's NOTIFY, the next due delivery, or `poll_seconds` (for retries made due by
        other replicas' workers, and a NOTIFY lost with a dropped connection)."""
        wait = self.poll_seconds
        next_due = await conn.fetchval(_NEXT_DUE)
        if next_due is not None:
            wait = max(0.0, min(wait, (next_due - clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def step(self, conn: asyncpg.Connection, client: httpx.AsyncClient) -> int:
        """One round: claim what is due, send it, record the outcomes. Returns how many were claimed."""
        claimed = await self.claim(conn)
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(delivery: Claimed) -> Outcome:
            async with gate:
                return await self.send(client, delivery)

        outcomes = await asyncio.gather(*(one(d) for d in claimed))
        await self.record(conn, outcomes)
        return len(claimed)

    @property
    def lease_seconds(self) -> float:
        """How long a claimed batch is ours: its tries run `concurrency` at a time, so the last waits for
        ceil(batch / concurrency) time-outs, and its outcomes are recorded only then — a lease of one time-out
        let another worker take over, and send again, a delivery already sent early in the batch."""
        return self.timeout * math.ceil(self.batch / self.concurrency) + self.lease_margin

    async def claim(self, conn: asyncpg.Connection) -> list[Claimed]:
        now = clock.now()
        lease = now + timedelta(seconds=self.lease_seconds)
        rows = await conn.fetch(_CLAIM, now, self.batch, lease, LOST_TRY, self.lease_seconds)
        for row in rows:
            if row["status"] == DeliveryStatus.FAILED:  # lost on its last try
                log.warning("postback_failed", delivery_id=str(row["id"]), attempts=row["attempts"])
        await _emit(conn, [r for r in rows if r["status"] == DeliveryStatus.FAILED])
        return [
            Claimed(
                r["id"],
                r["attempts"],
                r["max_attempts"],
                r["method"],
                r["url"],
                r["body"],
                r["event_id"],
                r["event_at"],
                r["secret"],
            )
            for r in rows
            if r["status"] == DeliveryStatus.SENDING
        ]

    async def send(self, client: httpx.AsyncClient, delivery: Claimed) -> Outcome:
        started_at = clock.now()
        if delivery.attempt == 1:
            FIRST_TRY.observe(max(0.0, (started_at - delivery.event_at).total_seconds()))
        headers = {
            templates.SIGNATURE_HEADER: templates.signature(
                delivery.secret, int(started_at.timestamp()), delivery.method, delivery.url, delivery.body
            ),
            templates.EVENT_ID_HEADER: str(delivery.event_id),
            "User-Agent": "Croupier-Postback/1",
        }
        if delivery.body is not None:
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            request = client.build_request(delivery.method, delivery.url, headers=headers, content=delivery.body)
            response = await asyncio.wait_for(client.send(request), timeout=self.timeout)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {self.timeout:g} s"
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # InvalidURL is no HTTPError, and a bad host name raises a UnicodeError (a ValueError): a failed try
            # of this delivery, not an exception that loses the outcomes of the whole batch (then sent again).
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        latency_ms = int((time.perf_counter() - began) * 1000)
        ATTEMPTS.labels("delivered" if error is None else "failed").inc()
        return Outcome(delivery, started_at, latency_ms, status, error[:500] if error else None)

    def delay(self, attempt: int) -> float:
        """Seconds before try `attempt + 1` after try `attempt` failed."""
        base = min(self.backoff_max, self.backoff * 2 ** (attempt - 1))
        return float(base * random.uniform(0.8, 1.2))

    async def record(self, conn: asyncpg.Connection, outcomes: list[Outcome]) -> None:
        ended = clock.now()
        statuses, next_ats = [], []
        for o in outcomes:
            if o.succeeded:
                statuses.append(DeliveryStatus.DELIVERED.value)
                next_ats.append(ended)
            elif o.delivery.attempt >= o.delivery.max_attempts:
                statuses.append(DeliveryStatus.FAILED.value)
                next_ats.append(ended)
            else:
                statuses.append(DeliveryStatus.PENDING.value)
                next_ats.append(ended + timedelta(seconds=self.delay(o.delivery.attempt)))
        ids = [o.delivery.id for o in outcomes]
        tries = [o.delivery.attempt for o in outcomes]
        async with conn.transaction():
            await conn.execute(
                _LOG_ATTEMPTS,
                ids,
                tries,
                [o.started_at for o in outcomes],
                [o.latency_ms for o in outcomes],
                [o.http_status for o in outcomes],
                [o.succeeded for o in outcomes],
                [o.error for o in outcomes],
            )
            rows = await conn.fetch(
                _OUTCOMES, ids, tries, statuses, next_ats, [o.error for o in outcomes], [ended] * len(outcomes)
            )
            await _emit(conn, [r for r in rows if r["status"] != DeliveryStatus.PENDING])
        for row in rows:
            if row["status"] == DeliveryStatus.FAILED:
                log.warning("postback_failed", delivery_id=str(row["id"]), attempts=row["attempts"])


async def _emit(conn: asyncpg.Connection, rows: list[Any]) -> None:
    """`affiliate.postback_delivered` / `affiliate.postback_failed` for deliveries that just ended."""
    events = [
        outbox.event(
            f"affiliate.postback_{row['status']}",
            f"affiliate:{row['affiliate_id']}",
            {
                "delivery_id": str(row["id"]),
                "config_id": str(row["config_id"]),
                "affiliate_id": str(row["affiliate_id"]),
                "trigger": row["trigger"],
                "event_id": row["event_id"],
                "attempts": row["attempts"],
            },
        )
        for row in rows
    ]
    if events:
        await conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *outbox.events_params(events).values())
