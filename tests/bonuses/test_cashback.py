"""Cashback through its three triggers — finance's `payCashback`, the `croupier bonuses cashback` command
for cron, and the bonus worker as a period closes: a percentage of each player's net cash losses over
the period (rolled-back play excluded), between the minimum and the maximum, nothing for net winners
or excluded players, once per player and period however many runs, as cash or as a bonus with
wagering. Every test ends with the ledger verified (the autouse fixture)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.clock import clock
from tests import cli_process
from tests.bonuses.conftest import MY_BONUSES, bonus_balance
from tests.bonuses.test_bonuses import EUR, _seat
from tests.providers.conftest import Aggregator, Seat

ROOT = Path(__file__).resolve().parents[2]
PAY = """
mutation($input: PayCashbackInput!) { payCashback(input: $input) {
  run { periodStart periodEnd playersPaid paid { amount currency } asBonus alreadyPaid belowMinimum notEligible }
  errors { code field message } } }"""
AUDIT = "{ auditLog(first: 5) { edges { node { action after } } } }"
SELF_EXCLUDE = "mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"


def cashback_rules(**extra: Any) -> dict[str, Any]:
    return {
        "cashback_percent": 10,
        "cashback_min": {"EUR": "1.00"},
        "cashback_max": {"EUR": "5.00"},
        "cashback_period_days": 7,
        "wagering_multiplier": 0,
        "cashback_auto_pay": False,
        **extra,
    }


async def _play(aggregator: Aggregator, seat: Seat, *rounds: tuple[int, int]) -> None:
    """Rounds of (stake, win) in EUR, each closed by its win."""
    for stake, won in rounds:
        seat.rounds += 1
        bet = seat.bet(stake * EUR, round_ref=f"r-{seat.rounds}")
        assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
        win = seat.win(won * EUR, bet["transaction_uuid"], round_ref=f"r-{seat.rounds}")
        assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"


async def test_finance_pays_a_period_once_whatever_the_runs(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    offer = await campaign("CASHBACK", cashback_rules())
    seats = [await _seat(rt, make_player, hub88_provider, cash=100_000) for _ in range(5)]
    (loser, _), (big, _), (small, _), (winner, _), (excluded, excluded_token) = seats
    await _play(aggregator, loser, (40, 10))  # lost 30: 3.00 back
    voided = loser.bet(20 * EUR, round_ref="voided")
    assert (await aggregator.call("transaction/bet", voided))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/rollback", loser.rollback(voided["transaction_uuid"])))[
        "status"
    ] == "RS_OK"  # rolled back: not a loss
    await _play(aggregator, big, (50, 0), (30, 0))  # lost 80: 8.00, the maximum is 5.00
    await _play(aggregator, small, (5, 0))  # lost 5: 0.50, under the minimum
    await _play(aggregator, winner, (10, 30))  # won
    await _play(aggregator, excluded, (50, 0))  # lost, then self-excluded: no marketing money
    assert (await gql(SELF_EXCLUDE, token=excluded_token))["data"]["selfExclude"]["errors"] == []

    clock.advance(timedelta(days=7))  # the campaign's first week has closed
    finance = await make_staff("finance")
    future = (clock.now() + timedelta(days=1)).date().isoformat()
    early = (await gql(PAY, {"input": {"campaignId": offer, "periodEnd": future}}, token=finance.token))["data"][
        "payCashback"
    ]
    assert [(e["code"], e["field"]) for e in early["errors"]] == [("INVALID_INPUT", "periodEnd")]

    async def pay() -> dict[str, Any]:
        payload = (await gql(PAY, {"input": {"campaignId": offer}}, token=finance.token))["data"]["payCashback"]
        assert payload["errors"] == [], payload
        run: dict[str, Any] = payload["run"]
        return run

    first, second = await asyncio.gather(pay(), pay())  # two runs racing: each player paid once
    assert first["playersPaid"] + second["playersPaid"] == 2
    assert first["alreadyPaid"] + second["alreadyPaid"] == 2
    assert {(r["belowMinimum"], r["notEligible"], r["asBonus"]) for r in (first, second)} == {(1, 1, 0)}
    assert (first["periodEnd"], second["periodEnd"]) == ((clock.now().date()).isoformat(),) * 2
    paid = [r["paid"] for r in (first, second) if r["playersPaid"]]
    assert sum(int(p[0]["amount"].replace(".", "")) for p in paid) == 800  # 3.00 + 5.00
    again = await pay()
    assert (again["playersPaid"], again["alreadyPaid"], again["paid"]) == (0, 2, [])
    cash = [(await bonus_balance(rt, seat.player_id))[0] for seat, _ in seats]
    assert cash == [100_000 - 3_000 + 300, 100_000 - 8_000 + 500, 100_000 - 500, 100_000 + 2_000, 100_000 - 5_000]

    admin = await make_staff("risk_analyst")
    runs = [
        e["node"]
        for e in (await gql(AUDIT, token=admin.token))["data"]["auditLog"]["edges"]
        if e["node"]["action"] == "bonus_campaign.pay_cashback"
    ]
    assert len(runs) == 3
    assert sum(r["after"]["players_paid"] for r in runs) == 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return cli_process.run("bonuses", "cashback", *args, env=dict(os.environ), timeout=120)


async def test_cron_pays_cashback_with_wagering_as_a_bonus_once(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    from strawberry import relay

    starts = datetime.now(UTC) - timedelta(days=8)
    offer = await campaign(
        "CASHBACK",
        cashback_rules(cashback_percent=20, cashback_max={"EUR": "10.00"}, wagering_multiplier=5),
        starts_at=starts.isoformat(),
    )
    seat, token = await _seat(rt, make_player, hub88_provider, cash=5_000)
    clock.advance(-timedelta(days=8))  # played in the campaign's first week, which has closed since
    await _play(aggregator, seat, (20, 0))
    clock.reset()

    done = _cli(relay.GlobalID.from_id(offer).node_id)  # run by cron (another process, the real clock)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "1 player(s) paid (4.00 EUR; 1 as a bonus)" in done.stdout
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert (mine["kind"], mine["status"], mine["amount"]["amount"]) == ("CASHBACK", "ACTIVE", "4.00")
    assert mine["wagering"]["required"]["amount"] == "20.00"  # 5 x 4.00
    assert await bonus_balance(rt, seat.player_id) == (3_000, 400)
    again = _cli(offer)  # the global id works too
    assert "0 player(s) paid (nothing; 0 as a bonus), 1 already paid" in again.stdout, again.stdout
    assert _cli("not-an-id").returncode == 2


async def test_the_worker_pays_a_period_as_it_closes(
    rt: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    from strawberry import relay

    from models.bonuses import BonusCampaign
    from services.bonuses import cashback

    offer = await campaign("CASHBACK", cashback_rules(cashback_auto_pay=True))
    seat, _ = await _seat(rt, make_player, hub88_provider, cash=5_000)
    await _play(aggregator, seat, (20, 0))
    assert await cashback.pay_due(rt) == 0  # the period is still open
    clock.advance(timedelta(days=7, minutes=1))
    await cashback.pay_due(rt)  # (the server's own worker may have got there first: the same outcome)
    assert await cashback.pay_due(rt) == 0  # paid until the period's end: nothing more to run
    assert await bonus_balance(rt, seat.player_id) == (3_000 + 200, 0)  # 10 % of 20.00, as cash
    async with rt.database.session() as db:
        row = await db.get(BonusCampaign, uuid.UUID(relay.GlobalID.from_id(offer).node_id))
    assert row is not None
    assert row.cashback_paid_until == clock.now().date()
