"""What an alert's outcome does: `review` waits for staff; `block_and_review` opens one AML case that
restricts the account, in the consumer's transaction (redelivery opens nothing more); `decline` does the
same and sends the case straight to the MLRO."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authz.subjects import Viewer
from core import outbox
from core.consumers import Event
from schema.base import to_global_id
from services import audit
from services.aml.monitoring import rules, versions
from tests.aml_monitoring.conftest import DEPOSIT, Monitoring, snapshot
from tests.risk.inline_support import disable_rule

LADDER = """ladder = [
    { score = 40, outcome = "review" },
    { score = 80, outcome = "block_and_review" },
    { score = 120, outcome = "decline" },
]"""
DECIDE = """mutation($input: DecideAmlAlertInput!) { decideAmlAlert(input: $input) { errors { code } } }"""


async def cases_of(monitoring: Monitoring, player: Any) -> list[dict[str, Any]]:
    rows = await monitoring.conn.fetch(
        "SELECT c.id, c.source, c.source_id, c.state, c.case_type, c.escalated_at, "
        "(SELECT count(*) FROM aml_restrictions r WHERE r.case_id = c.id AND r.lifted_at IS NULL) AS restrictions "
        "FROM aml_cases c WHERE c.player_id = $1 ORDER BY c.created_at",
        player.uuid,
    )
    return [dict(r) for r in rows]


async def a_deposit_refusal(gql: Any, psp: Any, player: Any) -> list[str]:
    body = await gql(
        DEPOSIT,
        {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}},
        token=player.token,
    )
    return [e["code"] for e in body["data"]["deposit"]["errors"]]


async def structuring_alert(player: Any, deposit: Any, monitoring: Monitoring) -> dict[str, Any]:
    """Three deposits just under the threshold (structuring alone: 60 points), processed; the one alert."""
    for amount in ("1900.00", "1950.00", "1990.00"):
        await deposit(player, amount)
    await monitoring.drain()
    [alert] = await monitoring.alerts()
    return alert


async def test_a_review_alert_opens_nothing_until_staff_confirm(
    make_player: Any, deposit: Any, monitoring: Monitoring
) -> None:
    player = await make_player()
    alert = await structuring_alert(player, deposit, monitoring)
    assert alert["outcome"] == "review"
    assert await cases_of(monitoring, player) == []


async def test_block_and_review_opens_one_restricting_case_and_redelivery_opens_no_second(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, deposit: Any, monitoring: Monitoring
) -> None:
    await disable_rule(rt, "deposits-per-player")  # AML's view of five quick deposits, not risk's hold of the fifth
    player = await make_player()
    for amount in ("1900.00", "1950.00", "50.00", "50.00", "1990.00"):  # structuring + five deposits in an hour
        await deposit(player, amount)
    await monitoring.drain()
    [alert] = await monitoring.alerts()
    assert alert["outcome"] == "block_and_review", alert
    [case] = await cases_of(monitoring, player)
    assert (case["source"], case["source_id"], case["state"]) == ("monitoring", str(alert["id"]), "open")
    assert (case["case_type"], case["restrictions"]) == ("structuring", 1)
    opened = await monitoring.event_id("aml.case_opened", case_id=str(case["id"]))
    restricted = await monitoring.event_id("aml.restriction_changed", case_id=str(case["id"]))
    assert (len(opened), len(restricted)) == (1, 1)
    assert await a_deposit_refusal(gql, psp, player) == ["AML_RESTRICTED"]  # the restriction's gate acts
    async with rt.database.session() as db:
        assert (await audit.verify(db)).ok  # the consumer's records are links of the same chain

    before = await snapshot(monitoring.conn)
    rows = await monitoring.conn.fetch(f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events ORDER BY id")
    assert await monitoring.runner.apply(monitoring.conn, [Event.of_row(r) for r in rows]) == set()
    await monitoring.drain()
    assert await snapshot(monitoring.conn) == before
    assert len(await cases_of(monitoring, player)) == 1

    analyst = await make_staff("risk_analyst")  # confirming the alert finds the case it opened
    body = await gql(
        DECIDE,
        {"input": {"alertId": str(to_global_id("AmlAlert", alert["id"])), "decision": "CONFIRMED", "reason": "seen"}},
        token=analyst.token,
    )
    assert body["data"]["decideAmlAlert"]["errors"] == [], body
    assert len(await cases_of(monitoring, player)) == 1


@pytest.fixture
async def declining(rt: Any, tmp_path: Path) -> None:
    """A live version whose ladder declines structuring on its own (60 points)."""
    text = rules.DEFAULT_FILE.read_text()
    assert LADDER in text
    path = tmp_path / "declining.toml"
    path.write_text(
        text.replace(
            LADDER,
            'ladder = [\n    { score = 20, outcome = "review" },\n    { score = 40, outcome = "block_and_review" },\n'
            '    { score = 60, outcome = "decline" },\n]',
        )
    )
    async with rt.database.transaction() as db:
        await versions.ensure_default(db)
        stored = await versions.add(db, rules.read_file(path), actor=Viewer(), reason="test")
        await versions.activate(db, stored.number, actor=Viewer(), reason="test")


async def test_decline_restricts_and_goes_straight_to_the_mlro(
    declining: None, make_player: Any, deposit: Any, monitoring: Monitoring
) -> None:
    player = await make_player()
    alert = await structuring_alert(player, deposit, monitoring)
    assert alert["outcome"] == "decline"
    [case] = await cases_of(monitoring, player)
    assert (case["state"], case["restrictions"]) == ("escalated", 1)
    assert case["escalated_at"] is not None
