"""A/B test resolvers (thin: the rules live in services/crm/experiments). The list reads one page in one
statement; a result is its own query field (one statement), so a list never runs one per experiment."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlmodel import col

from core.errors import DomainError, ErrorCode, NotFound
from core.ids import uuid_of
from core.money import CURRENCIES
from core.pagination import paginate
from models.crm_experiments import CrmExperiment as ExperimentRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.crm_experiments import (
    CreateExperimentInput,
    CrmExperiment,
    ExperimentMetricInput,
    ExperimentPayload,
    ExperimentResult,
    ExperimentStatus,
    ExperimentSubjectKind,
    ExperimentVariantInput,
    StartExperimentInput,
    StopExperimentInput,
    UpdateExperimentInput,
)
from services.crm.experiments import definitions, results

_SUBJECT_TYPES = ("BonusCampaign", "CrmSegment", "Segment", "CrmJourney", "Journey")


async def crm_experiments(
    info: Info,
    status: ExperimentStatus | None = None,
    subject_kind: ExperimentSubjectKind | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[CrmExperiment]:
    require_subject(info)
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            definitions.experiments_query(viewer, status=status, subject_kind=subject_kind),
            (col(ExperimentRow.created_at), col(ExperimentRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, lambda row: CrmExperiment.of(definitions.experiment_of(row)))


async def crm_experiment(info: Info, id: strawberry.ID) -> CrmExperiment | None:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            found = await definitions.get_experiment(db, info.context.viewer, node_uuid(id, "CrmExperiment"))
        except NotFound:
            return None
    return CrmExperiment.of(found)


async def crm_experiment_result(info: Info, id: strawberry.ID) -> ExperimentResult | None:
    """The result of one experiment as the report projections show it now."""
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            experiment = await definitions.get_experiment(db, info.context.viewer, node_uuid(id, "CrmExperiment"))
        except NotFound:
            return None
        result = await results.result_of(db, experiment)
    return ExperimentResult.of(result, CURRENCIES[experiment.currency].exponent)


def _variants(variants: list[ExperimentVariantInput] | None) -> list[dict[str, Any]] | None:
    return None if variants is None else [{"key": v.key.strip(), "weight": v.weight} for v in variants]


def _metric(metric: ExperimentMetricInput | None) -> dict[str, Any] | None:
    return None if metric is None else {"kind": metric.kind.value, "days": metric.days}


def _subject(raw: strawberry.ID | None) -> uuid.UUID | None:
    if raw is None:
        return None
    found = uuid_of(str(raw), _SUBJECT_TYPES)
    if found is None:
        raise DomainError("Not a journey, campaign or segment id.", code=ErrorCode.INVALID_INPUT, field="subjectId")
    return found


@payload_errors(ExperimentPayload)
async def create_experiment(info: Info, input: CreateExperimentInput) -> ExperimentPayload:
    require_subject(info)
    async with info.context.rt.database.transaction() as db:
        experiment = await definitions.create_experiment(
            db, viewer=info.context.viewer, brand_code=input.brand_code, name=input.name,
            subject_kind=input.subject_kind, subject_id=_subject(input.subject_id),
            variants=_variants(input.variants) or [], holdout_ppm=input.holdout_ppm,
            metric=_metric(input.metric) or {}, currency=input.currency,
        )  # fmt: skip
    return ExperimentPayload(experiment=CrmExperiment.of(experiment))


@payload_errors(ExperimentPayload)
async def update_experiment(info: Info, input: UpdateExperimentInput) -> ExperimentPayload:
    require_subject(info)
    async with info.context.rt.database.transaction() as db:
        experiment = await definitions.update_experiment(
            db, viewer=info.context.viewer, experiment_id=node_uuid(input.id, "CrmExperiment"), name=input.name,
            variants=_variants(input.variants), holdout_ppm=input.holdout_ppm, metric=_metric(input.metric),
            currency=input.currency,
        )  # fmt: skip
    return ExperimentPayload(experiment=CrmExperiment.of(experiment))


@payload_errors(ExperimentPayload)
async def start_experiment(info: Info, input: StartExperimentInput) -> ExperimentPayload:
    require_subject(info)
    async with info.context.rt.database.transaction() as db:
        experiment = await definitions.start_experiment(
            db, viewer=info.context.viewer, experiment_id=node_uuid(input.id, "CrmExperiment")
        )
    return ExperimentPayload(experiment=CrmExperiment.of(experiment))


@payload_errors(ExperimentPayload)
async def stop_experiment(info: Info, input: StopExperimentInput) -> ExperimentPayload:
    require_subject(info)
    async with info.context.rt.database.transaction() as db:
        experiment = await definitions.stop_experiment(
            db, viewer=info.context.viewer, experiment_id=node_uuid(input.id, "CrmExperiment"), winner=input.winner
        )
    return ExperimentPayload(experiment=CrmExperiment.of(experiment))
