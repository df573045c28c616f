"""What the lobby shows one player beyond their audience's lobby: the layout of their segments, and the games
they played last.

- `layout_for` reads, in one statement, the active layouts of the player's segments (highest priority first)
  with their experiment's design and the player's recorded assignment; the choice is made here: a layout of a
  running experiment serves only the players whose bucket (assignment.bucket_of) is its variant, a stopped
  experiment's winner layout serves everyone, and the segment's plain layout the rest. When the player meets
  a running experiment for the first time, the exposure is recorded (one more statement, once per player).
- `recently_played` reads the player's last distinct games from `game_rounds` that the audience may still
  play (one statement): per player, so never part of the shared cached lobby.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.runtime import Runtime
from models.games import Game, GameRound, LobbyCategory
from services.crm.experiments.assignment import bucket_of
from services.crm.lobby.popular import popular_games
from services.games import Audience, LobbySection, available_to

RECENT = 12
RECENT_MAX = 24
ROUNDS_READ = 500


@dataclass(frozen=True)
class Layout:
    id: uuid.UUID
    segment_id: uuid.UUID
    category_order: tuple[str, ...]
    featured: tuple[uuid.UUID, ...]


_CANDIDATES = text(
    "SELECT l.id, l.segment_id, l.category_order, l.featured, l.experiment_id, l.variant, "
    "e.id AS tested_by, e.status, e.variants, e.holdout_ppm, e.winner, "
    "a.player_id AS assigned, a.variant AS assigned_variant "
    "FROM crm_segment_members m "
    "JOIN crm_segments s ON s.id = m.segment_id AND s.status = 'active' "
    "JOIN crm_lobby_layouts l ON l.segment_id = m.segment_id AND l.status = 'active' "
    # The segment's test is one for all its layouts: the running one, else the one stopped last (a layout's
    # own experiment_id only says which variant it serves; the order of the layouts decides nothing).
    "LEFT JOIN crm_experiments e ON e.id = ("
    "  SELECT x.id FROM crm_experiments x WHERE x.subject_kind = 'lobby' AND x.subject_id = l.segment_id "
    "  AND x.brand_id = l.brand_id AND x.status <> 'draft' "
    "  ORDER BY x.status = 'running' DESC, x.stopped_at DESC NULLS LAST, x.created_at DESC, x.id LIMIT 1) "
    "LEFT JOIN crm_experiment_assignments a ON a.experiment_id = e.id AND a.player_id = m.player_id "
    "WHERE m.player_id = :player "
    "ORDER BY l.priority DESC, l.created_at, l.id"
)
_EXPOSE = text(
    "INSERT INTO crm_experiment_assignments (experiment_id, player_id, variant, exposed_at) "
    "VALUES (:experiment, :player, :variant, :now) ON CONFLICT (experiment_id, player_id) DO NOTHING"
)


def _layout(row: Any) -> Layout:
    return Layout(
        id=row["id"],
        segment_id=row["segment_id"],
        category_order=tuple(row["category_order"]),
        featured=tuple(uuid.UUID(g) for g in row["featured"]),
    )


def choose(rows: list[Any], player_id: uuid.UUID) -> tuple[Layout | None, list[tuple[uuid.UUID, str | None]]]:
    """The layout among the candidates (best priority first), and the exposures to record (experiment, variant)
    when the player meets running experiments unrecorded. A segment reached whose test runs exposes the player
    whatever they then get: its variant's layout, its plain one, or — for the control, the holdout and variants
    without a layout when it has no plain one — the next segment's layout or the brand's lobby (the control's
    experience), so the control and the holdout are counted as the variants are."""
    exposures: list[tuple[uuid.UUID, str | None]] = []
    for segment_rows in _by_segment(rows):
        first = segment_rows[0]
        experiment = first["tested_by"]
        plain = [r for r in segment_rows if r["experiment_id"] is None]
        if experiment is None or first["status"] not in ("running", "stopped"):
            if plain:
                return _layout(plain[0]), exposures
            continue
        if first["status"] == "stopped":
            wanted = first["winner"]
        elif first["assigned"] is not None:
            wanted = first["assigned_variant"]
        else:
            wanted = bucket_of(experiment, player_id, first["variants"], first["holdout_ppm"])
            exposures.append((experiment, wanted))
        tested = [r for r in segment_rows if r["experiment_id"] == experiment and r["variant"] == wanted]
        chosen = (tested or plain or [None])[0]
        if chosen is not None:
            return _layout(chosen), exposures
    return None, exposures


def _by_segment(rows: list[Any]) -> list[list[Any]]:
    """The candidates grouped by segment, in the order of each segment's best layout."""
    groups: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        groups.setdefault(row["segment_id"], []).append(row)
    return list(groups.values())


