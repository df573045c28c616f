"""The sender (`crm-sender`): sends the queued messages that are due, each checked against suppression right
before it goes.

A round (`Sender.step`):
1. claim: one statement leases up to `batch` due messages (`queued`, `due_at` <= now, no live lease)
   FOR UPDATE SKIP LOCKED and counts the try; a message whose lease ran out on its last try (the sender died
   mid-send) fails instead;
2. prepare each: the player's national registers asked again when their last answer is over a day old
   (services/crm/register_recheck.py; a register that does not answer: tried again later, as in 4); then in its
   own transaction with the message row locked: a message cancelled meanwhile is left
   alone; `suppression.check(...)` (purpose message, the message's channel and product) → `suppressed` with
   the reason (and the suppression log's row); no template in the player's language nor the brand's default,
   or one that does not render → `failed` (TEMPLATE_MISSING / RENDER_FAILED, never retried); an inbox message
   is delivered right there (its rendered subject and bodies stored, `sent`);
3. send email (SMTP) and webhook messages, `concurrency` at a time, each bounded by the send time-out;
4. record: `sent` (its subject kept for the log), or `queued` again after backoff * 2^(try - 1) (± 20 %, at
   most backoff_max), or `failed` (DELIVERY_FAILED) after the last try. An outcome only lands on the try that
   produced it (`attempts` matches), so a stale sender changes nothing.
Between rounds it sleeps `poll_seconds` (or goes on at once when the batch was full).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import nh3
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.errors import DomainError
from core.logging import get_logger
from core.runtime import Runtime
from core.settings import Settings
from models.brands import Brand
from models.crm import Channel, CrmMessage, MessageStatus, Purpose
from models.players import Player
from services.crm import register_recheck, suppression
from services.crm.channels import email, templates, tracking, webhook
from services.crm.channels.email import SendFailed

log = get_logger(__name__)

TEMPLATE_MISSING = "TEMPLATE_MISSING"
RENDER_FAILED = "RENDER_FAILED"
NO_ADDRESS = "NO_ADDRESS"  # an SMS to a player without a phone number
NO_PROVIDER = "NO_PROVIDER"  # no webhook URL configured for the channel
DELIVERY_FAILED = "DELIVERY_FAILED"
LOST_TRY = "the sender stopped during its last try: its outcome is unknown"

_CLAIM = """
WITH due AS (
    SELECT id FROM crm_messages
    WHERE status = 'queued' AND due_at <= :now AND (lease_until IS NULL OR lease_until <= :now)
    ORDER BY due_at LIMIT :batch FOR UPDATE SKIP LOCKED)
UPDATE crm_messages m
SET status = CASE WHEN m.attempts >= :max THEN 'failed' ELSE m.status END,
    reason = CASE WHEN m.attempts >= :max THEN CAST(:failed AS varchar) ELSE m.reason END,
    last_error = CASE WHEN m.attempts >= :max THEN CAST(:lost AS varchar) ELSE m.last_error END,
    attempts = CASE WHEN m.attempts >= :max THEN m.attempts ELSE m.attempts + 1 END,
    lease_until = CASE WHEN m.attempts >= :max THEN NULL ELSE CAST(:lease AS timestamptz) END
FROM due WHERE m.id = due.id
RETURNING m.id, m.attempts, m.status"""
_SENT = """
UPDATE crm_messages SET status = 'sent', reason = NULL, sent_at = :at, subject = :subject, language = :language,
    lease_until = NULL, last_error = NULL
