"""`croupier tournaments verify ID`: the standings recomputed from the rounds agree with the stored ones (exit 0),
and a round or an entry changed behind the platform's back shows (exit 1)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.tournaments.conftest import EUR, Arena, join, run_cli, tournament_uuid


async def settled_tournament(arena: Arena, make_player: Any, create: Any) -> tuple[str, list[Any]]:
    gid = (await create())["tournament"]["id"]
    players = [await make_player(balance="50.00 EUR") for _ in range(2)]
    for n, player in enumerate(players):
        assert (await join(arena.gql, player, gid))["errors"] == []
        await arena.stake(player, (n + 1) * EUR, f"v-{n}")
    await arena.scores.drain()
    settled = await arena.settle(gid)
    assert settled["errors"] == [], settled
    return gid, players


async def test_verify_agrees_with_a_settled_tournament(arena: Arena, make_player: Any, create: Any) -> None:
    gid, _ = await settled_tournament(arena, make_player, create)
    code, out = await run_cli("tournaments", "verify", str(tournament_uuid(gid)))
    assert (code, out.endswith(": OK\n")) == (0, True), out


@pytest.mark.tampers
@pytest.mark.parametrize(
    ("statement", "found"),
    [
        # The lower scorer's round inflated: their stored score no longer follows from their rounds.
        (
            "UPDATE tournament_rounds SET stake = stake * 10 WHERE tournament_id = :t AND player_id = :p",
            ["stored score 1 (reached at", "its rounds give 10", "differs from the published"],
        ),
        # Their stored score raised: it no longer follows from the rounds, and the ranking moved.
        (
            "UPDATE tournament_entries SET score = 99 WHERE tournament_id = :t AND player_id = :p",
            ["stored score 99", "settled at rank 2, ranks 1 now", "differs from the published"],
        ),
    ],
    ids=["round", "score"],
)
async def test_verify_finds_a_tampered_row(
    arena: Arena, make_player: Any, create: Any, statement: str, found: list[str]
) -> None:
    gid, players = await settled_tournament(arena, make_player, create)
    tid = tournament_uuid(gid)
    async with arena.rt.database.transaction() as db:
        changed = await db.execute(text(statement), {"t": tid, "p": players[0].uuid})
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    code, out = await run_cli("tournaments", "verify", str(tid))
    assert code == 1, out
    for words in found:
        assert words in out, out
    assert f"player {players[0].uuid}:" in out, out


async def test_verify_refuses_an_unknown_tournament() -> None:
    code, out = await run_cli("tournaments", "verify", "00000000-0000-0000-0000-000000000000")
    assert code == 2, out
