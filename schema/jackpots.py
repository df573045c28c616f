"""Jackpot types: jackpots and their levels (pots) with the amounts now, each pot's history (contributions
by day, wins, reseeds) and commitments, the live tick, and the staff's inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry import relay

from models import jackpots as m
from schema.base import Connection, Money, UserError, to_global_id
from schema.context import Info
from schema.input_limits import REASON, TITLE, text

JackpotKind = m.JackpotKind
strawberry.enum(m.JackpotKind, name="JackpotKind", description="local: one brand; network: one pool across brands.")
JackpotType = m.JackpotType
strawberry.enum(
    m.JackpotType, name="JackpotType", description="fixed: the prize is the seed; progressive: stakes grow the pot."
)
JackpotStatus = m.JackpotStatus
strawberry.enum(m.JackpotStatus, name="JackpotStatus", description="paused: no contributions, no drops.")
JackpotDropTrigger = m.DropTrigger
strawberry.enum(
    m.DropTrigger,
    name="JackpotDropTrigger",
    description="amount: drops by its must-drop amount, at a committed point; time: within its window, at a "
    "committed instant; provider: the game provider reports the win.",
)


def percent_of_ppm(ppm: int) -> str:
    """Parts per million as an exact percent string (10000 → "1", 12500 → "1.25")."""
    whole, part = divmod(ppm, 10_000)
    return f"{whole}.{part:04d}".rstrip("0").rstrip(".") if part else str(whole)


@strawberry.type(
    description="One level of a jackpot (mini, major, grand…): its pot now and the rules that grow and drop it."
)
class JackpotLevel:
    id: strawberry.ID
    level: str
    position: int
    amount: Money = strawberry.field(description="The pot now (in the jackpot's currency).")
    seed: Money = strawberry.field(description="What each pot starts from, paid from the seed account.")
    contribution_percent: str = strawberry.field(description="The share of each eligible stake, in percent (exact).")
    trigger: JackpotDropTrigger
    must_drop_by: Money | None = strawberry.field(description="An amount pot drops before it passes this.")
    drop_window_seconds: int | None = strawberry.field(description="A time pot drops within this of its seeding.")
    generation: int = strawberry.field(description="Which pot this is: one more after every drop.")
    seeded_at: datetime | None
    contributed_total: Money = strawberry.field(description="Every contribution ever (staff).")
    won_total: Money = strawberry.field(description="Every win ever paid (staff).")

    @strawberry.field(description="Contributions by UTC day, newest first.")  # type: ignore[untyped-decorator]
    async def contributions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[JackpotContributionDay]:
        from resolvers.jackpots import level_contributions

        return await level_contributions(info, self.pool_id, first=first, after=after)

    @strawberry.field(description="The pot's wins, newest first.")  # type: ignore[untyped-decorator]
    async def wins(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[JackpotWin]:
        from resolvers.jackpots import level_wins

        return await level_wins(info, self.pool_id, first=first, after=after)

    @strawberry.field(description="Each pot's seed (the first and every reseed), newest first.")  # type: ignore[untyped-decorator]
    async def reseeds(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[JackpotReseed]:
        from resolvers.jackpots import level_reseeds

        return await level_reseeds(info, self.pool_id, first=first, after=after)

    @strawberry.field(
        description="The drop points committed to, newest first: the hash from the seeding, "
        "the point and salt once the pot dropped."
    )  # type: ignore[untyped-decorator]
    async def commitments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[JackpotCommitment]:
        from resolvers.jackpots import level_commitments

        return await level_commitments(info, self.pool_id, first=first, after=after)

    pool_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, pool: m.JackpotPool) -> JackpotLevel:
        currency = pool.currency
        return cls(
            id=strawberry.ID(str(to_global_id("JackpotLevel", pool.id))),
            pool_id=pool.id,
            level=pool.level,
            position=pool.position,
            amount=Money.of(pool.amount, currency),
            seed=Money.of(pool.seed_amount, currency),
            contribution_percent=percent_of_ppm(pool.contribution_ppm),
            trigger=JackpotDropTrigger(pool.trigger),
            must_drop_by=Money.of(pool.cap_amount, currency) if pool.cap_amount is not None else None,
            drop_window_seconds=pool.drop_window_seconds,
            generation=pool.generation,
            seeded_at=pool.seeded_at,
            contributed_total=Money.of(pool.contributed_total, currency),
            won_total=Money.of(pool.won_total, currency),
        )


@strawberry.type(description="A jackpot: local or network, fixed or progressive, one or several levels.")
class Jackpot(relay.Node):
    id: relay.NodeID[str]
    code: str
    name: str
    kind: JackpotKind
    type: JackpotType
    status: JackpotStatus
    currency: str = strawberry.field(description="The pool's currency (a network jackpot's base currency).")
    games: list[str] = strawberry.field(description="Eligible game codes (empty: every game).")
    providers: list[str] = strawberry.field(description="Eligible provider codes (empty: every provider).")
    min_bet: Money = strawberry.field(description="The smallest stake that contributes and may win.")
    created_at: datetime

    @strawberry.field(description="The levels, smallest first, with their pots now.")  # type: ignore[untyped-decorator]
    async def levels(self, info: Info) -> list[JackpotLevel]:
        from resolvers.jackpots import jackpot_levels

        return await jackpot_levels(info, uuid.UUID(self.id))

    @strawberry.field(description="Every level's pot together.")  # type: ignore[untyped-decorator]
    async def total(self, info: Info) -> Money:
        from resolvers.jackpots import jackpot_total

        return await jackpot_total(info, uuid.UUID(self.id), self.currency)

    @classmethod
    def from_model(cls, row: m.Jackpot) -> Jackpot:
        return cls(
            id=str(row.id),
            code=row.code,
            name=row.name,
            kind=JackpotKind(row.kind),
            type=JackpotType(row.type),
            status=JackpotStatus(row.status),
            currency=row.currency,
            games=list(row.games),
            providers=list(row.providers),
            min_bet=Money.of(row.min_bet, row.currency),
            created_at=row.created_at,
        )


@strawberry.type(description="What one UTC day added to a pot.")
class JackpotContributionDay:
    day: date
    contributed: Money
    taken_back: Money = strawberry.field(description="What rolled-back bets took back.")
    net: Money
    bets: int
    rollbacks: int
    forgone: Money = strawberry.field(
        description="What rolled-back bets could not take back: the pot they fed had dropped (the house's loss)."
    )


@strawberry.type(description="A pot's drop: what it paid and where it dropped.")
class JackpotWin:
    id: strawberry.ID
    generation: int
    trigger: JackpotDropTrigger
    amount: Money = strawberry.field(description="What left the pot.")
    paid: Money = strawberry.field(description="What the winner received, in their currency.")
    fx_rate: str = strawberry.field(description="Pot currency to paid currency, as an exact fraction.")
    amount_before: Money = strawberry.field(description="The pot before the winning bet.")
    amount_after: Money = strawberry.field(description="The pot after the winning bet's contribution.")
    drop_point: str | None = strawberry.field(description="The committed point it dropped at (amount or time pots).")
    won_at: datetime
    player_id: strawberry.ID | None = strawberry.field(description="The winner (staff).")
    reference: str | None = strawberry.field(description="The winning bet, or the provider's win reference (staff).")
    ledger_transaction_id: strawberry.ID | None = strawberry.field(
        description="The payout's ledger transaction (staff)."
    )


@strawberry.type(description="A pot's seed: the first, or the reseed after a drop.")
class JackpotReseed:
    generation: int
    amount: Money
    seeded_at: datetime
    ledger_transaction_id: strawberry.ID | None = strawberry.field(description="Its ledger transaction (staff).")


@strawberry.type(
    description="A drop point committed to when the pot was seeded: SHA-256(point as 8 bytes big-endian || "
    "32-byte salt), hex. The point and salt are revealed once the pot dropped; anyone can recompute the hash "
    "(scripts/verify_jackpot_commitment.py)."
)
class JackpotCommitment:
    generation: int
    trigger: JackpotDropTrigger
    commitment: str
    published_at: datetime
    revealed_at: datetime | None
    drop_point: str | None = strawberry.field(
        description="After the drop: minor units (amount pots) or milliseconds since the epoch (time pots)."
    )
    salt: str | None = strawberry.field(description="After the drop: the 32-byte salt, hex.")
    verified: bool | None = strawberry.field(description="After the drop: the point and salt hash to the commitment.")
    voided: bool = strawberry.field(
        default=False,
        description="Revealed without a drop: the jackpot was closed and the pot refunded to its seed account.",
    )


@strawberry.type(description="One revealed drop, checked again from the books (services/jackpots/views.verify).")
class JackpotDropCheck:
    level: str
    generation: int
    trigger: JackpotDropTrigger
    commitment: str
    drop_point: str
    salt: str
    ok: bool
    problems: list[str] = strawberry.field(description="What does not add up (empty when the drop checks out).")
    void: bool = strawberry.field(
        default=False, description="A closed jackpot's pot: never dropped; the point checked, the refund the pot."
    )


@strawberry.type(
    description="Every revealed drop of a jackpot checked: the commitment hashes to the point and salt, the pot "
    "dropped where committed and never past its cap, the pool's ledger account paid the whole pot, and the pot "
    "was its seed plus the contributions booked to it."
)
class JackpotVerification:
    ok: bool
    drops: list[JackpotDropCheck]


@strawberry.type(description="A jackpot's pots, pushed live (at most once a second).")
class JackpotTick:
    jackpot_id: strawberry.ID
    at: datetime
    trigger: str = strawberry.field(
        description="`snapshot` (on subscribing, and after an outage of the live feed), else what moved the "
        "pots: `contributions`, `win`, `reseed` or `configured` (several joined by commas)."
    )
    status: JackpotStatus
    levels: list[JackpotLevelAmount]
    total: Money
    # A tick is the same for every subscriber: it is its own template (schema/live_plan.py), rendered once per
    # document for all the subscribers of a process. None: render it for each (the snapshot on subscribing).
    live_template: strawberry.Private[JackpotTick | None] = None


@strawberry.type(description="One level's pot in a live tick.")
class JackpotLevelAmount:
    level: str
    amount: Money
    generation: int


# ---- staff: create, configure, pause and close --------------------------------------------------


@strawberry.input(description="One level of a new jackpot. Money as decimal strings in the jackpot's currency.")
class JackpotLevelInput:
    level: str = text(32)
    seed: str
    contribution_percent: str = strawberry.field(description='Share of each eligible stake, e.g. "0.5" (0 for fixed).')
    trigger: JackpotDropTrigger
    must_drop_by: str | None = None
    drop_window_seconds: int | None = None


@strawberry.input
class CreateJackpotInput:
    code: str = text(64)
    name: str = text(TITLE)
    kind: JackpotKind
    type: JackpotType
    currency: str = text(8)
    brands: list[str] = strawberry.field(description="Brand codes: one for a local jackpot, several for a network.")
    levels: list[JackpotLevelInput]
    games: list[str] | None = None
    providers: list[str] | None = None
    min_bet: str | None = None


@strawberry.input(description="Change what contributes; leave a field out to keep it.")
class ConfigureJackpotInput:
    jackpot_id: strawberry.ID
    games: list[str] | None = strawberry.UNSET
    providers: list[str] | None = strawberry.UNSET
    min_bet: str | None = strawberry.UNSET
    reason: str = text(REASON)


@strawberry.input
class SetJackpotStatusInput:
    jackpot_id: strawberry.ID
    status: JackpotStatus
    reason: str = text(REASON)


@strawberry.type
class JackpotPayload:
    jackpot: Jackpot | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
