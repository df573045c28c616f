"""Reality checks (due, pushed, answered) and session-time limits that end the session."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.clock import clock
from models.outbox import OutboxEvent
from services.rg import reality, worker
from tests.conftest import error_codes
from tests.rg.conftest import SOME_GAME, login, my_rg, refresh, seat_for, set_limit, u

ANSWER = """
mutation($input: AnswerRealityCheckInput!) { answerRealityCheck(input: $input) {
  realityCheck { due nextDueAt minutesPlayed netResult { amount currency } } errors { code } } }"""
LAUNCH = (
    f'mutation {{ launchGame(input: {{gameId: "{SOME_GAME}", mode: REAL}}) {{ errors {{ code limit {{ kind }} }} }} }}'
)
REFRESH = """
mutation($input: RefreshTokenInput) { refreshToken(input: $input) { tokens { accessToken refreshToken }
  errors { code } } }"""


def _session_of(token: str) -> uuid.UUID:
    import jwt

    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sid"])


async def _events(rt: Any, topic: str) -> list[dict[str, Any]]:
    async with rt.database.session() as db:
        return [e.payload for e in (await db.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic))).all()]


async def test_reality_check_pauses_play_until_the_player_answers(
    gql: Any, rt: Any, make_player: Any, nordic: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player(brand_code="nordic", country="MT", currency="EUR")  # Malta: every 60 minutes
    session = _session_of(player.token)
    seat = await seat_for(rt, hub88_provider, player, auth_session_id=session)
    bet = seat.bet(u(200))
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/win", seat.win(u(50), bet["transaction_uuid"])))["status"] == "RS_OK"
    rg = await my_rg(gql, player)
    assert rg["realityCheckMinutes"] == 60
    assert rg["realityCheck"]["due"] is False

    clock.advance(timedelta(minutes=61))
    await refresh(gql, player)
    assert await reality.push_due(rt) == 1
    assert await reality.push_due(rt) == 0  # pushed once per due time
    pushed = await _events(rt, "rg.reality_check_due")
    assert pushed[0]["session_id"] == str(session)
    check = (await my_rg(gql, player))["realityCheck"]
    assert check["due"] is True
    assert check["minutesPlayed"] == 61
    assert check["netResult"] == [{"amount": "-1.50", "currency": "EUR"}]
    # Paused: the provider's bet is refused, a launch too.
    assert (await aggregator.call("transaction/bet", seat.bet(u(100), round_ref="r-2")))[
        "status"
    ] == "RS_ERROR_LIMIT_REACHED"
    launch = await gql(LAUNCH, token=player.token)
    assert launch["data"]["launchGame"]["errors"][0]["code"] == "REALITY_CHECK_DUE"

    go_on = (await gql(ANSWER, {"input": {"continuePlaying": True}}, token=player.token))["data"]["answerRealityCheck"]
    assert go_on["errors"] == []
    assert go_on["realityCheck"]["due"] is False
    assert (await aggregator.call("transaction/bet", seat.bet(u(100), round_ref="r-3")))["status"] == "RS_OK"
    again = (await gql(ANSWER, {"input": {"continuePlaying": True}}, token=player.token))["data"]["answerRealityCheck"]
    assert again["errors"][0]["code"] == "INVALID_STATE"  # nothing waiting

    clock.advance(timedelta(minutes=61))
    await refresh(gql, player)
    stop = (await gql(ANSWER, {"input": {"continuePlaying": False}}, token=player.token))["data"]["answerRealityCheck"]
    assert stop["errors"] == []
    assert stop["realityCheck"] is None
    assert "UNAUTHENTICATED" in error_codes(await gql("{ me { id } }", token=player.token))
    # The game session ended with it: the provider's next bet is told the token expired.
    assert (await aggregator.call("transaction/bet", seat.bet(u(100), round_ref="r-4")))[
        "status"
    ] == "RS_ERROR_TOKEN_EXPIRED"
    assert [e["reason"] for e in await _events(rt, "player.session_ended")] == ["reality_check_stop"]


async def test_the_player_chooses_the_interval(gql: Any, make_player: Any) -> None:
    player = await make_player()  # the default profile has no checks unless the player asks
    assert (await my_rg(gql, player))["realityCheck"] is None
    body = await gql(
        "mutation { setRealityCheck(input: {minutes: 30}) { realityCheck { nextDueAt } errors { code field } } }",
        token=player.token,
    )
    assert body["data"]["setRealityCheck"]["errors"] == []
    assert body["data"]["setRealityCheck"]["realityCheck"]["nextDueAt"]
    bad = await gql("mutation { setRealityCheck(input: {minutes: 2}) { errors { code field } } }", token=player.token)
    assert bad["data"]["setRealityCheck"]["errors"][0]["field"] == "minutes"


async def test_a_session_time_limit_ends_the_session_and_refuses_play(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=30)
    seat = await seat_for(rt, hub88_provider, player, auth_session_id=_session_of(player.token))
    refresh = player.refresh_token
    for _ in range(3):  # the frontend keeps the session alive
        clock.advance(timedelta(minutes=10, seconds=20))
        tokens = (await gql(REFRESH, {"input": {"refreshToken": refresh}}))["data"]["refreshToken"]["tokens"]
        refresh, player.token = tokens["refreshToken"], tokens["accessToken"]
    rg = await my_rg(gql, player)
    assert rg["limits"][0]["minutes"] == 30
    assert rg["limits"][0]["used"] is None
    assert rg["activity"][0]["minutesPlayed"] >= 30
    launch = await gql(LAUNCH, token=player.token)
    assert launch["data"]["launchGame"]["errors"][0]["code"] == "LIMIT_REACHED"
    assert launch["data"]["launchGame"]["errors"][0]["limit"]["kind"] == "session_time"
    assert (await aggregator.call("transaction/bet", seat.bet(u(100))))["status"] == "RS_ERROR_LIMIT_REACHED"

    assert await worker.end_spent_sessions(rt) == 1
    assert "UNAUTHENTICATED" in error_codes(await gql("{ me { id } }", token=player.token))
    refused = await login(gql, player)
    assert refused["errors"][0]["code"] == "LIMIT_REACHED"
    assert refused["errors"][0]["limit"]["resetsAt"]
    clock.advance(timedelta(days=1))
    assert (await login(gql, player))["errors"] == []


async def test_time_away_between_visits_is_not_time_played(gql: Any, make_player: Any) -> None:
    malta = ZoneInfo("Europe/Malta")
    tomorrow = (clock.now().astimezone(malta) + timedelta(days=1)).date()
    clock.advance(datetime.combine(tomorrow, time(8, 0), malta) - clock.now())  # 08:00 local
    player = await make_player()
    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=60)
    clock.advance(timedelta(minutes=10))
    await refresh(gql, player)  # in use: the session's span runs until this token expires (08:25)
    clock.advance(timedelta(hours=10))  # the player left; back in the evening on the refresh token
    await refresh(gql, player)
    rg = await my_rg(gql, player)
    assert rg["activity"][0]["period"] == "DAY"
    assert rg["activity"][0]["minutesPlayed"] == 25  # 08:00-08:25, not the ten hours away
    launch = await gql(LAUNCH, token=player.token)
    assert "LIMIT_REACHED" not in [e["code"] for e in launch["data"]["launchGame"]["errors"]]
    # The evening visit counts as it goes: 40 more minutes spend the hour.
    for _ in range(4):
        clock.advance(timedelta(minutes=10))
        await refresh(gql, player)
    assert (await my_rg(gql, player))["activity"][0]["minutesPlayed"] == 65
    launch = await gql(LAUNCH, token=player.token)
    assert launch["data"]["launchGame"]["errors"][0]["code"] == "LIMIT_REACHED"


async def test_the_frontend_is_told_when_a_check_falls_due(
    live_server: str, rt: Any, gql: Any, make_player: Any
) -> None:
    import json

    from sqlalchemy import update
    from websockets.asyncio.client import connect

    from core import events
    from models.rg import RgRealityCheck
    from tests.test_subscriptions import receive, wait_for_listener, ws_url

    player = await make_player()
    await gql("mutation { setRealityCheck(input: {minutes: 30}) { errors { code } } }", token=player.token)
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {player.token}"}})
        )
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "subscription { realityCheck { kind realityCheck { due intervalMinutes } } }"},
                }
            )
        )
        await wait_for_listener(rt, events.player_channel(player.uuid))
        async with rt.database.transaction() as db:  # half an hour later
            await db.execute(
                update(RgRealityCheck)
                .where(RgRealityCheck.player_id == player.uuid)
                .values(next_due_at=clock.now() - timedelta(seconds=1))
            )
        await reality.push_due(rt)
        message = await receive(socket, 15)
        assert message["payload"]["data"] == {
            "realityCheck": {"kind": "due", "realityCheck": {"due": True, "intervalMinutes": 30}}
        }
        # Stopping ends the session: its subscription hears why (`player.session_ended`), then ends.
        stop = await gql(ANSWER, {"input": {"continuePlaying": False}}, token=player.token)
        assert stop["data"]["answerRealityCheck"]["errors"] == []
        ended = await receive(socket, 15)
        assert ended["payload"]["data"] == {"realityCheck": {"kind": "session_ended", "realityCheck": None}}


async def test_a_new_interval_reaches_every_open_session_but_does_not_dismiss_a_due_check(
    gql: Any, rt: Any, make_player: Any
) -> None:
    player = await make_player()
    await gql("mutation { setRealityCheck(input: {minutes: 30}) { errors { code } } }", token=player.token)
    other = await login(gql, player)  # a second device
    clock.advance(timedelta(minutes=31))
    await refresh(gql, player)
    await gql("mutation { setRealityCheck(input: {minutes: 60}) { errors { code } } }", token=player.token)
    async with rt.database.session() as db:
        from models.rg import RgRealityCheck

        checks = (await db.scalars(select(RgRealityCheck).where(RgRealityCheck.player_id == player.uuid))).all()
    assert len(checks) == 2
    assert {c.interval_seconds for c in checks} == {3600}
    assert (await my_rg(gql, player))["realityCheck"]["due"] is True  # still waiting for an answer
    assert other["tokens"]["accessToken"]


async def test_bets_on_a_game_token_count_as_time_after_the_login_lapses(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=30)
    seat = await seat_for(rt, hub88_provider, player, auth_session_id=_session_of(player.token))
    # The frontend closed at once: its login counts until its access token expired (15 minutes). The
    # game's client stays open and bets on its own token, every two minutes from minute 20.
    clock.advance(timedelta(minutes=20))
    statuses = []
    for i in range(9):
        statuses.append((await aggregator.call("transaction/bet", seat.bet(u(10), round_ref=f"r-{i}")))["status"])
        clock.advance(timedelta(minutes=2))
    # 15 + 14 minutes by the eighth bet (minute 34); the ninth (minute 36) would be the 31st minute.
    assert statuses == ["RS_OK"] * 8 + ["RS_ERROR_LIMIT_REACHED"]
    # The worker ends what can still play: the lapsed login (not revoked) and its game.
    assert await worker.end_spent_sessions(rt) == 1
    assert (await aggregator.call("transaction/bet", seat.bet(u(10), round_ref="r-9")))[
        "status"
    ] == "RS_ERROR_TOKEN_EXPIRED"
    refused = await login(gql, player)
    assert refused["errors"][0]["code"] == "LIMIT_REACHED"
    clock.advance(timedelta(days=1))
    await login(gql, player)


async def test_a_game_played_while_logged_in_is_not_counted_twice(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=120)
    seat = await seat_for(rt, hub88_provider, player, auth_session_id=_session_of(player.token))
    for i in range(5):  # ten minutes, the frontend refreshing and the game betting side by side
        assert (await aggregator.call("transaction/bet", seat.bet(u(10), round_ref=f"r-{i}")))["status"] == "RS_OK"
        clock.advance(timedelta(minutes=2))
        await refresh(gql, player)
    played = (await my_rg(gql, player))["activity"][0]["minutesPlayed"]
    assert played == 10


async def _set_interval(gql: Any, player: Any, minutes: int) -> dict[str, Any]:
    body = await gql(
        "mutation($m: Int!) { setRealityCheck(input: {minutes: $m}) { realityCheck { due nextDueAt } "
        "errors { code field } } }",
        {"m": minutes},
        token=player.token,
    )
    payload: dict[str, Any] = body["data"]["setRealityCheck"]
    return payload


async def test_choosing_the_interval_again_never_postpones_a_check(gql: Any, make_player: Any) -> None:
    player = await make_player()
    first = await _set_interval(gql, player, 5)
    due_at = first["realityCheck"]["nextDueAt"]
    for _ in range(3):  # the walk-around: the same interval again every four minutes
        clock.advance(timedelta(minutes=4))
        await refresh(gql, player)
        again = await _set_interval(gql, player, 5)
        assert again["realityCheck"]["nextDueAt"] == due_at
    assert again["realityCheck"]["due"] is True
    assert (await my_rg(gql, player))["realityCheck"]["due"] is True


async def test_a_new_interval_keeps_the_time_already_played(gql: Any, make_player: Any) -> None:
    player = await make_player()
    due_at = (await _set_interval(gql, player, 30))["realityCheck"]["nextDueAt"]
    clock.advance(timedelta(minutes=10))
    await refresh(gql, player)
    assert (await _set_interval(gql, player, 60))["realityCheck"]["nextDueAt"] == due_at  # longer: not later
    shorter = await _set_interval(gql, player, 5)  # ten minutes played already: due at once
    assert shorter["realityCheck"]["due"] is True
    assert shorter["realityCheck"]["nextDueAt"] < due_at


async def test_a_required_check_cannot_be_turned_off(gql: Any, make_player: Any, nordic: Any) -> None:
    player = await make_player(brand_code="nordic", country="SE", currency="SEK")  # Sweden: checks required
    refused = await _set_interval(gql, player, 0)
    assert refused["errors"] == [{"code": "LIMIT_REQUIRED", "field": "minutes"}]
    assert (await my_rg(gql, player))["realityCheckMinutes"] == 60


async def test_logging_out_everywhere_stops_the_games_so_time_cannot_run_unseen(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    """The issue's walk-around: a 2-minute limit, a launched game, `logout(allSessions: true)`, and the
    game's token betting on with no time counted. Ending the login ends its game."""
    player = await make_player()
    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=2)
    seat = await seat_for(rt, hub88_provider, player, auth_session_id=_session_of(player.token))
    assert (await aggregator.call("transaction/bet", seat.bet(u(10))))["status"] == "RS_OK"
    out = await gql(
        "mutation { logout(input: {allSessions: true}) { revokedSessions errors { code } } }", token=player.token
    )
    assert out["data"]["logout"]["errors"] == []
    clock.advance(timedelta(seconds=30))
    late = await aggregator.call("transaction/bet", seat.bet(u(10), round_ref="r-2"))
    assert late["status"] == "RS_ERROR_TOKEN_EXPIRED"
