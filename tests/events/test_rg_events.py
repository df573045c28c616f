"""Responsible gambling: limits (set, change requested, cancelled, confirmed, removed), reality checks (interval,
due, answered), exclusions with what follows from them, risk flags and the RG team's interventions — codes
and amounts only, never what staff wrote."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest.mock import ANY

from core.clock import clock
from services.rg import flags, reality
from tests.events.conftest import Outbox, one, types
from tests.events.test_account_events import session_of
from tests.rg.conftest import CONFIRM, refresh, set_limit

CANCEL_CHANGE = """
mutation($input: LimitChangeInput!) { cancelLimitChange(input: $input) { errors { code } } }"""
SET_REALITY_CHECK = "mutation($m: Int!) { setRealityCheck(input: {minutes: $m}) { errors { code } } }"
ANSWER = """
mutation($go: Boolean!) { answerRealityCheck(input: {continuePlaying: $go}) { errors { code } } }"""
TIME_OUT = "mutation { takeTimeOut(input: {length: DAY}) { errors { code } } }"
IMPOSE = """
mutation($input: ImposeExclusionInput!) { imposeExclusion(input: $input) { errors { code field } } }"""
INTERVENE = """
mutation($input: RecordRgInterventionInput!) { recordRgIntervention(input: $input) { errors { code field } } }"""
QUEUE = "{ rgFlags { edges { node { id kind } } } }"
RESOLVE = "mutation($input: ResolveRgFlagInput!) { resolveRgFlag(input: $input) { errors { code } } }"
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) { payment { id } errors { code } } }"""
CANCEL_WITHDRAWAL = "mutation($input: CancelWithdrawalInput!) { cancelWithdrawal(input: $input) { errors { code } } }"


async def test_each_change_of_a_limit_is_one_event_with_amounts_in_minor_units(
    rt: Any, gql: Any, make_player: Any, brand: Any
) -> None:
    player = await make_player()
    outbox = Outbox(rt)
    await outbox.skip()
    limit = {"player_id": str(player.uuid), "kind": "deposit", "period": "week", "currency": "EUR", "by": "player"}

    before = clock.now()
    assert (await set_limit(gql, player, "DEPOSIT", "WEEK", amount="100.00"))["errors"] == []
    got = await outbox.new()
    assert types(got) == ["rg.limit_set"]
    assert got[0].brand == brand.id
    assert got[0].data == {**limit, "amount": 10_000, "previous_amount": None, "effective_at": ANY}
    assert before <= datetime.fromisoformat(got[0].data["effective_at"]) <= clock.now()  # at once

    await set_limit(gql, player, "DEPOSIT", "WEEK", amount="50.00")  # lower: at once
    assert [(e.type, e.data["amount"], e.data["previous_amount"]) for e in await outbox.new()] == [
        ("rg.limit_set", 5_000, 10_000)
    ]

    raised = await set_limit(gql, player, "DEPOSIT", "WEEK", amount="300.00")  # higher: waits out the cooling-off
    got = await outbox.new()
    assert types(got) == ["rg.limit_change_requested"]
    waits_until = datetime.fromisoformat(raised["limit"]["pending"]["effectiveAt"])
    assert waits_until > clock.now() + timedelta(hours=23)  # Malta: 24 hours
    assert got[0].data == {**limit, "amount": 5_000, "requested_amount": 30_000, "effective_at": ANY}
    assert datetime.fromisoformat(got[0].data["effective_at"]) == waits_until
    change = {"kind": "DEPOSIT", "period": "WEEK"}
    assert (await gql(CANCEL_CHANGE, {"input": change}, token=player.token))["data"]["cancelLimitChange"][
        "errors"
    ] == []
    got = await outbox.new()
    assert [(e.type, e.data) for e in got] == [("rg.limit_change_cancelled", {**limit, "amount": 5_000})]

    await set_limit(gql, player, "DEPOSIT", "WEEK")  # removal: waits too
    assert one(await outbox.new(), "rg.limit_change_requested").data["requested_amount"] is None
    clock.advance(timedelta(hours=25))
    await refresh(gql, player)
    assert (await gql(CONFIRM, {"input": change}, token=player.token))["data"]["confirmLimitChange"]["errors"] == []
    got = await outbox.new()
    assert [(e.type, e.data) for e in got] == [
        ("rg.limit_removed", {**limit, "previous_amount": 5_000, "effective_at": ANY})
    ]

    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=30)  # time: in seconds, no currency
    got = await outbox.new()
    assert [(e.type, e.data["amount"], e.data["currency"]) for e in got] == [("rg.limit_set", 1_800, None)]


