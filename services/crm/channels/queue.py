"""Queueing messages: `enqueue` (journeys, and any service) and staff's send of one template to a segment.

A queued message is a `crm_messages` row (status `queued`, due at `due_at`), idempotent by its key: a second
`enqueue` with the same key returns the first message's id and writes nothing. Nothing is checked against
suppression here: the sender checks right before it sends (services/crm/channels/sender.py), so a message
queued before an exclusion or an unsubscribe is still stopped, and the log says why.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, NotFound
from core.ids import new_id
from core.runtime import Runtime
from models.crm import Channel
from services import audit
from services.crm.channels import templates
from services.crm.consents import PRODUCTS

SOURCE_KIND = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
MAX_CONTEXT = 8_000  # bytes of JSON: what a template needs, not a payload store
STAFF_SEND = "staff_send"
_BATCHES = uuid.UUID("5b0a7a4e-9d59-4a49-8e55-3f1c2f1c0c20")  # uuid5 namespace of staff sends


@dataclass(frozen=True)
class SegmentSend:
    batch_id: uuid.UUID  # the messages' source_id
    members: int
    queued: int  # new messages
    already_queued: int  # members the same batch had already queued (a repeated request)


def _check(channel: str, product: str, template: str, context: dict[str, Any], key: str, source_kind: str) -> str:
    if channel not in {c.value for c in Channel}:
        raise DomainError("Unknown channel.", field="channel")
    if product not in PRODUCTS:  # a product no player can consent to would only ever be suppressed
        raise DomainError(f"Unknown product; one of {', '.join(PRODUCTS)}.", field="product")
    if not templates.KEY.match(template):
        raise DomainError("Not a template key.", field="template")
    if not 1 <= len(key) <= 200:
        raise DomainError("An idempotency key has 1 to 200 characters.", field="idempotencyKey")
    if not SOURCE_KIND.match(source_kind):
        raise DomainError("A source kind is a short lower-case code.", field="sourceKind")
    try:
        encoded = json.dumps(context, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise DomainError("The context is not JSON.", field="context") from exc
    if len(encoded.encode()) > MAX_CONTEXT:
        raise DomainError(f"The context has at most {MAX_CONTEXT} bytes of JSON.", field="context")
    return encoded


_INSERT = """
INSERT INTO crm_messages (id, brand_id, player_id, channel, product, template, context, idempotency_key, source_kind,
                          source_id, due_at, created_at)
SELECT :id, p.brand_id, p.id, :channel, :product, :template, CAST(:context AS jsonb), :key, :kind, :source, :due, :now
FROM players p WHERE p.id = :player AND p.brand_id = :brand
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id"""


async def enqueue(
    db: AsyncSession,
    *,
    brand_id: uuid.UUID,
    player_id: uuid.UUID,
    channel: str,
    product: str,
    template: str,
    context: dict[str, Any],
    idempotency_key: str,
    source_kind: str,
    source_id: uuid.UUID | None = None,
    due_at: datetime | None = None,
) -> uuid.UUID:
    """Queue one message in the caller's transaction; the same key again returns the first message's id."""
    encoded = _check(channel, product, template, context, idempotency_key, source_kind)
    now = clock.now()
    made = await db.scalar(
        text(_INSERT),
        {
            "id": new_id(),
            "channel": channel,
            "product": product,
            "template": template,
            "context": encoded,
            "key": idempotency_key,
            "kind": source_kind,
            "source": source_id,
            "due": due_at or now,
            "now": now,
            "player": player_id,
            "brand": brand_id,
        },
    )
    if made is not None:
        return uuid.UUID(str(made))
    first = (
        await db.execute(
            text("SELECT id, player_id, brand_id FROM crm_messages WHERE idempotency_key = :key"),
            {"key": idempotency_key},
        )
    ).first()
    if first is None:
        raise NotFound("No such player in that brand.", field="playerId")
    if (first.player_id, first.brand_id) != (player_id, brand_id):  # not another player's message id, silently
        raise DomainError("That idempotency key queued a message to another player.", field="idempotencyKey")
    return uuid.UUID(str(first.id))


_SEGMENT = "SELECT brand_id FROM crm_segments WHERE id = :id AND status = 'active'"
_MEMBERS = """
SELECT m.player_id FROM crm_segment_members m JOIN players p ON p.id = m.player_id AND p.brand_id = :brand
WHERE m.segment_id = :segment ORDER BY m.player_id"""
_INSERT_MANY = """
INSERT INTO crm_messages (id, brand_id, player_id, channel, product, template, context, idempotency_key, source_kind,
                          source_id, due_at, created_at)
SELECT m.id, :brand, m.player_id, :channel, :product, :template, CAST(:context AS jsonb), m.key, :kind, :source, :due,
       :now
FROM unnest(CAST(:ids AS uuid[]), CAST(:players AS uuid[]), CAST(:keys AS varchar[])) AS m(id, player_id, key)
ON CONFLICT (idempotency_key) DO NOTHING"""


async def send_to_segment(
    rt: Runtime,
    actor: Viewer,
    *,
    segment_id: uuid.UUID,
    template: str,
    channel: str,
    product: str,
    batch_key: str,
    context: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> SegmentSend:
    """One message per member of the segment now, in one transaction (audited). The batch is (segment,
    template, channel, batch key): the same request again queues only members who joined since."""
    context = context or {}
    if not 1 <= len(batch_key.strip()) <= 80:
        raise DomainError("A batch key has 1 to 80 characters.", field="batchKey")
    encoded = _check(channel, product, template, context, batch_key, STAFF_SEND)
    batch_id = uuid.uuid5(_BATCHES, f"{segment_id}:{template}:{channel}:{batch_key}")
    async with rt.database.transaction() as db:
        brand_id = await db.scalar(text(_SEGMENT), {"id": segment_id})
        if brand_id is None or (actor.brand_id is not None and brand_id != actor.brand_id):
            raise NotFound("No such segment.", field="segmentId")
        if not await templates.exists(db, brand_id, template):
            raise NotFound(f"The brand has no template {template!r}.", field="template")
        members = list((await db.scalars(text(_MEMBERS), {"segment": segment_id, "brand": brand_id})).all())
        now = clock.now()
        result = await db.execute(
            text(_INSERT_MANY),
            {
                "brand": brand_id,
                "channel": channel,
                "product": product,
                "template": template,
                "context": encoded,
                "kind": STAFF_SEND,
                "source": batch_id,
                "due": due_at or now,
                "now": now,
                "ids": [new_id() for _ in members],
                "players": members,
                "keys": [f"{STAFF_SEND}:{batch_id}:{player}" for player in members],
            },
        )
        queued = int(getattr(result, "rowcount", 0) or 0)
        sent = SegmentSend(batch_id, len(members), queued, len(members) - queued)
        await audit.append(
            db,
            actor=actor,
            action="crm.message_sent_to_segment",
            target_type="crm_segment",
            target_id=segment_id,
            brand_id=brand_id,
            after={
                "template": template,
                "channel": channel,
                "product": product,
                "batch_key": batch_key,
                "batch_id": str(batch_id),
                "members": sent.members,
                "queued": sent.queued,
            },
        )
    return sent
