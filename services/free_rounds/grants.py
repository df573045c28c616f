"""The free-rounds grant's commands: deliver it to the provider (`deliver`; `deliver_due` for the bonus worker),
staff's grant through GraphQL (`grant_by_staff`: the bonus, then the delivery at once), cancellation (`cancel`: at
the provider first, then the grant and its bonus, audited), and the reward of a bonus the bonus engine cancelled or
forfeited taken back at the provider (`withdraw_ended`, the bonus worker's; `withdraw_at_provider` for one grant):
a `granted` grant whose bonus ended so is found by the worker, the provider's cancel asked (idempotent there: a
cancel of a cancelled reward answers it cancelled), and the grant `cancelled`; no answer is tried again with the
deliveries' backoff, up to MAX_ATTEMPTS, after which the grant is cancelled here and the stray reward logged (its
rounds pay nothing: the bonus has ended). It is found from the bonus's state, not written in the bonus's end:
that transaction holds the player's money, and the grant's row is locked before the money everywhere.

The provider call is never inside a database transaction: the grant is read, the provider asked, and the answer
written under the grant's row lock, where only a grant still `pending` takes it (a cancellation or another
replica's delivery got there first: nothing more). The provider finds a resent create by our reference (the grant
id), so a delivery repeated after a lost answer, or by two replicas at once, makes one reward. Lock order: the
grant's row, then the player's money (the bonus's end)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.logging import get_logger
from core.runtime import Runtime
from models.bonuses import BonusCampaign, BonusStatus, CampaignKind, PlayerBonus
from models.free_rounds import FreeRoundsGrant, FreeRoundsStatus
from models.games import Provider
from services import audit
from services.bonuses import issue, lifecycle
from services.free_rounds import client
from services.free_rounds.record import announce, provider_for
from services.wallet import Actor

log = get_logger(__name__)

MAX_ATTEMPTS = 8  # then the grant fails and its bonus is cancelled
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
DUE_BATCH = 20
ENDED_BY_ENGINE = (BonusStatus.CANCELLED.value, BonusStatus.FORFEITED.value)  # expired: the reward's end_time
# Granted grants whose bonus the engine cancelled or forfeited, due (never tried, or their retry time has come).
_ENDED_GRANTED = text("""
SELECT g.id FROM free_rounds_grants g JOIN player_bonuses b ON b.id = g.bonus_id
WHERE g.status = 'granted' AND b.status = ANY(:ended) AND (g.next_attempt_at IS NULL OR g.next_attempt_at <= :now)
ORDER BY g.next_attempt_at NULLS FIRST, g.id LIMIT :batch
""")


def retry_after(attempts: int) -> timedelta:
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, LAST_RETRY)


async def _read(rt: Runtime, grant_id: uuid.UUID) -> tuple[FreeRoundsGrant, Provider]:
    async with rt.database.session() as db:
        grant = await db.get(FreeRoundsGrant, grant_id)
        if grant is None:
            raise NotFound("No such free rounds grant.", field="grantId")
        provider = await db.get(Provider, grant.provider_id)
        assert provider is not None
        return grant, provider


async def deliver(rt: Runtime, grant_id: uuid.UUID) -> FreeRoundsGrant:
    """Send a pending grant to its provider and record the answer; any other grant is returned as it is."""
    grant, provider = await _read(rt, grant_id)
    if grant.status != FreeRoundsStatus.PENDING or not provider.free_rounds_url:
        return grant
    if not await _bonus_in_play(rt, grant.bonus_id):  # ended before it reached the provider: never sent
        return await _withdrawn(rt, grant_id, provider.code)
    request = client.RewardRequest(
        reference=str(grant.id),
        user=str(grant.player_id),
        currency=grant.currency,
        game_code=grant.games[0],
        rounds=grant.rounds,
        bet=grant.bet,
        starts_at=grant.created_at,
        ends_at=grant.expires_at,
    )
    outcome = await client.create_reward(provider.free_rounds_url, request, rt.settings.free_rounds_signing_key)
    async with rt.database.transaction() as db:
        locked = await db.get(FreeRoundsGrant, grant_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        if locked.status != FreeRoundsStatus.PENDING:  # cancelled or delivered meanwhile
            stray = isinstance(outcome, client.Granted) and locked.reward_uuid != outcome.reward_uuid
        elif isinstance(outcome, client.Granted) and not await _in_play(db, locked.bonus_id):
            stray = True  # its bonus ended while the create was in flight
            await _withdraw(db, locked, provider.code)
        else:
            stray = False
            await _take(db, locked, provider.code, outcome)
            await db.flush()
    if stray:
        # The provider made a reward for a grant cancelled while the create was in flight: left there, the player
        # would be offered rounds nothing pays for. Cancelled at the provider (best effort: logged if refused).
        assert isinstance(outcome, client.Granted)
        undone = await client.cancel_reward(
            provider.free_rounds_url, outcome.reward_uuid, rt.settings.free_rounds_signing_key
        )
        if not isinstance(undone, client.Granted):
            log.warning("free_rounds_stray_reward", grant=str(grant_id), reward=outcome.reward_uuid)
    return locked


async def _take(db: Any, locked: FreeRoundsGrant, provider_code: str, outcome: client.Outcome) -> None:
    """A pending grant takes the provider's answer (under its row lock)."""
    locked.attempts += 1
    if isinstance(outcome, client.Granted):
        await _granted(db, locked, provider_code, outcome)
    elif isinstance(outcome, client.Refused) or locked.attempts >= MAX_ATTEMPTS:
        await _failed(db, locked, provider_code, outcome)
    else:
        locked.last_error = outcome.error[:300]
        locked.next_attempt_at = clock.now() + retry_after(locked.attempts)
        log.warning("free_rounds_unreachable", grant=str(locked.id), attempts=locked.attempts)


