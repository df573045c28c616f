"""Events leave the platform, so they carry ids and codes only. A player with recognisable details lives a
broad life through the API — registration, logins, a profile change, deposits, a bonus, play, limits,
reality checks, staff's notes about them, a time-out — and not one of their details, nor what staff wrote
about them, nor where they connected from, reaches any event; every event is valid against its schema and
names the player's brand."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from strawberry import relay

from core import catalogue
from core.clock import clock
from tests.bonuses.conftest import rules
from tests.cashier.conftest import CARD
from tests.conftest import LOGIN, PASSWORD, REGISTER
from tests.events.conftest import Outbox
from tests.events.test_account_events import CHANGE_PASSWORD, LOGOUT, UPDATE_PROFILE
from tests.events.test_bonus_events import CANCEL
from tests.events.test_money_events import DEPOSIT, EUR, _launch
from tests.events.test_rg_events import ANSWER, INTERVENE, SET_REALITY_CHECK, TIME_OUT
from tests.rg.conftest import refresh, set_limit

EMAIL = "ingrid.bergqvist+casino@mailhost.example"
FIRST, LAST, NEW_LAST = "Ingrid", "Bergqvist", "Lindgren"
PHONE, NEW_PHONE = "+46 70 123 45 67", "+46 70 765 43 21"
BORN = "1987-03-14"
IP = "203.0.113.7"  # the test client's address (tests/conftest.py `client`)
DEVICE = "Mozilla/5.0 (Linux; Android 14; Ingrids-Pixel)"
SECRETS = (
    EMAIL,
    "ingrid.bergqvist",
    "mailhost",
    FIRST,
    LAST,
    NEW_LAST,
    PHONE,
    NEW_PHONE,
    "701234567",
    "707654321",
    "123 45 67",
    BORN,
    "14.03.1987",
    IP,
    "Ingrids-Pixel",
    "Android",
)


async def test_no_event_of_a_players_whole_life_carries_their_personal_data(
    rt: Any,
    gql: Any,
    make_staff: Any,
    brand: Any,
    campaign: Any,
    psp: Any,
    hub88_provider: Any,
    aggregator: Any,
) -> None:
    await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}), code="WELCOME")
    device = {"User-Agent": DEVICE}
    form = {
        "brand": "royal",
        "email": EMAIL,
        "password": PASSWORD,
        "dateOfBirth": BORN,
        "country": "MT",
        "currency": "EUR",
        "firstName": FIRST,
        "lastName": LAST,
        "phone": PHONE,
        "marketingConsent": True,
    }
    registered = (await gql(REGISTER, {"input": form}, headers=device))["data"]["registerPlayer"]
    assert registered["errors"] == [], registered
    player_id = uuid.UUID(relay.GlobalID.from_id(registered["player"]["id"]).node_id)
    login = {"brand": "royal", "email": EMAIL, "password": PASSWORD}
    signed_in = (await gql(LOGIN, {"input": login}, headers=device))["data"]["login"]
    assert signed_in["errors"] == [], signed_in

    class Me:  # what the helpers of the other test files need of a player
        id = registered["player"]["id"]
        uuid = player_id
        brand = "royal"
        email = EMAIL
        token = signed_in["tokens"]["accessToken"]
        refresh_token = signed_in["tokens"]["refreshToken"]

    me = Me()
    change = {"lastName": NEW_LAST, "phone": NEW_PHONE, "firstName": FIRST}
    assert (await gql(UPDATE_PROFILE, {"input": change}, token=me.token))["data"]["updateProfile"]["errors"] == []
    ask = {
        "amount": "20.00",
        "currency": "EUR",
        "method": "CARD",
        "pspToken": await psp.tokenise(CARD),
        "bonusCode": "WELCOME",
    }
    assert (await gql(DEPOSIT, {"input": ask}, token=me.token))["data"]["deposit"]["payment"]["status"] == "SUCCEEDED"
    seat = await _launch(rt, gql, me, hub88_provider)
    bet = seat.bet(4 * EUR, round_ref="r-1")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/win", seat.win(3 * EUR, bet["transaction_uuid"])))["status"] == "RS_OK"
    await set_limit(gql, me, "LOSS", "DAY", amount="50.00")
    await set_limit(gql, me, "LOSS", "DAY", amount="80.00")
    assert (await gql(SET_REALITY_CHECK, {"m": 30}, token=me.token))["data"]["setRealityCheck"]["errors"] == []
    clock.advance(timedelta(minutes=31))
    await refresh(gql, me)
    assert (await gql(ANSWER, {"go": True}, token=me.token))["data"]["answerRealityCheck"]["errors"] == []

    support = await make_staff("support")
    note = f"Called {FIRST} {LAST} on {PHONE} ({EMAIL}), born {BORN}."
    ask = {"playerId": me.id, "action": "WARNED", "note": note}
    assert (await gql(INTERVENE, {"input": ask}, token=support.token))["data"]["recordRgIntervention"]["errors"] == []
    bonus_id = (await gql("{ me { bonuses { id } } }", token=me.token))["data"]["me"]["bonuses"][0]["id"]
    ask = {"bonusId": bonus_id, "reason": f"{FIRST} {LAST} shares a card with her brother"}
    assert (await gql(CANCEL, {"input": ask}, token=support.token))["data"]["cancelBonus"]["errors"] == []
    ask = {"currentPassword": PASSWORD, "newPassword": "battery-staple-7"}
    assert (await gql(CHANGE_PASSWORD, {"input": ask}, token=me.token))["data"]["changePassword"]["errors"] == []
    assert (await gql(TIME_OUT, token=me.token))["data"]["takeTimeOut"]["errors"] == []
    assert "UNAUTHENTICATED" in str(await gql(LOGOUT, {"input": {}}, token=me.token))  # the time-out signed out

    emitted = await Outbox(rt).all()
    written = {e.type for e in emitted}
    assert written >= {
        "player.registered",
        "player.logged_in",
        "player.profile_changed",
        "payment.succeeded",
        "ledger.deposit",
        "bonus.issued",
        "bonus.activated",
        "game.launched",
        "ledger.game_bet",
        "ledger.game_win",
        "rg.limit_set",
        "rg.limit_change_requested",
        "rg.reality_check_interval_set",
        "rg.reality_check_answered",
        "rg.intervention_recorded",
        "bonus.cancelled",
        "player.password_changed",
        "player.excluded",
        "player.marketing_consent_changed",
        "player.session_ended",
    }, written
    for event in emitted:
        text = json.dumps(event.envelope, ensure_ascii=False)
        leaked = [secret for secret in SECRETS if secret.lower() in text.lower()]
        assert leaked == [], f"{event.type} carries {leaked}: {text}"
        assert catalogue.problems(json.loads(text)) == [], event.envelope
        assert (event.subject, event.brand) == (f"player:{player_id}", brand.id), event.type
        assert event.data.get("player_id") == str(player_id), event.type
