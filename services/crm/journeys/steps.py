"""One run's steps, in one transaction per run: from the run's next step until a delay, quiet hours, an
exit or the end. Each step leaves a record (`crm_journey_steps`) with its outcome and reason.

- `wait`: the run is due again after the delay (`waiting`, `until`).
- `condition`: true → on; false → the run ends (`exited`, `CONDITION_NOT_MET`).
- `send`: an email, SMS or push due in the player's quiet hours (their `time_zone`) waits until they end
  (`deferred`, `QUIET_HOURS`, the same step again then; the inbox has no quiet hours); the brand's daily
  cap (`crm_journey_daily_cap` journey messages per player in 24 hours) skips it (`FREQUENCY_CAP`); an
  A/B holdout skips it (`HOLDOUT`); then suppression (`suppression.check`, purpose message) — refused:
  `suppressed` with its reason; else the message is queued (`channels.queue.enqueue`, idempotent by run
  and step) and the sender checks suppression again right before it sends.
- `offer`: suppression (purpose offer, the campaign's jurisdictions); then the bonus engine's own
  eligibility (`reasons_not_eligible`: RG, the jurisdiction's bonus rules, one bonus in play, claims
  left, the campaign's window, countries, segments) and risk's `block_bonuses`; then the bonus is issued
  as a claim would issue it (`issue_bonus`: a deposit offer waits for its deposit). A refusal skips the
  step with the bonus engine's code.
- `tag`, `move_to_segment`: suppression first too (purpose message, no channel): an unreachable player is
  not put into audiences; then the tag row or `segments.membership.add_member`.
A step that fails unexpectedly is retried after `RETRY_MINUTES`, and after `MAX_FAILURES` the run exits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from models.bonuses import BonusCampaign, CampaignKind
from models.brands import Brand
from models.crm import Channel, Purpose
from models.crm_journeys import CrmJourney, CrmJourneyRun, CrmJourneyStep, RunStatus, StepOutcome
from models.players import Player
from services.bonuses.campaigns import jurisdictions_reached, reasons_not_eligible, rules_of
from services.bonuses.issue import CLAIMABLE, issue_bonus, lock_cash
from services.crm import suppression
from services.crm.channels import queue
from services.crm.journeys.definition import Condition, Definition, MoveToSegment, Offer, Send, Tag, Wait
from services.crm.journeys.quiet import quiet_until
from services.crm.segments import membership
from services.risk import actions as risk_actions
from services.risk.store import OnSession
from services.wallet import Actor

SOURCE = "journey"
RETRY_MINUTES = 5
MAX_FAILURES = 3

_SENDS_TODAY = """
SELECT count(*) FROM crm_journey_steps s JOIN crm_journey_runs r ON r.id = s.run_id
WHERE r.player_id = :player AND r.brand_id = :brand AND s.kind = 'send' AND s.outcome = 'done' AND s.at > :since"""
_HAS_DEPOSITED = """
SELECT EXISTS (SELECT 1 FROM ledger_transactions
               WHERE player_id = :player AND kind = 'deposit' AND status = 'committed')"""
_IN_SEGMENT = "SELECT EXISTS (SELECT 1 FROM crm_segment_members WHERE segment_id = :segment AND player_id = :player)"
_HAS_TAG = "SELECT EXISTS (SELECT 1 FROM crm_player_tags WHERE player_id = :player AND tag = :tag)"
_TAG = """
INSERT INTO crm_player_tags (player_id, tag, source) VALUES (:player, :tag, :source) ON CONFLICT DO NOTHING"""


@dataclass(frozen=True)
class Result:
    outcome: StepOutcome
    reason: str | None = None
    until: datetime | None = None
    message_id: uuid.UUID | None = None
    bonus_id: uuid.UUID | None = None


@dataclass
class Run:
    """What a run's steps work with, loaded once per run."""

    db: AsyncSession
    run: CrmJourneyRun
    journey: CrmJourney
    definition: Definition
    player: Player
    now: datetime
    daily_cap: int


async def _condition(r: Run, step: Condition) -> Result:
    params = {"player": r.player.id}
    if step.test in ("has_deposited", "has_not_deposited"):
        holds = bool(await r.db.scalar(text(_HAS_DEPOSITED), params))
    elif step.test in ("in_segment", "not_in_segment"):
        holds = bool(await r.db.scalar(text(_IN_SEGMENT), params | {"segment": step.segment_id}))
    else:
        holds = bool(await r.db.scalar(text(_HAS_TAG), params | {"tag": step.tag}))
    if step.test in ("has_not_deposited", "not_in_segment", "lacks_tag"):
        holds = not holds
    return Result(StepOutcome.DONE) if holds else Result(StepOutcome.EXITED, "CONDITION_NOT_MET")


async def _template(r: Run, step: Send) -> str | None:
    """The template to send: the variant's when the journey runs an experiment (None: the holdout)."""
    if not step.variants or r.definition.experiment_id is None:
        return step.template
    if r.run.variant is None:
        from services.crm.experiments.assignment import assign

        variant = await assign(r.db, r.definition.experiment_id, r.player.id)
        if variant is None:
            return None
        r.run.variant = variant
    return step.variants.get(r.run.variant, step.template)


