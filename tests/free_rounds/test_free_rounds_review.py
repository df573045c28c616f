"""Adversarial review: a grant cancelled while its create is in flight leaves no live reward at the provider."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.free_rounds import client
from tests.bonuses.conftest import CLAIM
from tests.free_rounds.conftest import CANCEL, GRANTS, SEND, SPINS


async def test_a_grant_cancelled_while_its_create_is_in_flight_is_cancelled_at_the_provider(
    rt: Any,
    gql: Any,
    demo_free_rounds: Any,
    make_player: Any,
    make_staff: Any,
    campaign: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await campaign("FREE_SPINS", SPINS, code="RACE-SPINS")
    player, support = await make_player(), await make_staff("support")
    claimed = (await gql(CLAIM, {"input": {"code": "race-spins"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    (pending,) = (await gql(GRANTS, {"player": player.id}, token=support.token))["data"]["freeRoundsGrants"]
    real_create = client.create_reward
    rewards: list[str] = []
    cancelled: list[Any] = []

    async def create_then_cancelled_meanwhile(*args: Any, **kwargs: Any) -> client.Outcome:
        outcome = await real_create(*args, **kwargs)
        assert isinstance(outcome, client.Granted)
        rewards.append(outcome.reward_uuid)  # the provider made the reward; its answer is on its way
        done = await gql(
            CANCEL, {"input": {"grantId": pending["id"], "reason": "sent by mistake"}}, token=support.token
        )
        cancelled.append(done["data"]["cancelFreeRounds"])
        return outcome

    monkeypatch.setattr(client, "create_reward", create_then_cancelled_meanwhile)
    sent = (await gql(SEND, {"input": {"grantId": pending["id"]}}, token=support.token))["data"]["sendFreeRounds"]
    assert cancelled[0]["errors"] == [], cancelled
    assert cancelled[0]["grant"]["status"] == "CANCELLED"
    assert sent["grant"]["status"] == "CANCELLED"
    async with httpx.AsyncClient(base_url=demo_free_rounds.base, timeout=30) as http:
        received = (await http.get("/control/rewards")).json()
    ours = [c for c in received if str(player.uuid) in c["body"] or (rewards[0] in c["body"])]
    # the reward the provider made for a grant cancelled meanwhile is cancelled there too: the player cannot play it
    assert [c["path"] for c in ours] == ["create", "cancel"], ours


async def test_a_grant_whose_bonus_ended_while_its_create_was_in_flight_is_cancelled_at_the_provider(
    rt: Any,
    gql: Any,
    demo_free_rounds: Any,
    make_player: Any,
    make_staff: Any,
    campaign: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await campaign("FREE_SPINS", SPINS, code="GONE-RACE")
    player, support = await make_player(), await make_staff("support")
    claimed = (await gql(CLAIM, {"input": {"code": "gone-race"}}, token=player.token))["data"]["claimBonus"]
    (pending,) = (await gql(GRANTS, {"player": player.id}, token=support.token))["data"]["freeRoundsGrants"]
    real_create = client.create_reward
    rewards: list[str] = []
    cancel_bonus = """mutation($input: EndBonusInput!) { cancelBonus(input: $input) { errors { code } } }"""

    async def create_then_bonus_cancelled(*args: Any, **kwargs: Any) -> client.Outcome:
        outcome = await real_create(*args, **kwargs)
        assert isinstance(outcome, client.Granted)
        rewards.append(outcome.reward_uuid)
        ended = await gql(
            cancel_bonus, {"input": {"bonusId": claimed["bonus"]["id"], "reason": "wrong player"}}, token=support.token
        )
        assert ended["data"]["cancelBonus"]["errors"] == []
        return outcome

    monkeypatch.setattr(client, "create_reward", create_then_bonus_cancelled)
    sent = (await gql(SEND, {"input": {"grantId": pending["id"]}}, token=support.token))["data"]["sendFreeRounds"]
    assert sent["grant"]["status"] == "CANCELLED", sent  # not GRANTED for a cancelled bonus
    async with httpx.AsyncClient(base_url=demo_free_rounds.base, timeout=30) as http:
        received = (await http.get("/control/rewards")).json()
    assert [c["path"] for c in received if str(player.uuid) in c["body"] or rewards[0] in c["body"]] == [
        "create",
        "cancel",
    ]
