"""Cashback: a percentage of each player's net cash losses over a period, between a minimum and a maximum,
paid once per player and period — as cash, or as a bonus when the campaign sets wagering.

Periods are consecutive runs of `cashback_period_days` whole days (UTC dates) from the campaign's first
day (`starts_at`, else its creation); the last one ends with the campaign (`ends_at`). A period is paid
once it has closed: by the bonus worker when it closes (campaigns with `cashback_auto_pay`, the
default), by staff (`payCashback`) or by cron (`croupier bonuses cashback`). Any of them may run it
again, or at the same time as another: each payout is decided under the player's cash-row lock, where
an earlier payout of the period (its `period_key`) is found, and a unique (campaign, player, period)
index backs that up, so a player is paid once per period whoever runs it and how often.

What counts as a loss is the player's own money: stakes minus wins of their cash, as the RG counters
record them (`rg_activity_days`, the cash part of every stake and win, a rollback undoing its original
on the original's day), over the period's days. Bonus money, free rounds and rolled-back play do not
count. Net winners get nothing. A campaign that is not active pays nothing; players who may not have
it now (account not active, a time-out or self-exclusion — no marketing money to an excluded player —,
countries, currencies, segments, the jurisdiction's bonus rules, and for a bonus payout a bonus in
play) are skipped for that period. A stake rolled back after its period was paid over-paid it: the next
payout subtracts that (cashback_recovery.py), never the player's cash.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import SYSTEM, Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.logging import get_logger
from core.money import format_amount
from core.runtime import Runtime
from models.bonuses import BonusCampaign, BonusStatus, CampaignKind, CampaignStatus, PlayerBonus
from models.players import Player
from services import audit
from services.bonuses import books, cashback_recovery, events
from services.bonuses.campaigns import Cashback, next_claim_number, reasons_not_eligible, rules_of
from services.bonuses.issue import issue_bonus, lock_cash
from services.bonuses.rules import CampaignRules
from services.wallet import Actor

log = get_logger(__name__)
PAYER = Actor("system")

_NET_LOSSES = text("""
SELECT a.player_id, sum(a.wagered - a.won) AS lost FROM rg_activity_days a
JOIN players p ON p.id = a.player_id AND p.currency = a.currency
WHERE p.brand_id = :brand AND a.currency = :currency AND a.day >= :first AND a.day < :after
GROUP BY a.player_id HAVING sum(a.wagered - a.won) > 0
ORDER BY a.player_id
""")


@dataclass(frozen=True)
class Period:
    first: date  # its first day
    after: date  # the day after its last

    @property
    def key(self) -> str:
        return f"{self.first.isoformat()}..{self.after.isoformat()}"


@dataclass
class CashbackRun:
    """What one run of a period did: players paid and how much per currency (`as_bonus`: of those, paid as
    a bonus with wagering), players paid before (another run), skipped below the minimum or not eligible."""

    campaign_id: uuid.UUID
    period: Period
    players_paid: int = 0
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    as_bonus: int = 0
    already_paid: int = 0
    below_minimum: int = 0
    not_eligible: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "period": self.period.key,
            "players_paid": self.players_paid,
            "as_bonus": self.as_bonus,
            "paid": {currency: format_amount(amount, currency) for currency, amount in sorted(self.paid.items())},
            "already_paid": self.already_paid,
            "below_minimum": self.below_minimum,
            "not_eligible": self.not_eligible,
        }


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _day_after(moment: datetime) -> date:
    """The first whole day after a moment (a campaign ending at midnight ends with the day before)."""
    moment = moment.astimezone(UTC)
    return moment.date() if moment.time() == time(0) else moment.date() + timedelta(days=1)


def closed_period(campaign: BonusCampaign, rules: CampaignRules, today: date) -> Period | None:
    """The last period of the campaign that has closed by the start of `today` (None: none yet)."""
    anchor = _day(campaign.starts_at or campaign.created_at)
    length = rules.cashback_period_days
    if campaign.ends_at is not None and (end := _day_after(campaign.ends_at)) <= today:
        if end <= anchor:
            return None
        started = (end - anchor).days - 1
        return Period(anchor + timedelta(days=started - started % length), end)
    closed = (today - anchor).days // length
    if closed < 1:
        return None
    after = anchor + timedelta(days=closed * length)
    return Period(after - timedelta(days=length), after)


async def pay_cashback(
    rt: Runtime, campaign_id: uuid.UUID, *, period_end: date | None = None, actor: Viewer = SYSTEM
) -> CashbackRun:
    """Pay the campaign's last period closed by the start of `period_end` (default: today), then record
    the run in the audit log and on the campaign (`cashback_paid_until`)."""
    today = clock.now().date()
    if period_end is not None and period_end > today:
        raise DomainError("That period has not ended yet.", field="periodEnd")
    async with rt.database.session() as db:
        campaign = await db.get(BonusCampaign, campaign_id)
        if (
            campaign is None
            or campaign.kind != CampaignKind.CASHBACK.value
            or (actor.brand_id is not None and campaign.brand_id != actor.brand_id)
        ):
            raise NotFound("No such cashback campaign.", field="campaignId")
        if campaign.status != CampaignStatus.ACTIVE:
            raise DomainError(
                f"The campaign is {campaign.status}: only an active campaign pays cashback.",
                field="campaignId",
                code=ErrorCode.INVALID_STATE,
            )
        rules = rules_of(campaign)
        period = closed_period(campaign, rules, period_end or today)
        if period is None:
            raise DomainError(
                "No period of this campaign has closed yet.", field="periodEnd", code=ErrorCode.INVALID_STATE
            )
        losers: list[tuple[uuid.UUID, str, int]] = []
        for currency in sorted(rules.cashback_max):
            rows = (
                await db.execute(
                    _NET_LOSSES,
                    {"brand": campaign.brand_id, "currency": currency, "first": period.first, "after": period.after},
                )
            ).all()
            losers += [(row.player_id, currency, int(row.lost)) for row in rows]
    run = CashbackRun(campaign.id, period)
    for player_id, currency, lost in losers:
        amount = min(lost * rules.cashback_percent // 100, rules.amount(rules.cashback_max, currency) or 0)
        if amount <= 0 or amount < (rules.amount(rules.cashback_min, currency) or 0):
            run.below_minimum += 1
            continue
        paid = 0
        try:
            async with rt.database.transaction() as db:
                outcome, paid = await _pay_one(db, campaign, rules, player_id, amount, period, lost)
        except IntegrityError:  # a concurrent run paid this player first (the unique index's backstop)
            outcome = "already_paid"
        if outcome == "paid":  # the period is settled for the player (paid less what it recovered)
            run.players_paid += 1
            if paid:
                run.paid[currency] += paid
                run.as_bonus += 1 if rules.wagering_multiplier else 0
        elif outcome == "already_paid":
            run.already_paid += 1
        else:
            run.not_eligible += 1
    async with rt.database.transaction() as db:
        row = await db.get(BonusCampaign, campaign.id, with_for_update=True)
        assert row is not None
        if row.cashback_paid_until is None or row.cashback_paid_until < period.after:
            row.cashback_paid_until = period.after
        await audit.append(
            db,
            actor=actor,
            action="bonus_campaign.pay_cashback",
            target_type="bonus_campaign",
            target_id=campaign.id,
            brand_id=campaign.brand_id,
            after=run.summary(),
        )
    return run


async def _pay_one(
    db: AsyncSession,
    campaign: BonusCampaign,
    rules: CampaignRules,
    player_id: uuid.UUID,
    amount: int,
    period: Period,
    loss: int,
) -> tuple[str, int]:
    """One player's payout of the period, under their cash-row lock: `amount` (what the period earned)
    less what earlier periods were over-paid (cashback_recovery.py). Returns the outcome and what was paid."""
    player = await db.get(Player, player_id)
    assert player is not None
    await lock_cash(db, player)
    paid_before = await db.scalar(
        select(PlayerBonus.id).where(
            col(PlayerBonus.campaign_id) == campaign.id,
            col(PlayerBonus.player_id) == player_id,
            col(PlayerBonus.period_key) == period.key,
        )
    )
    if paid_before is not None:
        return "already_paid", 0
    how = Cashback.BONUS if rules.wagering_multiplier else Cashback.CASH
    if await reasons_not_eligible(db, campaign, player, cashback=how):
        return "not_eligible", 0
    recovery = await cashback_recovery.recover(db, campaign, rules, player, period.key, amount)
    paid = amount - recovery.amount
    kept = cashback_recovery.terms(rules, player.currency, loss, amount)
    if how == Cashback.BONUS and paid > 0:
        payout = await issue_bonus(db, campaign, player, PAYER, amount=paid, period_key=period.key)
        payout.terms = {**payout.terms, "cashback": kept}
    else:  # in cash, or nothing left to pay after the recovery (recorded all the same: the period is settled)
        payout = await _cash_back(db, campaign, player, paid, period.key, kept)
    if recovery.amount:
        await cashback_recovery.note_adjusted(db, payout, amount, recovery, player.currency)
    await db.flush()
    return "paid", paid


async def _cash_back(
    db: AsyncSession, campaign: BonusCampaign, player: Player, amount: int, key: str, kept: dict[str, Any]
) -> PlayerBonus:
    """Cashback without wagering: recorded as a bonus completed at once, paid straight into cash (nothing
    moves for a payout the recovery of earlier over-payments took whole)."""
    now = clock.now()
    bonus = PlayerBonus(
        campaign_id=campaign.id,
        player_id=player.id,
        brand_id=player.brand_id,
        currency=player.currency,
        kind=campaign.kind,
        status=BonusStatus.COMPLETED.value,
        claim_number=await next_claim_number(db, campaign.id, player.id),
        period_key=key,
        amount=amount,
        converted=amount,
        terms={"cashback": kept},
        issued_at=now,
        activated_at=now,
        ended_at=now,
    )
    db.add(bonus)
    await db.flush()
    await events.issued(db, bonus, "cashback")
    held = await books.lock_player(db, bonus)
    result = await books.pay_cash(db, bonus, held, amount, "cashback", PAYER) if amount > 0 else None
    await books.note(
        db,
        bonus,
        "cashback_paid",
        PAYER,
        amount=amount,
        transaction=result.transaction_id if result else None,
        details={"period": key},
    )
    await events.announce(db, bonus, "bonus.completed", converted=amount, capped=0)
    return bonus


async def pay_due(rt: Runtime) -> int:
    """The bonus worker's part: each active cashback campaign that pays itself, for its last closed period
    if not paid yet. Returns how many periods were run."""
    today = clock.now().date()
    async with rt.database.session() as db:
        running = (
            await db.scalars(
                select(BonusCampaign).where(
                    col(BonusCampaign.kind) == CampaignKind.CASHBACK.value,
                    col(BonusCampaign.status) == CampaignStatus.ACTIVE.value,
                )
            )
        ).all()
    ran = 0
    for campaign in running:
        rules = rules_of(campaign)
        period = closed_period(campaign, rules, today) if rules.cashback_auto_pay else None
        paid_until = campaign.cashback_paid_until
        if period is None or (paid_until is not None and paid_until >= period.after):
            continue
        try:
            await pay_cashback(rt, campaign.id)
            ran += 1
        except DomainError as exc:  # paused or changed meanwhile
            log.warning("cashback_run_refused", campaign_id=str(campaign.id), code=exc.code.value)
        except Exception:
            log.exception("cashback_run_failed", campaign_id=str(campaign.id))
    return ran
