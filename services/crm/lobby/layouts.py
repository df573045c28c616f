"""A segment's lobby layout: made, edited and archived by marketing and content managers (audited), checked
against the catalogue, and every change drops the cached lobbies everywhere after commit (`changed(CATALOGUE)`).

- `category_order`: lobby category codes (the brand's or shared), at most 50, each once; the categories it
  does not name follow in their usual order;
- `featured`: up to 24 games (ids), each once, shown first in this order (those a viewer may not play are
  left out for that viewer);
- `experimentId` + `variant`: the layout of one variant of an A/B test whose subject is the layout's segment
  (subject kind lobby); the segment's layout without a variant serves the control, the holdout and the rest;
- `priority`: a player in several segments gets the active layout of the highest priority.

Refusals are DomainErrors: INVALID_INPUT (a field, named), NOT_FOUND (a segment, experiment, game or layout
of another brand), ALREADY_EXISTS (the name is taken in the brand).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.db import changed
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.runtime import CATALOGUE
from models.crm_experiments import CrmExperiment
from models.crm_lobby import CrmLobbyLayout
from models.games import Game, LobbyCategory
from services import audit
from services.crm.experiments.definitions import brand_for

MAX_CATEGORIES = 50
MAX_FEATURED = 24
STATUSES = ("active", "archived")


@dataclass(frozen=True)
class LayoutView:
    id: uuid.UUID
    brand_id: uuid.UUID
    name: str
    segment_id: uuid.UUID
    priority: int
    experiment_id: uuid.UUID | None
    variant: str | None
    category_order: list[str]
    featured: list[uuid.UUID]
    status: str
    updated_at: datetime


def view_of(row: CrmLobbyLayout) -> LayoutView:
    return LayoutView(
        id=row.id, brand_id=row.brand_id, name=row.name, segment_id=row.segment_id, priority=row.priority,
        experiment_id=row.experiment_id, variant=row.variant, category_order=list(row.category_order),
        featured=[uuid.UUID(g) for g in row.featured], status=row.status, updated_at=row.updated_at,
    )  # fmt: skip


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(message, code=ErrorCode.INVALID_INPUT, field=field)


def _name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= 120:
        raise _invalid("A name of 1 to 120 characters is required.", "name")
    return name


async def _segment(db: AsyncSession, brand_id: uuid.UUID, segment_id: uuid.UUID) -> None:
    found = await db.scalar(
        text("SELECT 1 FROM crm_segments WHERE id = :id AND brand_id = :brand AND status = 'active'"),
        {"id": segment_id, "brand": brand_id},
    )
    if found is None:
        raise NotFound("No such segment in the brand.", field="segmentId")


async def _categories(db: AsyncSession, brand_id: uuid.UUID, codes: list[str]) -> list[str]:
    cleaned = [c.strip().lower() for c in codes]
    if len(cleaned) > MAX_CATEGORIES or len(set(cleaned)) != len(cleaned):
        raise _invalid(f"At most {MAX_CATEGORIES} category codes, each once.", "categoryOrder")
    if not cleaned:
        return []
    known = set(
        await db.scalars(
            select(LobbyCategory.code).where(
                col(LobbyCategory.code).in_(cleaned),
                or_(col(LobbyCategory.brand_id).is_(None), col(LobbyCategory.brand_id) == brand_id),
            )
        )
    )
    unknown = [c for c in cleaned if c not in known]
    if unknown:
        raise _invalid(f"Unknown lobby categories: {', '.join(unknown[:5])}.", "categoryOrder")
    return cleaned


async def _featured(db: AsyncSession, games: list[uuid.UUID]) -> list[str]:
    if len(games) > MAX_FEATURED or len(set(games)) != len(games):
        raise _invalid(f"At most {MAX_FEATURED} featured games, each once.", "featured")
    if games:
        known = set(await db.scalars(select(Game.id).where(col(Game.id).in_(games))))
        if len(known) != len(games):
            raise NotFound("A featured game does not exist.", field="featured")
    return [str(g) for g in games]


async def _variant(
    db: AsyncSession, brand_id: uuid.UUID, segment_id: uuid.UUID, experiment_id: uuid.UUID | None, variant: str | None
) -> None:
    if experiment_id is None and variant is None:
        return
    if experiment_id is None or variant is None:
        raise _invalid("An experiment's layout names both the experiment and its variant.", "variant")
    experiment = await db.get(CrmExperiment, experiment_id)
    if experiment is None or experiment.brand_id != brand_id:
        raise NotFound("No such experiment in the brand.", field="experimentId")
    if experiment.subject_kind != "lobby" or experiment.subject_id != segment_id:
        raise _invalid("The experiment does not test this segment's lobby.", "experimentId")
    if variant not in {v["key"] for v in experiment.variants}:
        raise _invalid("Not a variant of the experiment.", "variant")


async def _name_free(db: AsyncSession, brand_id: uuid.UUID, name: str, but: uuid.UUID | None = None) -> None:
    stmt = select(CrmLobbyLayout.id).where(col(CrmLobbyLayout.brand_id) == brand_id, col(CrmLobbyLayout.name) == name)
    taken = (await db.scalars(stmt)).first()
    if taken is not None and taken != but:
        raise DomainError(f"A layout {name!r} exists.", code=ErrorCode.ALREADY_EXISTS, field="name")


async def _flush_named(db: AsyncSession, name: str) -> None:
    """Flush a new or renamed row: a concurrent save of the same name, which the name check could not see, is
    ALREADY_EXISTS as that check says it (not the unique key's INTERNAL)."""
    try:
        await db.flush()
    except IntegrityError as exc:
        if "uq_crm_lobby_layouts_brand_name" not in str(exc.orig):
            raise
        raise DomainError(f"A layout {name!r} exists.", code=ErrorCode.ALREADY_EXISTS, field="name") from exc


def _audited(row: CrmLobbyLayout) -> dict[str, object]:
    return {
        "name": row.name, "segment_id": str(row.segment_id), "priority": row.priority,
        "experiment_id": str(row.experiment_id) if row.experiment_id else None, "variant": row.variant,
        "category_order": list(row.category_order), "featured": list(row.featured), "status": row.status,
    }  # fmt: skip


async def create_layout(
    db: AsyncSession, *, viewer: Viewer, brand_code: str | None, name: str, segment_id: uuid.UUID,
    priority: int = 0, category_order: list[str], featured: list[uuid.UUID],
    experiment_id: uuid.UUID | None = None, variant: str | None = None,
) -> LayoutView:  # fmt: skip
    brand = await brand_for(db, viewer, brand_code)
    name = _name(name)
    if not -1000 <= priority <= 1000:
        raise _invalid("A priority from -1000 to 1000.", "priority")
    await _segment(db, brand.id, segment_id)
    await _variant(db, brand.id, segment_id, experiment_id, variant)
    codes = await _categories(db, brand.id, category_order)
    games = await _featured(db, featured)
    await _name_free(db, brand.id, name)
    now = clock.now()
    row = CrmLobbyLayout(
        id=new_id(), brand_id=brand.id, name=name, segment_id=segment_id, priority=priority,
        experiment_id=experiment_id, variant=variant, category_order=codes, featured=games, status="active",
        created_by=viewer.id, created_at=now, updated_at=now,
    )  # fmt: skip
    db.add(row)
    await _flush_named(db, row.name)
    await audit.append(
        db, actor=viewer, action="crm.lobby_layout.create", target_type="crm_lobby_layout", target_id=row.id,
        brand_id=brand.id, after=_audited(row),
    )  # fmt: skip
    changed(db, CATALOGUE)
    return view_of(row)


async def _row(db: AsyncSession, viewer: Viewer, layout_id: uuid.UUID) -> CrmLobbyLayout:
    stmt = select(CrmLobbyLayout).where(col(CrmLobbyLayout.id) == layout_id)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(CrmLobbyLayout.brand_id) == viewer.brand_id)
    row = (await db.scalars(stmt.with_for_update())).first()
    if row is None:
        raise NotFound("No such layout.", field="id")
    return row


