"""Bonus resolvers: thin, each one service call (services/bonuses)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from sqlmodel import col
from strawberry.scalars import JSON

from core import events
from core.catalogue import bonuses as bonus_lifecycle
from core.catalogue import money
from core.errors import DomainError, ErrorCode, NotFound, forbidden
from core.runtime import Runtime
from models import bonuses as m
from resolvers.common import payload_errors, require_subject
from schema.base import Money, UserError, node_uuid, to_global_id
from schema.bonuses import (
    BonusCampaign,
    BonusCampaignPayload,
    BonusCampaignReach,
    BonusEligibility,
    BonusEvent,
    BonusLiability,
    BonusProgress,
    CashbackRun,
    ClaimBonusInput,
    CreateBonusCampaignInput,
    EndBonusInput,
    GrantBonusInput,
    PayCashbackInput,
    PayCashbackPayload,
    PlayerBonus,
    PlayerBonusPayload,
    SetBonusCampaignStatusInput,
    UpdateBonusCampaignInput,
)
from schema.context import Info
from services import players
from services.bonuses import campaigns, cashback, issue, queries

# ---- staff: campaigns, grants, reports -----------------------------------------------------------


async def bonus_campaigns(info: Info) -> list[BonusCampaign]:
    async with info.context.rt.database.session() as db:
        rows = (
            await db.scalars(
                queries.readable_campaigns(info.context.viewer)
                .order_by(col(m.BonusCampaign.created_at).desc())
                .limit(100)
            )
        ).all()
    return [BonusCampaign.from_model(row) for row in rows]


@payload_errors(BonusCampaignPayload)
async def create_bonus_campaign(info: Info, input: CreateBonusCampaignInput) -> BonusCampaignPayload:
    require_subject(info)
    if not isinstance(input.rules, dict):
        raise DomainError("The rules are a JSON object.", field="rules")
    form = campaigns.CampaignForm(
        name=input.name,
        kind=m.CampaignKind(input.kind.value),
        rules=dict(input.rules),
        promo_code=input.promo_code,
        starts_at=input.starts_at,
        ends_at=input.ends_at,
        brand_code=input.brand,
    )
    row = await campaigns.create_campaign(info.context.rt, info.context.viewer, form)
    return BonusCampaignPayload(campaign=BonusCampaign.from_model(row))


@payload_errors(BonusCampaignPayload)
async def update_bonus_campaign(info: Info, input: UpdateBonusCampaignInput) -> BonusCampaignPayload:
    require_subject(info)
    if input.name is None or input.rules is None:
        raise DomainError(
            "A campaign keeps a name and rules: leave the field out to keep it.",
            field="name" if input.name is None else "rules",
        )
    if input.rules is not strawberry.UNSET and not isinstance(input.rules, dict):
        raise DomainError("The rules are a JSON object.", field="rules")

    def given(value: Any) -> Any:
        return campaigns.KEEP if value is strawberry.UNSET else value

    changes = campaigns.CampaignChanges(
        name=given(input.name),
        rules=given(input.rules),
        promo_code=given(input.promo_code),
        starts_at=given(input.starts_at),
        ends_at=given(input.ends_at),
    )
    row = await campaigns.update_campaign(
        info.context.rt, info.context.viewer, node_uuid(input.campaign_id, "BonusCampaign"), changes
    )
    return BonusCampaignPayload(campaign=BonusCampaign.from_model(row))


@payload_errors(BonusCampaignPayload)
async def set_bonus_campaign_status(info: Info, input: SetBonusCampaignStatusInput) -> BonusCampaignPayload:
    require_subject(info)
    row = await campaigns.set_campaign_status(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.campaign_id, "BonusCampaign"),
        m.CampaignStatus(input.status.value),
    )
    return BonusCampaignPayload(campaign=BonusCampaign.from_model(row))


async def bonus_eligibility(info: Info, campaign_id: strawberry.ID, player_id: strawberry.ID) -> BonusEligibility:
    """Preview: would this player qualify for this campaign now (and why not)?"""
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        try:
            campaign = await campaigns.readable_campaign(db, viewer, node_uuid(campaign_id, "BonusCampaign"))
            player = await players.get_readable(db, viewer, node_uuid(player_id, "Player"))
        except NotFound as exc:
            return BonusEligibility(eligible=False, reasons=[UserError.from_domain(exc)])
        found = await campaigns.reasons_not_eligible(db, campaign, player, code=campaign.promo_code)
    return BonusEligibility(eligible=not found, reasons=_told(info, found))


# What a reason must be allowed to reveal: the fields that protect the fact elsewhere.
ELIGIBILITY_NEEDS: dict[campaigns.Fact, tuple[str, ...]] = {
    campaigns.Fact.RESPONSIBLE_GAMBLING: ("Player.responsibleGambling",),
    campaigns.Fact.BONUSES: ("Player.bonuses",),
}
NOT_QUALIFIED = "The player does not qualify for offers now."


def _told(info: Info, found: list[campaigns.Reason]) -> list[UserError]:
    """The reasons the viewer may know; when none of them is, only that the player does not qualify
    (a role denied the player's RG view never learns of an exclusion from a refusal)."""
    allowed = info.context.allowed
    told = [r for r in found if all(c in allowed for fact in r.reveals for c in ELIGIBILITY_NEEDS[fact])]
    if found and not told:
        told = [campaigns.Reason(ErrorCode.BONUS_NOT_ELIGIBLE, NOT_QUALIFIED)]
    return [UserError(code=r.code, field=None, message=r.message) for r in told]


async def campaign_reach(info: Info, campaign_id: uuid.UUID) -> BonusCampaignReach | None:
    async with info.context.rt.database.session() as db:
        campaign = await db.scalar(
            queries.readable_campaigns(info.context.viewer).where(col(m.BonusCampaign.id) == campaign_id)
        )
        if campaign is None:
            return None
        found = await campaigns.reach(db, campaign)
    return BonusCampaignReach(
        count=found.players,
        with_marketing_consent=found.with_marketing_consent,
        exact=found.exact,
        checked_at_claim=found.checked_at_claim,
    )


async def bonus_liability(info: Info) -> list[BonusLiability]:
    async with info.context.rt.database.session() as db:
        rows = await queries.liability(db, info.context.viewer)
    return [
        BonusLiability(
            currency=r.currency,
            bonuses_in_play=r.bonuses_in_play,
            outstanding=Money.of(r.outstanding, r.currency),
            wagering_left=Money.of(r.wagering_left, r.currency),
            expected_cost=Money.of(r.expected_cost, r.currency),
            granted_to_date=Money.of(r.granted_to_date, r.currency),
            converted_to_date=Money.of(r.converted_to_date, r.currency),
        )
        for r in rows
    ]


@payload_errors(PlayerBonusPayload)
async def grant_bonus(info: Info, input: GrantBonusInput) -> PlayerBonusPayload:
    require_subject(info)
    row = await issue.grant(
        info.context.rt,
        info.context.viewer,
        player_id=node_uuid(input.player_id, "Player"),
        campaign_id=node_uuid(input.campaign_id, "BonusCampaign"),
        amount=input.amount,
        reason=input.reason,
    )
    return PlayerBonusPayload(bonus=PlayerBonus.from_model(row))


@payload_errors(PlayerBonusPayload)
async def cancel_bonus(info: Info, input: EndBonusInput) -> PlayerBonusPayload:
    require_subject(info)
    if len(input.reason.strip()) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    row = await issue.cancel(
        info.context.rt, info.context.viewer, node_uuid(input.bonus_id, "PlayerBonus"), input.reason.strip()
    )
    return PlayerBonusPayload(bonus=PlayerBonus.from_model(row))


@payload_errors(PayCashbackPayload)
async def pay_cashback(info: Info, input: PayCashbackInput) -> PayCashbackPayload:
    require_subject(info)
    run = await cashback.pay_cashback(
        info.context.rt,
        node_uuid(input.campaign_id, "BonusCampaign"),
        period_end=input.period_end,
        actor=info.context.viewer,
    )
    return PayCashbackPayload(
        run=CashbackRun(
            period_start=run.period.first,
            period_end=run.period.after,
            players_paid=run.players_paid,
            paid=[Money.of(amount, currency) for currency, amount in sorted(run.paid.items())],
            as_bonus=run.as_bonus,
            already_paid=run.already_paid,
            below_minimum=run.below_minimum,
            not_eligible=run.not_eligible,
        )
    )


# ---- players ------------------------------------------------------------------------------------


async def bonus_offers(info: Info) -> list[BonusCampaign]:
    viewer = info.context.viewer
    if not viewer.is_player:
        raise forbidden("Offers are for players.")
    async with info.context.rt.database.session() as db:
        rows = await queries.offers(db, viewer)
    return [BonusCampaign.from_model(row) for row in rows]


@payload_errors(PlayerBonusPayload)
async def claim_bonus(info: Info, input: ClaimBonusInput) -> PlayerBonusPayload:
    require_subject(info)
    campaign_id = node_uuid(input.campaign_id, "BonusCampaign") if input.campaign_id else None
    row = await issue.claim(info.context.rt, info.context.viewer, code=input.code, campaign_id=campaign_id)
    return PlayerBonusPayload(bonus=PlayerBonus.from_model(row))


@payload_errors(PlayerBonusPayload)
async def forfeit_bonus(info: Info, input: EndBonusInput) -> PlayerBonusPayload:
    require_subject(info)
    row = await issue.forfeit(info.context.rt, info.context.viewer, node_uuid(input.bonus_id, "PlayerBonus"))
    return PlayerBonusPayload(bonus=PlayerBonus.from_model(row))


async def player_bonuses(info: Info, player_id: uuid.UUID) -> list[PlayerBonus]:
    async with info.context.rt.database.session() as db:
        rows = await queries.bonuses_of(db, info.context.viewer, player_id)
    return [PlayerBonus.from_model(row) for row in rows]


async def bonus_events(info: Info, bonus_id: uuid.UUID) -> list[BonusEvent]:
    found = await info.context.loaders.bonus_events.load(bonus_id)
    return [
        BonusEvent(
            kind=e.kind,
            amount=Money.of(e.amount, currency) if e.amount is not None else None,
            at=e.at,
            actor_type=e.actor_type,
            ledger_transaction_id=strawberry.ID(str(to_global_id("LedgerTransaction", e.ledger_transaction_id)))
            if e.ledger_transaction_id
            else None,
            details=JSON(e.details) if e.details is not None else None,
        )
        for e, currency in found
    ]


# ---- the subscription -----------------------------------------------------------------------------


async def _in_play(rt: Runtime, player_id: uuid.UUID) -> list[PlayerBonus]:
    async with rt.database.session() as db:
        rows = await queries.in_play(db, player_id)
    return [PlayerBonus.from_model(row) for row in rows]


async def bonus_progress(info: Info) -> AsyncGenerator[BonusProgress, None]:
    """The player's bonuses in play, now and after each money movement or bonus change (re-read from the
    database, as balanceChanged does: the event only says that something moved)."""
    from resolvers.subscriptions import _recheck, _require, idle_recheck_seconds

    viewer = info.context.viewer
    _require(info, "Subscription.bonusProgress")
    if not viewer.is_player or viewer.id is None:
        raise forbidden("Only players follow their bonus progress.")
    rt = info.context.rt
    player_id = viewer.id
    async with events.subscribed(rt, events.player_channel(player_id)) as listener:
        yield BonusProgress(trigger="snapshot", bonuses=await _in_play(rt, player_id))
        while True:
            event: dict[str, Any] | None = await listener.next(within=idle_recheck_seconds())
            await _recheck(info, "Subscription.bonusProgress")
            type_ = event.get("type") if event is not None else None
            if event is None or not (money.is_movement(type_) or bonus_lifecycle.is_lifecycle(type_)):
                continue
            data = event.get("data") or {}
            # What moved: a ledger kind (game_bet, bonus_grant, ...) or a bonus's new status (active, ...).
            trigger = data.get("status") if bonus_lifecycle.is_lifecycle(type_) else data.get("kind")
            yield BonusProgress(trigger=str(trigger or type_), bonuses=await _in_play(rt, player_id))
