"""Working a case: staff open, assign, write notes, link evidence, move it along, and close it.

Who does what (beside Casbin's per-field policy, the service checks the roles itself):
- investigators (kyc_officer, risk_analyst, mlro) open cases, take or assign them, write notes, link
  evidence, escalate to the MLRO, restrict the account, and close a case that was never escalated with
  `no_action` or `other` (a case the MLRO sent back is closed only once escalated again);
- an escalated case is the MLRO's: only an mlro sends it back to investigation or closes it;
  `sar_filed` and `account_closed` are MLRO outcomes of an escalated case only;
- four eyes: an escalated case closed with `no_action` or `other` (the decision not to report) needs two
  different MLROs: the first records the decision (the case stays escalated, `close_requested_by` set),
  a second confirms it with the same outcome.
Transitions: open → investigating (also by assigning an open case), open/investigating → escalated,
escalated → investigating; closing is from any state but closed. Closing with `no_action` or `other`
lifts the case's restriction; `sar_filed` and `account_closed` keep it until the MLRO lifts it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.aml_cases import AmlCase, AmlCaseEvidence, AmlCaseNote, CaseOutcome, CaseState, EvidenceKind
from models.ledger import LedgerTransaction
from models.payments import Payment
from models.staff import StaffRole, StaffUser
from services import players
from services.aml import restrictions
from services.aml.cases import (
    INVESTIGATORS,
    MLRO,
    case_type,
    get_readable,
    open_case,
    record,
    require_open,
    require_role,
)

MAX_NOTE = 4000
TRANSITIONS = {
    (CaseState.OPEN, CaseState.INVESTIGATING),
    (CaseState.OPEN, CaseState.ESCALATED),
    (CaseState.INVESTIGATING, CaseState.ESCALATED),
    (CaseState.ESCALATED, CaseState.INVESTIGATING),
}
MLRO_OUTCOMES = (CaseOutcome.SAR_FILED, CaseOutcome.ACCOUNT_CLOSED)


async def open_by_staff(
    rt: Runtime,
    viewer: Viewer,
    *,
    player_id: uuid.UUID,
    summary: str,
    case_type_name: str,
    source: str | None = None,
    source_id: str | None = None,
) -> AmlCase:
    """A staff member opens a case: on their own suspicion, or from an alert they name (the same case as
    the alert's own, if it opened one)."""
    require_role(viewer, INVESTIGATORS, "open AML cases")
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, player_id)
        return await open_case(
            db,
            player_id=player.id,
            source=source or "staff",
            source_id=source_id or str(uuid.uuid4()),
            summary=summary,
            case_type_name=case_type_name,
            opened_by=viewer,
        )


async def _state_change(db: AsyncSession, case: AmlCase, viewer: Viewer, to: CaseState, reason: str | None) -> None:
    before = CaseState(case.state)
    case.state = to.value
    if to == CaseState.ESCALATED:
        case.escalated_at = clock.now()
        case.due_at = case.escalated_at + case_type(case.case_type).escalated
    case.close_requested_by = case.outcome_requested = None  # a pending four-eyes decision does not survive a move
    details = {"from": before.value, "to": to.value}
    event = ("aml.case_state_changed", {"from_state": before.value, "to_state": to.value})
    await record(db, case, viewer, "case_state_changed", details, event=event, reason=reason)


async def _investigator(db: AsyncSession, staff_id: uuid.UUID, brand_id: uuid.UUID) -> StaffUser:
    """An active staff member holding an investigator role in the brand (or in every brand)."""
    holds = await db.scalar(
        select(StaffRole.id)
        .join(StaffUser, col(StaffUser.id) == col(StaffRole.staff_id))
        .where(
            col(StaffRole.staff_id) == staff_id,
            col(StaffRole.role).in_(INVESTIGATORS),
            or_(col(StaffRole.brand_id) == brand_id, col(StaffRole.brand_id).is_(None)),
            col(StaffUser.status) == "active",
        )
        .limit(1)
    )
    staff = await db.get(StaffUser, staff_id) if holds is not None else None
    if staff is None:
        raise DomainError("Assign the case to an active investigator of this brand.", field="assigneeId")
    return staff


async def assign(rt: Runtime, viewer: Viewer, case_id: uuid.UUID, assignee_id: uuid.UUID) -> AmlCase:
    """Give the case to an investigator (an open case starts being investigated)."""
    require_role(viewer, INVESTIGATORS, "assign AML cases")
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        require_open(case)
        if case.state == CaseState.ESCALATED and MLRO not in viewer.roles:
            raise DomainError("An escalated case is the MLRO's.", code=ErrorCode.NOT_ALLOWED)
        await _investigator(db, assignee_id, case.brand_id)
        before = case.assignee_id
        case.assignee_id = assignee_id
        details = {"from": str(before) if before else None, "to": str(assignee_id)}
        await record(db, case, viewer, "case_assigned", details)
        if case.state == CaseState.OPEN:
            await _state_change(db, case, viewer, CaseState.INVESTIGATING, None)
    return case


async def add_note(rt: Runtime, viewer: Viewer, case_id: uuid.UUID, body: str) -> AmlCaseNote:
    """An append-only note (audited with its text; events never carry it)."""
    author = require_role(viewer, INVESTIGATORS, "write case notes")
    text = body.strip()
    if not text or len(text) > MAX_NOTE:
        raise DomainError(f"A note holds 1 to {MAX_NOTE} characters.", field="body")
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        note = AmlCaseNote(case_id=case.id, author_id=author, body=text)
        db.add(note)
        await db.flush()
        await record(db, case, viewer, "case_note_added", {"note_id": str(note.id), "body": text})
    return note


