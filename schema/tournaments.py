"""Tournament types, inputs and payloads (docs/tournaments.md). Players read their brand's tournaments and their
own entries and join; staff create, cancel and settle. The live leaderboard is its own type and subscription."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from models import tournaments as m
from schema.base import Money, UserError, to_global_id
from schema.input_limits import REASON, TITLE, text
from services.tournaments import definitions

strawberry.enum(m.TournamentState, name="TournamentState")
strawberry.enum(m.ScoringKind, name="TournamentScoring")
strawberry.enum(m.EntryMode, name="TournamentEntryMode")
strawberry.enum(m.EntryStatus, name="TournamentEntryStatus")
strawberry.enum(definitions.PrizeKind, name="TournamentPrizeKind")
strawberry.enum(m.PrizeStatus, name="TournamentPrizeStatus")
TournamentState = m.TournamentState
TournamentScoring = m.ScoringKind
TournamentEntryMode = m.EntryMode
TournamentEntryStatus = m.EntryStatus
TournamentPrizeKind = definitions.PrizeKind
TournamentPrizeStatus = m.PrizeStatus


@strawberry.type(description="One line of a tournament's prize table.")
class TournamentPrizeRule:
    rank_from: int
    rank_to: int
    kind: TournamentPrizeKind
    amount: Money | None = strawberry.field(description="A fixed amount (cash from the house, or bonus money).")
    share_bps: int | None = strawberry.field(description="Cash: basis points of the pool, for each rank of the range.")
    campaign_id: strawberry.ID | None = strawberry.field(description="Bonus and free spins: the campaign that pays.")


@strawberry.type(description="A prize paid at settlement.")
class TournamentPayout:
    rank: int
    kind: TournamentPrizeKind
    amount: str = strawberry.field(description="Decimal amount in the currency (free spins: their count).")
    currency: str
    status: TournamentPrizeStatus


@strawberry.type(description="A tournament: its rules, schedule and state; results once settled.")
class Tournament(relay.Node):
    id: relay.NodeID[str]
    name: str
    state: TournamentState
    scoring: TournamentScoring
    points: int = strawberry.field(description="Points per wager: points for every `per` staked.")
    per: Money = strawberry.field(description="Points per wager: the stake that earns `points`.")
    entry_mode: TournamentEntryMode
    currency: str
    buy_in: Money = strawberry.field(description="Zero: free entry.")
    max_rebuys: int
    min_bet: Money = strawberry.field(description="A round staking less does not count.")
    rounds_cap: int | None = strawberry.field(description="Rounds counted per player and buy-in (null: all).")
    games: list[str] = strawberry.field(description="Eligible provider game codes (all three lists empty: all).")
    categories: list[str]
    providers: list[str]
    jurisdictions: list[str] = strawberry.field(description="Where it is offered (empty: everywhere).")
    prizes: list[TournamentPrizeRule]
    starts_at: datetime
    ends_at: datetime
    results_hash: str | None = strawberry.field(
        description="SHA-256 of the canonical results document (`croupier tournaments results`), once settled."
    )
    created_at: datetime
    settled_at: datetime | None
    cancelled_at: datetime | None
    entries_count: int | None = strawberry.field(description="Active entries (staff).")
    payouts: list[TournamentPayout] = strawberry.field(description="The prizes paid at settlement, by rank.")

    @classmethod
    def from_model(
        cls, row: m.Tournament, *, entries: int | None = None, payouts: list[m.TournamentPrize] | None = None
    ) -> Tournament:
        rules = definitions.parse(row.definition)
        cur = row.currency
        return cls(
            id=str(row.id),
            name=row.name,
            state=m.TournamentState(row.state),
            scoring=rules.scoring,
            points=rules.points,
            per=Money.of(rules.per, cur),
            entry_mode=rules.entry_mode,
            currency=cur,
            buy_in=Money.of(rules.buy_in, cur),
            max_rebuys=rules.max_rebuys,
            min_bet=Money.of(rules.min_bet, cur),
            rounds_cap=rules.rounds_cap,
            games=list(rules.games),
            categories=list(rules.categories),
            providers=list(rules.providers),
            jurisdictions=list(rules.jurisdictions),
            prizes=[
                TournamentPrizeRule(
                    rank_from=p.rank_from,
                    rank_to=p.rank_to,
                    kind=p.kind,
                    amount=Money.of(p.amount, cur) if p.amount is not None else None,
                    share_bps=p.share_bps,
                    campaign_id=strawberry.ID(str(to_global_id("BonusCampaign", p.campaign_id)))
                    if p.campaign_id
                    else None,
                )
                for p in rules.prizes
            ],
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            results_hash=row.results_hash,
            created_at=row.created_at,
            settled_at=row.settled_at,
            cancelled_at=row.cancelled_at,
            entries_count=entries,
            payouts=[
                TournamentPayout(
                    rank=p.rank,
                    kind=definitions.PrizeKind(p.kind),
                    amount=str(p.amount) if p.kind == "free_spins" else Money.of(p.amount, p.currency).amount,
                    currency=p.currency,
                    status=m.PrizeStatus(p.status),
                )
                for p in payouts or []
            ],
        )


@strawberry.type(description="The viewer's entry in a tournament, with their score.")
class TournamentEntry:
    tournament: Tournament
    status: TournamentEntryStatus
    score: int
    reached_at: datetime | None = strawberry.field(description="When the score reached its value (the tie-break).")
    rounds_counted: int
    buy_ins: int
    rebuys: int
    joined_at: datetime
    final_rank: int | None = strawberry.field(description="Once settled.")

    @classmethod
    def from_model(cls, row: m.TournamentEntry, tournament: Tournament) -> TournamentEntry:
        return cls(
            tournament=tournament,
            status=m.EntryStatus(row.status),
            score=row.score,
            reached_at=row.reached_at,
            rounds_counted=row.rounds_counted,
            buy_ins=row.buy_ins,
            rebuys=row.rebuys,
            joined_at=row.joined_at,
            final_rank=row.final_rank,
        )


@strawberry.input
class TournamentPrizeInput:
    rank_from: int
    rank_to: int
    kind: TournamentPrizeKind
    amount: str | None = text(32, default=None, description="A fixed amount, decimal, in the tournament's currency.")
    share_bps: int | None = None
    campaign_id: strawberry.ID | None = None


@strawberry.input
class CreateTournamentInput:
    name: str = text(TITLE)
    brand_id: strawberry.ID | None = strawberry.field(default=None, description="Global staff: the brand.")
    currency: str = text(8)
    starts_at: datetime
    ends_at: datetime
    scoring: TournamentScoring
    points: int = 1
    per: str | None = text(32, default=None, description="Points per wager: per this much staked (default 1.00).")
    games: list[str] = strawberry.field(default_factory=list)
    categories: list[str] = strawberry.field(default_factory=list)
    providers: list[str] = strawberry.field(default_factory=list)
    min_bet: str | None = text(32, default=None)
    rounds_cap: int | None = None
    entry_mode: TournamentEntryMode = TournamentEntryMode.OPT_IN
    buy_in: str | None = text(32, default=None)
    max_rebuys: int = 0
    jurisdictions: list[str] = strawberry.field(default_factory=list)
    prizes: list[TournamentPrizeInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateTournamentInput:
    tournament_id: strawberry.ID
    definition: CreateTournamentInput = strawberry.field(description="The whole new definition (`brandId` ignored).")


@strawberry.input
class JoinTournamentInput:
    tournament_id: strawberry.ID
    rebuy_number: int | None = strawberry.field(
        default=None,
        description="A re-buy (an entrant buying another set of rounds): which one, 1 for the first. A retry "
        "of the same number buys nothing more and answers the entry as it is.",
    )


@strawberry.input
class CancelTournamentInput:
    tournament_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.input
class SettleTournamentInput:
    tournament_id: strawberry.ID


@strawberry.type
class TournamentPayload:
    tournament: Tournament | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class JoinTournamentPayload:
    entry: TournamentEntry | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
