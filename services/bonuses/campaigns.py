"""Campaigns: marketing builds them (rules as data), previews who qualifies, activates and pauses them;
and the one eligibility check every claim, grant and deposit goes through.

A campaign is checked against the bonus rules of every jurisdiction its countries reach at the
brand (services/rg/bonus_rules.toml) when it is created and again when it is activated; a bonus is
checked against the player's own jurisdiction when it is issued. Every change is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.bonuses import BonusCampaign, BonusStatus, CampaignKind, CampaignStatus, PlayerBonus
from models.brands import Brand
from models.payments import Payment, PaymentKind, PaymentStatus
from models.players import Player, PlayerStatus
from models.rg import RgExclusion
from services import audit
from services.bonuses.rules import CampaignRules, cap_violations, caps, parse_rules, refuse_violations
from services.rg import exclusions
from services.rg.profiles import profiles
from services.risk import actions as risk_actions
from services.risk.store import OnSession
from services.scoping import brand_to_write


@dataclass(frozen=True)
class CampaignForm:
    name: str
    kind: CampaignKind
    rules: dict[str, Any]
    promo_code: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    brand_code: str | None = None  # staff scoped to one brand use theirs


def rules_of(campaign: BonusCampaign) -> CampaignRules:
    return parse_rules(CampaignKind(campaign.kind), campaign.rules)


def jurisdictions_reached(brand: Brand, rules: CampaignRules) -> list[str]:
    """The brand's jurisdictions whose players the campaign's countries can reach."""
    wanted = set(rules.eligibility.countries)
    reached = []
    for code in brand.jurisdictions:
        profile = profiles().get(code)
        if profile is None:
            continue
        if not wanted or not profile.countries or wanted & set(profile.countries):
            reached.append(code)
    return reached


def check_caps(brand: Brand, kind: CampaignKind, rules: CampaignRules) -> None:
    found: list[str] = []
    for code in jurisdictions_reached(brand, rules):
        found += cap_violations(kind, rules, code)
    refuse_violations(found)


def _moment(value: datetime | None, field: str) -> datetime | None:
    """A window's bound, which must say its time zone (a campaign starts at one instant everywhere)."""
    if value is not None and value.utcoffset() is None:
        raise DomainError("Give the date with its time zone (for example 2030-01-01T00:00:00Z).", field=field)
    return value


def _check_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at and ends_at and ends_at <= starts_at:
        raise DomainError("A campaign ends after it starts.", field="endsAt")


def _valid_name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= 120:
        raise DomainError("A campaign needs a name of 1 to 120 characters.", field="name")
    return name


def _valid_code(raw: str | None) -> str | None:
    code = raw.strip().upper() if raw and raw.strip() else None
    if code is not None and not (3 <= len(code) <= 40 and code.replace("-", "").replace("_", "").isalnum()):
        raise DomainError("A promo code is 3 to 40 letters, digits, - or _.", field="promoCode")
    return code


async def _save(db: AsyncSession, campaign: BonusCampaign, brand: Brand) -> None:
    """Write the campaign; a promo code already used at the brand is refused (ALREADY_EXISTS)."""
    db.add(campaign)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:
        raise DomainError(
            f"The promo code {campaign.promo_code} is already used at {brand.name}.",
            field="promoCode",
            code=ErrorCode.ALREADY_EXISTS,
        ) from exc


def _terms(campaign: BonusCampaign) -> dict[str, Any]:
    """What the audit records of a campaign's terms."""
    return {
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "promo_code": campaign.promo_code,
        "rules": campaign.rules,
        "starts_at": campaign.starts_at.isoformat() if campaign.starts_at else None,
        "ends_at": campaign.ends_at.isoformat() if campaign.ends_at else None,
    }


