"""A/B tests (docs/crm-experiments.md): experiments on journeys, bonus campaigns and segment lobbies, with a
holdout, a conversion read from the report projections, and the result with 95 % confidence intervals."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from schema.base import Money, UserError
from schema.input_limits import TITLE, text
from services.crm.experiments.definitions import Experiment, MetricKind, Status, SubjectKind
from services.crm.experiments.results import Result, VariantResult
from services.crm.experiments.stats import Interval

strawberry.enum(SubjectKind, name="ExperimentSubjectKind", description="What the variants are of.")
strawberry.enum(Status, name="ExperimentStatus", description="draft (edited), running (assigning), stopped.")
strawberry.enum(
    MetricKind,
    name="ExperimentMetricKind",
    description="deposited, first_deposit, bet (a conversion within `days`), ngr (NGR per player; converts as "
    "deposited).",
)
ExperimentSubjectKind = SubjectKind
ExperimentStatus = Status
ExperimentMetricKind = MetricKind


@strawberry.type(description="A variant and its weight (relative to the others'); the first is the control.")
class ExperimentVariant:
    key: str
    weight: int


@strawberry.type(description="What converts, within how many days of the exposure day.")
class ExperimentMetric:
    kind: ExperimentMetricKind
    days: int


@strawberry.type(description="An A/B test of a brand.")
class CrmExperiment(relay.Node):
    id: relay.NodeID[str]
    name: str
    brand_id: strawberry.ID
    subject_kind: ExperimentSubjectKind
    subject_id: strawberry.ID | None = strawberry.field(
        description="The journey, bonus campaign, or segment (lobby) tested."
    )
    variants: list[ExperimentVariant]
    holdout_ppm: int = strawberry.field(description="Parts per million of players who get no variant.")
    metric: ExperimentMetric
    currency: str = strawberry.field(description="NGR is read in this currency.")
    status: ExperimentStatus
    winner: str | None = strawberry.field(description="What everyone gets once stopped (null: the control).")
    started_at: datetime | None
    stopped_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, experiment: Experiment) -> CrmExperiment:
        design = experiment.design
        return cls(
            id=str(experiment.id),
            name=experiment.name,
            brand_id=strawberry.ID(str(experiment.brand_id)),
            subject_kind=experiment.subject_kind,
            subject_id=strawberry.ID(str(experiment.subject_id)) if experiment.subject_id else None,
            variants=[ExperimentVariant(key=v.key, weight=v.weight) for v in design.variants],
            holdout_ppm=design.holdout_ppm,
            metric=ExperimentMetric(kind=design.metric.kind, days=design.metric.days),
            currency=experiment.currency,
            status=experiment.status,
            winner=experiment.winner,
            started_at=experiment.started_at,
            stopped_at=experiment.stopped_at,
            created_at=experiment.created_at,
        )


@strawberry.type(description="An estimate with its 95 % confidence interval.")
class ConfidenceInterval:
    estimate: float
    low: float
    high: float

    @classmethod
    def of(cls, interval: Interval | None, scale: float = 1.0) -> ConfidenceInterval | None:
        if interval is None:
            return None
        return cls(estimate=interval.estimate * scale, low=interval.low * scale, high=interval.high * scale)


@strawberry.type(description="One variant's figures (variant null: the holdout).")
class ExperimentVariantResult:
    variant: str | None
    control: bool
    exposed: int = strawberry.field(description="Players assigned on exposure.")
    converted: int
    rate: ConfidenceInterval | None = strawberry.field(description="Conversion rate with its Wilson interval.")
    difference: ConfidenceInterval | None = strawberry.field(
        description="Rate minus the control's, with Newcombe's hybrid score interval (null for the control)."
    )
    ngr_mean: Money = strawberry.field(description="NGR per exposed player in the window.")
    ngr_difference: ConfidenceInterval | None = strawberry.field(
        description="Mean NGR minus the control's in major units, with Welch's (normal) interval."
    )

    @classmethod
    def of(cls, result: VariantResult, currency: str, exponent: int) -> ExperimentVariantResult:
        return cls(
            variant=result.variant,
            control=result.control,
            exposed=result.exposed,
            converted=result.converted,
            rate=ConfidenceInterval.of(result.rate),
            difference=ConfidenceInterval.of(result.difference),
            ngr_mean=Money.of(round(result.ngr_mean), currency),
            ngr_difference=ConfidenceInterval.of(result.ngr_difference, 10.0**-exponent),
        )


@strawberry.type(description="An experiment's result as the projections show it now.")
class ExperimentResult:
    metric: ExperimentMetricKind
    days: int
    currency: str
    variants: list[ExperimentVariantResult]

    @classmethod
    def of(cls, result: Result, exponent: int) -> ExperimentResult:
        return cls(
            metric=result.metric,
            days=result.days,
            currency=result.currency,
            variants=[ExperimentVariantResult.of(v, result.currency, exponent) for v in result.variants],
        )


@strawberry.input
class ExperimentVariantInput:
    key: str = text(40)
    weight: int


@strawberry.input
class ExperimentMetricInput:
    kind: ExperimentMetricKind
    days: int


@strawberry.input(description="A draft experiment; `brandCode` for staff of every brand.")
class CreateExperimentInput:
    name: str = text(TITLE)
    subject_kind: ExperimentSubjectKind
    subject_id: strawberry.ID | None = None
    variants: list[ExperimentVariantInput]
    holdout_ppm: int = 0
    metric: ExperimentMetricInput
    currency: str | None = text(8, default=None)
    brand_code: str | None = text(40, default=None)


@strawberry.input(description="A draft's new name, design or currency (what is left out stays).")
class UpdateExperimentInput:
    id: strawberry.ID
    name: str | None = text(TITLE, default=None)
    variants: list[ExperimentVariantInput] | None = None
    holdout_ppm: int | None = None
    metric: ExperimentMetricInput | None = None
    currency: str | None = text(8, default=None)


@strawberry.input
class StartExperimentInput:
    id: strawberry.ID


@strawberry.input(description="Stop a running experiment; `winner` is what every player gets from then on.")
class StopExperimentInput:
    id: strawberry.ID
    winner: str | None = text(40, default=None)


@strawberry.type
class ExperimentPayload:
    experiment: CrmExperiment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
