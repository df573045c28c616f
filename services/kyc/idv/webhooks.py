"""Identity-verification webhooks: verify, record once per delivery, apply to the player's applicant.

Ordering (the provider retries for hours, so any delivery may arrive late, twice, or after a newer one):
- The applicant's status (init / pending / on_hold / completed) follows the newest status event by the
  provider's `createdAtMs`; an older one is recorded (`stale`) and changes nothing.
- A review result (`applicantReviewed`) is applied only when newer than the result applied last
  (`reviewed_at`); then it becomes a provider check (passed on GREEN, failed on RED), and the newest check
  is the one the KYC level reads. An older or equally old result is recorded `stale`.
- An event without `createdAtMs` is timed by its arrival.
- A RED FINAL applied after a GREEN (the provider revoking its pass) restricts the player's KYC: levels
  never go down, and one may have been approved on that pass. An officer lifts it (kycLiftRestriction).

Who an event is about: the applicant on record (provider, applicant id). An applicant we have not recorded
yet (its webhook overtook our own write) is bound through `externalUserId`, our player id, when that
player has no applicant at this provider. Otherwise the receipt says `unknown_applicant` and the answer is
still 200: the provider's retries could never make it applicable, so they are stopped; the receipt keeps
the body for an officer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import SYSTEM
from core.clock import clock
from core.logging import get_logger
from core.runtime import Runtime
from models.kyc import KycState
from models.kyc_idv import IdvApplicant, IdvWebhookReceipt
from models.players import Player
from services import audit
from services.kyc import state as kyc_state
from services.kyc.actions import record_check
from services.kyc.idv.applicants import record_applicant
from services.kyc.idv.client import IdvEvent, client_for
from services.kyc.reviews import after_change

log = get_logger(__name__)

STATUS_OF_EVENT = {
    "applicantCreated": "init",
    "applicantReset": "init",
    "applicantPending": "pending",
    "applicantOnHold": "on_hold",
    "applicantReviewed": "completed",
}


@dataclass(frozen=True)
class IdvWebhookOutcome:
    duplicate: bool
    result: str  # applied | stale | ignored | unknown_applicant | duplicate


async def handle_webhook(rt: Runtime, provider: str, body: bytes, headers: Mapping[str, str]) -> IdvWebhookOutcome:
    """A provider's signed notification. Raises InvalidSignature (401) or MalformedWebhook (400) before
    anything is written; the receipt and the change commit together, so a failure half-way (500) is
    applied by the provider's retry."""
    event = client_for(rt.settings, provider).verify_webhook(body, headers)
    at = event.created_at or clock.now()
    applied = False
    async with rt.database.transaction() as db:
        found = await _applicant(db, provider, event)
        if found is None:
            outcome = await _receipt(db, provider, event, at, None, "unknown_applicant")
            if outcome is None:
                return IdvWebhookOutcome(True, "duplicate")
            log.warning("idv_webhook_unknown_applicant", provider=provider, applicant=event.applicant_id)
            return IdvWebhookOutcome(False, "unknown_applicant")
        player, applicant = found
        state = await kyc_state.lock_state(db, player)  # the KYC lock order: the state first, then its rows
        await db.refresh(applicant, with_for_update=True)
        result = _decide(applicant, event, at)
        if await _receipt(db, provider, event, at, player.id, result) is None:
            return IdvWebhookOutcome(True, "duplicate")
        status = STATUS_OF_EVENT.get(event.event_type)
        if status is not None and (applicant.status_at is None or at > applicant.status_at):
            applicant.status, applicant.status_at = status, at
        if result == "applied" and event.review is not None:
            review = event.review
            revoked = applicant.review_answer == "GREEN" and review.answer == "RED" and review.reject_type == "FINAL"
            applicant.review_answer, applicant.reject_type = review.answer, review.reject_type
            applicant.reject_labels, applicant.reviewed_at = list(review.reject_labels), at
            await record_check(
                db,
                SYSTEM,
                player,
                state,
                provider=provider,
                passed=review.answer == "GREEN",
                reference=applicant.applicant_id,
            )
            await kyc_state.emit(
                db,
                state,
                "kyc.verification_reviewed",
                provider=provider,
                answer=review.answer,
                reject_type=review.reject_type,
                reject_labels=list(review.reject_labels),
            )
            if revoked and not state.restricted:
                await _restrict_revoked(db, player, state, provider)
            applied = True
        applicant.updated_at = clock.now()
        player_id = player.id
    if applied:
        await after_change(rt, player_id)
    return IdvWebhookOutcome(False, result)


