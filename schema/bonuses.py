"""Bonus types: campaigns, offers, player bonuses with wagering progress and history, the liability report."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import bonuses as m
from schema.base import Money, UserError, to_global_id
from schema.context import Info
from schema.input_limits import PROMO_CODE, REASON, TITLE, text

BonusCampaignKind = m.CampaignKind
strawberry.enum(m.CampaignKind, name="BonusCampaignKind", description="What a campaign gives.")


BonusCampaignStatus = m.CampaignStatus
strawberry.enum(m.CampaignStatus, name="BonusCampaignStatus")


BonusStatus = m.BonusStatus
strawberry.enum(
    m.BonusStatus,
    name="BonusStatus",
    description="issued (waiting for its deposit) → active → completed | forfeited | expired | cancelled; "
    "released: a deposit offer whose deposit failed or was abandoned (it never counted)",
)


@strawberry.type(description="A bonus campaign: its rules are data (docs/bonuses.md lists every rule).")
class BonusCampaign(relay.Node):
    id: relay.NodeID[str]
    name: str
    kind: BonusCampaignKind
    status: BonusCampaignStatus
    promo_code: str | None
    rules: JSON
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime

    @strawberry.field(
        description="How many players the campaign would reach now (staff; one counting query per "
        "campaign, so ask it of one campaign or a few)."
    )  # type: ignore[untyped-decorator]
    async def eligible_players(self, info: Info) -> BonusCampaignReach | None:
        from resolvers.bonuses import campaign_reach

        return await campaign_reach(info, uuid.UUID(self.id))

    @classmethod
    def from_model(cls, row: m.BonusCampaign) -> BonusCampaign:
        return cls(
            id=str(row.id),
            name=row.name,
            kind=BonusCampaignKind(row.kind),
            status=BonusCampaignStatus(row.status),
            promo_code=row.promo_code,
            rules=JSON(row.rules),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            created_at=row.created_at,
        )


@strawberry.type(
    description="Players of the brand who meet, now, every rule of a campaign that can be counted in SQL: "
    "account active, countries, currencies, segments and deposit count, marketing "
    "consent, no time-out or self-exclusion, no bonus in play, claims left, the "
    "jurisdictions' bonus rules (the campaign's status and window taken as running). An "
    "estimate when some rules apply only at claim time."
)
class BonusCampaignReach:
    count: int
    with_marketing_consent: int = strawberry.field(description="Of those, how many accept marketing messages")
    exact: bool = strawberry.field(description="False when rules checked only at claim time narrow it further")
    checked_at_claim: list[str] = strawberry.field(
        description="The rules not counted (a promo code, a qualifying deposit)"
    )


@strawberry.type(description="Wagering: what must be staked (at the games' contributions) before the bonus converts.")
class WageringProgress:
    required: Money
    done: Money
    remaining: Money
    percent: int = strawberry.field(description="Whole percent done, 0 to 100")


@strawberry.type(description="One line of a bonus's history; money steps name their ledger transaction.")
class BonusEvent:
    kind: str
    amount: Money | None
    at: datetime
    actor_type: str
    ledger_transaction_id: strawberry.ID | None
    details: JSON | None


@strawberry.type(description="A bonus a player holds (or held), with the rules it was issued under.")
class PlayerBonus(relay.Node):
    id: relay.NodeID[str]
    campaign_id: strawberry.ID
    kind: BonusCampaignKind
    status: BonusStatus
    currency: str
    amount: Money = strawberry.field(description="Bonus money credited (free rounds: their winnings so far)")
    deposit: Money = strawberry.field(description="The qualifying deposit, for deposit offers")
    wagering: WageringProgress
    max_bet: Money | None
    max_conversion: Money | None
    converted: Money = strawberry.field(description="Paid into cash on conversion")
    free_spins_total: int
    free_spins_left: int
    reward_uuid: str | None = strawberry.field(description="The grant free rounds name (provider `reward_uuid`)")
    issued_at: datetime
    activated_at: datetime | None
    expires_at: datetime | None
    ended_at: datetime | None

    @strawberry.field(description="The bonus's history, oldest first.")  # type: ignore[untyped-decorator]
    async def events(self, info: Info) -> list[BonusEvent]:
        from resolvers.bonuses import bonus_events

        return await bonus_events(info, uuid.UUID(self.id))

    @classmethod
    def from_model(cls, row: m.PlayerBonus) -> PlayerBonus:
        currency = row.currency
        remaining = max(0, row.wagering_required - row.wagering_done)
        percent = 100 if row.wagering_required == 0 else min(100, row.wagering_done * 100 // row.wagering_required)
        return cls(
            id=str(row.id),
            campaign_id=strawberry.ID(str(to_global_id("BonusCampaign", row.campaign_id))),
            kind=BonusCampaignKind(row.kind),
            status=BonusStatus(row.status),
            currency=currency,
            amount=Money.of(row.amount, currency),
            deposit=Money.of(row.deposit_amount, currency),
            wagering=WageringProgress(
                required=Money.of(row.wagering_required, currency),
                done=Money.of(row.wagering_done, currency),
                remaining=Money.of(remaining, currency),
                percent=percent,
            ),
            max_bet=Money.of(row.max_bet, currency) if row.max_bet is not None else None,
            max_conversion=Money.of(row.max_conversion, currency) if row.max_conversion is not None else None,
            converted=Money.of(row.converted, currency),
            free_spins_total=row.spins_total,
            free_spins_left=row.spins_left,
            reward_uuid=row.reward_uuid,
            issued_at=row.issued_at,
            activated_at=row.activated_at,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
        )


@strawberry.type(description="A player's bonuses in play, now and after every change (bets move wagering).")
class BonusProgress:
    trigger: str
    bonuses: list[PlayerBonus]


@strawberry.type(description="Outstanding bonus money and its expected cost, per currency.")
class BonusLiability:
    currency: str
    bonuses_in_play: int
    outstanding: Money = strawberry.field(description="Bonus money players hold now")
    wagering_left: Money
    expected_cost: Money = strawberry.field(description="Convertible money weighted by wagering progress")
    granted_to_date: Money
    converted_to_date: Money


@strawberry.type(description="Whether a player qualifies for a campaign now, and every reason they do not.")
class BonusEligibility:
    eligible: bool
    reasons: list[UserError]


@strawberry.input
class CreateBonusCampaignInput:
    name: str = text(TITLE)
    kind: BonusCampaignKind
    rules: JSON = strawberry.field(
        description="The campaign's rules (docs/bonuses.md); amounts are decimal strings per currency"
    )
    promo_code: str | None = text(PROMO_CODE, default=None)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    brand: str | None = strawberry.field(default=None, description="Brand code (staff scoped to a brand use theirs)")


@strawberry.type
class BonusCampaignPayload:
    campaign: BonusCampaign | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Change a DRAFT or PAUSED campaign; a field left out stays as it is.")
class UpdateBonusCampaignInput:
    campaign_id: strawberry.ID
    name: str | None = text(TITLE, default=strawberry.UNSET)
    rules: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole rules object, validated as at creation (jurisdictions' caps included)",
    )
    promo_code: str | None = text(PROMO_CODE, default=strawberry.UNSET, description="null removes the code")
    starts_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="null: from activation")
    ends_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="null: no end")


@strawberry.input
class SetBonusCampaignStatusInput:
    campaign_id: strawberry.ID
    status: BonusCampaignStatus


@strawberry.input
class ClaimBonusInput:
    code: str | None = text(PROMO_CODE, default=None, description="The promo code")
    campaign_id: strawberry.ID | None = strawberry.field(default=None, description="An offer without a code")


@strawberry.input
class GrantBonusInput:
    player_id: strawberry.ID
    campaign_id: strawberry.ID
    amount: str | None = strawberry.field(
        default=None,
        description="Bonus amount in the player's currency "
        "(deposit offers and cashback, at most the campaign's maximum; "
        "others give the campaign's own)",
    )
    reason: str = text(REASON)


@strawberry.input
class EndBonusInput:
    bonus_id: strawberry.ID
    reason: str = text(REASON, default="")


@strawberry.type
class PlayerBonusPayload:
    bonus: PlayerBonus | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class PayCashbackInput:
    campaign_id: strawberry.ID
    period_end: date | None = strawberry.field(
        default=None,
        description="Pay the campaign's last period that had closed by the start of this day (UTC; default: today)",
    )


@strawberry.type(description="One run of a cashback period: each player is paid once per period, whoever runs it.")
class CashbackRun:
    period_start: date = strawberry.field(description="The period's first day")
    period_end: date = strawberry.field(description="The day after the period's last")
    players_paid: int = strawberry.field(description="Paid by this run")
    paid: list[Money] = strawberry.field(description="How much this run paid, per currency")
    as_bonus: int = strawberry.field(description="Of those paid, how many as a bonus with wagering (the rest as cash)")
    already_paid: int = strawberry.field(description="Paid for this period before (another run)")
    below_minimum: int = strawberry.field(description="Net losers whose cashback is under the campaign's minimum")
    not_eligible: int = strawberry.field(
        description="Not eligible now: account, exclusion, countries, segments, "
        "jurisdiction, or a bonus in play for a bonus payout"
    )


@strawberry.type
class PayCashbackPayload:
    run: CashbackRun | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
