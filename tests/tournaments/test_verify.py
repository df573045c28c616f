"""`croupier tournaments verify ID`: the standings recomputed from the rounds agree with the stored ones (exit 0),
and a round changed behind the platform's back shows (exit 1), as does a changed settled rank."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import text

from services.tournaments import lifecycle
from tests import cli_process
from tests.conftest import TEST_ENV
from tests.tournaments.conftest import EUR, SETTLE, Scores, bet, finish, join, seated, tournament_uuid


async def run_cli(*args: str) -> tuple[int, str]:
    done = await cli_process.run_async(*args, env={**os.environ, **TEST_ENV}, merge_stderr=True, timeout=120)
    return done.returncode, done.stdout


async def settled_tournament(
    rt: Any,
    gql: Any,
    make_player: Any,
    create: Any,
    organiser: Any,
    scores: Scores,
    hub88_provider: Any,
    aggregator: Any,
) -> tuple[str, list[Any]]:
    gid = (await create())["tournament"]["id"]
    players = [await make_player(balance="50.00 EUR") for _ in range(2)]
    for n, player in enumerate(players):
        assert (await join(gql, player, gid))["errors"] == []
        await bet(aggregator, await seated(rt, hub88_provider, player), (n + 1) * EUR, f"v-{n}")
    await scores.drain()
    finish()
    await lifecycle.tick(rt)
    settled = (await gql(SETTLE, {"input": {"tournamentId": gid}}, token=organiser.token))["data"]["settleTournament"]
    assert settled["errors"] == [], settled
    return gid, players


async def tamper(rt: Any, statement: str, **params: Any) -> None:
    async with rt.database.transaction() as db:
        assert (await db.execute(text(statement), params)).rowcount == 1  # type: ignore[attr-defined]


async def test_verify_agrees_with_a_settled_tournament(
    rt: Any,
    gql: Any,
    make_player: Any,
    create: Any,
    organiser: Any,
    scores: Scores,
    hub88_provider: Any,
    aggregator: Any,
) -> None:
    gid, _ = await settled_tournament(rt, gql, make_player, create, organiser, scores, hub88_provider, aggregator)
    code, out = await run_cli("tournaments", "verify", str(tournament_uuid(gid)))
    assert (code, out.endswith(": OK\n")) == (0, True), out


@pytest.mark.tampers
async def test_verify_finds_a_tampered_round(
    rt: Any,
    gql: Any,
    make_player: Any,
    create: Any,
    organiser: Any,
    scores: Scores,
    hub88_provider: Any,
    aggregator: Any,
) -> None:
    gid, players = await settled_tournament(rt, gql, make_player, create, organiser, scores, hub88_provider, aggregator)
    tid = tournament_uuid(gid)
    # The lower scorer's round inflated: their stored score no longer follows from their rounds.
    await tamper(
        rt,
        "UPDATE tournament_rounds SET stake = stake * 10 WHERE tournament_id = :t AND player_id = :p",
        t=tid,
        p=players[0].uuid,
    )
    code, out = await run_cli("tournaments", "verify", str(tid))
    assert code == 1, out
    assert f"player {players[0].uuid}: stored score 1 (reached at" in out, out
    assert "its rounds give 10" in out, out
    assert "differs from the published" in out, out


@pytest.mark.tampers
async def test_verify_finds_a_tampered_score(
    rt: Any,
    gql: Any,
    make_player: Any,
    create: Any,
    organiser: Any,
    scores: Scores,
    hub88_provider: Any,
    aggregator: Any,
) -> None:
    gid, players = await settled_tournament(rt, gql, make_player, create, organiser, scores, hub88_provider, aggregator)
    tid = tournament_uuid(gid)
    await tamper(
        rt,
        "UPDATE tournament_entries SET score = 99 WHERE tournament_id = :t AND player_id = :p",
        t=tid,
        p=players[0].uuid,
    )
    code, out = await run_cli("tournaments", "verify", str(tid))
    assert code == 1, out
    assert "stored score 99" in out, out
    assert "settled at rank 2, ranks 1 now" in out, out


async def test_verify_refuses_an_unknown_tournament() -> None:
    code, out = await run_cli("tournaments", "verify", "00000000-0000-0000-0000-000000000000")
    assert code == 2, out