async def create_campaign(rt: Runtime, viewer: Viewer, form: CampaignForm) -> BonusCampaign:
    name = _valid_name(form.name)
    rules = parse_rules(form.kind, form.rules)
    _check_window(_moment(form.starts_at, "startsAt"), _moment(form.ends_at, "endsAt"))
    code = _valid_code(form.promo_code)
    async with rt.database.transaction() as db:
        brand = await brand_to_write(db, viewer, form.brand_code, field="brand", what="campaign")
        check_caps(brand, form.kind, rules)
        campaign = BonusCampaign(
            brand_id=brand.id,
            name=name,
            kind=form.kind.value,
            promo_code=code,
            rules=rules.model_dump(mode="json"),
            starts_at=form.starts_at,
            ends_at=form.ends_at,
            created_by=viewer.id if viewer.is_staff else None,
        )
        await _save(db, campaign, brand)
        await audit.append(
            db,
            actor=viewer,
            action="bonus_campaign.create",
            target_type="bonus_campaign",
            target_id=campaign.id,
            brand_id=brand.id,
            after=_terms(campaign),
        )
    return campaign


class Keep(Enum):
    """A change that leaves the field as it is (None clears an optional field)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class CampaignChanges:
    name: str | Keep = KEEP
    rules: dict[str, Any] | Keep = KEEP
    promo_code: str | Keep | None = KEEP
    starts_at: datetime | Keep | None = KEEP
    ends_at: datetime | Keep | None = KEEP


async def update_campaign(
    rt: Runtime, viewer: Viewer, campaign_id: uuid.UUID, changes: CampaignChanges
) -> BonusCampaign:
    """Change a draft or paused campaign (an active one is paused first), validated as at creation,
    jurisdictions' caps included; audited with before and after. Bonuses already issued keep the terms
    they were issued under (their `terms`, max bet and cap, and a waiting deposit offer its rules)."""
    async with rt.database.transaction() as db:
        campaign = await db.get(BonusCampaign, campaign_id, with_for_update=True)
        if campaign is None or (viewer.brand_id is not None and campaign.brand_id != viewer.brand_id):
            raise NotFound("No such campaign.", field="campaignId")
        if campaign.status == CampaignStatus.ACTIVE:
            raise DomainError(
                "Pause the campaign before changing it.", field="campaignId", code=ErrorCode.INVALID_STATE
            )
        before = _terms(campaign)
        name = campaign.name if isinstance(changes.name, Keep) else _valid_name(changes.name)
        rules = (
            rules_of(campaign)
            if isinstance(changes.rules, Keep)
            else parse_rules(CampaignKind(campaign.kind), changes.rules)
        )
        starts_at = (
            campaign.starts_at if isinstance(changes.starts_at, Keep) else _moment(changes.starts_at, "startsAt")
        )
        ends_at = campaign.ends_at if isinstance(changes.ends_at, Keep) else _moment(changes.ends_at, "endsAt")
        _check_window(starts_at, ends_at)
        code = campaign.promo_code if isinstance(changes.promo_code, Keep) else _valid_code(changes.promo_code)
        brand = await db.get(Brand, campaign.brand_id)
        assert brand is not None
        check_caps(brand, CampaignKind(campaign.kind), rules)
        campaign.name, campaign.rules, campaign.promo_code = name, rules.model_dump(mode="json"), code
        campaign.starts_at, campaign.ends_at, campaign.updated_at = starts_at, ends_at, clock.now()
        await _save(db, campaign, brand)
        await audit.append(
            db,
            actor=viewer,
            action="bonus_campaign.update",
            target_type="bonus_campaign",
            target_id=campaign.id,
            brand_id=campaign.brand_id,
            before=before,
            after=_terms(campaign),
        )
    return campaign


async def set_campaign_status(
    rt: Runtime, viewer: Viewer, campaign_id: uuid.UUID, status: CampaignStatus
) -> BonusCampaign:
    """Activate (re-checking the jurisdictions' rules) or pause a campaign; paused offers take no claims."""
    async with rt.database.transaction() as db:
        campaign = await db.get(BonusCampaign, campaign_id, with_for_update=True)
        if campaign is None or (viewer.brand_id is not None and campaign.brand_id != viewer.brand_id):
            raise NotFound("No such campaign.", field="campaignId")
        before = campaign.status
        if status == CampaignStatus.ACTIVE:
            brand = await db.get(Brand, campaign.brand_id)
            assert brand is not None
            check_caps(brand, CampaignKind(campaign.kind), rules_of(campaign))
        campaign.status = status.value
        campaign.updated_at = clock.now()
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action=f"bonus_campaign.{status.value}",
            target_type="bonus_campaign",
            target_id=campaign.id,
            brand_id=campaign.brand_id,
            before={"status": before},
            after={"status": status.value},
        )
    return campaign


