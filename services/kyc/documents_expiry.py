"""Approved documents past their expiry become `expired` (and no longer count for KYC levels, which read
`approved_document_kinds` as of now anyway); each emits `kyc.document_expired`, the player's
re-verification reminder. Run by the server every KYC_EXPIRY_INTERVAL_SECONDS and by
`croupier kyc expire-documents`; a repeat finds nothing more to do."""

from __future__ import annotations

import asyncio

from sqlalchemy import update
from sqlmodel import col, select

from core import outbox
from core.clock import clock
from core.logging import get_logger
from core.runtime import Runtime
from models.kyc_documents import DocumentStatus, KycDocument

log = get_logger(__name__)


async def expire_due(rt: Runtime, *, batch: int = 500) -> int:
    """Mark the approved documents whose expiry has passed; returns how many."""
    total = 0
    while True:
        now = clock.now()
        async with rt.database.transaction() as db:
            due = (
                select(KycDocument.id)
                .where(col(KycDocument.status) == DocumentStatus.APPROVED.value, col(KycDocument.expires_at) <= now)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
            rows = (
                await db.execute(
                    update(KycDocument)
                    .where(col(KycDocument.id).in_(due.scalar_subquery()))
                    .values(status=DocumentStatus.EXPIRED.value)
                    .returning(
                        col(KycDocument.id),
                        col(KycDocument.player_id),
                        col(KycDocument.brand_id),
                        col(KycDocument.kind),
                        col(KycDocument.expires_at),
                    )
                )
            ).all()
            for document_id, player_id, brand_id, kind, expires_at in rows:
                await outbox.emit(
                    db,
                    "kyc.document_expired",
                    f"player:{player_id}",
                    {
                        "document_id": str(document_id),
                        "player_id": str(player_id),
                        "kind": kind,
                        "expired_at": (expires_at or now).isoformat(),
                    },
                    brand_id=brand_id,
                )
        total += len(rows)
        if len(rows) < batch:
            return total


async def run(rt: Runtime) -> None:
    """The server's loop."""
    while True:
        try:
            expired = await expire_due(rt)
            if expired:
                log.info("kyc_documents_expired", count=expired)
        except Exception:
            log.exception("kyc_expiry_failed")
        await asyncio.sleep(rt.settings.kyc_expiry_interval_seconds)