async def _send(r: Run, index: int, step: Send) -> Result:
    quiet = r.definition.quiet_hours
    if quiet is not None and step.channel != Channel.INBOX:
        until = quiet_until(r.now, r.player.time_zone, quiet.start, quiet.end)
        if until is not None:
            return Result(StepOutcome.DEFERRED, "QUIET_HOURS", until=until)
    sent = await r.db.scalar(
        text(_SENDS_TODAY), {"player": r.player.id, "brand": r.run.brand_id, "since": r.now - timedelta(days=1)}
    )
    if int(sent or 0) >= r.daily_cap:
        return Result(StepOutcome.SKIPPED, "FREQUENCY_CAP")
    refused = await suppression.check(
        r.db,
        r.player.id,
        purpose=Purpose.MESSAGE,
        channel=step.channel.value,
        product=step.product,
        source_kind=SOURCE,
        source_id=r.run.id,
    )
    if refused is not None:
        return Result(StepOutcome.SUPPRESSED, refused)
    # After the suppression check: a player who may not be reached is never exposed to the experiment, so
    # its results compare players who could have received either variant (or the holdout's nothing).
    template = await _template(r, step)
    if template is None:
        return Result(StepOutcome.SKIPPED, "HOLDOUT")
    message_id = await queue.enqueue(
        r.db,
        brand_id=r.run.brand_id,
        player_id=r.player.id,
        channel=step.channel.value,
        product=step.product,
        template=template,
        context={"journey": r.journey.name, "journey_id": str(r.journey.id), "variant": r.run.variant},
        idempotency_key=f"journey:{r.run.id}:{index}",
        source_kind=SOURCE,
        source_id=r.run.id,
    )
    return Result(StepOutcome.DONE, message_id=message_id)


async def _offer(r: Run, step: Offer) -> Result:
    db = r.db
    campaign = await db.get(BonusCampaign, step.campaign_id)
    brand = await db.get(Brand, r.player.brand_id)
    if campaign is None or brand is None or campaign.brand_id != r.player.brand_id:
        return Result(StepOutcome.SKIPPED, "NO_SUCH_CAMPAIGN")
    refused = await suppression.check(
        db,
        r.player.id,
        purpose=Purpose.OFFER,
        channel=None,
        product=step.product,
        source_kind=SOURCE,
        source_id=r.run.id,
        offer_jurisdictions=jurisdictions_reached(brand, rules_of(campaign)),
    )
    if refused is not None:
        return Result(StepOutcome.SUPPRESSED, refused)
    if CampaignKind(campaign.kind) not in CLAIMABLE:
        return Result(StepOutcome.SKIPPED, "NOT_OFFERABLE")  # cashback pays itself; it is not offered
    await lock_cash(db, r.player)
    found = await reasons_not_eligible(db, campaign, r.player, code=campaign.promo_code)
    if found:
        return Result(StepOutcome.SKIPPED, found[0].code.value)
    if (await risk_actions.in_force(OnSession(db), r.player.id)).bonuses_blocked:
        return Result(StepOutcome.SKIPPED, "RISK_BONUS_BLOCKED")
    try:
        async with db.begin_nested():  # a refusal inside the bonus engine leaves nothing half-written
            bonus = await issue_bonus(db, campaign, r.player, Actor("system"))
    except DomainError as refusal:
        return Result(StepOutcome.SKIPPED, refusal.code.value)
    return Result(StepOutcome.DONE, bonus_id=bonus.id)


async def _audience(r: Run, step: Tag | MoveToSegment, product: str = "casino") -> Result:
    refused = await suppression.check(
        r.db, r.player.id, purpose=Purpose.MESSAGE, channel=None, product=product, source_kind=SOURCE,
        source_id=r.run.id,
    )  # fmt: skip
    if refused is not None:
        return Result(StepOutcome.SUPPRESSED, refused)
    if isinstance(step, Tag):
        await r.db.execute(text(_TAG), {"player": r.player.id, "tag": step.tag, "source": SOURCE})
        return Result(StepOutcome.DONE)
    try:
        await membership.add_member(r.db, step.segment_id, r.player.id)
    except DomainError:  # the segment became dynamic or went away since the journey was saved
        return Result(StepOutcome.SKIPPED, "SEGMENT_NOT_STATIC")
    return Result(StepOutcome.DONE)


async def perform(r: Run, index: int) -> Result:
    step = r.definition.steps[index]
    if isinstance(step, Wait):
        return Result(StepOutcome.WAITING, until=r.now + timedelta(minutes=step.minutes))
    if isinstance(step, Condition):
        return await _condition(r, step)
    if isinstance(step, Send):
        return await _send(r, index, step)
    if isinstance(step, Offer):
        return await _offer(r, step)
    return await _audience(r, step)


async def advance(r: Run) -> None:
    """Run the steps from the run's next one, recording each, until a delay, quiet hours, an exit or the end."""
    run = r.run
    steps = r.definition.steps
    while run.step < len(steps):
        index = run.step
        result = await perform(r, index)
        r.db.add(
            CrmJourneyStep(
                run_id=run.id,
                step=index,
                kind=steps[index].kind,
                outcome=result.outcome.value,
                reason=result.reason,
                message_id=result.message_id,
                bonus_id=result.bonus_id,
                until=result.until,
                at=r.now,
            )
        )
        await r.db.flush()  # the next step's caps count this one
        if result.outcome == StepOutcome.DEFERRED:
            run.due_at = result.until
            return
        if result.outcome == StepOutcome.EXITED:
            run.status, run.reason, run.due_at, run.ended_at = RunStatus.EXITED.value, result.reason, None, r.now
            return
        run.step = index + 1
        if result.outcome == StepOutcome.WAITING:
            run.due_at = result.until
            return
    run.status, run.due_at, run.ended_at = RunStatus.COMPLETED.value, None, r.now
