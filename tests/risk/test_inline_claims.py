"""Risk at the bonus claim, at KYC's gates, at game launch and at registration, through GraphQL: blocked bonuses
are refused, a linked account's claim of the same offer is refused (RISK_BONUS_ABUSE) and its hit recorded although
the claim rolled back; a KYC level required by risk shows on Player.kyc and makes withdrawals wait; a blocked
account launches no real-money game; a burst of registrations from one device is caught."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry import relay

from tests.bonuses.conftest import bonus_row
from tests.bonuses.conftest import rules as offer_rules
from tests.conftest import fund
from tests.kyc.conftest import MY_KYC, PLAYER_KYC
from tests.risk.conftest import Signals, registered
from tests.risk.inline_support import (
    CLAIM,
    DEPOSIT,
    LAUNCH,
    WITHDRAW,
    add_rule,
    desk_fixture,  # noqa: F401  (fixture)
    give_score,
    impose,
    in_force,
    open_flags,
    score_items,
)


async def claim(gql: Any, player: Any, code: str) -> list[str]:
    body = await gql(CLAIM, {"input": {"code": code}}, token=player.token)
    assert not body.get("errors"), body
    return [e["code"] for e in body["data"]["claimBonus"]["errors"]]


async def test_blocked_bonuses_refuse_claims_and_deposits_quoting_a_code(
    rt: Any, gql: Any, psp: Any, make_player: Any, campaign: Any, desk: str
) -> None:
    await campaign("NO_DEPOSIT", offer_rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    await campaign("DEPOSIT_MATCH", offer_rules(), code="MATCH")
    player = await make_player()
    await impose(gql, desk, player, "block_bonuses")
    assert await claim(gql, player, "FREE10") == ["RISK_BONUS_BLOCKED"]
    given = {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
    body = await gql(DEPOSIT, {"input": {**given, "bonusCode": "MATCH"}}, token=player.token)
    assert [e["code"] for e in body["data"]["deposit"]["errors"]] == ["RISK_BONUS_BLOCKED"]
    assert body["data"]["deposit"]["payment"] is None
    assert await bonus_row(rt, player.uuid) is None
    body = await gql(DEPOSIT, {"input": given}, token=player.token)  # without the code the deposit goes on
    assert body["data"]["deposit"]["payment"]["status"] == "SUCCEEDED"


async def test_a_second_claim_from_one_device_is_refused_and_the_hit_recorded(
    rt: Any, gql: Any, make_player: Any, campaign: Any
) -> None:
    await campaign("NO_DEPOSIT", offer_rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    await campaign("NO_DEPOSIT", offer_rules(fixed_amount={"EUR": "5.00"}), code="OTHER5")
    first = await registered(gql, "one@example.com", device="device-shared-001")
    second = await registered(gql, "two@example.com", device="device-shared-001")
    assert await claim(gql, first, "FREE10") == []
    assert await claim(gql, second, "FREE10") == ["RISK_BONUS_ABUSE"]
    assert await bonus_row(rt, second.uuid) is None
    item = (await score_items(rt, second))["bonus-claimed-by-cluster"]  # recorded after the rollback
    assert item.reason == "1 linked account already claimed this offer"
    assert await open_flags(rt, second) == ["bonus-claimed-by-cluster"]
    assert await claim(gql, second, "OTHER5") == []  # another offer: nobody linked holds it


async def test_a_linked_cluster_claiming_one_offer_twice_is_refused(
    rt: Any, gql: Any, make_player: Any, campaign: Any, signals: Signals
) -> None:
    await campaign("NO_DEPOSIT", offer_rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    first = await registered(gql, "p1@example.com", phone="7700 900123", country="GB")
    second = await registered(gql, "p2@example.com", phone="+44 7700 900123", country="MT")
    await signals.drain()
    assert await signals.cluster_of(first) == await signals.cluster_of(second)
    assert await claim(gql, first, "FREE10") == []
    assert await claim(gql, second, "FREE10") == ["RISK_BONUS_ABUSE"]


async def test_a_high_score_at_a_claim_blocks_bonuses(rt: Any, gql: Any, make_player: Any, campaign: Any) -> None:
    await campaign("NO_DEPOSIT", offer_rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    await add_rule(
        rt, "claim-score", "score_at_least", {"occasion": "bonus_claim", "score": 15}, [{"kind": "block_bonuses"}], 0
    )
    calm = await make_player()
    assert await claim(gql, calm, "FREE10") == []
    player = await make_player()
    await give_score(rt, player, "linked-accounts")  # 15 points
    assert await claim(gql, player, "FREE10") == ["RISK_BONUS_BLOCKED"]
    assert (await in_force(rt, player)).bonuses_blocked  # recorded after the claim's rollback
    assert "claim-score" in await score_items(rt, player)


async def test_a_kyc_level_required_by_risk_shows_and_withdrawals_wait(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    await impose(gql, desk, player, "require_kyc_level", level="identity_verified")
    body = await gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    assert body["data"]["requestWithdrawal"]["payment"]["status"] == "WAITING_FOR_KYC", body
    kyc = (await gql(MY_KYC, token=player.token))["data"]["me"]["kyc"]
    assert kyc["requiredLevel"] == "identity_verified"
    assert kyc["reason"]["trigger"] == "risk_signal"


async def test_a_blocked_account_launches_no_real_money_game(rt: Any, gql: Any, make_player: Any, desk: str) -> None:
    player = await make_player()
    game = str(relay.GlobalID("Game", str(uuid.uuid4())))
    body = await gql(LAUNCH, {"input": {"gameId": game, "mode": "REAL"}}, token=player.token)
    assert [e["code"] for e in body["data"]["launchGame"]["errors"]] == ["GAME_NOT_AVAILABLE"]
    await impose(gql, desk, player, "block_account")
    body = await gql(LAUNCH, {"input": {"gameId": game, "mode": "REAL"}}, token=player.token)
    assert [e["code"] for e in body["data"]["launchGame"]["errors"]] == ["RISK_RESTRICTED"]


async def test_the_third_registration_from_a_device_is_flagged_and_its_bonuses_blocked(rt: Any, gql: Any) -> None:
    accounts = [await registered(gql, f"burst{i}@example.com", device="device-burst-0001") for i in range(3)]
    assert [await open_flags(rt, a) for a in accounts] == [[], [], ["registrations-per-device"]]
    item = (await score_items(rt, accounts[2]))["registrations-per-device"]
    assert item.reason == "3 registrations from this device in 60 minutes"
    assert (await in_force(rt, accounts[2])).bonuses_blocked
    assert not (await in_force(rt, accounts[1])).bonuses_blocked


async def test_a_deposit_makes_the_kyc_level_risk_requires_a_requirement(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, desk: str
) -> None:
    player = await make_player()
    await impose(gql, desk, player, "require_kyc_level", level="address_verified")
    assert (await gql(MY_KYC, token=player.token))["data"]["me"]["kyc"]["requiredLevel"] == "registered"
    given = {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
    body = await gql(DEPOSIT, {"input": given}, token=player.token)
    assert body["data"]["deposit"]["payment"]["status"] == "SUCCEEDED"  # the level gates withdrawals only
    kyc = (await gql(MY_KYC, token=player.token))["data"]["me"]["kyc"]
    assert (kyc["requiredLevel"], kyc["reason"]) == ("address_verified", {"trigger": "risk_signal"})
    officer = await make_staff("kyc_officer")
    staff_view = await gql(PLAYER_KYC, {"id": player.id}, token=officer.token)
    assert staff_view["data"]["player"]["kyc"]["reason"]["signal"] == "risk.staff"  # the code, for staff only


async def test_the_fifth_registration_from_one_address_is_flagged(rt: Any, gql: Any) -> None:
    # The test client's address is 203.0.113.7 for every request; no device id is sent.
    accounts = [await registered(gql, f"same-ip{i}@example.com") for i in range(5)]
    assert [bool(await open_flags(rt, a)) for a in accounts] == [False] * 4 + [True]
    item = (await score_items(rt, accounts[4]))["registrations-per-ip"]
    assert item.reason == "5 registrations from this IP address in 60 minutes"


async def test_a_registration_and_a_claim_no_rule_fires_on_add_one_statement_each(
    rt: Any, gql: Any, campaign: Any
) -> None:
    from tests.conftest import recorded_statements

    def risk(statements: list[str]) -> list[str]:
        return [s for s in statements if "risk_rules" in s or "risk_actions" in s or "risk_score_items" in s]

    await campaign("NO_DEPOSIT", offer_rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    with recorded_statements(rt) as statements:
        player = await registered(gql, "quiet@example.com", device="device-quiet-0001")
    assert len(risk(statements)) == 1, risk(statements)
    with recorded_statements(rt) as statements:
        assert await claim(gql, player, "FREE10") == []
    assert len(risk(statements)) == 1, risk(statements)
