"""AML case types, inputs and payloads (staff only: Casbin gives them to the AML desk)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.clock import clock
from models import aml_cases as m
from schema.base import UserError
from schema.input_limits import NOTE, REASON, text

if TYPE_CHECKING:
    from schema.players import Player
    from schema.staff import StaffUser

strawberry.enum(m.CaseState, name="AmlCaseState")
strawberry.enum(m.CaseOutcome, name="AmlCaseOutcome")
strawberry.enum(m.EvidenceKind, name="AmlEvidenceKind")
AmlCaseState = m.CaseState
AmlCaseOutcome = m.CaseOutcome
AmlEvidenceKind = m.EvidenceKind


@strawberry.type(description="A staff note on an AML case (append-only).")
class AmlCaseNote:
    id: strawberry.ID
    body: str
    author_id: strawberry.ID
    created_at: datetime


@strawberry.type(description="What supports the suspicion: an alert, payment, ledger transaction or document, by id.")
class AmlCaseEvidence:
    id: strawberry.ID
    kind: AmlEvidenceKind
    ref_id: str
    note: str | None
    added_by: strawberry.ID | None
    created_at: datetime


@strawberry.type(description="One step of a case's history: opened, assigned, moved, restricted, exported…")
class AmlCaseHistoryEntry:
    action: str
    actor_id: strawberry.ID | None
    details: JSON
    at: datetime


@strawberry.type(description="An AML case about a player, worked by investigators and decided by the MLRO.")
class AmlCase(relay.Node):
    id: relay.NodeID[str]
    case_type: str
    source: str
    source_id: str
    summary: str
    state: AmlCaseState
    outcome: AmlCaseOutcome | None
    due_at: datetime
    overdue: bool = strawberry.field(description="Still open past its deadline (review, or the MLRO's decision).")
    awaiting_second_mlro: bool = strawberry.field(
        description="An MLRO decided not to report this escalated case; a second MLRO must confirm (four eyes)."
    )
    escalated_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    player_uuid: strawberry.Private[str]
    assignee_uuid: strawberry.Private[str | None]

    @strawberry.field
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.aml_cases import case_player

        return await case_player(info, self.player_uuid)

    @strawberry.field
    async def assignee(self, info: strawberry.Info) -> Annotated[StaffUser, strawberry.lazy("schema.staff")] | None:
        from resolvers.aml_cases import case_assignee

        return await case_assignee(info, self.assignee_uuid)

    @strawberry.field
    async def restricted(self, info: strawberry.Info) -> bool:
        from resolvers.aml_cases import case_restricted

        return await case_restricted(info, self.id)

    @strawberry.field
    async def notes(self, info: strawberry.Info) -> list[AmlCaseNote]:
        from resolvers.aml_cases import case_notes

        return await case_notes(info, self.id)

    @strawberry.field
    async def evidence(self, info: strawberry.Info) -> list[AmlCaseEvidence]:
        from resolvers.aml_cases import case_evidence

        return await case_evidence(info, self.id)

    @strawberry.field
    async def history(self, info: strawberry.Info) -> list[AmlCaseHistoryEntry]:
        from resolvers.aml_cases import case_history

        return await case_history(info, self.id)

    @classmethod
    def from_model(cls, case: m.AmlCase) -> AmlCase:
        return cls(
            id=str(case.id),
            case_type=case.case_type,
            source=case.source,
            source_id=case.source_id,
            summary=case.summary,
            state=m.CaseState(case.state),
            outcome=m.CaseOutcome(case.outcome) if case.outcome else None,
            due_at=case.due_at,
            overdue=case.state != m.CaseState.CLOSED and case.due_at < clock.now(),
            awaiting_second_mlro=case.state == m.CaseState.ESCALATED and case.close_requested_by is not None,
            escalated_at=case.escalated_at,
            closed_at=case.closed_at,
            created_at=case.created_at,
            updated_at=case.updated_at,
            player_uuid=str(case.player_id),
            assignee_uuid=str(case.assignee_id) if case.assignee_id else None,
        )


@strawberry.type(description="A SAR/STR draft in goAML XML, valid against the FIU's published schema.")
class SarExport:
    report_code: str
    file_name: str
    xml: str


@strawberry.input
class AmlCaseFilter:
    states: list[AmlCaseState] | None = None
    assignee_id: strawberry.ID | None = None
    player_id: strawberry.ID | None = None
    case_type: str | None = text(32, default=None)
    overdue: bool | None = None


@strawberry.input
class OpenAmlCaseInput:
    player_id: strawberry.ID
    summary: str = text(2000)
    case_type: str = text(32, default="manual")
    source: str | None = text(32, default=None, description="The alert's module (screening, monitoring); else staff")
    source_id: str | None = text(200, default=None, description="The alert's id: opening twice finds the same case")


@strawberry.input
class AssignAmlCaseInput:
    case_id: strawberry.ID
    assignee_id: strawberry.ID


@strawberry.input
class AddAmlCaseNoteInput:
    case_id: strawberry.ID
    body: str = text(4000)


@strawberry.input
class AddAmlCaseEvidenceInput:
    case_id: strawberry.ID
    kind: AmlEvidenceKind
    ref_id: str = text(200)
    note: str | None = text(NOTE, default=None)


@strawberry.input
class ChangeAmlCaseStateInput:
    case_id: strawberry.ID
    state: AmlCaseState
    reason: str | None = text(REASON, default=None)


@strawberry.input
class CloseAmlCaseInput:
    case_id: strawberry.ID
    outcome: AmlCaseOutcome
    reason: str = text(REASON)


@strawberry.input
class SetAmlRestrictionInput:
    case_id: strawberry.ID
    restricted: bool
    reason: str = text(REASON)


@strawberry.input
class ExportSarInput:
    case_id: strawberry.ID
    reason: str | None = text(4000, default=None, description="The narrative for the FIU (default: the summary)")
    action: str | None = text(4000, default=None, description="What was done (default: from the restriction)")


@strawberry.type
class AmlCasePayload:
    case: AmlCase | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AmlCaseNotePayload:
    note: AmlCaseNote | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AmlCaseEvidencePayload:
    evidence: AmlCaseEvidence | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExportSarPayload:
    sar: SarExport | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
