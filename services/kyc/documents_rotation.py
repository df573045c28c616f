"""Key rotation: every document sealed with a key other than the active one is opened, sealed again with
the active key under a new object name, the row switched to it, and the old object deleted.

Resumable and idempotent: each document is one step (new object, then the row in a transaction that
checks the row still names the old object, then the old object's deletion), in batches by id; a run
stopped anywhere is simply run again — it picks up the rows still naming another key, and the sweeper
(`documents_vault.sweep`) removes an object a crash left behind. Reading works throughout: a row always
names an object that opens with a key of the ring.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, update
from sqlmodel import col, select

from core.logging import get_logger
from core.runtime import Runtime
from core.storage import StorageUnavailable
from core.storage.sealing import SealBroken
from models.kyc_documents import KycDocument
from services.kyc.documents_vault import Vault, associated_data, vault_of

log = get_logger(__name__)


@dataclass
class RotationReport:
    active_key: str
    to_rotate: int = 0
    rotated: int = 0
    failed: list[str] = field(default_factory=list)  # document ids left as they were (a message each)


async def rotate(
    rt: Runtime, *, batch: int = 100, progress: Callable[[RotationReport], None] | None = None
) -> RotationReport:
    vault = vault_of(rt)
    report = RotationReport(vault.keys.active)
    async with rt.database.session() as db:
        report.to_rotate = (
            await db.scalar(
                select(func.count()).select_from(KycDocument).where(col(KycDocument.key_id) != vault.keys.active)
            )
            or 0
        )
    after = uuid.UUID(int=0)
    while True:
        async with rt.database.session() as db:
            rows = (
                await db.execute(
                    select(KycDocument.id, KycDocument.player_id, KycDocument.object_key, KycDocument.key_id)
                    .where(col(KycDocument.key_id) != vault.keys.active, col(KycDocument.id) > after)
                    .order_by(col(KycDocument.id))
                    .limit(batch)
                )
            ).all()
        for document_id, player_id, old_name, old_key in rows:
            try:
                await _rotate_one(rt, vault, document_id, player_id, old_name, old_key)
                report.rotated += 1
            except (StorageUnavailable, SealBroken) as exc:
                log.warning("kyc_rotation_failed", document=str(document_id), error=str(exc))
                report.failed.append(f"{document_id}: {exc}")
            if progress is not None:
                progress(report)
        if len(rows) < batch:
            return report
        after = rows[-1][0]


async def _rotate_one(
    rt: Runtime, vault: Vault, document_id: uuid.UUID, player_id: uuid.UUID, old_name: str, old_key: str
) -> None:
    plaintext = vault.keys.open(await vault.store.get(old_name), associated_data(document_id))
    sealed = vault.keys.seal(plaintext, associated_data(document_id))
    new_name = vault.object_name(player_id, document_id, vault.keys.active)
    await vault.store.put(new_name, sealed)
    async with rt.database.transaction() as db:
        switched = await db.execute(
            update(KycDocument)
            .where(col(KycDocument.id) == document_id, col(KycDocument.object_key) == old_name)
            .values(object_key=new_name, key_id=vault.keys.active)
        )
    if switched.rowcount == 1:  # type: ignore[attr-defined]
        if old_name != new_name:
            await vault.discard(old_name)
    else:  # another run switched it first: ours is the spare copy
        log.info("kyc_rotation_raced", document=str(document_id), key=old_key)
