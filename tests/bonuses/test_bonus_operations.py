"""Operating bonuses: the demo offers, the expiry command, manual grants (audited) and their refusals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from integrations.demo import seed
from models.bonuses import BonusCampaign
from tests import cli_process
from tests.bonuses.conftest import MY_BONUSES, bonus_balance, rules

ROOT = Path(__file__).resolve().parents[2]
GRANT = """
mutation($input: GrantBonusInput!) { grantBonus(input: $input) {
  bonus { id status amount { amount } } errors { code field message } } }"""
AUDIT = "{ auditLog(first: 5) { edges { node { action reason } } } }"
ELIGIBILITY = """
query($c: ID!, $p: ID!) { bonusEligibility(campaignId: $c, playerId: $p) { eligible reasons { code message } } }"""


async def test_the_demo_offers_are_seeded_once_and_running(rt: Any) -> None:
    await seed.seed_accounts(rt)
    first = await seed.seed_bonuses(rt)
    assert await seed.seed_bonuses(rt) == first
    async with rt.database.session() as db:
        rows = (await db.scalars(select(BonusCampaign).order_by(col(BonusCampaign.promo_code)))).all()
    assert [(c.promo_code, c.status) for c in rows] == [("SPINS10", "active"), ("WELCOME100", "active")]


def test_croupier_bonuses_expire_runs_from_the_command_line() -> None:
    done = cli_process.run("bonuses", "expire", env=dict(os.environ), timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "bonus(es) expired or converted" in done.stdout


async def test_support_grants_a_bonus_by_hand_with_a_reason_and_it_is_audited(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
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
    rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
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
    # Marketing may not read the player's RG view: told only that the player does not qualify.
    assert preview["bonusEligibility"]["reasons"] == [
        {"code": "BONUS_NOT_ELIGIBLE", "message": "The player does not qualify for offers now."}
    ]
    admin = await make_staff("brand_admin")  # a campaign builder who also works the RG desk
    preview = (await gql(ELIGIBILITY, {"c": offer, "p": player.id}, token=admin.token))["data"]
    assert "No offers during a time-out" in preview["bonusEligibility"]["reasons"][0]["message"]


async def test_a_manual_grant_gives_at_most_what_the_campaign_gives(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any, other_brand: Any
) -> None:
    no_deposit = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}))
    spins = await campaign("FREE_SPINS", {"free_spins": 5, "spin_bet": {"EUR": "0.20"}, "games": ["slot-fortune"]})
    match = await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "50.00"}))
    player = await make_player()
    support = await make_staff(("support", "royal"))

    async def grant(offer: str, amount: str | None, who: Any = player) -> dict[str, Any]:
        ask = {"playerId": who.id, "campaignId": offer, "reason": "goodwill", "amount": amount}
        payload: dict[str, Any] = (await gql(GRANT, {"input": ask}, token=support.token))["data"]["grantBonus"]
        return payload

    def refusal(payload: dict[str, Any]) -> list[tuple[str, str]]:
        return [(e["code"], e["field"]) for e in payload["errors"]]

    assert refusal(await grant(no_deposit, "9999999999.00")) == [("INVALID_INPUT", "amount")]  # its own 10.00
    assert refusal(await grant(spins, "500.00")) == [("INVALID_INPUT", "amount")]  # spins, not money
    assert refusal(await grant(match, "50.01")) == [("INVALID_AMOUNT", "amount")]  # above its maximum
    assert await bonus_balance(rt, player.uuid) == (0, 0)  # nothing moved
    granted = await grant(match, "50.00")
    assert (granted["errors"], granted["bonus"]["amount"]["amount"]) == ([], "50.00")
    other = await make_player()
    granted = await grant(no_deposit, None, other)
    assert (granted["errors"], granted["bonus"]["amount"]["amount"]) == ([], "10.00")
    # Another brand's player does not exist for this desk, whatever the amount says.
    stranger = await make_player(brand_code="northstar", country="SE", currency="SEK")
    assert refusal(await grant(match, "1.001", stranger)) == [("NOT_FOUND", "playerId")]
