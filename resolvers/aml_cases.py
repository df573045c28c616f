"""AML case resolvers (thin: the rules live in services/aml/)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import strawberry
from sqlmodel import col

from core.errors import NotFound
from core.pagination import paginate
from models.aml_cases import AmlCase as CaseRow
from models.aml_cases import AmlCaseNote as NoteRow
from models.aml_cases import CaseState
from resolvers.common import payload_errors, require_subject
from schema.aml_cases import (
    AddAmlCaseEvidenceInput,
    AddAmlCaseNoteInput,
    AmlCase,
    AmlCaseEvidence,
    AmlCaseEvidencePayload,
    AmlCaseFilter,
    AmlCaseHistoryEntry,
    AmlCaseNote,
    AmlCaseNotePayload,
    AmlCasePayload,
    AssignAmlCaseInput,
    ChangeAmlCaseStateInput,
    CloseAmlCaseInput,
    ExportSarInput,
    ExportSarPayload,
    OpenAmlCaseInput,
    SarExport,
    SetAmlRestrictionInput,
)
from schema.base import Connection, node_uuid, to_global_id
from schema.context import Info
from services.aml import case_flow, cases, restrictions, sar

if TYPE_CHECKING:
    from schema.players import Player
    from schema.staff import StaffUser


def _id(value: str | None, type_name: str) -> uuid.UUID | None:
    return None if value is None else node_uuid(value, type_name)


# ---- relations of a case (DataLoaders: one query per page) -------------------------------------


async def case_player(info: Info, player_id: str) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(uuid.UUID(player_id))
    return Player.from_model(found) if found else None


async def case_assignee(info: Info, staff_id: str | None) -> StaffUser | None:
    from schema.staff import StaffUser

    if staff_id is None:
        return None
    found = await info.context.loaders.staff_user.load(uuid.UUID(staff_id))
    return StaffUser.from_model(found) if found else None


async def case_restricted(info: Info, case_id: str) -> bool:
    return await info.context.loaders.aml.restricted.load(uuid.UUID(case_id))


async def case_notes(info: Info, case_id: str) -> list[AmlCaseNote]:
    rows = await info.context.loaders.aml.notes.load(uuid.UUID(case_id))
    return [
        AmlCaseNote(
            id=strawberry.ID(str(n.id)), body=n.body, author_id=strawberry.ID(str(n.author_id)), created_at=n.created_at
        )
        for n in rows
    ]


def _note(n: NoteRow) -> AmlCaseNote:
    return AmlCaseNote(
        id=strawberry.ID(str(n.id)), body=n.body, author_id=strawberry.ID(str(n.author_id)), created_at=n.created_at
    )


def _evidence(e: object) -> AmlCaseEvidence:
    from models.aml_cases import AmlCaseEvidence as Row
    from models.aml_cases import EvidenceKind

    assert isinstance(e, Row)
    return AmlCaseEvidence(
        id=strawberry.ID(str(e.id)),
        kind=EvidenceKind(e.kind),
        ref_id=e.ref_id,
        note=e.note,
        added_by=strawberry.ID(str(e.added_by)) if e.added_by else None,
        created_at=e.created_at,
    )


async def case_evidence(info: Info, case_id: str) -> list[AmlCaseEvidence]:
    return [_evidence(e) for e in await info.context.loaders.aml.evidence.load(uuid.UUID(case_id))]


async def case_history(info: Info, case_id: str) -> list[AmlCaseHistoryEntry]:
    rows = await info.context.loaders.aml.history.load(uuid.UUID(case_id))
    return [
        AmlCaseHistoryEntry(
            action=h.action,
            actor_id=strawberry.ID(str(h.actor_id)) if h.actor_id else None,
            details=strawberry.scalars.JSON(h.details),
            at=h.created_at,
        )
        for h in rows
    ]


# ---- queries ----------------------------------------------------------------------------------


async def aml_cases(
    info: Info,
    filter: AmlCaseFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AmlCase]:
    f = filter or AmlCaseFilter()
    where = cases.CaseFilter(
        states=tuple(CaseState(s) for s in f.states or ()),
        assignee_id=_id(f.assignee_id, "StaffUser"),
        player_id=_id(f.player_id, "Player"),
        case_type=f.case_type,
        overdue=f.overdue,
    )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            cases.queue(info.context.viewer, where),
            (col(CaseRow.created_at), col(CaseRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, AmlCase.from_model)


async def player_aml_cases(
    info: Info, player_id: uuid.UUID, *, first: int | None, after: str | None
) -> Connection[AmlCase]:
    """Player.amlCases: the case queue of one player (same scoping, newest first)."""
    where = AmlCaseFilter(player_id=strawberry.ID(str(to_global_id("Player", player_id))))
    return await aml_cases(info, where, first=first, after=after)


async def aml_case(info: Info, id: strawberry.ID) -> AmlCase | None:
    case_id = node_uuid(id, "AmlCase")
    async with info.context.rt.database.session() as db:
        try:
            return AmlCase.from_model(await cases.get_readable(db, info.context.viewer, case_id))
        except NotFound:
            return None


# ---- mutations --------------------------------------------------------------------------------


@payload_errors(AmlCasePayload)
async def open_aml_case(info: Info, input: OpenAmlCaseInput) -> AmlCasePayload:
    require_subject(info)
    case = await case_flow.open_by_staff(
        info.context.rt,
        info.context.viewer,
        player_id=node_uuid(input.player_id, "Player"),
        summary=input.summary,
        case_type_name=input.case_type,
        source=input.source,
        source_id=input.source_id,
    )
    return AmlCasePayload(case=AmlCase.from_model(case))


@payload_errors(AmlCasePayload)
async def assign_aml_case(info: Info, input: AssignAmlCaseInput) -> AmlCasePayload:
    require_subject(info)
    case = await case_flow.assign(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.case_id, "AmlCase"),
        node_uuid(input.assignee_id, "StaffUser"),
    )
    return AmlCasePayload(case=AmlCase.from_model(case))


@payload_errors(AmlCaseNotePayload)
async def add_aml_case_note(info: Info, input: AddAmlCaseNoteInput) -> AmlCaseNotePayload:
    require_subject(info)
    note = await case_flow.add_note(
        info.context.rt, info.context.viewer, node_uuid(input.case_id, "AmlCase"), input.body
    )
    return AmlCaseNotePayload(
        note=AmlCaseNote(
            id=strawberry.ID(str(note.id)),
            body=note.body,
            author_id=strawberry.ID(str(note.author_id)),
            created_at=note.created_at,
        )
    )


@payload_errors(AmlCaseEvidencePayload)
async def add_aml_case_evidence(info: Info, input: AddAmlCaseEvidenceInput) -> AmlCaseEvidencePayload:
    require_subject(info)
    evidence = await case_flow.add_evidence(
        info.context.rt, info.context.viewer, node_uuid(input.case_id, "AmlCase"), input.kind, input.ref_id, input.note
    )
    return AmlCaseEvidencePayload(evidence=_evidence(evidence))


@payload_errors(AmlCasePayload)
async def change_aml_case_state(info: Info, input: ChangeAmlCaseStateInput) -> AmlCasePayload:
    require_subject(info)
    case = await case_flow.change_state(
        info.context.rt, info.context.viewer, node_uuid(input.case_id, "AmlCase"), input.state, input.reason
    )
    return AmlCasePayload(case=AmlCase.from_model(case))


@payload_errors(AmlCasePayload)
async def close_aml_case(info: Info, input: CloseAmlCaseInput) -> AmlCasePayload:
    require_subject(info)
    case = await case_flow.close(
        info.context.rt, info.context.viewer, node_uuid(input.case_id, "AmlCase"), input.outcome, input.reason
    )
    return AmlCasePayload(case=AmlCase.from_model(case))


@payload_errors(AmlCasePayload)
async def set_aml_restriction(info: Info, input: SetAmlRestrictionInput) -> AmlCasePayload:
    require_subject(info)
    case_id = node_uuid(input.case_id, "AmlCase")
    rt, viewer = info.context.rt, info.context.viewer
    if input.restricted:
        case = await restrictions.restrict(rt, viewer, case_id, input.reason)
    else:
        case = await restrictions.lift_restriction(rt, viewer, case_id, input.reason)
    return AmlCasePayload(case=AmlCase.from_model(case))


@payload_errors(ExportSarPayload)
async def export_sar(info: Info, input: ExportSarInput) -> ExportSarPayload:
    require_subject(info)
    done = await sar.export_sar(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.case_id, "AmlCase"),
        reason=input.reason,
        action=input.action,
    )
    return ExportSarPayload(
        sar=SarExport(report_code=done.report_code, file_name=done.file_name, xml=done.xml.decode())
    )