WHERE id = :id AND attempts = :attempt AND status IN ('queued', 'cancelled')"""
_FAILED_TRY = """
UPDATE crm_messages SET status = :status, reason = :reason, due_at = :due, lease_until = NULL, last_error = :error
WHERE id = :id AND attempts = :attempt AND status = 'queued'"""


@dataclass(frozen=True)
class Outgoing:
    """A message ready to leave by SMTP or webhook."""

    id: uuid.UUID
    attempt: int
    channel: str
    subject: str
    language: str
    email: Any = None  # email.message.EmailMessage
    url: str | None = None
    body: dict[str, Any] | None = None


@dataclass
class Sender:
    settings: Settings
    http: httpx.AsyncClient
    batch: int = 64
    lease_margin: float = 30.0

    @classmethod
    def client(cls, settings: Settings) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=settings.crm_send_concurrency)
        return httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False)

    @property
    def lease_seconds(self) -> float:
        waves = -(-self.batch // self.settings.crm_send_concurrency)
        return self.settings.crm_send_timeout_seconds * (waves + 1) + self.lease_margin

    async def step(self, rt: Runtime) -> int:
        """One round; returns how many messages it claimed."""
        claimed = await self._claim(rt)
        gate = asyncio.Semaphore(self.settings.crm_send_concurrency)

        async def one(message_id: uuid.UUID, attempt: int) -> None:
            async with gate:
                try:
                    outgoing = await self._prepare(rt, message_id, attempt)
                    if outgoing is not None:
                        await self._deliver(rt, outgoing)
                except asyncio.CancelledError:
                    raise
                except Exception:  # one message's surprise must not lose the batch's outcomes
                    log.exception("crm_send_failed", message_id=str(message_id))

        await asyncio.gather(*(one(message_id, attempt) for message_id, attempt in claimed))
        return len(claimed)

    async def _claim(self, rt: Runtime) -> list[tuple[uuid.UUID, int]]:
        now = clock.now()
        async with rt.database.transaction() as db:
            rows = (
                await db.execute(
                    text(_CLAIM),
                    {
                        "now": now,
                        "batch": self.batch,
                        "max": self.settings.crm_send_max_attempts,
                        "failed": DELIVERY_FAILED,
                        "lost": LOST_TRY,
                        "lease": now + timedelta(seconds=self.lease_seconds),
                    },
                )
            ).all()
        return [(row.id, row.attempts) for row in rows if row.status == MessageStatus.QUEUED]

    async def _prepare(self, rt: Runtime, message_id: uuid.UUID, attempt: int) -> Outgoing | None:
        try:
            await register_recheck.before_send(rt, message_id)
        except register_recheck.RegisterUnavailable as away:  # tried again later, as a failed delivery is
            async with rt.database.transaction() as db:
                await _record(db, self.settings, Outgoing(message_id, attempt, "", "", ""), f"register: {away}")
            return None
        async with rt.database.transaction() as db:
            message = await db.scalar(select(CrmMessage).where(col(CrmMessage.id) == message_id).with_for_update())
            if message is None or message.status != MessageStatus.QUEUED or message.attempts != attempt:
                return None  # cancelled (crm-suppression), or another sender's try now
            reason = await suppression.check(
                db,
                message.player_id,
                purpose=Purpose.MESSAGE,
                channel=message.channel,
                product=message.product,
                source_kind=message.source_kind,
                source_id=message.source_id,
                message_id=message.id,
            )
            if reason is not None:
                _end(message, MessageStatus.SUPPRESSED, reason)
                return None
            player = await db.get(Player, message.player_id)
            brand = await db.get(Brand, message.brand_id)
            assert player is not None
            assert brand is not None
            try:
                template = await templates.choose(db, message.brand_id, message.template, player.language)
                rendered = templates.render(template, _variables(message, player, brand))
            except templates.TemplateMissing as missing:
                _end(message, MessageStatus.FAILED, TEMPLATE_MISSING, missing.message)
                return None
            except DomainError as broken:
                _end(message, MessageStatus.FAILED, RENDER_FAILED, broken.message)
                return None
            unsubscribe = suppression.unsubscribe_url(message)
            text_body, html_body = _with_unsubscribe(rendered, unsubscribe)
            if message.channel == Channel.INBOX:
                # Shown on the player's site: the template's own markup (marketing's) is cleaned to an allow-list
                # too, not only the values put into it (no script, no event handler, no javascript: link).
                message.subject, message.body_text = rendered.subject, text_body
                message.body_html = nh3.clean(html_body)
                message.language = rendered.language
                message.sent_at = clock.now()
                _end(message, MessageStatus.SENT, None)
                return None
            if message.channel == Channel.EMAIL:
                html_body = tracking.instrument(self.settings, message.id, html_body, keep=frozenset({unsubscribe}))
                built = email.build(
                    self.settings,
                    message_id=message.id,
                    to=player.email,
                    subject=rendered.subject,
                    html=html_body,
                    text=text_body,
                    headers=suppression.unsubscribe_headers(message),
                )
                return Outgoing(message.id, attempt, message.channel, rendered.subject, rendered.language, email=built)
            url = (
                self.settings.crm_sms_webhook_url
                if message.channel == Channel.SMS
                else self.settings.crm_push_webhook_url
            )
            if url is None:
                _end(message, MessageStatus.FAILED, NO_PROVIDER, f"no webhook URL for {message.channel}")
                return None
            if message.channel == Channel.SMS and not player.phone:
                _end(message, MessageStatus.FAILED, NO_ADDRESS, "the player has no phone number")
                return None
            body = {
                "message_id": str(message.id),
                "channel": message.channel,
                "player_id": str(message.player_id),
                "brand": brand.code,
                "language": rendered.language,
                "to": player.phone if message.channel == Channel.SMS else None,
                "subject": rendered.subject,
                "text": rendered.text,
            }
            return Outgoing(
                message.id, attempt, message.channel, rendered.subject, rendered.language, url=url, body=body
            )

    async def _deliver(self, rt: Runtime, outgoing: Outgoing) -> None:
        error: str | None = None
        try:
            if outgoing.email is not None:
                await email.send(self.settings, outgoing.email)
            else:
                assert outgoing.url is not None
                assert outgoing.body is not None
                await webhook.post(
                    self.http,
                    outgoing.url,
                    self.settings.crm_webhook_secret,
                    outgoing.id,
                    outgoing.body,
                    self.settings.crm_send_timeout_seconds,
                )
        except SendFailed as failed:
            error = str(failed)
        async with rt.database.transaction() as db:
            await _record(db, self.settings, outgoing, error)


async def _record(db: AsyncSession, settings: Settings, outgoing: Outgoing, error: str | None) -> None:
    now = clock.now()
    if error is None:
        await db.execute(
            text(_SENT),
            {"id": outgoing.id, "attempt": outgoing.attempt, "at": now, "subject": outgoing.subject,
             "language": outgoing.language},
        )  # fmt: skip
        return
    last = outgoing.attempt >= settings.crm_send_max_attempts
    base = min(settings.crm_send_backoff_max_seconds, settings.crm_send_backoff_seconds * 2 ** (outgoing.attempt - 1))
    await db.execute(
        text(_FAILED_TRY),
        {
            "id": outgoing.id,
            "attempt": outgoing.attempt,
            "status": MessageStatus.FAILED.value if last else MessageStatus.QUEUED.value,
            "reason": DELIVERY_FAILED if last else None,
            "due": now if last else now + timedelta(seconds=base * random.uniform(0.8, 1.2)),
            "error": error[:200],
        },
    )
    if last:
        log.warning("crm_message_failed", message_id=str(outgoing.id), attempts=outgoing.attempt)


def _end(message: CrmMessage, status: MessageStatus, reason: str | None, error: str | None = None) -> None:
    message.status, message.reason, message.lease_until = status.value, reason, None
    message.last_error = error[:200] if error else None


def _variables(message: CrmMessage, player: Player, brand: Brand) -> dict[str, Any]:
    return {
        **message.context,
        "context": message.context,
        "player": {"first_name": player.first_name or "", "language": player.language},
        "brand": {"code": brand.code, "name": brand.name},
        "unsubscribe_url": suppression.unsubscribe_url(message),
    }


def _with_unsubscribe(rendered: templates.Rendered, url: str) -> tuple[str, str]:
    """The text and HTML bodies, each with the unsubscribe link added when the template left it out."""
    text_body = rendered.text if url in rendered.text else f"{rendered.text.rstrip()}\n\nUnsubscribe: {url}\n"
    html_body = rendered.html
    if url not in html_body:
        from html import escape

        link = f'<p style="font-size:small"><a href="{escape(url)}">Unsubscribe</a></p>'
        closing = html_body.lower().rfind("</body>")
        html_body = html_body[:closing] + link + html_body[closing:] if closing >= 0 else html_body + link
    return text_body, html_body


async def run(rt: Runtime) -> None:
    """The server's loop (safe on several replicas: claims skip what another holds)."""
    settings = rt.settings
    async with Sender.client(settings) as http:
        sender = Sender(settings, http)
        while True:
            try:
                if await sender.step(rt) >= sender.batch:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("crm_sender_failed")
            await asyncio.sleep(settings.crm_sender_poll_seconds)


async def send_due(rt: Runtime) -> int:
    """Rounds until one claims less than a full batch (`croupier messages send-due`, where no server runs the
    loop); returns how many messages were claimed."""
    async with Sender.client(rt.settings) as http:
        sender = Sender(rt.settings, http)
        total = 0
        while (claimed := await sender.step(rt)) > 0:
            total += claimed
            if claimed < sender.batch:
                break
        return total
