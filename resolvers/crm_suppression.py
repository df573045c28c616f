"""Resolvers of CRM consent and suppression: thin over services/crm."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col
from strawberry.dataloader import DataLoader

from core.errors import DomainError, ErrorCode
from core.pagination import paginate
from core.runtime import Runtime
from models.crm import CrmConsent
from models.crm import CrmSuppression as SuppressionRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection
from schema.context import Info
from schema.crm_suppression import CrmSuppression, MarketingConsent, SetConsentsInput, SetConsentsPayload
from services.crm import consents, suppression_log


def consent_loader(rt: Runtime) -> DataLoader[uuid.UUID, list[CrmConsent]]:
    """Consent rows of the players on a page, in one statement (Loaders.crm_consents)."""

    async def load(ids: Sequence[uuid.UUID]) -> list[list[CrmConsent]]:
        async with rt.database.session() as db:
            found = await consents.rows_of_players(db, ids)
        return [found.get(i, []) for i in ids]

    return DataLoader(load)


async def player_consents(info: Info, player_id: uuid.UUID, master: bool) -> list[MarketingConsent]:
    rows = await info.context.loaders.crm_consents.load(player_id)
    return [MarketingConsent.of(c) for c in consents.effective(master, rows)]


async def player_suppressions(
    info: Info, player_id: uuid.UUID, *, first: int | None, after: str | None
) -> Connection[CrmSuppression]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            suppression_log.readable(info.context.viewer, player_id),
            (col(SuppressionRow.at), col(SuppressionRow.id)),
            first=first,
            after=after,
        )
    return Connection.of(page, CrmSuppression.from_model)


@payload_errors(SetConsentsPayload)
async def set_consents(info: Info, input: SetConsentsInput) -> SetConsentsPayload:
    require_subject(info)
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only a player sets their own consents.", code=ErrorCode.NOT_ALLOWED)
    changes = [consents.ConsentChange(c.product.strip(), c.channel.strip(), c.granted) for c in input.consents]
    async with info.context.rt.database.transaction() as db:
        after = await consents.set_consents(db, viewer, viewer.id, changes)
    return SetConsentsPayload(consents=[MarketingConsent.of(c) for c in after])