async def readable_campaign(db: AsyncSession, viewer: Viewer, campaign_id: uuid.UUID) -> BonusCampaign:
    campaign = await db.get(BonusCampaign, campaign_id)
    if campaign is None or (viewer.brand_id is not None and campaign.brand_id != viewer.brand_id):
        raise NotFound("No such campaign.", field="campaignId")
    return campaign


# ---- eligibility ----------------------------------------------------------------------------------


# Where a campaign's amount per currency is: a player whose currency has none cannot have the bonus.
AMOUNT_TABLE = {
    CampaignKind.DEPOSIT_MATCH: "max_bonus",
    CampaignKind.RELOAD: "max_bonus",
    CampaignKind.NO_DEPOSIT: "fixed_amount",
    CampaignKind.FREE_SPINS: "spin_bet",
    CampaignKind.CASHBACK: "cashback_max",
}


async def successful_deposits(db: AsyncSession, player_id: uuid.UUID) -> int:
    return int(
        await db.scalar(
            select(func.count())
            .select_from(Payment)
            .where(
                col(Payment.player_id) == player_id,
                col(Payment.kind) == PaymentKind.DEPOSIT.value,
                col(Payment.status) == PaymentStatus.SUCCEEDED.value,
            )
        )
        or 0
    )


# A deposit offer released by its failed or abandoned deposit never counted: not a claim, not a bonus.
_COUNTED = col(PlayerBonus.status) != BonusStatus.RELEASED.value


async def claims_of(db: AsyncSession, campaign_id: uuid.UUID, player_id: uuid.UUID) -> int:
    """The player's claims of the campaign that count (released offers do not)."""
    return int(
        await db.scalar(
            select(func.count())
            .select_from(PlayerBonus)
            .where(col(PlayerBonus.campaign_id) == campaign_id, col(PlayerBonus.player_id) == player_id, _COUNTED)
        )
        or 0
    )


async def next_claim_number(db: AsyncSession, campaign_id: uuid.UUID, player_id: uuid.UUID) -> int:
    """The number of a new claim: after every earlier one, released included (the unique claim key)."""
    return (
        int(
            await db.scalar(
                select(func.max(PlayerBonus.claim_number)).where(
                    col(PlayerBonus.campaign_id) == campaign_id, col(PlayerBonus.player_id) == player_id
                )
            )
            or 0
        )
        + 1
    )


class Fact(StrEnum):
    """What a reason tells about the player beyond the offer's own terms. Whoever may not know it (a
    role denied the field that protects it, resolvers/bonuses.py) is told only that the player does
    not qualify."""

    RESPONSIBLE_GAMBLING = "responsible_gambling"  # a time-out or self-exclusion; the player's jurisdiction
    BONUSES = "bonuses"  # the player's bonuses and claims


class Reason(NamedTuple):
    code: ErrorCode
    message: str
    reveals: tuple[Fact, ...] = ()