async def update_layout(
    db: AsyncSession, *, viewer: Viewer, layout_id: uuid.UUID, name: str | None = None, priority: int | None = None,
    category_order: list[str] | None = None, featured: list[uuid.UUID] | None = None, status: str | None = None,
) -> LayoutView:  # fmt: skip
    """A layout's new name, priority, category order, featured games or status (what is not given stays)."""
    row = await _row(db, viewer, layout_id)
    before = _audited(row)
    if name is not None:
        row.name = _name(name)
        await _name_free(db, row.brand_id, row.name, but=row.id)
    if priority is not None:
        if not -1000 <= priority <= 1000:
            raise _invalid("A priority from -1000 to 1000.", "priority")
        row.priority = priority
    if category_order is not None:
        row.category_order = await _categories(db, row.brand_id, category_order)
    if featured is not None:
        row.featured = await _featured(db, featured)
    if status is not None:
        if status not in STATUSES:
            raise _invalid("active or archived.", "status")
        row.status = status
    row.updated_at = clock.now()
    db.add(row)
    await _flush_named(db, row.name)
    await audit.append(
        db, actor=viewer, action="crm.lobby_layout.update", target_type="crm_lobby_layout", target_id=row.id,
        brand_id=row.brand_id, before=before, after=_audited(row),
    )  # fmt: skip
    changed(db, CATALOGUE)
    return view_of(row)


def layouts_query(viewer: Viewer, *, status: str | None = None) -> SelectOfScalar[CrmLobbyLayout]:
    stmt = select(CrmLobbyLayout)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(CrmLobbyLayout.brand_id) == viewer.brand_id)
    if status is not None:
        stmt = stmt.where(col(CrmLobbyLayout.status) == status)
    return stmt
