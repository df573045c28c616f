"""The jackpot GraphQL surface: who sees which jackpots, the pots as Money, the history and commitments a
drop reveals, the staff's commands and their coded refusals, and the statements each list costs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.conftest import recorded_statements
from tests.jackpots_live.conftest import CREATE, Contributions, bet, create_jackpot, created, jackpot_input, one_level

LIST = """query($brand: String, $first: Int) { jackpots(brand: $brand, first: $first) {
  edges { node { code kind status total { amount currency }
    levels { level amount { amount currency } seed { amount } contributionPercent trigger mustDropBy { amount }
      generation } } }
  pageInfo { hasNextPage } } }"""
ONE = """query($id: ID!, $brand: String) { jackpot(id: $id, brand: $brand) { code status levels { level
  amount { amount currency }
  contributions(first: 10) { edges { node { day bets contributed { amount } takenBack { amount } net { amount } } } }
  wins(first: 10) { edges { node { generation amount { amount currency } paid { amount currency } dropPoint } } }
  reseeds(first: 10) { edges { node { generation amount { amount } } } }
  commitments(first: 10) { edges { node { generation commitment revealedAt dropPoint salt verified } } } } } }"""
VERIFY = """query($id: ID!) { jackpotVerification(id: $id, brand: "royal") {
  ok drops { level generation trigger commitment dropPoint salt ok problems } } }"""
STATUS = """mutation($input: SetJackpotStatusInput!) { setJackpotStatus(input: $input) {
  jackpot { status } errors { code field message } } }"""
CONFIGURE = """mutation($input: ConfigureJackpotInput!) { configureJackpot(input: $input) {
  jackpot { games providers minBet { amount currency } } errors { code field message } } }"""


def codes(body: dict[str, Any]) -> list[str]:
    return sorted(e["node"]["code"] for e in body["data"]["jackpots"]["edges"])


async def test_each_viewer_sees_the_jackpots_their_brand_plays(
    gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    marketing = await make_staff("marketing")
    admin = await make_staff(("superadmin", None))
    await created(gql, marketing.token, "royal-drop")
    elsewhere = await created(gql, admin.token, "north-drop", brands=["northstar"])
    await created(gql, admin.token, "shared-drop", kind="NETWORK", brands=["royal", "northstar"])
    player = await make_player()

    assert codes(await gql(LIST, token=player.token)) == ["royal-drop", "shared-drop"]
    assert codes(await gql(LIST, {"brand": "royal"})) == ["royal-drop", "shared-drop"]  # a visitor names the brand
    assert codes(await gql(LIST, {"brand": "northstar"})) == ["north-drop", "shared-drop"]
    assert codes(await gql(LIST, token=marketing.token)) == ["royal-drop", "shared-drop"]  # staff: their brand
    assert codes(await gql(LIST, token=admin.token)) == ["north-drop", "royal-drop", "shared-drop"]

    nameless = await gql(LIST)
    assert nameless["data"] == {"jackpots": None}
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in nameless["errors"]] == [
        ("BAD_USER_INPUT", "brand")
    ]
    other = await gql(ONE, {"id": elsewhere["id"]}, token=player.token)
    assert (other["data"], other.get("errors")) == ({"jackpot": None}, None)  # not there for this player


async def test_the_pots_show_as_money_with_their_rules_and_a_sealed_commitment(gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    await created(gql, marketing.token)
    body = await gql(LIST, {"brand": "royal"})
    [node] = [e["node"] for e in body["data"]["jackpots"]["edges"]]
    assert node["total"] == {"amount": "110.00", "currency": "EUR"}
    assert node["levels"] == [
        {
            "level": "mini",
            "amount": {"amount": "10.00", "currency": "EUR"},
            "seed": {"amount": "10.00"},
            "contributionPercent": "1",
            "trigger": "AMOUNT",
            "mustDropBy": {"amount": "50.00"},
            "generation": 1,
        },
        {
            "level": "major",
            "amount": {"amount": "100.00", "currency": "EUR"},
            "seed": {"amount": "100.00"},
            "contributionPercent": "0.5",
            "trigger": "AMOUNT",
            "mustDropBy": {"amount": "500.00"},
            "generation": 1,
        },
    ]


async def test_history_and_commitments_add_up_after_bets_and_a_drop(
    rt: Any, gql: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    marketing = await make_staff("marketing")
    jackpot = await created(
        gql,
        marketing.token,
        levels=one_level("10.00", "10", "12.00"),
    )
    player = await seat(balance=100_000)
    for _ in range(5):  # 5 € a bet, 0.50 € each to the pot: it passes its 12 € cap by the fifth at the latest
        await bet(aggregator, player, 5)
    await contributions.drain()

    body = await gql(ONE, {"id": jackpot["id"], "brand": "royal"})
    assert "errors" not in body, body
    [level] = body["data"]["jackpot"]["levels"]
    wins = [e["node"] for e in level["wins"]["edges"]]  # the pot drops by 12 €: once, or again after its reseed
    assert [w["generation"] for w in wins] == list(range(len(wins), 0, -1))
    assert wins
    [day] = [e["node"] for e in level["contributions"]["edges"]]
    assert day["bets"] == 5
    assert day["contributed"] == day["net"] == {"amount": "2.50"}
    pots = len(wins) + 1
    assert [e["node"]["generation"] for e in level["reseeds"]["edges"]] == list(range(pots, 0, -1))
    commitments = {e["node"]["generation"]: e["node"] for e in level["commitments"]["edges"]}
    assert set(commitments) == set(range(1, pots + 1))
    for win in wins:  # each drop's point revealed, where it dropped, and hashing to what was published
        dropped = commitments[win["generation"]]
        assert dropped["revealedAt"] is not None
        assert dropped["verified"] is True
        assert dropped["dropPoint"] == win["dropPoint"]
        assert len(dropped["salt"]) == 64
    sealed = commitments[pots]
    assert (sealed["revealedAt"], sealed["dropPoint"], sealed["salt"], sealed["verified"]) == (None, None, None, None)
    # The history adds up: what the wins took and what the pot holds now are the seeds and the 2.50 € contributed.
    paid = sum(int(w["amount"]["amount"].replace(".", "")) for w in wins)
    assert paid + int(level["amount"]["amount"].replace(".", "")) == 1000 * pots + 250

    checked = (await gql(VERIFY, {"id": jackpot["id"]}))["data"]["jackpotVerification"]
    assert checked["ok"] is True
    assert [(d["generation"], d["ok"], d["problems"]) for d in checked["drops"]] == [
        (w["generation"], True, []) for w in reversed(wins)
    ]
    async with rt.database.transaction() as db:  # a revealed salt altered afterwards no longer verifies
        await db.execute(text("UPDATE jackpot_commitments SET salt = repeat('0', 64) WHERE generation = 1"))
    tampered = (await gql(VERIFY, {"id": jackpot["id"]}))["data"]["jackpotVerification"]
    assert tampered["ok"] is False
    assert tampered["drops"][0]["problems"] == ["the commitment does not hash to the revealed drop point and salt"]


async def test_a_page_of_jackpots_costs_the_same_statements_whatever_its_size(
    rt: Any, gql: Any, make_staff: Any
) -> None:
    marketing = await make_staff("marketing")
    for i in range(6):
        await created(gql, marketing.token, f"drop-{i}")
    await gql(LIST, {"brand": "royal", "first": 1})  # warm the role set's decisions

    async def statements(size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(LIST, {"brand": "royal", "first": size})
        assert "errors" not in body, body
        assert len(body["data"]["jackpots"]["edges"]) == size
        return len(seen)

    small, large = await statements(1), await statements(6)
    assert small == large, (small, large)


async def test_each_history_list_costs_one_statement_whatever_its_length(
    rt: Any, gql: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    marketing = await make_staff("marketing")
    jackpot = await created(
        gql,
        marketing.token,
        levels=one_level("1.00", "50", "3.00"),
    )
    player = await seat(balance=100_000)
    query = """query($id: ID!, $n: Int) { jackpot(id: $id, brand: "royal") { levels {
      wins(first: $n) { edges { node { generation } } } reseeds(first: $n) { edges { node { generation } } }
      commitments(first: $n) { edges { node { generation } } }
      contributions(first: $n) { edges { node { day } } } } } }"""

    async def statements(size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(query, {"id": jackpot["id"], "n": size})
        assert "errors" not in body, body
        return len(seen)

    few = await statements(100)
    for _ in range(6):  # 2.50 € a bet into a pot that must drop by 3 €: several drops and reseeds
        await bet(aggregator, player, 5)
    await contributions.drain()
    body = await gql(query, {"id": jackpot["id"], "n": 100})
    assert len(body["data"]["jackpot"]["levels"][0]["wins"]["edges"]) >= 3
    assert await statements(100) == few


async def test_pages_are_at_most_100(gql: Any) -> None:
    body = await gql(LIST, {"brand": "royal", "first": 101})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_bad_input_is_refused_in_the_payload_with_a_code_and_a_field(gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    mini = jackpot_input()["levels"][0]

    async def refusal(**overrides: Any) -> tuple[str, str | None]:
        payload = await create_jackpot(gql, marketing.token, **overrides)
        assert payload["jackpot"] is None, payload
        [error] = payload["errors"]
        return error["code"], error["field"]

    assert await refusal(levels=[{**mini, "seed": "ten"}]) == ("INVALID_AMOUNT", "levels.0.seed")
    assert await refusal(levels=[{**mini, "seed": "10.001"}]) == ("INVALID_AMOUNT", "levels.0.seed")
    assert await refusal(levels=[{**mini, "contributionPercent": "0.00001"}]) == (
        "INVALID_INPUT",
        "levels.0.contributionPercent",
    )
    assert await refusal(levels=[{**mini, "contributionPercent": "101"}]) == (
        "INVALID_INPUT",
        "levels.0.contributionPercent",
    )
    assert await refusal(currency="XXX") == ("UNKNOWN_CURRENCY", "currency")
    assert await refusal(brands=["nowhere"]) == ("INVALID_INPUT", "brands")
    assert await refusal(levels=[{**mini, "mustDropBy": "5.00"}]) == ("INVALID_INPUT", "levels")  # below the seed
    assert await refusal(kind="NETWORK", brands=["royal"]) == ("NOT_ALLOWED", "brands")  # one brand's staff
    await created(gql, marketing.token, "taken")
    assert await refusal(code="taken") == ("ALREADY_EXISTS", "code")


async def test_staff_pause_resume_close_and_configure_with_a_reason(gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    jackpot = await created(gql, marketing.token)

    async def status(value: str, reason: str = "promotion over") -> dict[str, Any]:
        body = await gql(
            STATUS, {"input": {"jackpotId": jackpot["id"], "status": value, "reason": reason}}, token=marketing.token
        )
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["setJackpotStatus"]
        return payload

    assert (await status("PAUSED", reason="x"))["errors"][0]["field"] == "reason"
    assert await status("PAUSED") == {"jackpot": {"status": "PAUSED"}, "errors": []}
    assert await status("ACTIVE") == {"jackpot": {"status": "ACTIVE"}, "errors": []}
    body = await gql(
        CONFIGURE,
        {"input": {"jackpotId": jackpot["id"], "games": ["slot-fortune"], "minBet": "0.20", "reason": "slots only"}},
        token=marketing.token,
    )
    assert body["data"]["configureJackpot"] == {
        "jackpot": {"games": ["slot-fortune"], "providers": [], "minBet": {"amount": "0.20", "currency": "EUR"}},
        "errors": [],
    }
    assert await status("CLOSED") == {"jackpot": {"status": "CLOSED"}, "errors": []}
    again = await status("ACTIVE")
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]
    assert again["jackpot"] is None


async def test_players_and_support_cannot_create_or_change_jackpots(
    gql: Any, make_player: Any, make_staff: Any
) -> None:
    player, support = await make_player(), await make_staff("support")
    for token in (player.token, support.token, None):
        body = await gql(CREATE, {"input": jackpot_input()}, token=token)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] in (["FORBIDDEN"], ["UNAUTHENTICATED"])
