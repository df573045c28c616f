"""CRM channel resolvers: thin maps onto services/crm/channels (templates, the log, the inbox, sends)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col

from core.clock import utc
from core.errors import DomainError, bad_input
from core.ids import uuid_of
from core.pagination import paginate
from models.crm import CrmMessage as MessageRow
from models.crm_channels import CrmTemplate as TemplateRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.crm_channels import (
    CrmMessage,
    CrmMessageFilter,
    CrmTemplate,
    CrmTemplatePayload,
    InboxMessage,
    MarkMessageReadInput,
    MarkMessageReadPayload,
    SaveCrmTemplateInput,
    SendMessageInput,
    SendMessagePayload,
)
from services import brands
from services.crm.channels import log, queue, templates

PLAYER_TYPES = ("Player",)
SEGMENT_TYPES = ("CrmSegment", "Segment")


def _filter(where: CrmMessageFilter | None) -> log.MessageFilter:
    if where is None:
        return log.MessageFilter()
    player_id = None
    if where.player_id is not None:
        player_id = uuid_of(str(where.player_id), PLAYER_TYPES)
        if player_id is None:
            raise bad_input("Expected a player's id.", field="playerId")
    return log.MessageFilter(
        status=where.status.value if where.status else None,
        channel=where.channel.value if where.channel else None,
        player_id=player_id,
        source_kind=where.source_kind,
        source_id=where.source_id,
        reason=where.reason,
        template=where.template,
    )


async def crm_messages(
    info: Info,
    filter: CrmMessageFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[CrmMessage]:
    stmt = log.readable_messages(info.context.viewer, _filter(filter))
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(MessageRow.created_at), col(MessageRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, CrmMessage.from_model)


async def crm_templates(info: Info, key: str | None = None) -> list[CrmTemplate]:
    async with info.context.rt.database.session() as db:
        rows = (await db.scalars(templates.readable(info.context.viewer, key=key).limit(500))).all()
    return [CrmTemplate.from_model(row) for row in rows]


async def player_inbox(
    info: Info,
    player_id: uuid.UUID,
    *,
    unread_only: bool = False,
    first: int | None = None,
    after: str | None = None,
) -> Connection[InboxMessage]:
    stmt = log.inbox(info.context.viewer, player_id, unread_only=unread_only)
    async with info.context.rt.database.session() as db:
        page = await paginate(db, stmt, (col(MessageRow.sent_at), col(MessageRow.id)), first=first, after=after)
    return Connection.of(page, InboxMessage.from_model)


@payload_errors(CrmTemplatePayload)
async def save_crm_template(info: Info, input: SaveCrmTemplateInput) -> CrmTemplatePayload:
    viewer = info.context.viewer
    async with info.context.rt.database.transaction() as db:
        brand_id = viewer.brand_id
        if input.brand_code is not None:
            brand = await brands.get_by_code(db, input.brand_code)
            if brand_id is not None and brand.id != brand_id:
                raise DomainError("That is another brand.", field="brandCode")
            brand_id = brand.id
        if brand_id is None:
            raise DomainError("Staff of every brand name the brand.", field="brandCode")
        saved: TemplateRow = await templates.save(
            db,
            viewer,
            brand_id=brand_id,
            key=input.key,
            language=input.language,
            subject=input.subject,
            body_html=input.body_html,
            body_text=input.body_text,
        )
    return CrmTemplatePayload(template=CrmTemplate.from_model(saved))


@payload_errors(SendMessagePayload)
async def send_message(info: Info, input: SendMessageInput) -> SendMessagePayload:
    segment_id = uuid_of(str(input.segment_id), SEGMENT_TYPES)
    if segment_id is None:
        raise DomainError("Expected a segment's id.", field="segmentId")
    context: Any = input.context if input.context is not None else {}
    if not isinstance(context, dict):
        raise DomainError("The context is a JSON object.", field="context")
    sent = await queue.send_to_segment(
        info.context.rt,
        info.context.viewer,
        segment_id=segment_id,
        template=input.template,
        channel=input.channel.value,
        product=input.product,
        batch_key=input.batch_key,
        context=context,
        due_at=utc(input.due_at),
    )
    return SendMessagePayload(
        batch_id=sent.batch_id, members=sent.members, queued=sent.queued, already_queued=sent.already_queued
    )


@payload_errors(MarkMessageReadPayload)
async def mark_message_read(info: Info, input: MarkMessageReadInput) -> MarkMessageReadPayload:
    require_subject(info)
    message_id = node_uuid(input.message_id, "InboxMessage")
    read = await log.mark_read(info.context.rt, info.context.viewer, message_id)
    return MarkMessageReadPayload(message=InboxMessage.from_model(read))
