"""Lobby fixtures: the games fixtures, a segment with members (rows written directly: segments and their
rules are the crmseg part's; the lobby only reads membership), rounds played, and GraphQL documents."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.games.conftest import make_category, make_game, provider  # noqa: F401  (fixtures)

LOBBY = """query($brand: String, $first: Int, $recent: Int) {
  lobby(brand: $brand, first: $first, recentlyPlayed: $recent) { code games { code provider { code } } } }"""
CREATE_LAYOUT = """mutation($input: CreateLobbyLayoutInput!) { createLobbyLayout(input: $input) {
  layout { id name segmentId priority categoryOrder featuredGameIds variant status }
  errors { code field message } } }"""
UPDATE_LAYOUT = """mutation($input: UpdateLobbyLayoutInput!) { updateLobbyLayout(input: $input) {
  layout { id status categoryOrder } errors { code field message } } }"""
REFRESH = "mutation { refreshPopularGames { rows errors { code message } } }"


def codes(body: dict[str, Any]) -> dict[str, list[str]]:
    assert "errors" not in body, body
    return {c["code"]: [g["code"] for g in c["games"]] for c in body["data"]["lobby"]}


@pytest.fixture
def make_segment(rt: Any, brand: Any) -> Any:
    async def make(name: str, members: list[uuid.UUID]) -> uuid.UUID:
        segment_id = uuid.uuid4()
        async with rt.database.transaction() as db:
            await db.execute(
                text("INSERT INTO crm_segments (id, brand_id, name, kind) VALUES (:id, :brand, :name, 'static')"),
                {"id": segment_id, "brand": brand.id, "name": name},
            )
            for player_id in members:
                await db.execute(
                    text("INSERT INTO crm_segment_members (segment_id, player_id) VALUES (:s, :p)"),
                    {"s": segment_id, "p": player_id},
                )
        return segment_id

    return make


@pytest.fixture
def play(rt: Any, provider: Any) -> Any:  # noqa: F811  (the imported fixture)
    """A closed round of a game for a player (no money: the lobby reads only which games were played)."""

    async def played(player_id: uuid.UUID, game: Any, *, minutes_ago: int = 0) -> None:
        async with rt.database.transaction() as db:
            await db.execute(
                text(
                    "INSERT INTO game_rounds (id, provider_id, round_ref, player_id, game_id, currency, status, "
                    "total_bet, total_win, opened_at) VALUES (:id, :provider, :ref, :player, :game, 'EUR', 'closed', "
                    "0, 0, now() - make_interval(mins => :ago))"
                ),
                {"id": uuid.uuid4(), "provider": provider.id, "ref": uuid.uuid4().hex, "player": player_id,
                 "game": game.id, "ago": minutes_ago},
            )  # fmt: skip

    return played