async def _bonus_in_play(rt: Runtime, bonus_id: uuid.UUID) -> bool:
    async with rt.database.session() as db:
        return await _in_play(db, bonus_id)


async def _in_play(db: Any, bonus_id: uuid.UUID) -> bool:
    bonus = await db.get(PlayerBonus, bonus_id, populate_existing=True)
    return bonus is not None and BonusStatus(bonus.status).in_play


async def _withdrawn(rt: Runtime, grant_id: uuid.UUID, provider_code: str) -> FreeRoundsGrant:
    """A pending grant whose bonus ended (cancelled, forfeited, expired) is cancelled without a call."""
    async with rt.database.transaction() as db:
        locked = await db.get(FreeRoundsGrant, grant_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        if locked.status == FreeRoundsStatus.PENDING:
            await _withdraw(db, locked, provider_code)
        return locked


async def _withdraw(db: Any, locked: FreeRoundsGrant, provider_code: str) -> None:
    locked.status = FreeRoundsStatus.CANCELLED.value
    locked.ended_at = clock.now()
    locked.next_attempt_at = None
    locked.cancel_reason = "its bonus ended before the provider was asked"
    await announce(db, locked, provider_code, "cancelled", cause="bonus_ended", at_provider=False)
    await db.flush()


async def _granted(db: Any, grant: FreeRoundsGrant, provider_code: str, outcome: client.Granted) -> None:
    grant.status = FreeRoundsStatus.GRANTED.value
    grant.reward_uuid = outcome.reward_uuid
    grant.granted_at = clock.now()
    grant.next_attempt_at = None
    grant.last_error = None
    grant.provider_answer = outcome.answer
    # The provider's id now names the bonus: its `is_free` bets and wins name this reward.
    await db.execute(
        text("UPDATE player_bonuses SET reward_uuid = :reward WHERE id = :bonus"),
        {"reward": outcome.reward_uuid, "bonus": grant.bonus_id},
    )
    await announce(db, grant, provider_code, "granted")


async def _failed(db: Any, grant: FreeRoundsGrant, provider_code: str, outcome: client.Outcome) -> None:
    error = outcome.error if isinstance(outcome, client.Refused | client.Unreachable) else "refused"
    grant.status = FreeRoundsStatus.FAILED.value
    grant.ended_at = clock.now()
    grant.next_attempt_at = None
    grant.last_error = error[:300]
    if isinstance(outcome, client.Refused):
        grant.provider_answer = outcome.answer
    bonus = await db.get(PlayerBonus, grant.bonus_id)
    if bonus is not None and BonusStatus(bonus.status).in_play:
        await lifecycle.end(
            db,
            grant.bonus_id,
            BonusStatus.CANCELLED,
            Actor("system"),
            f"the provider did not grant the free rounds ({error[:200]})",
            cause="provider_refused",
        )
    await announce(db, grant, provider_code, "failed", error=error[:200])


async def deliver_due(rt: Runtime) -> int:
    """The bonus worker's step: every pending grant whose time has come, sent once more. Returns how many."""
    async with rt.database.session() as db:
        due = (
            await db.scalars(
                select(col(FreeRoundsGrant.id))
                .where(
                    col(FreeRoundsGrant.status) == FreeRoundsStatus.PENDING.value,
                    col(FreeRoundsGrant.next_attempt_at) <= clock.now(),
                )
                .order_by(col(FreeRoundsGrant.next_attempt_at))
                .limit(DUE_BATCH)
            )
        ).all()
    for grant_id in due:
        await deliver(rt, grant_id)
    return len(due)


async def withdraw_ended(rt: Runtime) -> int:
    """The bonus worker's step: the rewards of bonuses the engine cancelled or forfeited, cancelled at their
    providers (each due grant tried once). Returns how many were tried."""
    async with rt.database.session() as db:
        due = (
            await db.scalars(_ENDED_GRANTED, {"ended": list(ENDED_BY_ENGINE), "now": clock.now(), "batch": DUE_BATCH})
        ).all()
    for grant_id in due:
        await withdraw_at_provider(rt, grant_id)
    return len(due)


async def withdraw_at_provider(rt: Runtime, grant_id: uuid.UUID) -> FreeRoundsGrant:
    """A granted grant whose bonus the engine cancelled or forfeited: its reward cancelled at the provider, then the
    grant `cancelled` (`free_rounds.cancelled`, cause `bonus_ended`). Any other grant is returned as it is; a
    grant another replica or staff took meanwhile is left to them (only a grant still `granted` changes)."""
    grant, provider = await _read(rt, grant_id)
    async with rt.database.session() as db:
        bonus = await db.get(PlayerBonus, grant.bonus_id)
    if grant.status != FreeRoundsStatus.GRANTED or bonus is None or bonus.status not in ENDED_BY_ENGINE:
        return grant
    outcome: client.Outcome
    if grant.reward_uuid and provider.free_rounds_url:
        outcome = await client.cancel_reward(
            provider.free_rounds_url, grant.reward_uuid, rt.settings.free_rounds_signing_key
        )
    else:
        outcome = client.Refused("the provider has no free-rounds API any more")
    async with rt.database.transaction() as db:
        locked = await db.get(FreeRoundsGrant, grant_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        if locked.status != FreeRoundsStatus.GRANTED:
            return locked
        tries = 1 if locked.next_attempt_at is None else locked.attempts + 1  # this step's own attempts
        locked.attempts = tries
        if isinstance(outcome, client.Unreachable) and tries < MAX_ATTEMPTS:
            locked.last_error = outcome.error[:300]
            locked.next_attempt_at = clock.now() + retry_after(tries)
            log.warning("free_rounds_cancel_unreachable", grant=str(locked.id), attempts=tries)
            return locked
        confirmed = isinstance(outcome, client.Granted)
        locked.status = FreeRoundsStatus.CANCELLED.value
        locked.ended_at = clock.now()
        locked.next_attempt_at = None
        locked.cancel_reason = f"its bonus was {bonus.status}"
        if isinstance(outcome, client.Granted):
            locked.last_error = None
            locked.provider_answer = outcome.answer
        else:
            locked.last_error = outcome.error[:300]
            log.warning("free_rounds_stray_reward", grant=str(locked.id), reward=locked.reward_uuid)
        await announce(db, locked, provider.code, "cancelled", cause="bonus_ended", at_provider=confirmed)
        await db.flush()
        return locked


async def grant_by_staff(
    rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, campaign_id: uuid.UUID, reason: str
) -> FreeRoundsGrant:
    """Support grants a free-spins campaign's rounds by hand (the bonus engine's manual grant, audited), and
    they are sent to the provider at once."""
    async with rt.database.session() as db:
        campaign = await db.get(BonusCampaign, campaign_id)
        if campaign is None or (viewer.brand_id is not None and campaign.brand_id != viewer.brand_id):
            raise NotFound("No such campaign.", field="campaignId")
        if campaign.kind != CampaignKind.FREE_SPINS.value:
            raise DomainError("Free rounds come from a free-spins campaign.", field="campaignId")
        if await provider_for(db, list(campaign.rules.get("games") or [])) is None:
            raise DomainError(
                "No provider of the campaign's games grants free rounds through its API.",
                field="campaignId",
                code=ErrorCode.FREE_ROUNDS_UNAVAILABLE,
            )
    bonus = await issue.grant(rt, viewer, player_id=player_id, campaign_id=campaign_id, amount=None, reason=reason)
    async with rt.database.session() as db:
        grant_id = await db.scalar(select(col(FreeRoundsGrant.id)).where(col(FreeRoundsGrant.bonus_id) == bonus.id))
    assert grant_id is not None
    return await deliver(rt, grant_id)


async def cancel(rt: Runtime, viewer: Viewer, grant_id: uuid.UUID, reason: str) -> FreeRoundsGrant:
    """Staff cancel free rounds: at the provider first (a granted reward), then the grant and its bonus."""
    reason = reason.strip()
    if len(reason) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    grant, provider = await _read(rt, grant_id)
    if viewer.brand_id is not None and grant.brand_id != viewer.brand_id:
        raise NotFound("No such free rounds grant.", field="grantId")
    if grant.status not in (FreeRoundsStatus.PENDING, FreeRoundsStatus.GRANTED):
        raise DomainError(
            f"These free rounds are already {grant.status}.", field="grantId", code=ErrorCode.INVALID_STATE
        )
    if grant.status == FreeRoundsStatus.GRANTED and grant.reward_uuid and provider.free_rounds_url:
        outcome = await client.cancel_reward(
            provider.free_rounds_url, grant.reward_uuid, rt.settings.free_rounds_signing_key
        )
        if isinstance(outcome, client.Unreachable):
            raise DomainError(
                "The provider did not answer; nothing was cancelled. Try again.",
                code=ErrorCode.FREE_ROUNDS_UNAVAILABLE,
            )
        if isinstance(outcome, client.Refused):
            raise DomainError(
                f"The provider refused the cancellation ({outcome.error}).", code=ErrorCode.FREE_ROUNDS_REFUSED
            )
    async with rt.database.transaction() as db:
        locked = await db.get(FreeRoundsGrant, grant_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        before = locked.status
        if locked.status not in (FreeRoundsStatus.PENDING, FreeRoundsStatus.GRANTED):
            return locked
        locked.status = FreeRoundsStatus.CANCELLED.value
        locked.ended_at = clock.now()
        locked.next_attempt_at = None
        locked.cancel_reason = reason
        bonus = await db.get(PlayerBonus, locked.bonus_id)
        if bonus is not None and BonusStatus(bonus.status).in_play:
            await lifecycle.end(
                db, locked.bonus_id, BonusStatus.CANCELLED, Actor("staff", viewer.id), reason, cause="staff"
            )
        await audit.append(
            db,
            actor=viewer,
            action="free_rounds.cancel",
            target_type="free_rounds_grant",
            target_id=locked.id,
            brand_id=locked.brand_id,
            reason=reason,
            before={"status": before},
            after={"status": locked.status, "reward_uuid": locked.reward_uuid},
        )
        await announce(db, locked, provider.code, "cancelled", cause="staff", at_provider=before == "granted")
        await db.flush()
        return locked
