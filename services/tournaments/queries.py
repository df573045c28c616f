"""What a viewer may read of tournaments, as SQL (the ownership filter is in the statement, never applied
afterwards): a player their brand's tournaments in their currency and jurisdiction, and their own entries;
staff their brand scope's tournaments, with entry counts; the platform (CLI) everything."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import false, func, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import NotFound
from models.players import Player
from models.tournaments import Tournament, TournamentEntry, TournamentPrize, TournamentState

# A tournament offered where the player plays: no jurisdictions listed, or theirs among them.
_JURISDICTION = text(
    "(tournaments.definition->'jurisdictions' = CAST('[]' AS jsonb) OR tournaments.definition->'jurisdictions' "
    "@> to_jsonb(ARRAY[(SELECT p.jurisdiction FROM players p WHERE p.id = :tournament_viewer)]))"
)


def readable_tournaments(viewer: Viewer) -> SelectOfScalar[Tournament]:
    stmt = select(Tournament)
    if viewer.is_player and viewer.id is not None:
        currency = select(Player.currency).where(col(Player.id) == viewer.id).scalar_subquery()
        return stmt.where(
            col(Tournament.brand_id) == viewer.brand_id,
            col(Tournament.currency) == currency,
            _JURISDICTION.bindparams(tournament_viewer=viewer.id),
        )
    if viewer.is_staff or viewer.kind == "system":
        return stmt if viewer.brand_id is None else stmt.where(col(Tournament.brand_id) == viewer.brand_id)
    return stmt.where(false())


def listed(viewer: Viewer, states: Sequence[TournamentState] = ()) -> SelectOfScalar[Tournament]:
    stmt = readable_tournaments(viewer)
    if states:
        stmt = stmt.where(col(Tournament.state).in_([s.value for s in states]))
    return stmt


async def get_readable(db: AsyncSession, viewer: Viewer, tournament_id: uuid.UUID) -> Tournament:
    found = await db.scalar(readable_tournaments(viewer).where(col(Tournament.id) == tournament_id))
    if found is None:
        raise NotFound("No such tournament.", field="tournamentId")
    return found


def my_entries(viewer: Viewer) -> SelectOfScalar[TournamentEntry]:
    """The viewer's own entries (a player's; nobody else has entries)."""
    if not viewer.is_player or viewer.id is None:
        return select(TournamentEntry).where(false())
    return select(TournamentEntry).where(col(TournamentEntry.player_id) == viewer.id)


async def entry_counts(db: AsyncSession, tournament_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Active entries per tournament, for a page of them (one statement)."""
    if not tournament_ids:
        return {}
    rows = await db.execute(
        select(col(TournamentEntry.tournament_id), func.count())
        .where(col(TournamentEntry.tournament_id).in_(tournament_ids), col(TournamentEntry.status) == "active")
        .group_by(col(TournamentEntry.tournament_id))
    )
    return {tournament_id: int(n) for tournament_id, n in rows.all()}


async def tournaments_by_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Tournament]:
    if not ids:
        return {}
    found = await db.execute(select(Tournament).where(col(Tournament.id).in_(list(set(ids)))))
    return {t.id: t for t in found.scalars()}


async def prizes(db: AsyncSession, tournament_id: uuid.UUID) -> list[TournamentPrize]:
    found = await db.execute(
        select(TournamentPrize)
        .where(col(TournamentPrize.tournament_id) == tournament_id)
        .order_by(col(TournamentPrize.rank))
    )
    return list(found.scalars())


@dataclass(frozen=True)
class Listed:
    tournament: Tournament
    entries: int


async def staff_list(db: AsyncSession, viewer: Viewer, *, first: int = 100) -> list[Listed]:
    """The newest tournaments the viewer may read, with their entry counts (two statements)."""
    rows = list(
        (
            await db.execute(
                readable_tournaments(viewer)
                .order_by(col(Tournament.created_at).desc(), col(Tournament.id).desc())
                .limit(first)
            )
        ).scalars()
    )
    counts = await entry_counts(db, [t.id for t in rows])
    return [Listed(t, counts.get(t.id, 0)) for t in rows]
