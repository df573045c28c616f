"""Consent per product and channel: the sign-up default, the player's own changes, the old flag kept
meaningful, who reads them."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import error_codes
from tests.crm_suppression.conftest import CONSENTS, PLAYER_CRM, SET_CONSENTS, TIME_OUT, UPDATE_PROFILE, Crm
from tests.rg.conftest import login


def granted(consents: list[dict[str, Any]]) -> set[str]:
    return {f"{c['product']}:{c['channel']}" for c in consents if c["granted"]}


ALL = {"casino", "live_casino", "sports", "poker"}


async def test_the_sign_up_consent_grants_email_and_inbox_for_every_product(gql: Any, make_player: Any) -> None:
    consenting = await make_player(marketingConsent=True)
    me = (await gql(CONSENTS, token=consenting.token))["data"]["me"]
    assert len(me["consents"]) == 16
    assert granted(me["consents"]) == {f"{p}:{c}" for p in ALL for c in ("email", "inbox")}
    assert {c["source"] for c in me["consents"]} == {"registration"}

    silent = await make_player()
    me = (await gql(CONSENTS, token=silent.token))["data"]["me"]
    assert granted(me["consents"]) == set()


async def test_a_player_sets_consents_per_product_and_channel_and_the_flag_follows(
    gql: Any, make_player: Any, crm: Crm
) -> None:
    player = await make_player()
    changes = [
        {"product": "sports", "channel": "sms", "granted": True},
        {"product": "poker", "channel": "push", "granted": True},
    ]
    payload = (await gql(SET_CONSENTS, {"input": {"consents": changes}}, token=player.token))["data"]["setConsents"]
    assert payload["errors"] == []
    assert granted(payload["consents"]) == {"sports:sms", "poker:push"}
    me = (await gql(CONSENTS, token=player.token))["data"]["me"]
    assert me["marketingConsent"] is True  # any consent granted turns the old flag on
    assert granted(me["consents"]) == {"sports:sms", "poker:push"}  # the sign-up default does not creep in

    queued = await crm.queue(player, channel="sms", product="sports")
    withdraw = [{"product": "sports", "channel": "sms", "granted": False}]
    await gql(SET_CONSENTS, {"input": {"consents": withdraw}}, token=player.token)
    assert (await crm.message(queued))["status"] == "cancelled"  # what a withdrawn consent covered stops
    assert (await crm.message(queued))["reason"] == "NO_CONSENT"

    await gql(
        SET_CONSENTS,
        {"input": {"consents": [{**withdraw[0], "product": "poker", "channel": "push"}]}},
        token=player.token,
    )
    me = (await gql(CONSENTS, token=player.token))["data"]["me"]
    assert me["marketingConsent"] is False  # the last one withdrawn turns the flag off
    events = await crm.conn.fetch(
        "SELECT payload FROM outbox_events WHERE topic = 'player.marketing_consent_changed' ORDER BY id"
    )
    assert [json.loads(e["payload"])["consent"] for e in events] == [True, False]


async def test_withdrawing_the_old_flag_withdraws_every_consent_and_giving_it_back_restores_them(
    gql: Any, make_player: Any
) -> None:
    player = await make_player(marketingConsent=True)
    await gql(
        SET_CONSENTS,
        {"input": {"consents": [{"product": "casino", "channel": "sms", "granted": True}]}},
        token=player.token,
    )
    assert (await gql(UPDATE_PROFILE, {"input": {"marketingConsent": False}}, token=player.token))["data"][
        "updateProfile"
    ]["errors"] == []
    assert granted((await gql(CONSENTS, token=player.token))["data"]["me"]["consents"]) == set()
    await gql(UPDATE_PROFILE, {"input": {"marketingConsent": True}}, token=player.token)
    after = granted((await gql(CONSENTS, token=player.token))["data"]["me"]["consents"])
    assert "casino:sms" in after
    assert "sports:email" in after


async def test_bad_consents_are_refused_whole(gql: Any, make_player: Any) -> None:
    player = await make_player()
    for consents, field in [
        ([{"product": "bingo", "channel": "email", "granted": True}], "product"),
        ([{"product": "casino", "channel": "fax", "granted": True}], "channel"),
        ([], "consents"),
        (
            [
                {"product": "casino", "channel": "email", "granted": True},
                {"product": "casino", "channel": "email", "granted": False},
            ],
            "consents",
        ),
    ]:
        body = await gql(SET_CONSENTS, {"input": {"consents": consents}}, token=player.token)
        payload = body["data"]["setConsents"]
        assert payload["consents"] is None, payload
        assert payload["errors"][0]["field"] == field, payload
    assert granted((await gql(CONSENTS, token=player.token))["data"]["me"]["consents"]) == set()
    anonymous = await gql(
        SET_CONSENTS, {"input": {"consents": [{"product": "casino", "channel": "email", "granted": True}]}}
    )
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_an_excluded_player_cannot_consent_again_but_may_withdraw(gql: Any, make_player: Any) -> None:
    player = await make_player(marketingConsent=True)
    assert (await gql(TIME_OUT, {"input": {"length": "DAY"}}, token=player.token))["data"]["takeTimeOut"][
        "errors"
    ] == []
    withdrawal = (await login(gql, player, purpose="WITHDRAWAL"))["tokens"]["accessToken"]
    change = {"product": "casino", "channel": "email", "granted": True}
    refused = (await gql(SET_CONSENTS, {"input": {"consents": [change]}}, token=withdrawal))["data"]["setConsents"]
    assert refused["errors"][0]["code"] == "NOT_ALLOWED"
    # Withdrawing is never refused: a player signed in only to withdraw may still say no.
    change = {"product": "casino", "channel": "email", "granted": False}
    done = (await gql(SET_CONSENTS, {"input": {"consents": [change]}}, token=withdrawal))["data"]["setConsents"]
    assert done["errors"] == []
    assert granted(done["consents"]) == set()


async def test_support_and_marketing_read_consents_and_the_log_other_brands_and_players_do_not(
    gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    player = await make_player(marketingConsent=True)
    other = await make_player()
    for role in ("support", "marketing", "brand_admin"):
        staff = await make_staff(role)
        data = (await gql(PLAYER_CRM, {"id": player.id}, token=staff.token, brand="royal"))["data"]["node"]
        assert len(data["consents"]) == 16, role
        assert data["crmSuppressions"]["edges"] == []
    outsider = await make_staff(("support", "northstar"))
    body = await gql(PLAYER_CRM, {"id": player.id}, token=outsider.token, brand="northstar")
    assert body["data"]["node"] is None
    finance = await make_staff("finance")
    body = await gql(PLAYER_CRM, {"id": player.id}, token=finance.token, brand="royal")
    assert "FORBIDDEN" in error_codes(body)
    body = await gql(PLAYER_CRM, {"id": player.id}, token=other.token)
    assert body["data"]["node"] is None
    body = await gql(PLAYER_CRM, {"id": player.id}, token=player.token)
    assert "FORBIDDEN" in error_codes(body)  # a player reads their consents, not the staff's log
