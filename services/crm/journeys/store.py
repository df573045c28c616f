"""Journeys' commands and reads: create a draft, change a draft, make a new version of any journey, move a
version through its life (draft → active ⇄ paused → archived), and the run logs staff read.

Invariants: an active or paused version is never edited (its runs follow it); one live (active or paused)
version per journey (a partial unique index backs it): activating a version archives the live one before
it, marked `superseded_by`, and that one's runs in flight go on under their own definition; archiving a
journey by hand ends its runs in flight (`exited`, `JOURNEY_ARCHIVED`). The segments and the bonus
campaign a definition names must be the journey's brand's. Every change is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.bonuses import BonusCampaign
from models.crm import CrmSegment
from models.crm_journeys import CrmJourney, CrmJourneyRun, CrmJourneyStep, JourneyStatus, RunStatus
from services import audit
from services.crm.journeys.definition import Condition, Definition, MoveToSegment, Offer, parse, stored
from services.scoping import brand_to_write, scoped

# Which status may follow which (archived is the end).
MOVES: dict[JourneyStatus, set[JourneyStatus]] = {
    JourneyStatus.DRAFT: {JourneyStatus.ACTIVE, JourneyStatus.ARCHIVED},
    JourneyStatus.ACTIVE: {JourneyStatus.PAUSED, JourneyStatus.ARCHIVED},
    JourneyStatus.PAUSED: {JourneyStatus.ACTIVE, JourneyStatus.ARCHIVED},
    JourneyStatus.ARCHIVED: set(),
}


def _name(raw: str) -> str:
    name = raw.strip()
    if not 2 <= len(name) <= 120:
        raise DomainError("A journey's name has 2 to 120 characters.", field="name")
    return name


async def _check_references(db: AsyncSession, brand_id: uuid.UUID, definition: Definition) -> None:
    """The segments and campaigns the definition names exist in the journey's brand."""
    segments = {definition.entry_segment_id} if definition.entry_segment_id else set()
    campaigns: set[uuid.UUID] = set()
    for step in definition.steps:
        if isinstance(step, (Condition, MoveToSegment)) and step.segment_id is not None:
            segments.add(step.segment_id)
        if isinstance(step, Offer):
            campaigns.add(step.campaign_id)
    if segments:
        found = set(
            (
                await db.scalars(
                    select(CrmSegment.id).where(col(CrmSegment.id).in_(segments), col(CrmSegment.brand_id) == brand_id)
                )
            ).all()
        )
        if missing := segments - found:
            raise NotFound(f"No segment {sorted(map(str, missing))[0]} in the journey's brand.", field="definition")
    if campaigns:
        found = set(
            (
                await db.scalars(
                    select(BonusCampaign.id).where(
                        col(BonusCampaign.id).in_(campaigns), col(BonusCampaign.brand_id) == brand_id
                    )
                )
            ).all()
        )
        if missing := campaigns - found:
            raise NotFound(
                f"No bonus campaign {sorted(map(str, missing))[0]} in the journey's brand.", field="definition"
            )


def _summary(journey: CrmJourney) -> dict[str, Any]:
    return {
        "name": journey.name,
        "version": journey.version,
        "status": journey.status,
        "definition": journey.definition,
    }


async def create(
    rt: Runtime, viewer: Viewer, *, name: str, definition: Any, brand_code: str | None = None
) -> CrmJourney:
    """A new journey: its first version, a draft."""
    checked = parse(definition)
    async with rt.database.transaction() as db:
        brand = await brand_to_write(db, viewer, brand_code, field="brandCode", what="journey")
        await _check_references(db, brand.id, checked)
        journey = CrmJourney(
            brand_id=brand.id,
            key=uuid.uuid4(),
            version=1,
            name=_name(name),
            trigger_kind=checked.trigger.kind,
            definition=stored(checked),
            created_by=viewer.id if viewer.is_staff else None,
        )
        db.add(journey)
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="crm_journey.create",
            target_type="crm_journey",
            target_id=journey.id,
            brand_id=brand.id,
            after=_summary(journey),
        )
    return journey


async def _readable(db: AsyncSession, viewer: Viewer, journey_id: uuid.UUID, *, lock: bool = False) -> CrmJourney:
    journey = await db.get(CrmJourney, journey_id, with_for_update=lock)
    if journey is None or (viewer.brand_id is not None and journey.brand_id != viewer.brand_id):
        raise NotFound("No such journey.", field="journeyId")
    return journey


async def update(
    rt: Runtime, viewer: Viewer, journey_id: uuid.UUID, *, name: str | None = None, definition: Any = None
) -> CrmJourney:
    """Change a draft. A live or archived version is not edited in place: make a new version."""
    checked = parse(definition) if definition is not None else None
    async with rt.database.transaction() as db:
        journey = await _readable(db, viewer, journey_id, lock=True)
        if journey.status != JourneyStatus.DRAFT:
            raise DomainError(
                f"A {journey.status} journey is not edited in place: make a new version and activate it.",
                field="journeyId",
                code=ErrorCode.INVALID_STATE,
            )
        before = _summary(journey)
        if name is not None:
            journey.name = _name(name)
        if checked is not None:
            await _check_references(db, journey.brand_id, checked)
            journey.definition = stored(checked)
            journey.trigger_kind = checked.trigger.kind
        journey.updated_at = clock.now()
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="crm_journey.update",
            target_type="crm_journey",
            target_id=journey.id,
            brand_id=journey.brand_id,
            before=before,
            after=_summary(journey),
        )
    return journey


