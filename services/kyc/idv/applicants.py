"""Starting a player's verification: their applicant at the provider (created once), and a link to the
provider's hosted flow. The provider is called outside any database transaction; the applicant row is
written afterwards, once per (player, provider) — two starts at once both reach the provider's one
applicant (its 409 on the second create), and the second insert finds the first's row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.kyc_idv import IdvApplicant
from services import players
from services.kyc import state as kyc_state
from services.kyc.idv.client import IdvUnavailable, SumsubClient


@dataclass(frozen=True)
class Verification:
    applicant: IdvApplicant
    url: str


def refusal(applicant: IdvApplicant | None) -> DomainError | None:
    """Why a player may not start (again): verified already, or a final rejection standing."""
    if applicant is None or applicant.status != "completed":
        return None
    if applicant.review_answer == "GREEN":
        return DomainError("Your identity is verified already.", code=ErrorCode.INVALID_STATE)
    if applicant.review_answer == "RED" and applicant.reject_type == "FINAL":
        return DomainError(
            "The verification provider refused the verification; please contact support.", code=ErrorCode.NOT_ALLOWED
        )
    return None


async def applicant_of(db: AsyncSession, player_id: uuid.UUID, provider: str) -> IdvApplicant | None:
    found: IdvApplicant | None = await db.scalar(
        select(IdvApplicant).where(col(IdvApplicant.player_id) == player_id, col(IdvApplicant.provider) == provider)
    )
    return found


async def record_applicant(
    db: AsyncSession, player_id: uuid.UUID, provider: str, applicant_id: str, level_name: str
) -> None:
    """The applicant on record, once: a row for the player or for the applicant id already there wins."""
    await db.execute(
        insert(IdvApplicant)
        .values(
            id=uuid.uuid4(),
            player_id=player_id,
            provider=provider,
            applicant_id=applicant_id,
            level_name=level_name,
            status="init",
            reject_labels=[],
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        .on_conflict_do_nothing()
    )


async def start_verification(
    rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, lang: str | None = None
) -> Verification:
    """The player's own verification: their applicant (created once) and a fresh hosted-flow link."""
    if lang is not None and not (len(lang) == 2 and lang.isascii() and lang.isalpha()):
        raise DomainError("A language is two letters (ISO 639-1).", field="lang")
    if not viewer.is_player or viewer.id != player_id:
        raise DomainError("Only the player starts their own verification.", code=ErrorCode.NOT_ALLOWED)
    client = SumsubClient(rt.settings)
    level_name = rt.settings.idv_level_name
    async with rt.database.session() as db:
        player = await players.get_readable(db, viewer, player_id)
        existing = await applicant_of(db, player.id, client.name)
    refused = refusal(existing)
    if refused is not None:
        raise refused
    try:
        if existing is None:
            created = await client.create_applicant(str(player_id), level_name)
            async with rt.database.transaction() as db:
                # The KYC lock order: the player's state first, then the rows that hang off it.
                await kyc_state.lock_state(db, await players.get_readable(db, viewer, player_id))
                level = created.level_name or level_name
                await record_applicant(db, player_id, client.name, created.applicant_id, level)
                existing = await applicant_of(db, player_id, client.name)
            if existing is None or existing.applicant_id != created.applicant_id:
                raise IdvUnavailable("the provider's applicant differs from the one on record")
        url = await client.websdk_link(str(player_id), existing.level_name, lang=lang)
    except IdvUnavailable as exc:
        raise DomainError(
            "Identity verification is unavailable right now; please try again later.",
            code=ErrorCode.VERIFICATION_UNAVAILABLE,
        ) from exc
    return Verification(existing, url)
