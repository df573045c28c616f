"""A tournament definition as data, and its validation (docs/tournaments.md lists every part).

`Draft` is what staff send (money as decimal strings in the tournament's currency, as every input of the
API); `validate` turns it into a `Definition` (minor units, codes checked against the catalogue) or raises a
`DomainError` whose code names the part refused (TOURNAMENT_SCHEDULE_INVALID, TOURNAMENT_SCORING_INVALID,
TOURNAMENT_ELIGIBILITY_INVALID, TOURNAMENT_ENTRY_INVALID, TOURNAMENT_PRIZES_INVALID) and whose `field` names
the input. The stored `tournaments.definition` is `Definition.model_dump(mode="json")`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.money import currency as currency_of
from core.money import parse_amount
from models.bonuses import CampaignKind
from models.tournaments import EntryMode, ScoringKind

MAX_RANKS = 1000
MAX_LIST = 200
MAX_BPS = 10_000  # shares are in basis points of the pool


class PrizeKind(StrEnum):
    CASH = "cash"  # to the player's cash: a fixed amount from the house, or a share of the pool
    BONUS = "bonus"  # bonus money through the bonus engine (a no-deposit campaign, at this amount)
    FREE_SPINS = "free_spins"  # the spins of a free-spins campaign, through the bonus engine


class Prize(BaseModel):
    model_config = ConfigDict(frozen=True)

    rank_from: int
    rank_to: int
    kind: PrizeKind
    amount: int | None = None  # fixed, minor units (cash, bonus)
    share_bps: int | None = None  # cash only: basis points of the pool, each rank of the range gets it
    campaign_id: uuid.UUID | None = None  # bonus, free spins


class Definition(BaseModel):
    """The validated rules of one tournament (stored as JSON)."""

    model_config = ConfigDict(frozen=True)

    scoring: ScoringKind
    points: int = 1  # points_per_wager: `points` for every `per` minor units staked
    per: int = 100
    games: tuple[str, ...] = ()  # provider game codes; with categories and providers: empty = every game
    categories: tuple[str, ...] = ()  # lobby category codes
    providers: tuple[str, ...] = ()  # provider codes
    min_bet: int = 0  # minor units: a round staking less does not count
    rounds_cap: int | None = None  # rounds counted per player (and per buy-in: a re-buy adds as many)
    entry_mode: EntryMode = EntryMode.OPT_IN
    buy_in: int = 0  # minor units; 0: free entry
    max_rebuys: int = 0
    jurisdictions: tuple[str, ...] = ()  # empty: every jurisdiction of the brand
    prizes: tuple[Prize, ...] = ()


@dataclass(frozen=True)
class PrizeDraft:
    rank_from: int
    rank_to: int
    kind: PrizeKind
    amount: str | None = None
    share_bps: int | None = None
    campaign_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Draft:
    name: str
    currency: str
    starts_at: datetime
    ends_at: datetime
    scoring: ScoringKind
    points: int = 1
    per: str | None = None  # decimal string: points are given per this much staked (default 1.00)
    games: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    min_bet: str | None = None
    rounds_cap: int | None = None
    entry_mode: EntryMode = EntryMode.OPT_IN
    buy_in: str | None = None
    max_rebuys: int = 0
    jurisdictions: list[str] = field(default_factory=list)
    prizes: list[PrizeDraft] = field(default_factory=list)


def _refuse(message: str, code: ErrorCode, field_name: str) -> DomainError:
    return DomainError(message, code=code, field=field_name)


def _money(raw: str | None, currency: str, field_name: str, *, default: int = 0) -> int:
    if raw is None or not raw.strip():
        return default
    return parse_amount(raw, currency, field=field_name, allow_zero=True)


def _schedule(draft: Draft) -> None:
    code = ErrorCode.TOURNAMENT_SCHEDULE_INVALID
    if not draft.name.strip() or len(draft.name) > 120:
        raise _refuse("Give the tournament a name (at most 120 characters).", ErrorCode.INVALID_INPUT, "name")
    if draft.starts_at.tzinfo is None or draft.ends_at.tzinfo is None:
        raise _refuse("Give the start and end with a time zone offset.", code, "startsAt")
    if draft.ends_at <= draft.starts_at:
        raise _refuse("The tournament must end after it starts.", code, "endsAt")
    if draft.ends_at <= clock.now():
        raise _refuse("The tournament would already be over.", code, "endsAt")


def _scoring(draft: Draft, currency: str) -> tuple[int, int]:
    code = ErrorCode.TOURNAMENT_SCORING_INVALID
    per = _money(draft.per, currency, "per", default=10 ** currency_of(currency).exponent)
    if draft.scoring == ScoringKind.POINTS_PER_WAGER and (draft.points < 1 or per < 1):
        raise _refuse("Points per wager need at least 1 point per a positive amount.", code, "points")
    if draft.rounds_cap is not None and not 1 <= draft.rounds_cap <= 1_000_000:
        raise _refuse("The rounds cap is between 1 and 1,000,000 rounds.", code, "roundsCap")
    return draft.points, per


def _entry(draft: Draft, buy_in: int) -> None:
    code = ErrorCode.TOURNAMENT_ENTRY_INVALID
    if draft.entry_mode == EntryMode.AUTOMATIC and buy_in > 0:
        raise _refuse("A tournament with a buy-in is opt-in: nobody pays without asking.", code, "entryMode")
    if draft.max_rebuys < 0 or draft.max_rebuys > 100:
        raise _refuse("Re-buys are between 0 and 100.", code, "maxRebuys")
    if draft.max_rebuys > 0 and (buy_in == 0 or draft.rounds_cap is None):
        raise _refuse(
            "Re-buys need a buy-in and a rounds cap (a re-buy buys another set of rounds).", code, "maxRebuys"
        )


def _prizes(draft: Draft, currency: str, buy_in: int) -> tuple[Prize, ...]:
    code = ErrorCode.TOURNAMENT_PRIZES_INVALID
    prizes: list[Prize] = []
    taken: set[int] = set()
    shares = 0
    for n, p in enumerate(draft.prizes):
        where = f"prizes.{n}"
        if not 1 <= p.rank_from <= p.rank_to <= MAX_RANKS:
            raise _refuse(f"Ranks run from 1 to {MAX_RANKS}, from before to.", code, where)
        ranks = set(range(p.rank_from, p.rank_to + 1))
        if ranks & taken:
            raise _refuse("Two prizes name the same rank.", code, where)
        taken |= ranks
        amount = _money(p.amount, currency, f"{where}.amount") if p.amount is not None else None
        if p.kind == PrizeKind.CASH:
            if (amount is None) == (p.share_bps is None):
                raise _refuse("A cash prize is a fixed amount or a share of the pool, not both.", code, where)
            if p.share_bps is not None:
                if buy_in == 0:
                    raise _refuse("A share of the pool needs a buy-in (a free tournament has no pool).", code, where)
                if p.share_bps < 1:
                    raise _refuse("A share is at least 1 basis point.", code, where)
                shares += p.share_bps * len(ranks)
        else:
            if p.campaign_id is None or p.share_bps is not None:
                raise _refuse("A bonus or free-spins prize names its campaign (and no share).", code, where)
            if p.kind == PrizeKind.BONUS and not amount:
                raise _refuse("A bonus prize gives an amount.", code, where)
            if p.kind == PrizeKind.FREE_SPINS and amount is not None:
                raise _refuse("Free spins come from their campaign: leave the amount out.", code, where)
        prizes.append(Prize(**{**p.__dict__, "amount": amount}))
    if shares > MAX_BPS:
        raise _refuse("The pool shares add up to more than 100 %.", code, "prizes")
    return tuple(prizes)


_KNOWN = {
    "games": "SELECT DISTINCT code FROM games WHERE code = ANY(CAST(:codes AS text[]))",
    "categories": "SELECT DISTINCT code FROM lobby_categories WHERE code = ANY(CAST(:codes AS text[])) "
    "AND (brand_id IS NULL OR brand_id = :brand)",
    "providers": "SELECT code FROM game_providers WHERE code = ANY(CAST(:codes AS text[]))",
}
_CAMPAIGNS = "SELECT id, kind FROM bonus_campaigns WHERE id = ANY(CAST(:ids AS uuid[])) AND brand_id = :brand"


async def _eligibility(db: AsyncSession, brand_id: uuid.UUID, draft: Draft) -> None:
    code = ErrorCode.TOURNAMENT_ELIGIBILITY_INVALID
    for name, wanted in (("games", draft.games), ("categories", draft.categories), ("providers", draft.providers)):
        if len(wanted) > MAX_LIST:
            raise _refuse(f"At most {MAX_LIST} {name}.", code, name)
        if not wanted:
            continue
        known = set((await db.execute(text(_KNOWN[name]), {"codes": list(wanted), "brand": brand_id})).scalars())
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise _refuse(f"Unknown {name}: {', '.join(unknown)}.", code, name)


async def _campaigns(db: AsyncSession, brand_id: uuid.UUID, prizes: tuple[Prize, ...]) -> None:
    wanted = {p.campaign_id: p for p in prizes if p.campaign_id is not None}
    if not wanted:
        return
    rows = (await db.execute(text(_CAMPAIGNS), {"ids": list(wanted), "brand": brand_id})).all()
    kinds = {row.id: row.kind for row in rows}
    for campaign_id, prize in wanted.items():
        expected = CampaignKind.FREE_SPINS if prize.kind == PrizeKind.FREE_SPINS else CampaignKind.NO_DEPOSIT
        if kinds.get(campaign_id) != expected.value:
            raise _refuse(
                f"A {prize.kind.value} prize names a {expected.value} campaign of the brand.",
                ErrorCode.TOURNAMENT_PRIZES_INVALID,
                "prizes",
            )


async def validate(db: AsyncSession, brand_id: uuid.UUID, draft: Draft) -> Definition:
    """The definition, or the first part refused (a DomainError with its code and field)."""
    currency = currency_of(draft.currency).code
    _schedule(draft)
    points, per = _scoring(draft, currency)
    buy_in = _money(draft.buy_in, currency, "buyIn")
    _entry(draft, buy_in)
    prizes = _prizes(draft, currency, buy_in)
    await _eligibility(db, brand_id, draft)
    await _campaigns(db, brand_id, prizes)
    return Definition(
        scoring=draft.scoring,
        points=points,
        per=per,
        games=tuple(sorted(set(draft.games))),
        categories=tuple(sorted(set(draft.categories))),
        providers=tuple(sorted(set(draft.providers))),
        min_bet=_money(draft.min_bet, currency, "minBet"),
        rounds_cap=draft.rounds_cap,
        entry_mode=draft.entry_mode,
        buy_in=buy_in,
        max_rebuys=draft.max_rebuys,
        jurisdictions=tuple(sorted({j.strip().upper() for j in draft.jurisdictions if j.strip()})),
        prizes=prizes,
    )


def parse(stored: dict[str, object]) -> Definition:
    return Definition.model_validate(stored)
