"""Review of the inline risk rules (riskinline): held deposits released into an account that changed meanwhile,
held deposits and the deposit limit, a released deposit left at its 3-D Secure page, and the audit chain's lock
taken by a hit in the middle of a flow."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.clock import clock
from tests.cashier.conftest import assert_ledger_ok, balances
from tests.risk.inline_support import (
    RELEASE,
    add_rule,
    desk_fixture,  # noqa: F401  (fixture)
    disable_rule,
    impose,
    payment_uuid,
)
from tests.risk.test_inline_deposits import HOLD_SECOND, deposit

SELF_EXCLUDE = "mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"
SET_LIMIT = """mutation($input: SetLimitInput!) { setLimit(input: $input) { errors { code message } } }"""


async def _held(rt: Any, gql: Any, psp: Any, player: Any, amount: str = "30.00") -> dict[str, Any]:
    """The player's first deposit succeeds, the second is held by the rule `hold-second`."""
    assert (await deposit(gql, psp, player))["payment"]["status"] == "SUCCEEDED"
    held = await deposit(gql, psp, player, amount=amount)
    assert held["payment"]["status"] == "HELD", held
    return held["payment"]


async def _status(rt: Any, payment_id: Any) -> str:
    async with rt.database.session() as db:
        found: str = await db.scalar(text("SELECT status FROM payments WHERE id = :id"), {"id": payment_id})
    return found