async def layout_for(rt: Runtime, player_id: uuid.UUID) -> Layout | None:
    async with rt.database.session() as db:
        rows = list((await db.execute(_CANDIDATES, {"player": player_id})).mappings().all())
    if not rows:
        return None
    layout, exposures = choose(rows, player_id)
    if exposures:  # one statement (two tested segments met at once: rare)
        async with rt.database.transaction() as db:
            for experiment, variant in exposures:
                await db.execute(
                    _EXPOSE, {"experiment": experiment, "player": player_id, "variant": variant, "now": clock.now()}
                )
    return layout


async def recently_played(
    db: AsyncSession, audience: Audience, player_id: uuid.UUID, *, limit: int = RECENT
) -> list[Game]:
    """The player's last distinct games (by their latest round), those the audience may still play."""
    rounds = (  # the latest rounds only (the player's index): a long history costs nothing more
        select(col(GameRound.game_id), col(GameRound.opened_at))
        .where(col(GameRound.player_id) == player_id, col(GameRound.game_id).is_not(None))
        .order_by(col(GameRound.opened_at).desc())
        .limit(ROUNDS_READ)
        .subquery()
    )
    last = (
        select(rounds.c.game_id.label("game_id"), func.max(rounds.c.opened_at).label("last_at"))
        .group_by(rounds.c.game_id)
        .subquery()
    )
    stmt = (
        select(Game)
        .join(last, last.c.game_id == col(Game.id))
        .where(available_to(audience))
        .order_by(last.c.last_at.desc(), col(Game.id))
        .limit(limit)
    )
    return list((await db.scalars(stmt)).all())


FEATURED = "featured"
POPULAR = "popular-for-you"
RECENTLY_PLAYED = "recently-played"


def section_category(code: str, title: str) -> LobbyCategory:
    """A lobby section that is no stored category (featured, popular, recently played)."""
    return LobbyCategory(id=uuid.UUID(int=0), brand_id=None, code=code, title=title, position=-1)


async def arranged(
    db: AsyncSession, audience: Audience, layout: Layout, sections: list[LobbySection], *, per_category: int
) -> list[LobbySection]:
    """The lobby as the layout arranges it: its featured games first, then the popular games of its segment and
    the audience's country, then the categories in the layout's order (those it does not name after, as they
    were). Two statements."""
    order = {code: n for n, code in enumerate(layout.category_order)}
    ordered = sorted(sections, key=lambda s: (order.get(s.category.code, len(order)), sections.index(s)))
    featured: list[Game] = []
    if layout.featured and per_category > 0:
        found = {
            g.id: g
            for g in await db.scalars(select(Game).where(col(Game.id).in_(layout.featured), available_to(audience)))
        }
        featured = [found[i] for i in layout.featured if i in found][:per_category]
    popular = await popular_games(db, audience, layout.segment_id, limit=per_category)
    extra = [LobbySection(section_category(FEATURED, "Featured"), featured)] if featured else []
    if popular:
        extra.append(LobbySection(section_category(POPULAR, "Popular with players like you"), popular))
    return extra + ordered