async def reasons_not_eligible(
    db: AsyncSession,
    campaign: BonusCampaign,
    player: Player,
    *,
    manual: bool = False,
    code: str | None = None,
    cashback: Cashback | None = None,
) -> list[Reason]:
    """Why this player may not have this campaign's bonus now (empty: they may). A manual grant skips
    the marketing conditions (window, code, segments, countries) but never RG, the jurisdiction's
    rules, or one bonus in play at a time. A cashback payout (the period's run checked the campaign's
    status and window, and its period key is its claim) keeps countries, currencies and segments, and
    minds a bonus in play only when it pays a bonus rather than cash."""
    found: list[Reason] = []
    rules = rules_of(campaign)
    now = clock.now()
    if player.brand_id != campaign.brand_id:
        return [Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is for another brand.")]
    if player.status != PlayerStatus.ACTIVE:
        found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The account is not active."))
    if await exclusions.active(db, player.id, now) is not None:  # no marketing to an excluded player
        found.append(
            Reason(
                ErrorCode.BONUS_NOT_ELIGIBLE,
                "No offers during a time-out or self-exclusion.",
                (Fact.RESPONSIBLE_GAMBLING,),
            )
        )
    eligibility = rules.eligibility
    if cashback is not None:
        if eligibility.countries and player.country not in eligibility.countries:
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is not available in your country."))
        found += await _segment_reasons(db, player, eligibility.segments)
    elif not manual:
        if campaign.status != CampaignStatus.ACTIVE:
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is not running."))
        if (campaign.starts_at and now < campaign.starts_at) or (campaign.ends_at and now >= campaign.ends_at):
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is outside its dates."))
        if campaign.promo_code and (code or "").strip().upper() != campaign.promo_code:
            found.append(Reason(ErrorCode.BONUS_CODE_INVALID, "The offer needs its promo code."))
        if eligibility.countries and player.country not in eligibility.countries:
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is not available in your country."))
        deposits = await successful_deposits(db, player.id)
        found += await _segment_reasons(db, player, eligibility.segments, deposits)
        if eligibility.first_deposit_only and deposits > 0:
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is for a first deposit."))
        if eligibility.deposit_number is not None and deposits + 1 != eligibility.deposit_number:
            found.append(
                Reason(ErrorCode.BONUS_NOT_ELIGIBLE, f"The offer is for deposit number {eligibility.deposit_number}.")
            )
        if await claims_of(db, campaign.id, player.id) >= eligibility.max_claims_per_player:
            found.append(Reason(ErrorCode.BONUS_ALREADY_CLAIMED, "You have already had this offer.", (Fact.BONUSES,)))
    if (manual or cashback is not None) and (await risk_actions.in_force(OnSession(db), player.id)).bonuses_blocked:
        # Risk's `block_bonuses` (or `block_account`) holds for every way bonus money reaches a player: staff's
        # grant (no override: the risk desk lifts the restriction first) and cashback. A claim reads it in its
        # own risk decision (services/risk/inline.py), with the rules it evaluates.
        found.append(Reason(ErrorCode.RISK_BONUS_BLOCKED, "Bonuses are blocked for this account."))
    currency = player.currency
    kind = CampaignKind(campaign.kind)
    amount_given = manual and kind in (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD, CampaignKind.CASHBACK)
    if (eligibility.currencies and currency not in eligibility.currencies) or (
        not amount_given and currency not in getattr(rules, AMOUNT_TABLE[kind])
    ):
        found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, f"The offer is not available in {currency}."))
    for message in cap_violations(kind, rules, player.jurisdiction):
        found.append(Reason(ErrorCode.BONUS_NOT_ALLOWED, message, (Fact.RESPONSIBLE_GAMBLING,)))
    earlier = (
        await db.scalars(select(PlayerBonus.status).where(col(PlayerBonus.player_id) == player.id, _COUNTED))
    ).all()
    if caps(player.jurisdiction).first_occasion_only and earlier:
        message = "Your jurisdiction allows a bonus only on the first occasion."
        found.append(Reason(ErrorCode.BONUS_NOT_ALLOWED, message, (Fact.RESPONSIBLE_GAMBLING, Fact.BONUSES)))
    if any(BonusStatus(status).in_play for status in earlier) and cashback != Cashback.CASH:
        message = "You already have a bonus in play: finish or forfeit it first."
        found.append(Reason(ErrorCode.BONUS_ACTIVE, message, (Fact.BONUSES,)))
    return found


class Cashback(Enum):
    """How a cashback payout reaches the player: a bonus with wagering, or cash."""

    BONUS = "bonus"
    CASH = "cash"


async def _segment_reasons(
    db: AsyncSession, player: Player, segments: list[str], deposits: int | None = None
) -> list[Reason]:
    found: list[Reason] = []
    if {"new", "depositor"} & set(segments):
        deposits = await successful_deposits(db, player.id) if deposits is None else deposits
        if "new" in segments and deposits > 0:
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is for players who have not deposited yet."))
        if "depositor" in segments and deposits == 0:
            found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is for players who have deposited."))
    if "marketing_consent" in segments and not player.marketing_consent:
        found.append(Reason(ErrorCode.BONUS_NOT_ELIGIBLE, "The offer is for players who accept marketing."))
    return found


