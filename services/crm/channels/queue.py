"""STAND-IN (crmjourney's branch only; crmchan's module replaces it at merge): queue a message, idempotent
by its key — the contract's signature (ISSUE20.md part 3), an INSERT into crm_messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.ids import new_id

_INSERT = """
INSERT INTO crm_messages (id, brand_id, player_id, channel, product, template, context, idempotency_key,
                          source_kind, source_id, due_at, status)
VALUES (:id, :brand, :player, :channel, :product, :template, CAST(:context AS jsonb), :key, :source_kind,
        :source_id, :due_at, 'queued')
ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"""


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
    import json

    made = await db.scalar(
        text(_INSERT),
        {
            "id": new_id(),
            "brand": brand_id,
            "player": player_id,
            "channel": channel,
            "product": product,
            "template": template,
            "context": json.dumps(context),
            "key": idempotency_key,
            "source_kind": source_kind,
            "source_id": source_id,
            "due_at": due_at or clock.now(),
        },
    )
    if made is not None:
        return uuid.UUID(str(made))
    first = await db.scalar(text("SELECT id FROM crm_messages WHERE idempotency_key = :key"), {"key": idempotency_key})
    return uuid.UUID(str(first))