@pytest.mark.parametrize("change", ["self_excluded", "closed"])
async def test_a_held_deposit_is_not_released_into_an_account_that_may_no_longer_deposit(
    change: str, rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    """The release re-asks the gates the deposit passed when it was made: an exclusion or a closure while it was
    held refuses the release (the desk declines it); nothing is charged."""
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player()
    held = await _held(rt, gql, psp, player)
    if change == "self_excluded":
        assert (await gql(SELF_EXCLUDE, token=player.token))["data"]["selfExclude"]["errors"] == []
    else:
        async with rt.database.transaction() as db:
            await db.execute(text("UPDATE players SET status = 'closed' WHERE id = :p"), {"p": player.uuid})
    analyst = await make_staff("risk_analyst")
    body = await gql(RELEASE, {"input": {"paymentId": held["id"], "reason": "looked fine"}}, token=analyst.token)
    released = body["data"]["releaseHeldDeposit"]
    assert released["errors"] != [], released
    assert await _status(rt, payment_uuid(held["id"])) == "held"
    assert len(await psp.transactions()) == 1  # only the first deposit reached a PSP
    assert await balances(rt, player.uuid) == (2000, 0)
    await assert_ledger_ok(rt)


async def test_held_deposits_count_against_the_deposit_limit(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    """A held deposit reserves its amount as any deposit in flight does: a limit of 100 is never passed by a
    deposit made while another is held, nor by the release of the held one."""
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player()
    given = {"kind": "DEPOSIT", "period": "DAY", "amount": "100.00"}
    body = await gql(SET_LIMIT, {"input": given}, token=player.token)
    assert "errors" not in body, body
    assert body["data"]["setLimit"]["errors"] == [], body
    held = await _held(rt, gql, psp, player, amount="60.00")  # 20 credited, 60 held
    await disable_rule(rt, "hold-second")
    third = await deposit(gql, psp, player, amount="60.00")  # 140 with the held one
    analyst = await make_staff("risk_analyst")
    await gql(RELEASE, {"input": {"paymentId": held["id"], "reason": "looked fine"}}, token=analyst.token)
    cash, _ = await balances(rt, player.uuid)
    assert cash <= 10000, (cash, third)
    await assert_ledger_ok(rt)


async def test_a_released_deposit_at_its_3ds_page_has_the_time_any_deposit_has(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    """Held for two hours, released under route_3ds: the player is sent to the challenge, and reconciliation
    does not abandon the deposit at once because it was *created* more than an hour ago."""
    from services import cashier

    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player()
    held = await _held(rt, gql, psp, player)
    clock.advance(timedelta(hours=2))
    analyst = await make_staff("risk_analyst")
    await impose(gql, analyst.token, player, "route_3ds")
    body = await gql(RELEASE, {"input": {"paymentId": held["id"], "reason": "looked fine"}}, token=analyst.token)
    assert body["data"]["releaseHeldDeposit"]["payment"]["status"] == "PENDING", body
    report = await cashier.reconcile(rt, older_than_seconds=0)
    assert report.abandoned == 0
    assert await _status(rt, payment_uuid(held["id"])) == "pending"


async def test_a_deposit_hit_and_a_kyc_officer_on_the_same_player_do_not_deadlock(
    rt: Any, gql: Any, psp: Any, make_player: Any
) -> None:
    """A deposit rule that imposes a restriction audits it (the audit chain's lock, held to the commit); the
    deposit then takes the player's KYC row (the KYC gate). A KYC officer's step holds that row and audits
    last. With the hit's audit taken before the KYC row, each waited for the other (interleaving made certain:
    the officer's transaction holds the row until the deposit waits on it)."""
    from models.players import Player
    from services import audit
    from services.kyc import state as kyc_state

    await add_rule(
        rt,
        "every-deposit",
        "velocity",
        {"occasion": "deposit", "by": "player", "count": 2, "minutes": 10},
        [{"kind": "hold_withdrawals"}],
    )
    player = await make_player()
    assert (await deposit(gql, psp, player))["payment"]["status"] == "SUCCEEDED"  # the rule fires at the second
    officer_done = asyncio.Event()

    async def officer() -> None:
        async with rt.database.transaction() as db:
            found = await db.get(Player, player.uuid)
            assert found is not None
            await kyc_state.lock_state(db, found)
            locked.set()
            await waiting_for_lock(rt)  # the deposit waits for this row now
            from authz.subjects import SYSTEM

            await audit.append(
                db,
                actor=SYSTEM,
                action="test.kyc_step",
                target_type="player",
                target_id=player.uuid,
                brand_id=found.brand_id,
                after={},
                reason="officer",
            )
        officer_done.set()

    locked = asyncio.Event()
    task = asyncio.create_task(officer())
    await locked.wait()
    paid = await deposit(gql, psp, player)
    await task
    assert officer_done.is_set()
    assert paid["payment"]["status"] == "SUCCEEDED", paid


async def waiting_for_lock(rt: Any) -> None:
    """Until another backend waits on a row lock (the deposit, on the KYC row)."""
    for _ in range(200):
        async with rt.database.session() as db:
            waiting = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the deposit never waited for the KYC row")


async def test_an_offer_claimed_before_bonuses_were_blocked_is_not_activated_by_the_deposit(
    rt: Any, gql: Any, psp: Any, make_player: Any, campaign: Any, desk: str
) -> None:
    """A deposit offer claimed by code waits for the next deposit; risk blocks the player's bonuses meanwhile
    (a hit on the stream, or the desk): the deposit is credited, the offer is cancelled, no bonus money."""
    from tests.bonuses.conftest import bonus_row
    from tests.bonuses.conftest import rules as offer_rules
    from tests.risk.inline_support import CLAIM

    await campaign("DEPOSIT_MATCH", offer_rules(match_percent=100), code="MATCH100")
    player = await make_player()
    body = await gql(CLAIM, {"input": {"code": "MATCH100"}}, token=player.token)
    assert body["data"]["claimBonus"]["errors"] == [], body
    assert (await bonus_row(rt, player.uuid)).status == "issued"  # waits for a deposit
    await impose(gql, desk, player, "block_bonuses")
    paid = await deposit(gql, psp, player)
    assert paid["payment"]["status"] == "SUCCEEDED"
    assert await balances(rt, player.uuid) == (2000, 0)  # no bonus money
    assert (await bonus_row(rt, player.uuid)).status == "cancelled"
    await assert_ledger_ok(rt)
