"""Types of the live leaderboards: a tournament's board as the query answers it and as
`Subscription.leaderboardChanged` pushes it (services/tournaments/live.py)."""

from __future__ import annotations

import strawberry


@strawberry.type(description="One entrant's place on a tournament's leaderboard.")
class LeaderboardStanding:
    rank: int = strawberry.field(description="1 is first: score descending, then whoever reached it first.")
    score: str = strawberry.field(
        description="The score as a decimal integer (a BIGINT: it may exceed GraphQL's 32-bit Int)."
    )
    alias: str = strawberry.field(
        description="What other players see of the entrant: stable within the tournament, nothing personal."
    )
    is_viewer: bool = strawberry.field(description="This standing is the viewing player's own.")
    player_id: strawberry.ID | None = strawberry.field(description="The entrant (a Player id): staff only.")


@strawberry.type(description="A tournament's live leaderboard: its top and the viewing player's own position.")
class Leaderboard:
    tournament_id: strawberry.ID
    version: int = strawberry.field(
        description=(
            "Grows with every change of the board (it starts again when the board is rebuilt from scratch, after "
            "Redis lost it); updates arrive in order on a subscription."
        )
    )
    entrants: int = strawberry.field(description="Entrants on the board.")
    top: list[LeaderboardStanding]
    me: LeaderboardStanding | None = strawberry.field(
        description="The viewing player's own standing (null for staff, or a player not entered)."
    )
    # The board of the publication as every subscriber outside its top sees it (`me` null): rendered once
    # per publication and document, each subscriber adding only what differs (schema/live_plan.py).
    live_template: strawberry.Private[Leaderboard | None] = None


@strawberry.type(
    description=(
        "A tournament's standings recomputed from its rounds and compared with the stored ones (and, once "
        "settled, with the settled ranks and the published results hash): `croupier tournaments verify`."
    )
)
class TournamentVerification:
    ok: bool
    entries: int = strawberry.field(description="Entries whose standing was recomputed.")
    rounds: int = strawberry.field(description="Rounds behind the standings.")
    results_hash: str | None = strawberry.field(description="The published results hash (settled), else null.")
    recomputed_hash: str = strawberry.field(description="The hash of the results document computed now.")
    problems: list[str] = strawberry.field(description="What differs (empty when ok).")
