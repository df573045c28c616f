"""The one check before every send and offer: `suppression.refusal` answers None or the first reason that
applies, `suppression.check` records each refusal; staff read the log on the player."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from models.crm import Purpose
from services.crm import suppression
from tests.conftest import recorded_statements
from tests.crm_suppression.conftest import (
    PLAYER_CRM,
    SELF_EXCLUDE,
    SET_CONSENTS,
    SET_STATUS,
    TIME_OUT,
    Crm,
    check,
    refusal,
)


async def test_a_consenting_player_may_be_reached_on_the_channels_they_consented_to(
    rt: Any, gql: Any, make_player: Any
) -> None:
    player = await make_player(marketingConsent=True)
    assert await refusal(rt, player) is None
    assert await refusal(rt, player, channel="inbox", product="poker") is None
    assert await refusal(rt, player, channel="sms") == "NO_CONSENT"
    assert await refusal(rt, player, product="bingo") == "NO_CONSENT"  # a product nobody can consent to
    assert await refusal(rt, player, purpose=Purpose.OFFER, channel=None) is None
    silent = await make_player()
    assert await refusal(rt, silent) == "NO_CONSENT"
    assert await refusal(rt, silent, purpose=Purpose.OFFER, channel=None) == "NO_CONSENT"
    change = {"product": "sports", "channel": "push", "granted": True}
    await gql(SET_CONSENTS, {"input": {"consents": [change]}}, token=silent.token)
    assert await refusal(rt, silent, channel="push", product="sports") is None
    assert await refusal(rt, silent, purpose=Purpose.OFFER, channel=None, product="sports") is None
    assert await refusal(rt, silent, purpose=Purpose.OFFER, channel=None, product="casino") == "NO_CONSENT"
    with pytest.raises(ValueError, match="channel"):
        await refusal(rt, player, channel="fax")


async def test_exclusions_refuse_before_consent_is_even_asked(rt: Any, gql: Any, make_player: Any) -> None:
    timed_out = await make_player(marketingConsent=True)
    await gql(TIME_OUT, {"input": {"length": "DAY"}}, token=timed_out.token)
    assert await refusal(rt, timed_out) == "TIMED_OUT"

    excluded = await make_player(marketingConsent=True)
    await gql(SELF_EXCLUDE, {"input": {"length": "SIX_MONTHS", "confirm": True}}, token=excluded.token)
    assert await refusal(rt, excluded) == "SELF_EXCLUDED"
    assert await refusal(rt, excluded, purpose=Purpose.OFFER, channel=None) == "SELF_EXCLUDED"

    # Its end: a day of cooling-off, then only consent given again counts (the exclusion withdrew it).
    clock.advance(timedelta(days=183, hours=1))
    assert await refusal(rt, excluded) == "COOLING_OFF"
    assert await refusal(rt, timed_out) == "NO_CONSENT"  # a time-out's end has no cooling-off
    clock.advance(timedelta(days=1))
    assert await refusal(rt, excluded) == "NO_CONSENT"


async def test_a_blocked_or_unknown_account_is_not_reached(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(marketingConsent=True)
    support = await make_staff("support")
    body = await gql(
        SET_STATUS,
        {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "chargeback fraud"}},
        token=support.token,
        brand="royal",
    )
    assert body["data"]["setPlayerStatus"]["errors"] == []
    assert await refusal(rt, player) == "ACCOUNT_CLOSED"

    class Nobody:
        uuid = __import__("uuid").uuid4()

    assert await refusal(rt, Nobody) == "UNKNOWN_PLAYER"


async def test_an_offer_outside_its_jurisdictions_is_refused(rt: Any, make_player: Any, crm: Crm) -> None:
    maltese = await make_player(marketingConsent=True, country="MT")
    jurisdiction = await crm.conn.fetchval("SELECT jurisdiction FROM players WHERE id = $1", maltese.uuid)
    asked = {"purpose": Purpose.OFFER, "channel": "email"}
    assert await refusal(rt, maltese, **asked, offer_jurisdictions=[jurisdiction, "UK"]) is None
    assert await refusal(rt, maltese, **asked, offer_jurisdictions=["SE"]) == "JURISDICTION_FORBIDS"
    assert await refusal(rt, maltese, **asked, offer_jurisdictions=[]) is None  # no list: every jurisdiction
    # A message is not an offer: the offer's jurisdictions do not apply to it.
    assert await refusal(rt, maltese, offer_jurisdictions=["SE"]) is None


async def test_each_refusal_is_recorded_and_staff_read_the_log(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, crm: Crm
) -> None:
    player = await make_player()
    message_id = await crm.queue(player, channel="sms")
    async with rt.database.transaction() as db:
        reason = await suppression.check(
            db,
            player.uuid,
            purpose=Purpose.MESSAGE,
            channel="sms",
            product="casino",
            source_kind="sender",
            source_id=None,
            message_id=message_id,
        )
        allowed = await suppression.check(
            db,
            player.uuid,
            purpose=Purpose.OFFER,
            channel=None,
            product="casino",
            source_kind="journey",
            source_id=message_id,
        )
    assert reason == "NO_CONSENT"
    assert allowed == "NO_CONSENT"
    assert await crm.suppressions(player) == [("NO_CONSENT", "sender", message_id), ("NO_CONSENT", "journey", None)]

    consenting = await make_player(marketingConsent=True)
    assert await check(rt, consenting) is None
    assert await crm.suppressions(consenting) == []  # nothing to record when the player may be reached

    support = await make_staff("support")
    data = (await gql(PLAYER_CRM, {"id": player.id}, token=support.token, brand="royal"))["data"]["node"]
    log = [edge["node"] for edge in data["crmSuppressions"]["edges"]]
    assert [(row["reason"], row["sourceKind"], row["purpose"]) for row in log] == [
        ("NO_CONSENT", "journey", "offer"),
        ("NO_CONSENT", "sender", "message"),
    ]  # newest first
    assert log[1]["messageId"] == str(message_id)


async def test_the_log_and_the_consents_read_in_constant_statements(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    support = await make_staff("support")
    player = await make_player()
    players_query = "query { players(first: 20) { edges { node { consents { granted } } } } }"
    log_query = """query($id: ID!) { node(id: $id) { ... on Player {
      crmSuppressions(first: 10) { edges { node { reason } } } } } }"""
    counts = []
    for _ in range(2):
        for _ in range(3):
            other = await make_player()
            for refused in (player, other):
                await check(rt, refused, channel="sms")
        with recorded_statements(rt) as listed:
            body = await gql(players_query, token=support.token, brand="royal")
        assert "errors" not in body, body
        with recorded_statements(rt) as logged:
            body = await gql(log_query, {"id": player.id}, token=support.token, brand="royal")
        assert "errors" not in body, body
        counts.append((len(listed), len([s for s in listed if "crm_consents" in s]), len(logged)))
    assert counts[0] == counts[1]  # 4 then 7 players; 3 then 6 rows in the log
    assert counts[0][1] == 1  # the consents of every player on the page: one statement
