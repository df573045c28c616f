"""CRM segment resolvers (staff): thin maps onto services/crm/segments/segments.py, and the per-request
DataLoader of segment sizes (one statement per page)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col
from strawberry.dataloader import DataLoader

from core.errors import ApiError, ApiErrorCode, DomainError, bad_input
from core.pagination import paginate
from core.runtime import Runtime
from models.crm import CrmSegment as SegmentRow
from models.players import Player as PlayerRow
from resolvers.common import payload_errors
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.crm_segments import (
    ArchiveSegmentInput,
    CreateSegmentInput,
    Segment,
    SegmentKind,
    SegmentPayload,
    SegmentPreview,
    SegmentRulesInput,
    UpdateSegmentInput,
    UploadSegmentMembersInput,
    UploadSegmentMembersPayload,
)
from schema.players import Player
from services import players
from services.crm.segments import segments
from services.crm.segments.rules import refuse_hidden


class SegmentLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.size: DataLoader[uuid.UUID, int] = DataLoader(self._sizes)

    async def _sizes(self, ids: Sequence[uuid.UUID]) -> list[int]:
        async with self.rt.database.session() as db:
            return await segments.sizes(db, list(ids))


async def crm_segments(
    info: Info,
    kind: SegmentKind | None = None,
    archived: bool = False,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Segment]:
    stmt = segments.readable_segments(info.context.viewer, kind=kind, archived=archived)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            stmt,
            (col(SegmentRow.created_at), col(SegmentRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, Segment.from_model)


async def crm_segment(info: Info, id: str) -> Segment | None:
    segment_id = node_uuid(id, "Segment")
    async with info.context.rt.database.session() as db:
        try:
            found = await segments.readable_segment(db, info.context.viewer, segment_id)
        except DomainError:
            return None
    return Segment.from_model(found)


async def segment_members(
    info: Info,
    segment_id: uuid.UUID,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Player]:
    stmt = segments.members(info.context.viewer, segment_id)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(PlayerRow.created_at), col(PlayerRow.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, Player.from_model)


async def segment_preview(
    info: Info, rules: SegmentRulesInput, brand: str | None = None, limit: int = 10
) -> SegmentPreview:
    """Size and first players of rules not saved yet (a refusal of the rules is the caller's mistake)."""
    viewer = info.context.viewer
    try:
        refuse_hidden(rules.to_json(), info.context.allowed)
    except DomainError as refused:
        raise ApiError(ApiErrorCode.FORBIDDEN, refused.message, field=refused.field) from refused
    async with info.context.rt.database.session() as db:
        try:
            found = await segments.preview(db, viewer, rules.to_json(), brand_code=brand, limit=limit)
        except DomainError as refused:
            raise bad_input(refused.message, field=refused.field) from refused
        by_id = await players.readable_many(db, viewer, found.player_ids) if found.player_ids else {}
    return SegmentPreview(
        size=found.size, players=[Player.from_model(by_id[i]) for i in found.player_ids if i in by_id]
    )


@payload_errors(SegmentPayload)
async def create_segment(info: Info, input: CreateSegmentInput) -> SegmentPayload:
    if input.rules:
        refuse_hidden(input.rules.to_json(), info.context.allowed)
    segment = await segments.create_segment(
        info.context.rt,
        info.context.viewer,
        name=input.name,
        kind=input.kind,
        rules=input.rules.to_json() if input.rules else None,
        brand_code=input.brand,
    )
    return SegmentPayload(segment=Segment.from_model(segment))


@payload_errors(SegmentPayload)
async def update_segment(info: Info, input: UpdateSegmentInput) -> SegmentPayload:
    if input.rules:
        refuse_hidden(input.rules.to_json(), info.context.allowed)
    segment = await segments.update_segment(
        info.context.rt,
        info.context.viewer,
        segment_id=node_uuid(input.segment_id, "Segment"),
        name=input.name,
        rules=input.rules.to_json() if input.rules else None,
    )
    return SegmentPayload(segment=Segment.from_model(segment))


@payload_errors(SegmentPayload)
async def archive_segment(info: Info, input: ArchiveSegmentInput) -> SegmentPayload:
    segment = await segments.archive_segment(
        info.context.rt, info.context.viewer, segment_id=node_uuid(input.segment_id, "Segment")
    )
    return SegmentPayload(segment=Segment.from_model(segment))


async def _listed(input: UploadSegmentMembersInput) -> str:
    """The list from the text field or the file (one of them), as text."""
    if (input.members is None) == (input.file is None):
        raise DomainError("Send the list as `members` or as `file`, one of them.", field="members")
    if input.members is not None:
        return input.members
    upload: Any = input.file  # starlette's UploadFile
    content: bytes = await upload.read(segments.MAX_UPLOAD_CHARS + 1)
    if len(content) > segments.MAX_UPLOAD_CHARS:
        raise DomainError(f"At most {segments.MAX_UPLOAD_CHARS:,} bytes per upload.", field="file")
    try:
        listed = content.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise DomainError("The file is not UTF-8 text.", field="file") from bad
    if "\x00" in listed:  # no text PostgreSQL can store (the request's own check never sees a file)
        raise DomainError("The file holds a NUL character: it is not a text file.", field="file")
    return listed


@payload_errors(UploadSegmentMembersPayload)
async def upload_segment_members(info: Info, input: UploadSegmentMembersInput) -> UploadSegmentMembersPayload:
    done = await segments.upload_members(
        info.context.rt,
        info.context.viewer,
        segment_id=node_uuid(input.segment_id, "Segment"),
        text=await _listed(input),
        emails_allowed="Player.email" in info.context.allowed,
    )
    return UploadSegmentMembersPayload(
        segment=Segment.from_model(done.segment),
        added=done.added,
        already=done.already,
        not_found=done.not_found,
        bad_lines=done.bad_lines,
    )
