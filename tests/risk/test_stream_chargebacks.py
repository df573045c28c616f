"""`chargeback_history` on the event stream: chargebacks come through the demo PSP's signed webhooks (as the
cashier's chargeback tests deliver them); the `risk-rules` consumer counts the player's chargebacks still
standing and, at the rule's count, scores, restricts and flags the player."""

from __future__ import annotations

from typing import Any

from services.risk.rules import ActionKind
from tests.cashier.conftest import DemoPsp, deliver, notice
from tests.risk.stream_support import Stream


async def _charged_back(rt: Any, psp: DemoPsp, client: Any, payment: Any, chargeback_id: str) -> None:
    response = await deliver(client, await notice(psp, payment, rt, "chargeback", id=chargeback_id, reason="fraud"))
    assert response.json()["result"] == "applied", response.text


async def _reversed(rt: Any, psp: DemoPsp, client: Any, payment: Any, chargeback_id: str) -> None:
    response = await deliver(client, await notice(psp, payment, rt, "chargeback_reversed", id=chargeback_id))
    assert response.json()["result"] == "applied", response.text


async def test_a_chargeback_scores_restricts_and_flags_the_player(
    rt: Any,
    held: DemoPsp,
    make_player: Any,
    client: Any,
    card_deposit: Any,
    stream: Stream,
) -> None:
    player = await make_player()
    bystander = await make_player()
    payment = await card_deposit(player, "40.00")
    await card_deposit(bystander, "40.00")
    await _charged_back(rt, held, client, payment, "cb_first")
    assert (await stream.score(player.uuid)).value == 0

    assert await stream.drain() > 0

    found = await stream.score(player.uuid)
    assert found.value == 40
    [reason] = found.reasons
    assert reason.rule_code == "chargeback-history"
    assert reason.reason == "1 chargeback in 365 days (at least 1 count); the latest cb_first at cardpay"
    assert reason.details["chargebacks"] == 1
    assert reason.details["payment_id"] == str(payment.id)
    restrictions = await stream.restrictions(player.uuid)
    assert {a.kind for a in restrictions.actions} == {ActionKind.BLOCK_BONUSES, ActionKind.ROUTE_3DS}
    assert restrictions.bonuses_blocked
    assert restrictions.three_ds
    assert not restrictions.blocked
    assert await stream.flags(player.uuid) == [("chargeback-history", "chargeback", "open")]
    topics = [topic for topic, _ in await stream.risk_events(player.uuid)]
    assert sorted(topics) == sorted(["risk.rule_hit", "risk.action_imposed", "risk.action_imposed", "risk.flag_raised"])
    audited = await stream.conn.fetch(
        "SELECT after->>'kind' AS kind, reason FROM audit_log WHERE action = 'risk.action_imposed' "
        "AND target_id = $1 ORDER BY 1",
        str(player.uuid),
    )
    assert [(a["kind"], a["reason"]) for a in audited] == [
        ("block_bonuses", reason.reason),
        ("route_3ds", reason.reason),
    ]
    assert (await stream.score(bystander.uuid)).value == 0
    assert await stream.restrictions(bystander.uuid) == type(restrictions)()


async def test_the_count_is_of_chargebacks_still_standing_in_the_window(
    rt: Any,
    held: DemoPsp,
    make_player: Any,
    client: Any,
    card_deposit: Any,
    stream: Stream,
) -> None:
    await stream.set_rule("chargeback-history", params={"count": 2, "days": 30})
    player = await make_player()
    first, second, third = [await card_deposit(player, "20.00") for _ in range(3)]  # before the restriction

    await _charged_back(rt, held, client, first, "cb_1")
    await stream.drain()
    assert await stream.rule_hits(player.uuid) == []  # one of two

    await _reversed(rt, held, client, first, "cb_1")  # the dispute is won: it no longer counts
    await _charged_back(rt, held, client, second, "cb_2")
    await stream.drain()
    assert await stream.rule_hits(player.uuid) == []  # still one standing

    await _charged_back(rt, held, client, third, "cb_3")
    await stream.drain()
    assert await stream.rule_hits(player.uuid) == ["chargeback-history"]
    reason = (await stream.reasons(player.uuid))["chargeback-history"]
    assert reason.reason.startswith("2 chargebacks in 30 days (at least 2 count); the latest cb_3")
    assert len(reason.details["dispute_ids"]) == 2


async def test_a_chargeback_reversed_before_the_consumer_runs_counts_for_nothing(
    rt: Any, held: DemoPsp, make_player: Any, client: Any, card_deposit: Any, stream: Stream
) -> None:
    player = await make_player()
    standing, early, won = [await card_deposit(player, "25.00") for _ in range(3)]
    await _charged_back(rt, held, client, standing, "cb_standing")
    await stream.drain()
    assert await stream.rule_hits(player.uuid) == ["chargeback-history"]

    # The reversal announced before its chargeback: booked and reversed at once.
    await _reversed(rt, held, client, early, "cb_early")
    await _charged_back(rt, held, client, early, "cb_early")
    # A chargeback won before the consumer got to it.
    await _charged_back(rt, held, client, won, "cb_won")
    await _reversed(rt, held, client, won, "cb_won")
    await stream.drain()

    assert await stream.rule_hits(player.uuid) == ["chargeback-history"]  # no new hit: neither stands
    reason = (await stream.reasons(player.uuid))["chargeback-history"]
    assert (reason.hits, reason.details["chargebacks"]) == (1, 1)
