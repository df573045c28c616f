"""Free rounds granted through the provider's API (docs/free-rounds.md), end to end with the demo provider: staff
grant a free-spins campaign's rounds through GraphQL, the provider holds the reward, the player's next session
plays them as `is_free` bets naming the provider's reward, and their wins land on the bonus; a supplier promotion
is paid with no bet; deliveries are retried, refusals cancel the bonus, staff cancel at the provider."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import col, select
from strawberry import relay

from integrations.demo.provider import fair
from models.games import Game, Provider
from tests.bonuses.conftest import CLAIM, bonus_balance, bonus_row
from tests.conftest import recorded_statements
from tests.free_rounds.conftest import CANCEL, GRANT, GRANTS, SEND, SPINS, set_free_rounds_url

LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code message } } }"""


async def _slot(rt: Any) -> str:
    async with rt.database.session() as db:
        game_id = await db.scalar(
            select(col(Game.id))
            .join(Provider, col(Provider.id) == col(Game.provider_id))
            .where(col(Provider.code) == "demo", col(Game.code) == fair.SLOT)
        )
    return str(relay.GlobalID("Game", str(game_id)))


async def test_staff_grant_free_rounds_the_provider_plays_them_and_their_wins_land_on_the_bonus(
    rt: Any, gql: Any, demo_free_rounds: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    campaign_id = await campaign("FREE_SPINS", SPINS)
    player, support = await make_player(), await make_staff("support")
    granted = await gql(
        GRANT, {"input": {"playerId": player.id, "campaignId": campaign_id, "reason": "VIP gift"}}, token=support.token
    )
    payload = granted["data"]["grantFreeRounds"]
    assert payload["errors"] == [], payload
    grant = payload["grant"]
    assert (grant["status"], grant["rounds"], grant["bet"], grant["provider"], grant["games"]) == (
        "GRANTED",
        3,
        {"amount": "0.50", "currency": "EUR"},
        "demo",
        [fair.SLOT],
    )
    bonus = await bonus_row(rt, player.uuid)
    assert bonus.reward_uuid == grant["rewardUuid"]  # the provider's id now names the bonus

    launched = (await gql(LAUNCH, {"input": {"gameId": await _slot(rt), "mode": "REAL"}}, token=player.token))["data"][
        "launchGame"
    ]
    assert launched["errors"] == [], launched
    params = {k: v[0] for k, v in parse_qs(urlsplit(launched["launchUrl"]).query).items()}
    assert "reward_uuid" not in params  # the provider already holds the reward: not passed at launch
    async with httpx.AsyncClient(base_url=demo_free_rounds.base, timeout=30) as http:
        assert (await http.get("/play", params=params)).status_code == 200
        rounds = [
            (await http.post("/api/spin", json={"token": params["token"], "game": fair.SLOT, "bet": "5.00"})).json()
            for _ in range(3)
        ]
        assert [(r["status"], r["free"], r["bet"]) for r in rounds] == [("RS_OK", True, "0.50")] * 3
        calls = (await http.get("/control/calls")).json()
        # The demo provider's log is its whole life's (other tests' rewards too): this reward's free bets.
        free_bets = [c for c in calls if c["path"] == "/transaction/bet" and '"is_free":true' in c["body"]]
        assert len([c for c in free_bets if grant["rewardUuid"] in c["body"]]) == 3

        # A supplier's prize drop, paid with no bet: cash, not bonus money.
        promo = (
            await http.post(
                "/control/promo-win",
                json={"user": str(player.uuid), "token": params["token"], "game": fair.SLOT, "amount": 200_000},
            )
        ).json()
        assert promo["status"] == "RS_OK"

    won = sum(int(Decimal(r["win"]) * 100) for r in rounds)
    listed = (await gql(GRANTS, {"player": player.id}, token=support.token))["data"]["freeRoundsGrants"]
    assert [(g["status"], g["roundsLeft"], g["won"]["amount"], g["wins"]) for g in listed] == [
        ("GRANTED", 0, f"{Decimal(won) / 100:.2f}", sum(1 for r in rounds if r["win"] not in ("0", "0.00")))
    ]
    cash, bonus_money = await bonus_balance(rt, player.uuid)
    assert cash == 200  # the promotion; free rounds debit nothing
    bonus = await bonus_row(rt, player.uuid)
    assert bonus_money == (won if bonus.status == "active" else 0)


async def test_a_claimed_free_spins_bonus_is_granted_after_its_commit_and_retried_until_the_provider_answers(
    rt: Any, gql: Any, demo_free_rounds: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    await campaign("FREE_SPINS", SPINS, code="API-SPINS")
    await set_free_rounds_url(rt, "http://127.0.0.1:9/operator/generic/v2")  # nobody answers there
    player, support = await make_player(), await make_staff("support")
    claimed = (await gql(CLAIM, {"input": {"code": "api-spins"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    (pending,) = (await gql(GRANTS, {"player": player.id}, token=support.token))["data"]["freeRoundsGrants"]
    assert (pending["status"], pending["attempts"]) == ("PENDING", 0)

    sent = (await gql(SEND, {"input": {"grantId": pending["id"]}}, token=support.token))["data"]["sendFreeRounds"]
    assert (sent["grant"]["status"], sent["grant"]["attempts"]) == ("PENDING", 1)
    assert sent["grant"]["lastError"]  # unreachable: tried again later, with the same reference

    await set_free_rounds_url(rt, f"{demo_free_rounds.base}/operator/generic/v2")
    for _ in range(2):  # sent twice (a retry after a lost answer): one reward
        sent = (await gql(SEND, {"input": {"grantId": pending["id"]}}, token=support.token))["data"]["sendFreeRounds"]
        assert sent["grant"]["status"] == "GRANTED"
    reward = sent["grant"]["rewardUuid"]
    assert reward
    assert (await bonus_row(rt, player.uuid)).reward_uuid == reward
    async with httpx.AsyncClient(base_url=demo_free_rounds.base, timeout=30) as http:
        resent = await http.post(
            "/operator/generic/v2/freebet/rewards/create",
            json={
                "user": str(player.uuid),
                "currency": "EUR",
                "game_code": fair.SLOT,
                "bet_value": 50_000,
                "bet_count": 3,
                "operator_reference": str(relay.GlobalID.from_id(pending["id"]).node_id),
            },
        )
        assert resent.json()["reward_uuid"] == reward  # the provider finds a resent create by our reference


async def test_a_refused_grant_cancels_its_bonus_and_staff_cancel_granted_rounds_at_the_provider(
    rt: Any,
    gql: Any,
    demo_free_rounds: Any,
    make_player: Any,
    make_staff: Any,
    campaign: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    operator_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "operator.pem"
    key_file.write_bytes(
        operator_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setattr(rt.settings, "free_rounds_signing_key", key_file)  # calls signed as Hub88 expects
    campaign_id = await campaign("FREE_SPINS", SPINS)
    support = await make_staff("support")
    refused_player = await make_player()
    await set_free_rounds_url(rt, f"{demo_free_rounds.base}/nothing-here")  # the provider answers 404
    refused = (
        await gql(
            GRANT,
            {"input": {"playerId": refused_player.id, "campaignId": campaign_id, "reason": "gift"}},
            token=support.token,
        )
    )["data"]["grantFreeRounds"]["grant"]
    assert (refused["status"], refused["bonusStatus"]) == ("FAILED", "cancelled")

    await set_free_rounds_url(rt, f"{demo_free_rounds.base}/operator/generic/v2")
    player = await make_player()
    granted = (
        await gql(
            GRANT, {"input": {"playerId": player.id, "campaignId": campaign_id, "reason": "gift"}}, token=support.token
        )
    )["data"]["grantFreeRounds"]["grant"]
    assert granted["status"] == "GRANTED"
    short = (await gql(CANCEL, {"input": {"grantId": granted["id"], "reason": ""}}, token=support.token))["data"]
    assert short["cancelFreeRounds"]["errors"][0]["code"] == "INVALID_INPUT"
    done = (await gql(CANCEL, {"input": {"grantId": granted["id"], "reason": "sent by mistake"}}, token=support.token))[
        "data"
    ]["cancelFreeRounds"]
    assert done["errors"] == [], done
    assert (done["grant"]["status"], done["grant"]["bonusStatus"]) == ("CANCELLED", "cancelled")
    again = (await gql(CANCEL, {"input": {"grantId": granted["id"], "reason": "twice"}}, token=support.token))["data"]
    assert again["cancelFreeRounds"]["errors"][0]["code"] == "INVALID_STATE"
    async with httpx.AsyncClient(base_url=demo_free_rounds.base, timeout=30) as http:
        cancelled = await http.post(
            "/operator/generic/v2/freebet/rewards/cancel", json={"reward_uuid": granted["rewardUuid"]}
        )
        assert cancelled.json()["status"] == "FRS_CANCELED"
        received = (await http.get("/control/rewards")).json()
    ours = [c for c in received if granted["rewardUuid"] in c["body"] or str(player.uuid) in c["body"]]
    assert [c["path"] for c in ours] == ["create", "cancel", "cancel"]  # ours, then the test's own unsigned one
    for call in ours[:2]:  # verifies with the operator's public key over the exact bytes sent (raises if not)
        operator_key.public_key().verify(
            base64.b64decode(call["signature"]), call["body"].encode(), padding.PKCS1v15(), hashes.SHA256()
        )

    # Players and marketing do not see or grant free rounds; the list is one statement whatever its length.
    denied = await gql(GRANTS, {}, token=player.token)
    assert denied["data"]["freeRoundsGrants"] is None
    with recorded_statements(rt) as statements:
        listed = (await gql(GRANTS, {}, token=support.token))["data"]["freeRoundsGrants"]
    assert len(listed) == 2
    assert len([s for s in statements if "free_rounds_grants" in s]) == 1, statements


async def test_a_pending_grant_whose_bonus_ended_is_never_sent(
    rt: Any, gql: Any, demo_free_rounds: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    await campaign("FREE_SPINS", SPINS, code="GONE-SPINS")
    await set_free_rounds_url(rt, "http://127.0.0.1:9/operator/generic/v2")
    player, support = await make_player(), await make_staff("support")
    claimed = (await gql(CLAIM, {"input": {"code": "gone-spins"}}, token=player.token))["data"]["claimBonus"]
    cancel_bonus = """mutation($input: EndBonusInput!) { cancelBonus(input: $input) { errors { code } } }"""
    ended = await gql(
        cancel_bonus, {"input": {"bonusId": claimed["bonus"]["id"], "reason": "wrong player"}}, token=support.token
    )
    assert ended["data"]["cancelBonus"]["errors"] == []
    await set_free_rounds_url(rt, f"{demo_free_rounds.base}/operator/generic/v2")
    (pending,) = (await gql(GRANTS, {"player": player.id}, token=support.token))["data"]["freeRoundsGrants"]
    sent = (await gql(SEND, {"input": {"grantId": pending["id"]}}, token=support.token))["data"]["sendFreeRounds"]
    assert (sent["grant"]["status"], sent["grant"]["rewardUuid"], sent["grant"]["attempts"]) == ("CANCELLED", None, 0)


async def test_a_bonus_the_engine_cancels_or_forfeits_has_its_reward_cancelled_at_the_provider_retried_once(
    rt: Any, gql: Any, demo_free_rounds: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    from sqlalchemy import update

    from models.free_rounds import FreeRoundsGrant
    from models.outbox import OutboxEvent
    from services.free_rounds import grants

    campaign_id = await campaign("FREE_SPINS", SPINS)
    support = await make_staff("support")
    cancelled_player, forfeiting_player = await make_player(), await make_player()
    rewards = {}
    for player in (cancelled_player, forfeiting_player):
        given = {"playerId": player.id, "campaignId": campaign_id, "reason": "gift"}
        grant = (await gql(GRANT, {"input": given}, token=support.token))["data"]["grantFreeRounds"]["grant"]
        assert grant["status"] == "GRANTED", grant
        rewards[player.id] = grant
    assert await grants.withdraw_ended(rt) == 0  # bonuses in play: nothing to take back

    # Support takes one bonus back, the other player forfeits theirs, while the provider does not answer.
    end = """mutation($input: EndBonusInput!) { %s(input: $input) { errors { code } } }"""
    body = await gql(
        end % "cancelBonus",
        {"input": {"bonusId": rewards[cancelled_player.id]["bonusId"], "reason": "wrong player"}},
        token=support.token,
    )
    assert body["data"]["cancelBonus"]["errors"] == [], body
    body = await gql(
        end % "forfeitBonus",
        {"input": {"bonusId": rewards[forfeiting_player.id]["bonusId"]}},
        token=forfeiting_player.token,
    )
    assert body["data"]["forfeitBonus"]["errors"] == [], body
    await set_free_rounds_url(rt, "http://127.0.0.1:9/operator/generic/v2")
    assert await grants.withdraw_ended(rt) == 2
    listed = (await gql(GRANTS, {"status": "GRANTED"}, token=support.token))["data"]["freeRoundsGrants"]
    assert sorted((g["status"], g["attempts"], bool(g["lastError"])) for g in listed) == [("GRANTED", 1, True)] * 2
    assert await grants.withdraw_ended(rt) == 0  # retried later, not at once

    # Their retry time comes; the provider answers: each reward cancelled there once, each grant cancelled.
    await set_free_rounds_url(rt, f"{demo_free_rounds.base}/operator/generic/v2")
    async with rt.database.transaction() as db:
        await db.execute(
            update(FreeRoundsGrant).values(next_attempt_at=None).where(col(FreeRoundsGrant.status) == "granted")
        )
    assert await grants.withdraw_ended(rt) == 2
    assert await grants.withdraw_ended(rt) == 0  # done: never asked again
    listed = (await gql(GRANTS, {"status": "CANCELLED"}, token=support.token))["data"]["freeRoundsGrants"]
    assert sorted((g["rewardUuid"], g["lastError"]) for g in listed) == sorted(
        (g["rewardUuid"], None) for g in rewards.values()
    )
    async with httpx.AsyncClient(base_url=demo_free_rounds.base, timeout=30) as http:
        received = (await http.get("/control/rewards")).json()
        for grant in rewards.values():
            calls = [c["path"] for c in received if grant["rewardUuid"] in c["body"]]
            assert calls == ["cancel"], calls  # the unreachable tries never reached it
            again = await http.post(  # a cancel repeated at the provider answers it cancelled (idempotent there)
                "/operator/generic/v2/freebet/rewards/cancel", json={"reward_uuid": grant["rewardUuid"]}
            )
            assert again.json()["status"] == "FRS_CANCELED"
    async with rt.database.session() as db:
        events = (await db.scalars(select(OutboxEvent).where(col(OutboxEvent.topic) == "free_rounds.cancelled"))).all()
    assert sorted((e.payload["reward_uuid"], e.payload["cause"], e.payload["at_provider"]) for e in events) == sorted(
        (g["rewardUuid"], "bonus_ended", True) for g in rewards.values()
    )


async def test_the_free_rounds_api_url_is_set_at_onboarding_checked_and_audited(
    rt: Any, gql: Any, demo_free_rounds: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    from tests.onboarding.conftest import audit_rows

    update_provider = """mutation($input: UpdateGameProviderInput!) { updateGameProvider(input: $input) {
      provider { code freeRoundsUrl } errors { code field } } }"""
    add_provider = """mutation($input: AddGameProviderInput!) { addGameProvider(input: $input) {
      provider { code freeRoundsUrl } errors { code field } } }"""
    manager, support = await make_staff(("content_manager", None)), await make_staff("support")
    campaign_id = await campaign("FREE_SPINS", SPINS)
    api = f"{demo_free_rounds.base}/operator/generic/v2"

    async def set_url(url: str, token: str = manager.token) -> dict[str, Any]:
        return await gql(
            update_provider, {"input": {"provider": "demo", "freeRoundsUrl": url, "reason": "api"}}, token=token
        )

    # Removed through GraphQL: the campaign's rounds have no API to go to.
    assert (await set_url(""))["data"]["updateGameProvider"]["provider"]["freeRoundsUrl"] is None
    player = await make_player()
    given = {"playerId": player.id, "campaignId": campaign_id, "reason": "gift"}
    refused = (await gql(GRANT, {"input": given}, token=support.token))["data"]["grantFreeRounds"]
    assert [e["code"] for e in refused["errors"]] == ["FREE_ROUNDS_UNAVAILABLE"]

    # Bad URLs are refused naming the field, and change nothing; the bonus desk cannot set it.
    for bad in ("/operator/generic/v2", "ftp://api.example/v2", f"{api}?key=1", "https://user:pw@api.example/v2"):
        body = await set_url(bad)
        assert body["data"]["updateGameProvider"]["errors"] == [{"code": "INVALID_INPUT", "field": "freeRoundsUrl"}], (
            bad
        )
    denied = await set_url(api, support.token)
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    added = await gql(
        add_provider,
        {"input": {"code": "acme", "name": "Acme", "protocol": "HUB88", "freeRoundsUrl": "https://acme.example/v2/"}},
        token=manager.token,
    )
    assert added["data"]["addGameProvider"]["provider"] == {"code": "acme", "freeRoundsUrl": "https://acme.example/v2"}

    # Set through GraphQL (audited, before and after): the rounds are granted through it.
    assert (await set_url(api))["data"]["updateGameProvider"]["provider"]["freeRoundsUrl"] == api
    record = (await audit_rows(rt, target_type="game_provider"))[-1]
    assert (record.action, record.after["free_rounds_url"]) == ("game_provider.updated", api)
    assert record.before["free_rounds_url"] is None
    granted = (await gql(GRANT, {"input": given}, token=support.token))["data"]["grantFreeRounds"]
    assert (granted["errors"], granted["grant"]["status"]) == ([], "GRANTED")
