"""Time-outs and self-exclusion: refused at every entry point, withdrawals still possible, never shortened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from tests.cashier.conftest import assert_ledger_ok
from tests.conftest import error_codes
from tests.rg.conftest import SOME_GAME, deposit, login, my_rg, seat_for, set_limit, u

SELF_EXCLUDE = """
mutation($input: SelfExcludeInput!) { selfExclude(input: $input) { exclusion { kind endsAt active }
  errors { code field } } }"""
TIME_OUT = """
mutation($input: TakeTimeOutInput!) { takeTimeOut(input: $input) { exclusion { kind endsAt active }
  errors { code } } }"""
LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl
  errors { code limit { kind resetsAt } } } }"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) { payment { id status }
  errors { code message } } }"""


async def _self_exclude(gql: Any, player: Any, length: str = "SIX_MONTHS") -> dict[str, Any]:
    body = await gql(SELF_EXCLUDE, {"input": {"length": length, "confirm": True}}, token=player.token)
    payload: dict[str, Any] = body["data"]["selfExclude"]
    return payload


async def test_self_excluded_player_is_refused_everywhere_but_can_withdraw(
    gql: Any, rt: Any, psp: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    seat = await seat_for(rt, hub88_provider, player, balance=5_000)
    assert (await deposit(gql, player, psp, "20.00"))["payment"]["status"] == "SUCCEEDED"

    unconfirmed = await gql(SELF_EXCLUDE, {"input": {"length": "SIX_MONTHS", "confirm": False}}, token=player.token)
    assert unconfirmed["data"]["selfExclude"]["errors"][0]["field"] == "confirm"
    excluded = await _self_exclude(gql, player)
    assert excluded["errors"] == []
    assert excluded["exclusion"]["active"] is True
    assert excluded["exclusion"]["kind"] == "SELF_EXCLUSION"

    # The session that asked is over; marketing is off.
    assert "UNAUTHENTICATED" in error_codes(await gql("{ me { id } }", token=player.token))
    # Login to play: refused, with the reason and the end date.
    refused = await login(gql, player)
    assert refused["tokens"] is None
    assert refused["errors"][0]["code"] == "SELF_EXCLUDED"
    assert refused["errors"][0]["limit"]["kind"] == "self_exclusion"
    assert refused["errors"][0]["limit"]["resetsAt"]
    # The provider's bet: user disabled, nothing moves.
    answer = await aggregator.call("transaction/bet", seat.bet(u(100)))
    assert answer["status"] == "RS_ERROR_USER_DISABLED"

    # A withdrawal-only login still takes the money out, and can do nothing else.
    signed_in = await login(gql, player, purpose="WITHDRAWAL")
    assert signed_in["errors"] == []
    player.token = signed_in["tokens"]["accessToken"]
    me = await gql("{ me { marketingConsent wallet { cash { amount } } } }", token=player.token)
    assert me["data"]["me"]["marketingConsent"] is False
    assert me["data"]["me"]["wallet"][0]["cash"] == {"amount": "70.00"}
    out = await gql(
        WITHDRAW, {"input": {"amount": "70.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
    )
    assert out["data"]["requestWithdrawal"]["errors"] == []
    assert "FORBIDDEN" in error_codes(await deposit_raw(gql, player, psp))
    # Demo play is open to anyone; real money is refused by the gate.
    launch = await gql(LAUNCH, {"input": {"gameId": SOME_GAME, "mode": "REAL"}}, token=player.token)
    assert launch["data"]["launchGame"]["errors"][0]["code"] == "SELF_EXCLUDED"
    rg = await my_rg(gql, player)
    assert rg["exclusion"]["kind"] == "SELF_EXCLUSION"

    # The services refuse too, whoever calls them (defence in depth behind the policy).
    from authz.subjects import Viewer
    from core.errors import DomainError
    from services import cashier

    viewer = Viewer(kind="player", id=player.uuid, brand_id=None, roles=frozenset({"player"}))
    with pytest.raises(DomainError) as refused_deposit:
        await cashier.deposit(rt, viewer, amount="5.00", currency="EUR", method="card", psp_token=await psp.tokenise())
    assert refused_deposit.value.code == "SELF_EXCLUDED"
    # Neither the player nor support can end it early: a later time-out does not shorten it.
    clock.advance(timedelta(days=60))
    assert (await login(gql, player))["errors"][0]["code"] == "SELF_EXCLUDED"
    await assert_ledger_ok(rt)


async def deposit_raw(gql: Any, player: Any, psp: Any) -> dict[str, Any]:
    body: dict[str, Any] = await gql(
        "mutation($input: DepositInput!) { deposit(input: $input) { errors { code } } }",
        {"input": {"amount": "5.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}},
        token=player.token,
    )
    return body


async def test_self_exclusion_refuses_a_launch(gql: Any, rt: Any, make_player: Any) -> None:
    from authz.subjects import Viewer
    from core.errors import DomainError
    from models.games import GameMode
    from services import games
    from services.rg import exclusions

    player = await make_player()
    async with rt.database.session() as db:
        from models.players import Player

        model = await db.get(Player, player.uuid)
    viewer = Viewer(kind="player", id=player.uuid, brand_id=model.brand_id, roles=frozenset({"player"}))
    await exclusions.self_exclude(rt, viewer, model, exclusions.SelfExclusion.PERMANENT)
    with pytest.raises(DomainError) as refused:
        await games.launch(rt, viewer, player.uuid, GameMode.REAL)
    assert refused.value.code == "SELF_EXCLUDED"
    assert refused.value.limit is not None
    assert refused.value.limit.resets_at is None  # permanent


async def test_time_out_ends_when_it_says_and_not_before(gql: Any, make_player: Any) -> None:
    player = await make_player()
    taken = (await gql(TIME_OUT, {"input": {"length": "WEEK"}}, token=player.token))["data"]["takeTimeOut"]
    assert taken["errors"] == []
    assert taken["exclusion"]["kind"] == "TIME_OUT"
    refused = await login(gql, player)
    assert refused["errors"][0]["code"] == "TIMED_OUT"
    clock.advance(timedelta(days=6, hours=23))
    assert (await login(gql, player))["errors"][0]["code"] == "TIMED_OUT"
    clock.advance(timedelta(hours=2))
    back = await login(gql, player)
    assert back["errors"] == []
    assert back["tokens"]["accessToken"]
    # Marketing consent was withdrawn with the time-out and stays off until the player opts in again.
    player.token = back["tokens"]["accessToken"]
    # A play login is a full session: the player's own mutations and sessions are open to it.
    assert (await set_limit(gql, player, "WAGER", "DAY", amount="50.00"))["errors"] == []
    sessions = await gql("{ me { sessions { edges { node { current } } } } }", token=player.token)
    assert "errors" not in sessions, sessions
    me = await gql("{ me { marketingConsent } }", token=player.token)
    assert me["data"]["me"]["marketingConsent"] is False


async def test_marketing_cannot_be_turned_back_on_during_a_time_out(gql: Any, make_player: Any) -> None:
    player = await make_player()
    await gql(TIME_OUT, {"input": {"length": "DAY"}}, token=player.token)
    player.token = (await login(gql, player, purpose="WITHDRAWAL"))["tokens"]["accessToken"]
    body = await gql(
        "mutation { updateProfile(input: {marketingConsent: true}) { errors { code } } }", token=player.token
    )
    assert "FORBIDDEN" in error_codes(body)  # the withdrawal session may not; the service refuses anyway
