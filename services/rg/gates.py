"""Where responsible gambling is enforced: registration, login, deposit, game launch and provider bet.

Registration, login and deposit also look for the person's other accounts (services/rg/matching.py):
an exclusion at any brand refuses, and is copied to the account asking.

Each gate raises a `DomainError` whose `limit` names the rule and when it resets (the provider bet
gate returns a refusal instead: the wallet answers in the provider's dialect). Deposit and bet gates
run under the player's lock, in the transaction that records the movement, so two concurrent
deposits or bets cannot together pass a limit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.errors import DomainError, ErrorCode, LimitDetails
from core.fx import NO_RATES, Rates
from core.logging import get_logger
from core.runtime import Runtime
from models.brands import Brand
from models.players import Player
from models.rg import LimitKind, RgLimit
from services import wallet
from services.rg import activity, exclusions, flags, limits, matching, reality, register_hits
from services.rg.profiles import Profile, profile, resolve
from services.rg.registers import Person, RegisterAnswer, RegisterUnavailable, connectors

log = get_logger(__name__)


class LoginPurpose(StrEnum):
    PLAY = "play"
    WITHDRAWAL = "withdrawal"  # a session that can only read the account and withdraw


def session_scope(purpose: LoginPurpose) -> str:
    """The auth session's scope (authz/viewer.py turns it into the player's role)."""
    return "full" if purpose == LoginPurpose.PLAY else "withdrawal"


# ---- registration and login -------------------------------------------------------------------


def jurisdiction_for(brand: Brand, country: str) -> Profile:
    rules = resolve(brand.jurisdictions, country)
    if rules is None:
        raise DomainError(
            f"{brand.name} is not licensed for players from {country}.",
            field="country",
            code=ErrorCode.COUNTRY_NOT_ALLOWED,
        )
    return rules


async def check_registers(
    rt: Runtime, rules: Profile, person: Person, player_id: uuid.UUID | None = None
) -> RegisterAnswer:
    """Ask each national register of the jurisdiction; Y refuses, P is allowed (and flagged by the caller).
    For an existing account (`player_id`), a Y is recorded and any other answer closes an open hit
    (services/rg/register_hits.py)."""
    answer = RegisterAnswer.NOT_REGISTERED
    for register in connectors(rt.settings.rg_demo_register, rules.registers):
        try:
            result = await register.check(person)
        except RegisterUnavailable as exc:
            log.warning("rg_register_unavailable", register=register.name)
            raise DomainError(
                "The national self-exclusion register did not answer; try again shortly.",
                code=ErrorCode.REGISTER_UNAVAILABLE,
            ) from exc
        if result == RegisterAnswer.EXCLUDED:
            if player_id is not None:
                await register_hits.record_hit(rt, player_id, register.name)
            raise DomainError(
                f"This person is registered with the national self-exclusion register ({register.name}).",
                code=ErrorCode.SELF_EXCLUDED,
                limit=LimitDetails(kind="register"),
            )
        if result == RegisterAnswer.PREVIOUSLY_EXCLUDED:
            answer = result
    if player_id is not None and rules.registers:
        await register_hits.clear(rt, player_id)
    return answer


def person_of(player: Player) -> Person:
    return Person(player.email, player.date_of_birth, player.first_name, player.last_name, player.country)


async def check_login(rt: Runtime, player: Player, purpose: LoginPurpose) -> RegisterAnswer:
    """Before a session starts: the register (every login), exclusions and the time limit."""
    if purpose == LoginPurpose.WITHDRAWAL:  # taking one's money out is never refused
        return RegisterAnswer.NOT_REGISTERED
    answer = await check_registers(rt, profile(player.jurisdiction), person_of(player), player.id)
    await check_person(rt, player)
    async with rt.database.session() as db:
        refusal = await _time_refusal(db, rt, player, clock.now())
    if refusal is not None:
        raise refusal
    return answer


async def check_new_person(rt: Runtime, identity: matching.Identity) -> None:
    """Registration: refused while the person has a time-out or self-exclusion at any brand."""
    async with rt.database.session() as db:
        refused = await exclusions.refused_person(db, identity)
    if refused is not None:
        raise refused


async def check_person(rt: Runtime, player: Player) -> None:
    """Login and deposit: an exclusion in force at any matching account is extended to this one (so the
    bet path, which reads only the account's own rows, refuses too), and refuses."""
    excluded = await exclusions.share(rt, player)
    if excluded is not None:
        raise exclusions.refusal(excluded)


async def after_login(
    db: AsyncSession, player: Player, session_id: uuid.UUID, purpose: LoginPurpose, answer: RegisterAnswer
) -> None:
    """In the login transaction: the session's reality check, and a flag for a previously excluded player."""
    if purpose == LoginPurpose.PLAY:
        await reality.start(db, player, session_id, clock.now())
    if answer == RegisterAnswer.PREVIOUSLY_EXCLUDED:
        await flags.raise_flag(db, player, "previously_self_excluded", {"source": "register"})


# ---- money and play ---------------------------------------------------------------------------


def _limit_refusal(usage: limits.Usage, verb: str) -> DomainError:
    limit = usage.limit
    assert limit.amount is not None
    what = limits.describe(limit.kind, limit.period, limit.amount, limit.currency)
    return DomainError(
        f"This {verb} would pass {what}; it resets at {usage.resets_at.isoformat()}.",
        code=ErrorCode.LIMIT_REACHED,
        field="amount",
        limit=LimitDetails(
            kind=limit.kind,
            period=limit.period,
            amount=limit.amount,
            currency=limit.currency,
            resets_at=usage.resets_at,
        ),
    )


def _unmeasurable(limit: RgLimit, currency: str) -> DomainError:
    what = limits.describe(limit.kind, limit.period, limit.amount or 0, limit.currency)
    return DomainError(
        f"{what[0].upper()}{what[1:]} cannot be measured in {currency} (no stated exchange rate): "
        f"use {limit.currency}.",
        code=ErrorCode.CURRENCY_NOT_ALLOWED,
        field="currency",
        limit=LimitDetails(kind=limit.kind, period=limit.period, amount=limit.amount, currency=limit.currency),
    )


async def _in_force(db: AsyncSession, player_id: uuid.UUID) -> list[RgLimit]:
    return list(
        (
            await db.scalars(
                select(RgLimit).where(col(RgLimit.player_id) == player_id, col(RgLimit.amount).is_not(None))
            )
        ).all()
    )


def _missing_required(rules: Profile, in_force: list[RgLimit]) -> DomainError | None:
    have = {limit.kind for limit in in_force}
    for kind in rules.required_limits:
        if kind.value not in have:
            return DomainError(
                f"{rules.name} requires a {kind.value} limit before you deposit or play: set one first.",
                code=ErrorCode.LIMIT_REQUIRED,
                limit=LimitDetails(kind=kind.value),
            )
    return None


async def _time_refusal(
    db: AsyncSession, rt: Runtime, player: Player, now: datetime, in_force: list[RgLimit] | None = None
) -> DomainError | None:
    in_force = await _in_force(db, player.id) if in_force is None else in_force
    for limit in in_force:
        if limit.kind == LimitKind.SESSION_TIME:
            usage = await limits.usage(db, player, limit, now, rt.settings.stated_rates)
            if usage.remaining <= 0:
                return _limit_refusal(usage, "session")
    return None


async def check_deposit(db: AsyncSession, rt: Runtime, player: Player, currency: str) -> None:
    """Call in the transaction that inserted the deposit (so it counts as in flight). Under the player's
    row lock: two deposits racing one limit are decided one after the other."""
    await wallet.lock_player_money(db, player.id, standing=True)
    excluded = await exclusions.active(db, player.id)
    if excluded is not None:
        raise exclusions.refusal(excluded)
    in_force = await _in_force(db, player.id)
    missing = _missing_required(profile(player.jurisdiction), in_force)
    if missing is not None:
        raise missing
    now = clock.now()
    rates = rt.settings.stated_rates
    for limit in in_force:  # the lowest applies: any limit the deposits in this period would pass refuses
        if limit.kind != LimitKind.DEPOSIT or limit.amount is None:
            continue
        assert limit.currency is not None
        if not rates.can_measure(currency, limit.currency):
            raise _unmeasurable(limit, currency)
        usage = await limits.usage(db, player, limit, now, rates)
        if usage.unmeasured:
            raise _unmeasurable(limit, usage.unmeasured[0])
        if usage.used > limit.amount:  # every currency's deposits, this one included, at the stated rates
            raise _limit_refusal(usage, "deposit")


async def check_launch(db: AsyncSession, rt: Runtime, player: Player, session_id: uuid.UUID | None) -> None:
    excluded = await exclusions.active(db, player.id)
    if excluded is not None:
        raise exclusions.refusal(excluded)
    in_force = await _in_force(db, player.id)
    missing = _missing_required(profile(player.jurisdiction), in_force)
    if missing is not None:
        raise missing
    now = clock.now()
    refusal = await _time_refusal(db, rt, player, now, in_force)
    if refusal is not None:
        raise refusal
    if session_id is not None:
        check = await reality.state(db, session_id, now)
        if check is not None and check.due:
            raise DomainError(
                "Your reality check is waiting for an answer.",
                code=ErrorCode.REALITY_CHECK_DUE,
                limit=LimitDetails(kind="reality_check", resets_at=check.next_due_at),
            )


# ---- the provider bet path (hot: no extra statement when the player has no limits) ----------------

# Read by the provider wallet in the statement it already runs after taking the player's lock
# (services/provider_wallet/statements.py `STATE`), so the gate costs no round trip of its own.
BET_STATE_COLUMNS = """
  (SELECT x.kind FROM rg_exclusions x WHERE x.player_id = CAST(:player AS uuid) AND x.starts_at <= :now
     AND (x.ends_at IS NULL OR x.ends_at > :now) LIMIT 1) AS rg_excluded,
  (SELECT rc.next_due_at <= :now FROM rg_reality_checks rc WHERE rc.session_id = :auth_session) AS rg_check_due,
  (SELECT json_agg(json_build_array(l.kind, l.period, l.amount, l.currency)) FROM rg_limits l
     WHERE l.player_id = CAST(:player AS uuid) AND l.amount IS NOT NULL) AS rg_limits
"""


class BetRefusal(StrEnum):
    EXCLUDED = "excluded"  # the provider hears "user disabled"
    LIMIT = "limit"  # a limit, a missing required limit, or an unanswered reality check


@dataclass(frozen=True)
class Bettor:
    id: uuid.UUID
    jurisdiction: str
    currency: str
    auth_session_id: uuid.UUID | None
    game_session_id: uuid.UUID | None = None
    rates: Rates = NO_RATES  # play in another currency than a limit's is measured at these


@dataclass(frozen=True)
class BetState:
    """The BET_STATE_COLUMNS of one bet."""

    excluded: str | None
    check_due: bool | None
    limits: list[list[Any]] | str | None

    def in_force(self, player_id: uuid.UUID) -> list[RgLimit]:
        raw: list[list[Any]] = (json.loads(self.limits) if isinstance(self.limits, str) else self.limits) or []
        return [RgLimit(player_id=player_id, kind=k, period=p, amount=a, currency=c) for k, p, a, c in raw]


# A bet keeps its game session in play this long: bets closer together are one unbroken run of play,
# and the time after the last bet counts up to this (as an access token does for a login session).
PLAY_IDLE = timedelta(minutes=5)


async def bet_refusal(db: AsyncSession, bettor: Bettor, amount: int, state: BetState) -> BetRefusal | None:
    """Call after the player's cash row is locked, before the ledger records the stake.

    `sql/wallet/wallet_play_v2.sql` decides a plain player's bet in one call only when none of these can
    refuse it (no exclusion, no limit with an amount, no reality check due, a profile with no required
    limit); a new refusal here must make it fall back."""
    if state.excluded is not None:
        return BetRefusal.EXCLUDED
    if state.check_due:
        return BetRefusal.LIMIT
    in_force = state.in_force(bettor.id)
    if _missing_required(profile(bettor.jurisdiction), in_force) is not None:
        return BetRefusal.LIMIT
    now = clock.now()
    for limit in in_force:
        if limit.kind == LimitKind.DEPOSIT:
            continue
        assert limit.amount is not None
        stake: int | None = 0
        if limit.currency is not None:  # a money limit, in any currency: this stake measured in the limit's
            stake = bettor.rates.convert(amount, bettor.currency, limit.currency, round_up=True)
            if stake is None:
                return BetRefusal.LIMIT
        usage = await limits.usage(db, bettor, limit, now, bettor.rates)
        if usage.unmeasured:
            return BetRefusal.LIMIT
        if limit.kind == LimitKind.SESSION_TIME:
            if usage.remaining <= 0:
                return BetRefusal.LIMIT
        elif usage.used + (stake or 0) > limit.amount:  # wager: stakes; loss: stakes - wins, if this one loses
            return BetRefusal.LIMIT
    return None


async def count_bet_time(db: AsyncSession, bettor: Bettor, state: BetState, now: datetime) -> None:
    """An accepted bet, for a player with a time limit: its game session counts as time played
    (no statement for anyone else: the bet path stays as short as it was)."""
    timed = any(limit.kind == LimitKind.SESSION_TIME for limit in state.in_force(bettor.id))
    if timed and bettor.game_session_id is not None:
        await activity.count_play_time(db, bettor.id, bettor.game_session_id, now, PLAY_IDLE)


async def count_play(
    db: AsyncSession, player: limits.Subject, currency: str, at: datetime, *, wagered: int = 0, won: int = 0
) -> None:
    """Count a stake, a win, or (negative, at the undone transaction's time) a rollback."""
    day = profile(player.jurisdiction).local_day(at)
    await activity.count(db, player_id=player.id, currency=currency, day=day, wagered=wagered, won=won)
