"""An experiment's result: per variant (and the holdout) the exposed players, the conversions, the rate with its
Wilson interval, the difference to the control with Newcombe's interval, and NGR per exposed player with
Welch's interval of the difference to the control (stats.py).

Read in one statement from `crm_experiment_assignments` and `report_player_days` (the report projection, so a
result lags the events by the projection's delay). A player's window is the exposure day and the `days` days
after it (UTC days, the projection's grain: activity earlier on the exposure day counts). `first_deposit`
converts when the player's first deposit day ever falls in the window. NGR is stakes - wins - bonus cost in the
experiment's currency (minor units), zero for a player without activity.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.crm.experiments.definitions import Experiment, MetricKind
from services.crm.experiments.stats import Interval, Moments, mean_difference, newcombe, wilson

_CONVERTED = {
    MetricKind.DEPOSITED: "deposited",
    MetricKind.NGR: "deposited",
    MetricKind.BET: "bet",
    MetricKind.FIRST_DEPOSIT: "first_deposit_day BETWEEN d0 AND d1",
}

_RESULT = """
WITH exposed AS (
    SELECT player_id, variant, (exposed_at AT TIME ZONE 'UTC')::date AS d0,
        (exposed_at AT TIME ZONE 'UTC')::date + CAST(:days AS integer) AS d1
    FROM crm_experiment_assignments WHERE experiment_id = :experiment
), per_player AS (
    SELECT e.variant, e.d0, e.d1,
        coalesce(bool_or(r.deposit_count > 0 AND r.day BETWEEN e.d0 AND e.d1), false) AS deposited,
        coalesce(bool_or(r.bet_count > 0 AND r.day BETWEEN e.d0 AND e.d1), false) AS bet,
        min(r.day) FILTER (WHERE r.deposit_count > 0) AS first_deposit_day,
        coalesce(sum(r.stakes - r.wins - r.bonus_cost)
            FILTER (WHERE r.currency = :currency AND r.day BETWEEN e.d0 AND e.d1), 0)::float8 AS ngr
    FROM exposed e LEFT JOIN report_player_days r ON r.player_id = e.player_id
    GROUP BY e.player_id, e.variant, e.d0, e.d1
)
SELECT variant, count(*) AS exposed, count(*) FILTER (WHERE {converted}) AS converted,
    sum(ngr) AS ngr, sum(ngr * ngr) AS ngr_squares
FROM per_player GROUP BY variant
"""


@dataclass(frozen=True)
class VariantResult:
    variant: str | None  # None: the holdout
    control: bool
    exposed: int
    converted: int
    rate: Interval | None
    difference: Interval | None  # rate - the control's (None for the control itself, or without data)
    ngr_mean: float  # minor units per exposed player
    ngr_difference: Interval | None


@dataclass(frozen=True)
class Result:
    metric: MetricKind
    days: int
    currency: str
    variants: list[VariantResult]


async def result_of(db: AsyncSession, experiment: Experiment) -> Result:
    metric = experiment.design.metric
    statement = text(_RESULT.format(converted=_CONVERTED[metric.kind]))
    rows = await db.execute(
        statement, {"experiment": experiment.id, "days": metric.days, "currency": experiment.currency}
    )
    found: dict[str | None, tuple[int, int, Moments]] = {}
    for row in rows.mappings():
        n = int(row["exposed"])
        found[row["variant"]] = (n, int(row["converted"]), Moments(n, float(row["ngr"]), float(row["ngr_squares"])))
    empty = (0, 0, Moments(0, 0.0, 0.0))
    control_n, control_x, control_m = found.get(experiment.control, empty)
    keys: list[str | None] = [variant.key for variant in experiment.design.variants]
    if experiment.design.holdout_ppm or None in found:
        keys.append(None)
    results = []
    for key in keys:
        n, x, moments = found.get(key, empty)
        is_control = key == experiment.control
        results.append(
            VariantResult(
                variant=key,
                control=is_control,
                exposed=n,
                converted=x,
                rate=wilson(x, n),
                difference=None if is_control else newcombe(x, n, control_x, control_n),
                ngr_mean=moments.mean,
                ngr_difference=None if is_control else mean_difference(moments, control_m),
            )
        )
    return Result(metric=metric.kind, days=metric.days, currency=experiment.currency, variants=results)
