"""The risk queue (GraphQL `riskQueue`): every open flag (list hits, disposable emails, rules' flags), the
riskiest player first, then the oldest flag; keyset pages; brand-scoped; one statement a page whatever
its size; reviewed flags leave it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import clock
from tests.conftest import recorded_statements
from tests.risk.conftest import add_entry, registered
from tests.risk.desk import QUEUE, REGISTRATION_RULES, REVIEW, hit, quiet


async def _queue(gql: Any, token: str, **variables: Any) -> dict[str, Any]:
    body = await gql(QUEUE, variables, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["riskQueue"]
    return found


async def test_the_riskiest_player_first_then_the_oldest_flag(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    analyst = await make_staff("risk_analyst")
    assert (await add_entry(gql, analyst.token, list="WATCH", kind="EMAIL_DOMAIN", value="watched.example"))[
        "errors"
    ] == []
    low = await registered(gql, "low@watched.example")  # a watch-list flag, score 0
    clock.advance(timedelta(seconds=1))
    high = await make_player(email="high@example.com")
    await hit(rt, high.uuid, "chargeback-history", "1 chargeback")  # 40 points, a flag
    clock.advance(timedelta(seconds=1))
    middle = await make_player(email="middle@example.com")
    await hit(rt, middle.uuid, "linked-accounts", "cluster of 3")  # 15 points
    clock.advance(timedelta(seconds=1))
    await hit(rt, high.uuid, "deposits-per-player", "6 deposits")  # 55 now, a second flag
    clock.advance(timedelta(seconds=1))

    queue = await _queue(gql, analyst.token)
    entries = [
        (e["node"]["score"], e["node"]["flag"]["player"]["email"], e["node"]["flag"]["ruleCode"])
        for e in queue["edges"]
    ]
    assert entries == [
        (55, "high@example.com", "chargeback-history"),
        (55, "high@example.com", "deposits-per-player"),
        (15, "middle@example.com", "linked-accounts"),
        (0, "low@watched.example", None),
    ]
    first = queue["edges"][0]["node"]
    assert first["flag"]["player"]["risk"]["score"]["reasons"] == [
        {"ruleCode": "chargeback-history", "points": 40},
        {"ruleCode": "deposits-per-player", "points": 15},
    ]
    assert queue["edges"][3]["node"]["flag"]["source"] == "list"
    assert low.email == "low@watched.example"

    # Pages of two walk the same order.
    page1 = await _queue(gql, analyst.token, first=2)
    assert page1["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}
    page2 = await _queue(gql, analyst.token, first=2, after=page1["edges"][-1]["cursor"])
    assert page2["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    walked = [e["node"]["flag"]["id"] for e in page1["edges"] + page2["edges"]]
    assert walked == [e["node"]["flag"]["id"] for e in queue["edges"]]
    bad = await gql(QUEUE, {"after": "not-a-cursor"}, token=analyst.token)
    assert [e["extensions"]["code"] for e in bad["errors"]] == ["BAD_USER_INPUT"]

    # Reviewed, a flag leaves the open queue for the reviewed one.
    flag_id = queue["edges"][2]["node"]["flag"]["id"]
    body = await gql(REVIEW, {"input": {"flagId": flag_id, "verdict": "CONFIRMED", "note": "ok"}}, token=analyst.token)
    assert body["data"]["reviewRiskFlag"]["errors"] == []
    assert flag_id not in [e["node"]["flag"]["id"] for e in (await _queue(gql, analyst.token))["edges"]]
    confirmed = await _queue(gql, analyst.token, status="CONFIRMED")
    assert [e["node"]["flag"]["id"] for e in confirmed["edges"]] == [flag_id]


async def test_brand_staff_see_their_brands_flags(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    royal_player = await make_player()
    await hit(rt, royal_player.uuid, "chargeback-history", "1 chargeback")
    northstar_player = await make_player(brand_code="northstar", country="SE", currency="SEK")
    await hit(rt, northstar_player.uuid, "chargeback-history", "1 chargeback")
    royal = await make_staff("risk_analyst")
    northstar = await make_staff(("risk_analyst", "northstar"))
    admin = await make_staff(("superadmin", None))

    def ids(queue: dict[str, Any]) -> list[str]:
        return [e["node"]["flag"]["player"]["id"] for e in queue["edges"]]

    assert ids(await _queue(gql, royal.token)) == [royal_player.id]
    assert ids(await _queue(gql, northstar.token)) == [northstar_player.id]
    assert sorted(ids(await _queue(gql, admin.token))) == sorted([royal_player.id, northstar_player.id])


async def test_a_page_reads_in_constant_statements(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    await quiet(rt, *REGISTRATION_RULES)  # six registrations from the test client's address
    counts = []
    made = 0
    for size in (1, 6):
        while made < size:
            player = await make_player()
            await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
            await hit(rt, player.uuid, "linked-accounts", "cluster of 3")
            made += 1
        with recorded_statements(rt) as statements:
            queue = await _queue(gql, analyst.token, first=50)
        assert len(queue["edges"]) == 2 * size
        assert all(e["node"]["flag"]["player"]["risk"]["score"]["value"] == 55 for e in queue["edges"])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
