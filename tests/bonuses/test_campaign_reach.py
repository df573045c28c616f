"""Marketing's reach estimate: `bonusCampaign.eligiblePlayers` counts in SQL the players a campaign would
reach now, agreeing with the per-player preview; rules applied only at claim time make it an estimate."""

from __future__ import annotations

from typing import Any

from tests.bonuses.conftest import CLAIM, rules

CAMPAIGNS = "{ bonusCampaigns { id eligiblePlayers { count withMarketingConsent exact checkedAtClaim } } }"
PREVIEW = """query($c: ID!, $p: ID!) { bonusEligibility(campaignId: $c, playerId: $p) { eligible } }"""


async def test_the_reach_counts_who_the_rules_let_in_and_agrees_with_the_preview(
    gql: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    offer = await campaign(
        "NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"}, eligibility={"countries": ["MT"], "segments": ["new"]})
    )
    coded = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"}), code="SECRET")
    players = [
        await make_player(marketingConsent=True),  # counted, accepts marketing
        await make_player(),  # counted
        await make_player(country="SE"),  # another country
        await make_player(currency="SEK"),
    ]  # no amount in SEK
    timed_out = await make_player()
    assert (await gql("mutation { takeTimeOut(input: {length: DAY}) { errors { code } } }", token=timed_out.token))[
        "data"
    ]["takeTimeOut"]["errors"] == []
    holder = await make_player()  # a bonus in play already
    assert (await gql(CLAIM, {"input": {"code": "SECRET"}}, token=holder.token))["data"]["claimBonus"]["errors"] == []
    players += [timed_out, holder]

    marketing = await make_staff("marketing")
    reach = {
        c["id"]: c["eligiblePlayers"] for c in (await gql(CAMPAIGNS, token=marketing.token))["data"]["bonusCampaigns"]
    }
    assert reach[offer] == {"count": 2, "withMarketingConsent": 1, "exact": True, "checkedAtClaim": []}
    assert (reach[coded]["count"], reach[coded]["exact"]) == (3, False)  # not SEK, timed out or held; who has the code?
    assert "promo code" in reach[coded]["checkedAtClaim"][0]
    previews = [
        (await gql(PREVIEW, {"c": offer, "p": p.id}, token=marketing.token))["data"]["bonusEligibility"]
        for p in players
    ]
    assert sum(1 for p in previews if p["eligible"]) == reach[offer]["count"]

    denied = await gql("{ bonusOffers { id eligiblePlayers { count } } }", token=players[0].token)
    assert denied["data"]["bonusOffers"] == [{"id": offer, "eligiblePlayers": None}]
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