async def _restrict_revoked(db: AsyncSession, player: Player, state: KycState, provider: str) -> None:
    """A final rejection newer than the pass a level may have been approved on: levels never go down, so
    the account is restricted (no deposits or play, withdrawals wait) until an officer looks at it."""
    why = f"{provider} rejected the verification for good after passing it (RED FINAL after GREEN)"
    before = {"restricted": False, "status": state.status}
    state.restricted, state.restricted_reason, state.updated_at = True, why, clock.now()
    await kyc_state.advance(db, player, state)
    await kyc_state.emit(db, state, "kyc.restricted", restricted=True)
    await db.flush()
    await audit.append(
        db,
        actor=SYSTEM,
        action="kyc.restrict",
        target_type="player",
        target_id=player.id,
        brand_id=player.brand_id,
        before=before,
        after={"restricted": True, "status": state.status},
        reason=why,
    )


def _decide(applicant: IdvApplicant, event: IdvEvent, at: datetime) -> str:
    if event.review is not None:
        return "applied" if applicant.reviewed_at is None or at > applicant.reviewed_at else "stale"
    if event.event_type in STATUS_OF_EVENT:
        return "applied" if applicant.status_at is None or at > applicant.status_at else "stale"
    return "ignored"  # a type we do not act on (applicantPersonalInfoChanged, …): recorded only


async def _applicant(db: AsyncSession, provider: str, event: IdvEvent) -> tuple[Player, IdvApplicant] | None:
    if event.applicant_id is None:
        return None
    applicant = await db.scalar(
        select(IdvApplicant).where(
            col(IdvApplicant.provider) == provider, col(IdvApplicant.applicant_id) == event.applicant_id
        )
    )
    if applicant is None:
        applicant = await _bind(db, provider, event)
        if applicant is None:
            return None
    player = await db.get(Player, applicant.player_id)
    return (player, applicant) if player is not None else None


async def _bind(db: AsyncSession, provider: str, event: IdvEvent) -> IdvApplicant | None:
    """An applicant the provider knows before our own write: bound to the player it names, if that player
    has none at this provider (else it is someone else's, or a stale one: unknown)."""
    try:
        player_id = uuid.UUID(event.external_user_id or "")
    except ValueError:
        return None
    player = await db.get(Player, player_id)
    if player is None or event.applicant_id is None:
        return None
    await kyc_state.lock_state(db, player)
    await record_applicant(db, player.id, provider, event.applicant_id, event.level_name or "")
    found: IdvApplicant | None = await db.scalar(
        select(IdvApplicant).where(
            col(IdvApplicant.provider) == provider, col(IdvApplicant.applicant_id) == event.applicant_id
        )
    )
    return found


async def _receipt(
    db: AsyncSession, provider: str, event: IdvEvent, at: datetime, player_id: uuid.UUID | None, result: str
) -> uuid.UUID | None:
    """The delivery's receipt; None when it was received before (a redelivery: nothing else is written)."""
    receipt_id: uuid.UUID | None = (
        await db.execute(
            insert(IdvWebhookReceipt)
            .values(
                id=uuid.uuid4(),
                provider=provider,
                delivery_id=event.delivery_id,
                event_type=event.event_type,
                applicant_id=event.applicant_id,
                player_id=player_id,
                result=result,
                event_at=at,
                payload=dict(event.payload),
                received_at=clock.now(),
            )
            .on_conflict_do_nothing(constraint="uq_kyc_idv_webhook_receipts_delivery")
            .returning(col(IdvWebhookReceipt.id))
        )
    ).scalar_one_or_none()
    return receipt_id
