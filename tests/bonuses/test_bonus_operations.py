"""Operating bonuses: the demo offers, the expiry command, manual grants (audited) and their refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from models.bonuses import BonusCampaign
from services import demo
from tests.bonuses.conftest import MY_BONUSES, bonus_balance, rules

ROOT = Path(__file__).resolve().parents[2]
GRANT = """
mutation($input: GrantBonusInput!) { grantBonus(input: $input) {
  bonus { id status amount { amount } } errors { code field message } } }"""
AUDIT = "{ auditLog(first: 5) { edges { node { action reason } } } }"
ELIGIBILITY = """
query($c: ID!, $p: ID!) { bonusEligibility(campaignId: $c, playerId: $p) { eligible reasons { code message } } }"""


async def test_the_demo_offers_are_seeded_once_and_running(rt: Any) -> None:
    await demo.seed(rt)
    first = await demo.seed_bonuses(rt)
    assert await demo.seed_bonuses(rt) == first
    async with rt.database.session() as db:
        rows = (await db.scalars(select(BonusCampaign).order_by(col(BonusCampaign.promo_code)))).all()
    assert [(c.promo_code, c.status) for c in rows] == [("SPINS10", "active"), ("WELCOME100", "active")]


def test_croupier_bonuses_expire_runs_from_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "cli", "bonuses", "expire"], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "bonus(es) expired or converted" in done.stdout


async def test_support_grants_a_bonus_by_hand_with_a_reason_and_it_is_audited(
        rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any) -> None:
    offer = await campaign("DEPOSIT_MATCH", rules(), code="MATCH")
    player = await make_player()
    support = await make_staff("support")
    ask = {"playerId": player.id, "campaignId": offer, "reason": "goodwill after outage"}
    missing = (await gql(GRANT, {"input": ask}, token=support.token))["data"]["grantBonus"]
    assert [e["field"] for e in missing["errors"]] == ["amount"]
    granted = (await gql(GRANT, {"input": {**ask, "amount": "15.00"}}, token=support.token))["data"]["grantBonus"]
    assert granted["errors"] == [], granted
    assert (granted["bonus"]["status"], granted["bonus"]["amount"]["amount"]) == ("ACTIVE", "15.00")
    assert await bonus_balance(rt, player.uuid) == (0, 1_500)
    again = (await gql(GRANT, {"input": {**ask, "amount": "5.00"}}, token=support.token))["data"]["grantBonus"]
    assert [e["code"] for e in again["errors"]] == ["BONUS_ACTIVE"]
    admin = await make_staff("risk_analyst")
    actions = [e["node"] for e in (await gql(AUDIT, token=admin.token))["data"]["auditLog"]["edges"]]
    assert {"action": "bonus.grant", "reason": "goodwill after outage"} in actions
    mine = (await gql(MY_BONUSES, token=player.token))["data"]["me"]["bonuses"]
    assert [b["status"] for b in mine] == ["ACTIVE"]


async def test_marketing_previews_eligibility_and_an_excluded_player_gets_no_offer(
        rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any) -> None:
    offer = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"}))
    player = await make_player()
    marketing = await make_staff("marketing")
    preview = (await gql(ELIGIBILITY, {"c": offer, "p": player.id}, token=marketing.token))["data"]
    assert preview["bonusEligibility"] == {"eligible": True, "reasons": []}
    offers = (await gql("{ bonusOffers { id name } }", token=player.token))["data"]["bonusOffers"]
    assert [o["id"] for o in offers] == [offer]
    timed_out = await gql("""mutation { takeTimeOut(input: {length: DAY}) { errors { code } } }""", token=player.token)
    assert timed_out["data"]["takeTimeOut"]["errors"] == [], timed_out
    preview = (await gql(ELIGIBILITY, {"c": offer, "p": player.id}, token=marketing.token))["data"]
    assert preview["bonusEligibility"]["eligible"] is False
    assert "No offers during a time-out" in preview["bonusEligibility"]["reasons"][0]["message"]
