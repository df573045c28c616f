"""`node(id:)` resolves bonus campaigns and player bonuses with the ownership rules of their own
queries: a player reaches only their own bonuses (and the campaigns of those, or offers listed to
them), staff those of their brand when the policy lets them read bonuses or campaigns."""

from __future__ import annotations

from typing import Any

from tests.bonuses.conftest import CLAIM, rules

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on PlayerBonus { status campaignId } ... on BonusCampaign { name promoCode } } }"""


async def _node(gql: Any, gid: str, token: str, brand: str | None = None) -> Any:
    body = await gql(NODE, {"id": gid}, token=token, brand=brand)
    assert not body.get("errors"), body
    return body["data"]["node"]


async def test_node_resolves_bonuses_and_campaigns_only_for_those_who_may_read_them(
    gql: Any, make_player: Any, make_staff: Any, campaign: Any, other_brand: Any
) -> None:
    coded = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="MINE")
    listed = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"}))
    draft = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"}), activate=False)
    alice, bob = await make_player(), await make_player()
    claimed = (await gql(CLAIM, {"input": {"code": "MINE"}}, token=alice.token))["data"]["claimBonus"]
    bonus = claimed["bonus"]["id"]

    mine = await _node(gql, bonus, alice.token)
    assert (mine["__typename"], mine["status"], mine["campaignId"]) == ("PlayerBonus", "ACTIVE", coded)
    assert (await _node(gql, coded, alice.token))["promoCode"] == "MINE"  # the campaign of her own bonus
    assert await _node(gql, bonus, bob.token) is None  # another player's bonus
    assert await _node(gql, coded, bob.token) is None  # a coded offer he never quoted
    assert (await _node(gql, listed, bob.token))["__typename"] == "BonusCampaign"  # listed in his offers
    assert await _node(gql, draft, bob.token) is None

    support = await make_staff("support")
    assert (await _node(gql, bonus, support.token))["status"] == "ACTIVE"
    assert (await _node(gql, draft, support.token))["name"].startswith("Offer")
    marketing = await make_staff("marketing")  # builds campaigns, does not read players' bonuses
    assert await _node(gql, bonus, marketing.token) is None
    assert (await _node(gql, draft, marketing.token))["__typename"] == "BonusCampaign"
    elsewhere = await make_staff(("support", "northstar"))
    assert await _node(gql, bonus, elsewhere.token, brand="northstar") is None
    assert await _node(gql, coded, elsewhere.token, brand="northstar") is None