async def _check_reference(db: AsyncSession, case: AmlCase, kind: EvidenceKind, ref: str) -> None:
    """Payments and ledger transactions must be the case's player's (the SAR reports them as theirs)."""
    if kind not in (EvidenceKind.PAYMENT, EvidenceKind.LEDGER_TRANSACTION):
        return
    try:
        ref_uuid = uuid.UUID(ref)
    except ValueError as exc:
        raise DomainError("Give the id of the payment or transaction.", field="refId") from exc
    row: Payment | LedgerTransaction | None = (
        await db.get(Payment, ref_uuid) if kind == EvidenceKind.PAYMENT else await db.get(LedgerTransaction, ref_uuid)
    )
    if row is None or getattr(row, "player_id", None) != case.player_id:
        raise NotFound(f"No such {kind.value.replace('_', ' ')} of this player.", field="refId")


async def add_evidence(
    rt: Runtime, viewer: Viewer, case_id: uuid.UUID, kind: EvidenceKind, ref_id: str, note: str | None
) -> AmlCaseEvidence:
    """Link an alert, payment, ledger transaction or document (by id) to the case, once."""
    staff = require_role(viewer, INVESTIGATORS, "add evidence")
    ref, text = ref_id.strip(), (note or "").strip() or None
    if not ref or len(ref) > 200:
        raise DomainError("Give the id (at most 200 characters).", field="refId")
    if text is not None and len(text) > 2000:
        raise DomainError("A note holds at most 2,000 characters.", field="note")
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        require_open(case)
        await _check_reference(db, case, kind, ref)
        exists = await db.scalar(
            select(AmlCaseEvidence.id).where(
                col(AmlCaseEvidence.case_id) == case.id,
                col(AmlCaseEvidence.kind) == kind.value,
                col(AmlCaseEvidence.ref_id) == ref,
            )
        )
        if exists is not None:
            raise DomainError("That is already linked to the case.", code=ErrorCode.ALREADY_EXISTS, field="refId")
        evidence = AmlCaseEvidence(case_id=case.id, kind=kind.value, ref_id=ref, note=text, added_by=staff)
        db.add(evidence)
        await db.flush()
        details = {"evidence_id": str(evidence.id), "kind": kind.value, "ref_id": ref}
        await record(db, case, viewer, "case_evidence_added", details, reason=text)
    return evidence


async def change_state(rt: Runtime, viewer: Viewer, case_id: uuid.UUID, to: CaseState, reason: str | None) -> AmlCase:
    """Move a case along TRANSITIONS (closing is `close`)."""
    require_role(viewer, INVESTIGATORS, "work AML cases")
    if to == CaseState.CLOSED:
        raise DomainError("Close a case with its outcome (closeAmlCase).", code=ErrorCode.INVALID_STATE, field="state")
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        require_open(case)
        current = CaseState(case.state)
        if (current, to) not in TRANSITIONS:
            raise DomainError(
                f"A case cannot go from {current.value} to {to.value}.", code=ErrorCode.INVALID_STATE, field="state"
            )
        if current == CaseState.ESCALATED and MLRO not in viewer.roles:
            raise DomainError("Only the MLRO decides an escalated case.", code=ErrorCode.NOT_ALLOWED)
        await _state_change(db, case, viewer, to, (reason or "").strip() or None)
    return case


async def close(rt: Runtime, viewer: Viewer, case_id: uuid.UUID, outcome: CaseOutcome, reason: str) -> AmlCase:
    """Close with an outcome and a reason (see the module's rules; four eyes for not reporting after
    escalation: the first MLRO's call leaves the case escalated, awaiting a second)."""
    closer = require_role(viewer, INVESTIGATORS, "close AML cases")
    why = reason.strip()
    if not why:
        raise DomainError("Give the reason for the decision.", field="reason")
    lifted = False
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        require_open(case)
        escalated = case.state == CaseState.ESCALATED
        if case.escalated_at is not None and not escalated:  # sent back: still the MLRO's, with four eyes
            raise DomainError(
                "This case was escalated: escalate it to the MLRO again to close it.",
                code=ErrorCode.INVALID_STATE,
                field="caseId",
            )
        if outcome in MLRO_OUTCOMES and not escalated:
            raise DomainError(
                f"Escalate the case to the MLRO before closing it as {outcome.value}.",
                code=ErrorCode.INVALID_STATE,
                field="outcome",
            )
        if escalated and MLRO not in viewer.roles:
            raise DomainError("Only the MLRO decides an escalated case.", code=ErrorCode.NOT_ALLOWED)
        if escalated and outcome not in MLRO_OUTCOMES:
            if case.close_requested_by is None or case.outcome_requested != outcome.value:
                case.close_requested_by, case.outcome_requested = closer, outcome.value
                details = {"outcome": outcome.value, "awaiting_second_mlro": True}
                await record(db, case, viewer, "case_close_requested", details, reason=why)
                return case
            if case.close_requested_by == closer:
                raise DomainError(
                    "Four eyes: a second, different MLRO must confirm not reporting this case.",
                    code=ErrorCode.APPROVAL_REQUIRED,
                    field="caseId",
                )
        before = case.state
        case.state, case.outcome = CaseState.CLOSED.value, outcome.value
        case.closed_by, case.closed_at = closer, clock.now()
        if outcome not in MLRO_OUTCOMES:
            lifted = await restrictions.lift(db, case, viewer, f"case closed: {outcome.value}")
        details = {"from": before, "outcome": outcome.value, "first_mlro": str(case.close_requested_by or "")}
        event = ("aml.case_closed", {"outcome": outcome.value})
        await record(db, case, viewer, "case_closed", details, event=event, reason=why)
    if lifted:
        await restrictions.after_lift(rt, case.player_id)
    return case