async def test_reality_checks_their_interval_and_answers_are_events(
    rt: Any, gql: Any, make_player: Any, brand: Any
) -> None:
    player = await make_player()
    outbox = Outbox(rt)
    await outbox.skip()
    assert (await gql(SET_REALITY_CHECK, {"m": 30}, token=player.token))["data"]["setRealityCheck"]["errors"] == []
    got = await outbox.new()
    assert [(e.type, e.data) for e in got] == [
        (
            "rg.reality_check_interval_set",
            {"player_id": str(player.uuid), "minutes": 30, "previous_minutes": None, "by": "player"},
        )
    ]

    clock.advance(timedelta(minutes=31))
    await refresh(gql, player)
    assert await reality.push_due(rt) == 1  # the RG worker's step
    due = one(await outbox.new(), "rg.reality_check_due")
    assert (due.brand, due.data["session_id"]) == (brand.id, session_of(player.token))

    assert (await gql(ANSWER, {"go": True}, token=player.token))["data"]["answerRealityCheck"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["rg.reality_check_answered"]
    assert (got[0].data["continue"], got[0].data["seconds_played"]) == (True, 31 * 60)

    clock.advance(timedelta(minutes=31))
    await refresh(gql, player)
    assert (await gql(ANSWER, {"go": False}, token=player.token))["data"]["answerRealityCheck"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["rg.reality_check_answered", "player.session_ended"]
    assert (got[0].data["continue"], got[1].data["reason"]) == (False, "reality_check_stop")


async def test_a_time_out_excludes_withdraws_consent_and_ends_the_sessions(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(marketingConsent=True)
    outbox = Outbox(rt)
    await outbox.skip()
    assert (await gql(TIME_OUT, token=player.token))["data"]["takeTimeOut"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["player.excluded", "player.marketing_consent_changed", "player.session_ended"]
    excluded, consent, ended = got
    assert (excluded.data["kind"], excluded.data["source"], excluded.data["marketing_consent_before"]) == (
        "time_out",
        "player",
        True,
    )
    assert consent.data == {"player_id": str(player.uuid), "consent": False, "cause": "exclusion"}
    assert (ended.data["session_id"], ended.data["reason"]) == (session_of(player.token), "time_out")

    other = await make_player()  # consent never given: no consent event
    rg_team = await make_staff("support")
    await outbox.skip()
    ask = {"playerId": other.id, "selfExclusion": "SIX_MONTHS", "reason": "Her husband called: 0044 7700 900123"}
    assert (await gql(IMPOSE, {"input": ask}, token=rg_team.token))["data"]["imposeExclusion"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["player.excluded", "player.session_ended"]
    assert (got[0].data["kind"], got[0].data["source"]) == ("self_exclusion", "staff")
    assert all("7700" not in str(e.envelope) for e in got)


async def test_flags_and_interventions_carry_codes_and_staff_ids_never_notes(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rt.settings, "withdrawal_auto_approve_below", {})  # every withdrawal waits for finance
    player = await make_player(balance="100.00 EUR")
    for _ in range(2):
        ask = {"amount": "30.00", "currency": "EUR", "method": "BANK_TRANSFER"}
        payment = (await gql(WITHDRAW, {"input": ask}, token=player.token))["data"]["requestWithdrawal"]["payment"]
        done = await gql(CANCEL_WITHDRAWAL, {"input": {"paymentId": payment["id"]}}, token=player.token)
        assert done["data"]["cancelWithdrawal"]["errors"] == []
    outbox = Outbox(rt)
    await outbox.skip()
    assert await flags.scan(rt) == 1  # the RG worker's step
    raised = one(await outbox.new(), "rg.flag_raised")
    assert raised.data == {
        "player_id": str(player.uuid),
        "flag_id": raised.data["flag_id"],
        "kind": "cancelled_withdrawals",
    }
    assert await flags.scan(rt) == 0
    assert await outbox.new() == []  # one open flag per kind: nothing new to say

    rg_team = await make_staff("support")
    flag_id = (await gql(QUEUE, token=rg_team.token))["data"]["rgFlags"]["edges"][0]["node"]["id"]
    ask = {"flagId": flag_id, "resolution": "Spoke to her on +356 9912 3456."}
    assert (await gql(RESOLVE, {"input": ask}, token=rg_team.token))["data"]["resolveRgFlag"]["errors"] == []
    resolved = one(await outbox.new(), "rg.flag_resolved")
    assert resolved.data == {**raised.data, "staff_id": str(rg_team.id)}

    ask = {"playerId": player.id, "action": "CONTACTED", "note": "Called +356 9912 3456 about deposits."}
    assert (await gql(INTERVENE, {"input": ask}, token=rg_team.token))["data"]["recordRgIntervention"]["errors"] == []
    got = await outbox.new()
    assert [(e.type, e.data) for e in got] == [
        (
            "rg.intervention_recorded",
            {"player_id": str(player.uuid), "action": "contacted", "staff_id": str(rg_team.id)},
        )
    ]
    assert all("9912" not in str(e.envelope) for e in await outbox.all())
