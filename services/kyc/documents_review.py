"""KYC officers' decisions on documents: approve (with the document's own expiry, e.g. an ID card's) or
reject, each with a reason the player sees; and asking a player for another document. Every decision is
audited and emitted (codes and ids only: the reason stays inside the platform)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.clock import utc as clock_utc
from core.errors import DomainError, ErrorCode
from core.ids import new_id
from core.runtime import Runtime
from models.kyc_documents import DocumentKind, DocumentStatus, KycDocument, KycDocumentRequest
from models.players import Player
from services import audit, players
from services.kyc import state as kyc_state
from services.kyc.documents import get_readable, reads_documents
from services.kyc.reviews import after_change

MAX_REASON = 500


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def _check_reviewer(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None or not reads_documents(viewer):
        raise DomainError("Only KYC officers decide on documents.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise DomainError("Give a reason (the player sees it).", field="reason")
    if len(text) > MAX_REASON:
        raise DomainError(f"A reason has at most {MAX_REASON} characters.", field="reason")
    return text


async def review(
    rt: Runtime,
    viewer: Viewer,
    document_id: uuid.UUID,
    decision: Decision,
    reason: str,
    *,
    expires_at: datetime | None = None,
) -> KycDocument:
    """Decide on a pending document. An approval may carry the document's expiry (it must be ahead)."""
    staff_id = _check_reviewer(viewer)
    text = _reason(reason)
    now = clock.now()
    if decision is Decision.REJECT and expires_at is not None:
        raise DomainError("Only an approval carries an expiry.", field="expiresAt")
    expires_at = clock_utc(expires_at)  # without an offset: UTC
    if expires_at is not None and expires_at <= now:
        raise DomainError("The document has expired already; reject it or ask for a current one.", field="expiresAt")
    async with rt.database.transaction() as db:
        document = await get_readable(db, viewer, document_id)
        await db.refresh(document, with_for_update=True)
        if document.status != DocumentStatus.PENDING.value:
            raise DomainError(f"The document is {document.status} already.", code=ErrorCode.INVALID_STATE)
        status = DocumentStatus.APPROVED if decision is Decision.APPROVE else DocumentStatus.REJECTED
        document.status, document.reason = status.value, text
        document.decided_by, document.decided_at, document.expires_at = staff_id, now, expires_at
        await outbox.emit(
            db,
            "kyc.document_reviewed",
            f"player:{document.player_id}",
            {
                "document_id": str(document.id),
                "player_id": str(document.player_id),
                "kind": document.kind,
                "status": status.value,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "by": "staff",
            },
            brand_id=document.brand_id,
        )
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action=f"kyc_document.{status.value}",
            target_type="player",
            target_id=document.player_id,
            brand_id=document.brand_id,
            before={"document_id": str(document.id), "kind": document.kind, "status": DocumentStatus.PENDING.value},
            after={
                "document_id": str(document.id),
                "kind": document.kind,
                "status": status.value,
                "expires_at": expires_at,
            },
            reason=text,
        )
        # The stored KYC status (what the officers' queue filters on) follows the document's decision.
        player = await db.get(Player, document.player_id)
        assert player is not None
        await kyc_state.advance(db, player, await kyc_state.lock_state(db, player))
    await after_change(rt, document.player_id)  # an approval may complete a level: release waiting money
    return document


async def request_document(
    rt: Runtime, viewer: Viewer, player_id: uuid.UUID, kind: DocumentKind, reason: str
) -> KycDocumentRequest:
    """Ask the player for a document of `kind` (the player sees the reason); their next upload of that kind
    fulfils it."""
    staff_id = _check_reviewer(viewer)
    text = _reason(reason)
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, player_id)
        request = KycDocumentRequest(
            id=new_id(),
            player_id=player.id,
            brand_id=player.brand_id,
            kind=kind.value,
            reason=text,
            requested_by=staff_id,
            requested_at=clock.now(),
        )
        db.add(request)
        await outbox.emit(
            db,
            "kyc.document_requested",
            f"player:{player.id}",
            {"request_id": str(request.id), "player_id": str(player.id), "kind": kind.value, "by": "staff"},
            brand_id=player.brand_id,
        )
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="kyc_document.requested",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={"request_id": str(request.id), "kind": kind.value},
            reason=text,
        )
    return request
