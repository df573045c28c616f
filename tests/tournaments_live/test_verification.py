"""`Query.tournamentVerification`, the back office's verify button: the standings recomputed from the rounds
of real play, compared with the stored ones; a tampered score is named; players cannot ask."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import text

from bench import world
from core.consumers import Runner
from tests.conftest import error_codes
from tests.tournaments_live.conftest import Tournaments, gid
from tests.tournaments_live.test_from_bets import play, scoring  # noqa: F401  (fixture)

VERIFY = """query($id: ID!) { tournamentVerification(tournamentId: $id) {
  ok entries rounds resultsHash recomputedHash problems } }"""


async def test_verification_recomputes_the_standings_and_names_a_tampered_score(
    rt: Any,
    client: Any,
    gql: Any,
    make_staff: Any,
    tournaments: Tournaments,
    scoring: tuple[Runner, asyncpg.Connection],  # noqa: F811
) -> None:
    runner, conn = scoring
    place = await world.build(rt, players=2, balance=100_00)
    tournament = await tournaments.create(place.brand_id, per=100)
    for n, seat in enumerate(place.seats):
        await play(client, place, seat, (n + 2) * 1_00, round_ref=f"r{n}")
    await runner.sweep(conn, grace=0)
    superadmin = await make_staff(("superadmin", None))

    body = await gql(VERIFY, {"id": gid("Tournament", tournament)}, token=superadmin.token)
    found = body["data"]["tournamentVerification"]
    assert (found["ok"], found["entries"], found["rounds"], found["problems"]) == (True, 2, 2, [])
    assert found["resultsHash"] is None
    assert len(found["recomputedHash"]) == 64

    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE tournament_entries SET score = score + 50 WHERE tournament_id = :t AND player_id = :p"),
            {"t": tournament, "p": place.seats[0].user},
        )
    body = await gql(VERIFY, {"id": gid("Tournament", tournament)}, token=superadmin.token)
    found = body["data"]["tournamentVerification"]
    assert found["ok"] is False
    assert len(found["problems"]) == 1
    assert place.seats[0].user in found["problems"][0]
    async with rt.database.transaction() as db:  # put back: the after-test board check compares with it
        await db.execute(
            text("UPDATE tournament_entries SET score = score - 50 WHERE tournament_id = :t AND player_id = :p"),
            {"t": tournament, "p": place.seats[0].user},
        )

    token = (await world.player_tokens(rt, place, place.seats[:1]))[0]
    assert error_codes(await gql(VERIFY, {"id": gid("Tournament", tournament)}, token=token)) == ["FORBIDDEN"]
