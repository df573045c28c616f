"""Marketing changes a paused campaign: validated as at creation (jurisdictions' caps included), audited,
and the bonuses already issued keep the terms they were issued under."""

from __future__ import annotations

from typing import Any

from tests.bonuses.conftest import CLAIM, MY_BONUSES, SET_STATUS, rules
from tests.cashier.conftest import CARD, DemoPsp

UPDATE = """
mutation($input: UpdateBonusCampaignInput!) { updateBonusCampaign(input: $input) {
  campaign { id name status promoCode rules } errors { code field message } } }"""
DEPOSIT = """
mutation($input: DepositInput!) { deposit(input: $input) { payment { status } errors { code message } } }"""
AUDIT = "{ auditLog(first: 3) { edges { node { action before after } } } }"


async def test_a_paused_campaign_changes_validated_and_audited_while_issued_bonuses_keep_their_terms(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any, brand: Any, psp: DemoPsp
) -> None:
    from models.brands import Brand

    async with rt.database.transaction() as db:
        (await db.get(Brand, brand.id)).jurisdictions = ["UK", "MT", "DEFAULT"]  # type: ignore[union-attr]
    offer = await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}, wagering_multiplier=1), code="WELCOME")
    early = await make_player()
    waiting = (await gql(CLAIM, {"input": {"code": "WELCOME"}}, token=early.token))["data"]["claimBonus"]
    assert waiting["bonus"]["status"] == "ISSUED"  # waits for its deposit
    marketing = await make_staff("marketing")

    async def update(**fields: Any) -> dict[str, Any]:
        body = await gql(UPDATE, {"input": {"campaignId": offer, **fields}}, token=marketing.token)
        payload: dict[str, Any] = body["data"]["updateBonusCampaign"]
        return payload

    def refusal(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
        return [(e["code"], e["field"]) for e in payload["errors"]]

    assert refusal(await update(name="Live edit")) == [("INVALID_STATE", "campaignId")]  # pause it first
    paused = await gql(SET_STATUS, {"input": {"campaignId": offer, "status": "PAUSED"}}, token=marketing.token)
    assert paused["data"]["setBonusCampaignStatus"]["errors"] == []
    assert refusal(await update(rules={"max_bonus": {}})) == [("INVALID_INPUT", "rules")]
    assert refusal(await update(startsAt="2030-02-01T00:00:00Z", endsAt="2030-01-01T00:00:00Z")) == [
        ("INVALID_INPUT", "endsAt")
    ]
    assert refusal(await update(rules=rules(max_bonus={"EUR": "20.00"}, wagering_multiplier=35))) == [
        ("BONUS_NOT_ALLOWED", "rules")
    ]  # UK: wagering at most 10x
    assert refusal(await update(promoCode="no spaces")) == [("INVALID_INPUT", "promoCode")]
    changed = await update(
        name="Welcome, halved",
        promoCode="welcome50",
        rules=rules(match_percent=50, max_bonus={"EUR": "10.00"}, wagering_multiplier=5),
    )
    assert changed["errors"] == [], changed
    assert (changed["campaign"]["name"], changed["campaign"]["promoCode"]) == ("Welcome, halved", "WELCOME50")
    admin = await make_staff("risk_analyst")
    record = (await gql(AUDIT, token=admin.token))["data"]["auditLog"]["edges"][0]["node"]
    assert record["action"] == "bonus_campaign.update"  # the refusals wrote nothing
    before, after = record["before"], record["after"]
    assert (before["status"], before["promo_code"], after["promo_code"]) == ("paused", "WELCOME", "WELCOME50")
    assert (before["rules"]["match_percent"], after["rules"]["match_percent"]) == (100, 50)
    assert before["name"].startswith("Offer")
    assert after["name"] == "Welcome, halved"
    activated = await gql(SET_STATUS, {"input": {"campaignId": offer, "status": "ACTIVE"}}, token=marketing.token)
    assert activated["data"]["setBonusCampaignStatus"]["errors"] == []

    late = await make_player()
    assert (await gql(CLAIM, {"input": {"code": "WELCOME50"}}, token=late.token))["data"]["claimBonus"]["errors"] == []
    for player in (early, late):
        paid = await gql(
            DEPOSIT,
            {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise(CARD)}},
            token=player.token,
        )
        assert paid["data"]["deposit"]["payment"]["status"] == "SUCCEEDED", paid
    terms = []
    for player in (early, late):
        mine = (await gql(MY_BONUSES, token=player.token))["data"]["me"]["bonuses"][0]
        terms.append((mine["status"], mine["amount"]["amount"], mine["wagering"]["required"]["amount"]))
    assert terms == [
        ("ACTIVE", "20.00", "20.00"),  # claimed before the change: 100 %, 1x
        ("ACTIVE", "10.00", "50.00"),
    ]  # after it: 50 % up to 10.00, 5x