async def new_version(rt: Runtime, viewer: Viewer, journey_id: uuid.UUID) -> CrmJourney:
    """A draft copy of a version as the journey's next version (the latest number + 1)."""
    async with rt.database.transaction() as db:
        source = await _readable(db, viewer, journey_id)
        await db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"crm_journey:{source.key}"})
        latest = await db.scalar(text("SELECT max(version) FROM crm_journeys WHERE key = :k"), {"k": source.key})
        journey = CrmJourney(
            brand_id=source.brand_id,
            key=source.key,
            version=int(latest or 0) + 1,
            name=source.name,
            trigger_kind=source.trigger_kind,
            definition=dict(source.definition),
            created_by=viewer.id if viewer.is_staff else None,
        )
        db.add(journey)
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="crm_journey.new_version",
            target_type="crm_journey",
            target_id=journey.id,
            brand_id=journey.brand_id,
            after=_summary(journey) | {"from_version": source.version},
        )
    return journey


async def set_status(rt: Runtime, viewer: Viewer, journey_id: uuid.UUID, status: JourneyStatus) -> CrmJourney:
    """Activate, pause, resume or archive a version (audited)."""
    async with rt.database.transaction() as db:
        journey = await _readable(db, viewer, journey_id, lock=True)
        await db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"crm_journey:{journey.key}"})
        current = JourneyStatus(journey.status)
        if status not in MOVES[current]:
            raise DomainError(
                f"A {current.value} journey cannot become {status.value}.", field="status", code=ErrorCode.INVALID_STATE
            )
        before = _summary(journey)
        now = clock.now()
        if status == JourneyStatus.ACTIVE:
            checked = parse(journey.definition)  # the rules may have tightened since it was saved
            await _check_references(db, journey.brand_id, checked)
            if current == JourneyStatus.DRAFT:
                live = (
                    await db.scalars(
                        select(CrmJourney)
                        .where(
                            col(CrmJourney.key) == journey.key,
                            col(CrmJourney.status).in_([JourneyStatus.ACTIVE.value, JourneyStatus.PAUSED.value]),
                        )
                        .with_for_update()
                    )
                ).all()
                for older in live:  # superseded: its runs in flight finish under their definition
                    older.status = JourneyStatus.ARCHIVED.value
                    older.superseded_by = journey.id
                    older.updated_at = now
                await db.flush()
            journey.activated_at = journey.activated_at or now
        if status == JourneyStatus.ARCHIVED:
            await db.execute(
                sql_update(CrmJourneyRun)
                .where(col(CrmJourneyRun.journey_id) == journey.id, col(CrmJourneyRun.status) == RunStatus.ACTIVE.value)
                .values(status=RunStatus.EXITED.value, reason="JOURNEY_ARCHIVED", ended_at=now, due_at=None)
            )
        journey.status = status.value
        journey.updated_at = now
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="crm_journey.status",
            target_type="crm_journey",
            target_id=journey.id,
            brand_id=journey.brand_id,
            before={"status": before["status"]},
            after={"status": journey.status},
        )
    return journey


# ---- reads ----------------------------------------------------------------------------------------


def readable_journeys(viewer: Viewer, *, status: JourneyStatus | None = None) -> SelectOfScalar[CrmJourney]:
    """Staff of a brand read their brand's journeys (global staff every brand's); players none."""
    if viewer.is_player:
        return select(CrmJourney).where(text("false"))
    stmt = scoped(select(CrmJourney), viewer, player_column=None, brand_column=col(CrmJourney.brand_id))
    if status is not None:
        stmt = stmt.where(col(CrmJourney.status) == status.value)
    return stmt


async def readable_journey(db: AsyncSession, viewer: Viewer, journey_id: uuid.UUID) -> CrmJourney | None:
    return (await db.scalars(readable_journeys(viewer).where(col(CrmJourney.id) == journey_id))).first()


def readable_runs(
    viewer: Viewer,
    *,
    journey_id: uuid.UUID | None = None,
    player_id: uuid.UUID | None = None,
    status: RunStatus | None = None,
) -> SelectOfScalar[CrmJourneyRun]:
    stmt = scoped(
        select(CrmJourneyRun),
        viewer,
        player_column=col(CrmJourneyRun.player_id),
        brand_column=col(CrmJourneyRun.brand_id),
    )
    if journey_id is not None:
        stmt = stmt.where(col(CrmJourneyRun.journey_id) == journey_id)
    if player_id is not None:
        stmt = stmt.where(col(CrmJourneyRun.player_id) == player_id)
    if status is not None:
        stmt = stmt.where(col(CrmJourneyRun.status) == status.value)
    return stmt


async def steps_of(db: AsyncSession, run_ids: list[uuid.UUID]) -> list[list[CrmJourneyStep]]:
    """Each run's step records, in order (one statement for a page of runs)."""
    rows = (
        await db.scalars(
            select(CrmJourneyStep)
            .where(col(CrmJourneyStep.run_id).in_(run_ids))
            .order_by(col(CrmJourneyStep.run_id), col(CrmJourneyStep.id))
        )
    ).all()
    by_run: dict[uuid.UUID, list[CrmJourneyStep]] = {run_id: [] for run_id in run_ids}
    for row in rows:
        by_run[row.run_id].append(row)
    return [by_run[run_id] for run_id in run_ids]