def refuse(found: list[Reason], field: str | None = None) -> None:
    if found:
        raise DomainError(found[0].message, code=found[0].code, field=field)


# ---- reach: how many players a campaign would reach -------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Players of the brand who meet, now, every rule of the campaign that SQL can evaluate; `exact`
    is false when some rule is checked only at claim time (`checked_at_claim` names them)."""

    players: int
    with_marketing_consent: int
    exact: bool
    checked_at_claim: list[str]


async def reach(db: AsyncSession, campaign: BonusCampaign) -> Reach:
    """One counting statement over the brand's players, from the rules SQL can evaluate: account active,
    countries, currencies (and an amount in the player's currency), segments and deposit count
    (new, depositor, first deposit, N-th deposit), marketing consent, no time-out or self-exclusion, no
    bonus in play, claims left, and the jurisdictions' bonus rules. The campaign's status and window are
    taken as running."""
    rules = rules_of(campaign)
    kind = CampaignKind(campaign.kind)
    eligibility = rules.eligibility
    brand = await db.get(Brand, campaign.brand_id)
    assert brand is not None
    now = clock.now()
    player_id = col(Player.id)
    deposits = (
        select(func.count())
        .select_from(Payment)
        .where(
            col(Payment.player_id) == player_id,
            col(Payment.kind) == PaymentKind.DEPOSIT.value,
            col(Payment.status) == PaymentStatus.SUCCEEDED.value,
        )
        .scalar_subquery()
    )
    bonuses = select(PlayerBonus.id).where(col(PlayerBonus.player_id) == player_id, _COUNTED)
    in_play = bonuses.where(col(PlayerBonus.status).in_([BonusStatus.ISSUED.value, BonusStatus.ACTIVE.value]))
    claims = (
        select(func.count())
        .select_from(PlayerBonus)
        .where(col(PlayerBonus.player_id) == player_id, col(PlayerBonus.campaign_id) == campaign.id, _COUNTED)
        .scalar_subquery()
    )
    excluded = select(RgExclusion.id).where(
        col(RgExclusion.player_id) == player_id,
        col(RgExclusion.starts_at) <= now,
        (col(RgExclusion.ends_at).is_(None)) | (col(RgExclusion.ends_at) > now),
    )
    where = [
        col(Player.brand_id) == campaign.brand_id,
        col(Player.status) == PlayerStatus.ACTIVE.value,
        ~excluded.exists(),
        ~in_play.exists(),
        claims < eligibility.max_claims_per_player,
    ]
    if eligibility.countries:
        where.append(col(Player.country).in_(eligibility.countries))
    currencies = set(getattr(rules, AMOUNT_TABLE[kind]))
    if eligibility.currencies:
        currencies &= set(eligibility.currencies)
    where.append(col(Player.currency).in_(sorted(currencies)))
    segments = set(eligibility.segments)
    if "new" in segments or eligibility.first_deposit_only:
        where.append(deposits == 0)
    if "depositor" in segments:
        where.append(deposits > 0)
    if eligibility.deposit_number is not None:
        where.append(deposits == eligibility.deposit_number - 1)
    if "marketing_consent" in segments:
        where.append(col(Player.marketing_consent).is_(True))
    refused = [code for code in brand.jurisdictions if cap_violations(kind, rules, code)]
    if refused:
        where.append(col(Player.jurisdiction).not_in(refused))
    first_only = [code for code in brand.jurisdictions if caps(code).first_occasion_only]
    if first_only:
        where.append(col(Player.jurisdiction).not_in(first_only) | ~bonuses.exists())
    row = (
        await db.execute(
            select(func.count(), func.count().filter(col(Player.marketing_consent).is_(True)))
            .select_from(Player)
            .where(*where)
        )
    ).one()
    at_claim = []
    if campaign.promo_code:
        at_claim.append("promo code: only players who quote it")
    if kind in (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD):
        at_claim.append("the qualifying deposit (minimum, and that it succeeds)")
    return Reach(int(row[0]), int(row[1]), not at_claim, at_claim)
