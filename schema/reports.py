"""Reports: KPIs over the projections of the event stream (services/reports, docs/reports.md). Every
figure is an aggregate (no player appears in a report); Casbin decides per field who sees money."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry

from schema.base import Money, UserError
from schema.input_limits import text


@strawberry.enum(
    description="How a report groups days: UTC days, ISO weeks (Monday first), calendar months, or the whole "
    "range as one period (its totals: a player active on several days counts once)."
)
class ReportPeriod(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    RANGE = "range"


@strawberry.type(description="One currency's figures over one period (definitions in docs/reports.md).")
class ReportMoney:
    # Nullable: a role may read some figures and not others (Casbin per field, authz/policy.csv).
    currency: str
    turnover: Money | None = strawberry.field(description="Stakes, cash and bonus, net of rolled-back stakes.")
    turnover_cash: Money | None
    turnover_bonus: Money | None
    wins: Money | None = strawberry.field(description="Wins paid, net of rolled-back wins.")
    ggr: Money | None = strawberry.field(description="Gross gaming revenue: turnover minus wins.")
    bonus_cost: Money | None = strawberry.field(
        description="Bonus money granted and cash bonuses paid, less taken back."
    )
    ngr: Money | None = strawberry.field(description="Net gaming revenue: GGR minus the bonus cost.")
    hold: Decimal | None = strawberry.field(description="GGR / turnover (0.0523 is 5.23 %); null without turnover.")
    deposits: Money | None
    deposit_count: int | None
    withdrawals: Money | None = strawberry.field(description="Withdrawals paid out.")
    withdrawal_count: int | None
    ftd_count: int | None = strawberry.field(description="First-time deposits made in the period.")
    ftd_amount: Money | None
    chargebacks: Money | None = strawberry.field(
        description="Taken back by PSPs (from cash and as the player's debt), less disputes won back."
    )
    chargeback_count: int | None
    payouts_returned: Money | None = strawberry.field(description="Paid withdrawals the bank sent back.")
    net_deposits: Money | None = strawberry.field(
        description="Deposits minus withdrawals paid, minus chargebacks, plus payouts returned."
    )
    active_players: int | None = strawberry.field(description="Players who placed at least one bet.")
    paying_players: int | None = strawberry.field(description="Players who made at least one deposit.")
    arppu: Money | None = strawberry.field(description="NGR per paying player; null without paying players.")


@strawberry.type(description="The figures of one period: per original currency, and converted.")
class ReportFigures:
    start: date
    end: date
    by_currency: list[ReportMoney]
    converted: ReportMoney | None = strawberry.field(
        description="Everything in the reporting currency at each day's reference rate (null: not asked)."
    )


@strawberry.type(description="Registrations of one period and their conversion to a first deposit.")
class ReportRegistrations:
    start: date
    end: date
    registrations: int
    depositors: int = strawberry.field(description="Of those registered in the period, players with a first deposit.")
    conversion: Decimal | None = strawberry.field(description="depositors / registrations")
    ftd_count: int = strawberry.field(description="First deposits made in the period, whenever their players joined.")


@strawberry.type(description="Dn retention: of a cohort's players whose day n has come, those who bet on it.")
class ReportRetention:
    day: int
    eligible: int
    retained: int
    rate: Decimal | None


@strawberry.type(description="Players registered in one period, and how many came back to play.")
class ReportCohort:
    start: date
    end: date
    size: int
    retention: list[ReportRetention]


@strawberry.type(description="A registration cohort's cumulative NGR per registered player.")
class ReportCohortValue:
    start: date
    end: date
    size: int
    ngr: list[Money] = strawberry.field(description="The cohort's NGR to date, per currency.")
    ltv: list[Money] = strawberry.field(description="NGR per registered player, per currency.")
    converted_ngr: Money | None
    converted_ltv: Money | None


@strawberry.type(description="One game's figures over the range (per currency, or converted).")
class ReportGame:
    provider: str
    game: str
    turnover: Money
    wins: Money
    ggr: Money
    hold: Decimal | None
    bet_count: int
    win_count: int
    rollback_count: int


@strawberry.enum(description="What an export holds (aggregates only).")
class ReportExportKind(Enum):
    FIGURES = "figures"
    GAMES = "games"
    CASHIER = "cashier"


@strawberry.enum
class ReportFormat(Enum):
    CSV = "csv"
    PARQUET = "parquet"


@strawberry.type(description="A report file to download: the same rows give the same bytes.")
class ReportFile:
    filename: str
    media_type: str
    rows: int
    sha256: str
    content_base64: str


@strawberry.type(description="A regulatory or tax return as filed: its exact bytes and their SHA-256 never change.")
class RegulatoryReturn:
    id: strawberry.ID
    template: str
    jurisdiction: str
    period_start: date
    period_end: date
    revision: int = strawberry.field(description="1 as first filed; an amendment is the next revision.")
    sha256: str
    generated_at: datetime
    file: ReportFile


@strawberry.input(description="File the return of a finished period for the request's brand.")
class FileRegulatoryReturnInput:
    template: str = text(64, description="A template of services/reports/returns.toml, e.g. uk-ggy-quarterly")
    period: str = text(16, description="2026-11 for a monthly return, 2026-Q3 for a quarterly one")
    amend: bool = strawberry.field(
        default=False, description="File changed figures of a period already filed as its next revision."
    )


@strawberry.type
class FileRegulatoryReturnPayload:
    regulatory_return: RegulatoryReturn | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
