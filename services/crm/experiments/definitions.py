"""An experiment as validated data, and its life: draft (edited freely) → running (definition frozen: players
are being assigned by it) → stopped (frozen for good; `winner`, or the control, is what everyone gets after).

- variants: 2 to 10, each a key (lowercase letters, digits, `-`, `_`; 1 to 40) and an integer weight 0 to 10,000
  (weights are relative; their sum must be positive); the first is the control the others are compared to;
- holdout: parts per million of the brand's exposed players who get none of the variants (0 to 500,000);
- metric: what counts as a conversion within `days` (1 to 90) of the exposure day — `deposited` (any deposit),
  `first_deposit` (the player's first ever deposit), `bet` (any bet), `ngr` (the NGR per player, compared as a
  mean; its conversion is `deposited`) — read from `report_player_days`; NGR in the experiment's `currency`;
- subject: a journey, a bonus campaign (of the brand) or a lobby (the segment whose lobby layouts are tested:
  a layout names the experiment and its variant, services/crm/lobby).

Commands run in the caller's transaction, are audited, and raise DomainErrors: INVALID_INPUT (a field, named),
INVALID_STATE (an edit of a running experiment, a start of a stopped one), ALREADY_EXISTS (the name is taken
in the brand), NOT_FOUND (or of another brand).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.money import CURRENCIES
from models.brands import Brand
from models.crm_experiments import CrmExperiment
from services import audit, brands


class SubjectKind(StrEnum):
    JOURNEY = "journey"
    CAMPAIGN = "campaign"
    LOBBY = "lobby"


class Status(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"


class MetricKind(StrEnum):
    DEPOSITED = "deposited"
    FIRST_DEPOSIT = "first_deposit"
    BET = "bet"
    NGR = "ngr"


_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_HOLDOUT_PPM = 500_000


class Variant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    weight: int = Field(ge=0, le=10_000)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("a key is 1 to 40 lowercase letters, digits, - or _")
        return value


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MetricKind
    days: int = Field(ge=1, le=90)


class Design(BaseModel):
    """What an experiment tests and measures (the part frozen once it runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    variants: tuple[Variant, ...] = Field(min_length=2, max_length=10)
    holdout_ppm: int = Field(ge=0, le=MAX_HOLDOUT_PPM)
    metric: Metric

    @model_validator(mode="after")
    def _variants(self) -> Design:
        keys = [variant.key for variant in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys repeat")
        if sum(variant.weight for variant in self.variants) <= 0:
            raise ValueError("the weights sum to zero")
        return self


def design_of(variants: list[dict[str, Any]], holdout_ppm: int, metric: dict[str, Any]) -> Design:
    """The design, validated; a refusal names the input field it is about."""
    try:
        return Design.model_validate({"variants": variants, "holdout_ppm": holdout_ppm, "metric": metric})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = str(error["loc"][0]) if error["loc"] else "variants"
        field = {"holdout_ppm": "holdoutPpm"}.get(where, where)
        raise DomainError(f"{field}: {error['msg']}.", code=ErrorCode.INVALID_INPUT, field=field) from exc


@dataclass(frozen=True)
class Experiment:
    id: uuid.UUID
    brand_id: uuid.UUID
    name: str
    subject_kind: SubjectKind
    subject_id: uuid.UUID | None
    design: Design
    currency: str
    status: Status
    winner: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    created_at: datetime

    @property
    def control(self) -> str:
        return self.design.variants[0].key


def experiment_of(row: CrmExperiment) -> Experiment:
    return Experiment(
        id=row.id,
        brand_id=row.brand_id,
        name=row.name,
        subject_kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        design=Design.model_validate({"variants": row.variants, "holdout_ppm": row.holdout_ppm, "metric": row.metric}),
        currency=row.currency,
        status=Status(row.status),
        winner=row.winner,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        created_at=row.created_at,
    )


def _name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= 120:
        raise DomainError("A name of 1 to 120 characters is required.", code=ErrorCode.INVALID_INPUT, field="name")
    return name


async def brand_for(db: AsyncSession, viewer: Viewer, code: str | None) -> Brand:
    """The brand a staff member works on: their own, or the one a global role names (a code matched as
    everywhere: services/brands.normalise_code)."""
    code = brands.normalise_code(code) if code else None
    if viewer.brand_id is not None:
        brand = await db.get(Brand, viewer.brand_id)
    elif code:
        brand = (await db.scalars(select(Brand).where(col(Brand.code) == code))).first()
    else:
        raise DomainError("Name the brand.", code=ErrorCode.INVALID_INPUT, field="brandCode")
    if brand is None or (code and brand.code != code):
        raise NotFound("No such brand.", field="brandCode")
    return brand


_SUBJECT_TABLES = {SubjectKind.CAMPAIGN: "bonus_campaigns", SubjectKind.LOBBY: "crm_segments"}


async def _check_subject(
    db: AsyncSession, brand_id: uuid.UUID, kind: SubjectKind, subject_id: uuid.UUID | None
) -> None:
    """A campaign or a segment must be of the brand; a journey's id is taken as given (journeys check it)."""
    table = _SUBJECT_TABLES.get(kind)
    if table is None or subject_id is None:
        return
    found = await db.scalar(
        text(f"SELECT 1 FROM {table} WHERE id = :id AND brand_id = :brand"),  # noqa: S608 (a fixed table name)
        {"id": subject_id, "brand": brand_id},
    )
    if found is None:
        raise NotFound(f"No such {kind.value} subject in the brand.", field="subjectId")


def _currency(raw: str | None, brand: Brand) -> str:
    code = (raw or brand.default_currency).strip().upper()
    if code not in CURRENCIES:
        raise DomainError(f"Unknown currency {raw!r}.", code=ErrorCode.INVALID_INPUT, field="currency")
    return code


def _stored(design: Design) -> dict[str, Any]:
    dumped = design.model_dump(mode="json")
    return {"variants": dumped["variants"], "holdout_ppm": design.holdout_ppm, "metric": dumped["metric"]}


async def _name_free(db: AsyncSession, brand_id: uuid.UUID, name: str, but: uuid.UUID | None = None) -> None:
    stmt = select(CrmExperiment.id).where(col(CrmExperiment.brand_id) == brand_id, col(CrmExperiment.name) == name)
    taken = (await db.scalars(stmt)).first()
    if taken is not None and taken != but:
        raise DomainError(f"An experiment {name!r} exists.", code=ErrorCode.ALREADY_EXISTS, field="name")


async def _flush_named(db: AsyncSession, name: str) -> None:
    """Flush a new or renamed row: a concurrent save of the same name, which the name check could not see, is
    ALREADY_EXISTS as that check says it (not the unique key's INTERNAL)."""
    try:
        await db.flush()
    except IntegrityError as exc:
        if "uq_crm_experiments_brand_name" not in str(exc.orig):
            raise
        raise DomainError(f"An experiment {name!r} exists.", code=ErrorCode.ALREADY_EXISTS, field="name") from exc


async def create_experiment(
    db: AsyncSession, *, viewer: Viewer, brand_code: str | None, name: str, subject_kind: SubjectKind,
    subject_id: uuid.UUID | None, variants: list[dict[str, Any]], holdout_ppm: int, metric: dict[str, Any],
    currency: str | None = None,
) -> Experiment:  # fmt: skip
    """A draft experiment of the viewer's brand."""
    brand = await brand_for(db, viewer, brand_code)
    name = _name(name)
    design = design_of(variants, holdout_ppm, metric)
    code = _currency(currency, brand)
    await _check_subject(db, brand.id, subject_kind, subject_id)
    await _name_free(db, brand.id, name)
    now = clock.now()
    row = CrmExperiment(
        id=new_id(), brand_id=brand.id, name=name, subject_kind=subject_kind.value, subject_id=subject_id,
        currency=code, status=Status.DRAFT.value, created_by=viewer.id, created_at=now, updated_at=now,
        **_stored(design),
    )  # fmt: skip
    db.add(row)
    await _flush_named(db, row.name)
    await audit.append(
        db, actor=viewer, action="crm.experiment.create", target_type="crm_experiment", target_id=row.id,
        brand_id=brand.id, after={"name": name, "subject_kind": subject_kind.value, **_stored(design)},
    )  # fmt: skip
    return experiment_of(row)


async def _row(db: AsyncSession, viewer: Viewer, experiment_id: uuid.UUID, *, lock: bool = False) -> CrmExperiment:
    stmt = select(CrmExperiment).where(col(CrmExperiment.id) == experiment_id)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(CrmExperiment.brand_id) == viewer.brand_id)
    row = (await db.scalars(stmt.with_for_update() if lock else stmt)).first()
    if row is None:
        raise NotFound("No such experiment.", field="id")
    return row


async def get_experiment(db: AsyncSession, viewer: Viewer, experiment_id: uuid.UUID) -> Experiment:
    return experiment_of(await _row(db, viewer, experiment_id))


async def update_experiment(
    db: AsyncSession, *, viewer: Viewer, experiment_id: uuid.UUID, name: str | None = None,
    variants: list[dict[str, Any]] | None = None, holdout_ppm: int | None = None,
    metric: dict[str, Any] | None = None, currency: str | None = None,
) -> Experiment:  # fmt: skip
    """A draft's new name, design or currency (what is not given stays)."""
    row = await _row(db, viewer, experiment_id, lock=True)
    if row.status != Status.DRAFT.value:
        raise DomainError("Only a draft is edited.", code=ErrorCode.INVALID_STATE, field="id")
    before = {"name": row.name, "variants": row.variants, "holdout_ppm": row.holdout_ppm, "metric": row.metric}
    design = design_of(
        variants if variants is not None else row.variants,
        holdout_ppm if holdout_ppm is not None else row.holdout_ppm,
        metric if metric is not None else row.metric,
    )
    if name is not None:
        row.name = _name(name)
        await _name_free(db, row.brand_id, row.name, but=row.id)
    if currency is not None:
        brand = await db.get(Brand, row.brand_id)
        assert brand is not None
        row.currency = _currency(currency, brand)
    stored = _stored(design)
    row.variants, row.holdout_ppm, row.metric = stored["variants"], stored["holdout_ppm"], stored["metric"]
    row.updated_at = clock.now()
    db.add(row)
    await _flush_named(db, row.name)
    await audit.append(
        db, actor=viewer, action="crm.experiment.update", target_type="crm_experiment", target_id=row.id,
        brand_id=row.brand_id, before=before, after={"name": row.name, **stored},
    )  # fmt: skip
    return experiment_of(row)


async def start_experiment(db: AsyncSession, *, viewer: Viewer, experiment_id: uuid.UUID) -> Experiment:
    row = await _row(db, viewer, experiment_id, lock=True)
    if row.status != Status.DRAFT.value:
        raise DomainError("Only a draft starts.", code=ErrorCode.INVALID_STATE, field="id")
    row.status, row.started_at, row.updated_at = Status.RUNNING.value, clock.now(), clock.now()
    db.add(row)
    await db.flush()
    await audit.append(
        db, actor=viewer, action="crm.experiment.start", target_type="crm_experiment", target_id=row.id,
        brand_id=row.brand_id, before={"status": "draft"}, after={"status": "running"},
    )  # fmt: skip
    return experiment_of(row)


async def stop_experiment(
    db: AsyncSession, *, viewer: Viewer, experiment_id: uuid.UUID, winner: str | None = None
) -> Experiment:
    """Stop a running experiment; `winner` (a variant key) is what every player gets from now on."""
    row = await _row(db, viewer, experiment_id, lock=True)
    if row.status != Status.RUNNING.value:
        raise DomainError("Only a running experiment stops.", code=ErrorCode.INVALID_STATE, field="id")
    if winner is not None and winner not in {variant["key"] for variant in row.variants}:
        raise DomainError("The winner is one of the variants.", code=ErrorCode.INVALID_INPUT, field="winner")
    row.status, row.winner, row.stopped_at, row.updated_at = Status.STOPPED.value, winner, clock.now(), clock.now()
    db.add(row)
    await db.flush()
    await audit.append(
        db, actor=viewer, action="crm.experiment.stop", target_type="crm_experiment", target_id=row.id,
        brand_id=row.brand_id, before={"status": "running"}, after={"status": "stopped", "winner": winner},
    )  # fmt: skip
    return experiment_of(row)


def experiments_query(
    viewer: Viewer, *, status: Status | None = None, subject_kind: SubjectKind | None = None
) -> SelectOfScalar[CrmExperiment]:
    """The experiments the viewer may read (their brand's; every brand for global roles)."""
    stmt = select(CrmExperiment)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(CrmExperiment.brand_id) == viewer.brand_id)
    if status is not None:
        stmt = stmt.where(col(CrmExperiment.status) == status.value)
    if subject_kind is not None:
        stmt = stmt.where(col(CrmExperiment.subject_kind) == subject_kind.value)
    return stmt
