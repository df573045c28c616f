"""Staff review flagged sub-ids over GraphQL: the risk desk reads the flags with their evidence and CPAs,
clears them (CPAs qualified again) or confirms them (CPAs rejected), audited; nobody else sees them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from strawberry import relay

from services.affiliates import fraud
from tests.affiliate_fraud.conftest import (
    FLAG,
    FLAGS,
    REVIEW,
    Partner,
    attribute,
    flags,
    make_partner,
    qualify,
    statuses,
    sweep,
)
from tests.conftest import error_codes, recorded_statements
from tests.risk.conftest import Signals, registered

DEVICE = "dev-farm-0000002"


async def farm(rt: Any, gql: Any, signals: Signals, partner: Partner, sub_id: str, n: int = 3) -> list[uuid.UUID]:
    players = [(await registered(gql, f"{uuid.uuid4().hex[:8]}@example.com", device=DEVICE)).uuid for _ in range(n)]
    await signals.drain()
    for player in players:
        await attribute(rt, partner, player, sub_id)
    return players


async def review(gql: Any, token: str, flag_id: Any, verdict: str, note: str = "checked the accounts") -> Any:
    body = await gql(REVIEW, {"input": {"flagId": str(flag_id), "verdict": verdict, "note": note}}, token=token)
    return body["data"]["reviewAffiliateSubIdFlag"]


async def test_the_risk_desk_reads_a_flag_with_its_evidence_and_cpas(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any
) -> None:
    players = await farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, players[0])
    [flag_id] = await sweep(rt)
    analyst = await make_staff("risk_analyst")

    body = await gql(FLAGS, {}, token=analyst.token)
    [edge] = body["data"]["affiliateSubIdFlags"]["edges"]
    assert edge["node"] | {"raisedAt": None} == {
        "id": str(flag_id),
        "affiliateCode": "acme",
        "subId": "s1",
        "status": "open",
        "reasons": ["linked_accounts", "one_device"],
        "playerCount": 3,
        "withheld": 1,
        "raisedAt": None,
        "reviewNote": None,
    }
    body = await gql(FLAG, {"id": str(flag_id)}, token=analyst.token)
    assert "errors" not in body, body
    flag = body["data"]["affiliateSubIdFlag"]
    evidence = {e["reason"]: e for e in flag["evidence"]}
    assert set(evidence) == {"linked_accounts", "one_device"}
    named = {uuid.UUID(relay.GlobalID.from_id(p["playerId"]).node_id) for p in evidence["one_device"]["players"]}
    assert named == set(players)
    assert evidence["one_device"]["detail"] == "3 players seen with one device (…000002)"  # masked
    [cpa] = flag["cpas"]
    assert cpa["status"] == "withheld"
    assert cpa["amount"] == {"amount": "50.00", "currency": "EUR"}
    assert "pending review" in cpa["reason"]


async def test_clearing_qualifies_the_cpas_again_and_the_same_evidence_raises_no_new_flag(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any
) -> None:
    players = await farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, players[0])
    await qualify(rt, partner, players[1], status="rejected")  # rejected before: stays rejected
    [flag_id] = await sweep(rt)
    analyst = await make_staff("risk_analyst")

    payload = await review(gql, analyst.token, flag_id, "CLEARED", "family sharing one tablet")
    assert payload["errors"] == []
    assert payload["flag"] == {
        "id": str(flag_id),
        "status": "cleared",
        "reviewNote": "family sharing one tablet",
        "released": 1,
        "rejected": None,
    }
    assert await statuses(rt) == {players[0]: "qualified", players[1]: "rejected"}
    async with rt.database.session() as db:
        assert await fraud.cpa_hold_reason(db, partner.id, "s1", players[2]) is None
        audit = (
            await db.execute(
                text("SELECT actor_id, reason, after FROM audit_log WHERE action = 'affiliate.subid_reviewed'")
            )
        ).one()
        event = await db.scalar(text("SELECT payload FROM outbox_events WHERE topic = 'affiliate.subid_reviewed'"))
    assert (audit.actor_id, audit.reason) == (analyst.id, "family sharing one tablet")
    assert audit.after["player_ids"] == [str(players[0])]
    assert event["verdict"] == "cleared"
    assert event["changed"] == 1

    assert await sweep(rt) == []  # reviewed on this evidence
    # A fourth account from the same device is new evidence: a new flag, for review again.
    players += await farm(rt, gql, signals, partner, "s1", n=1)
    [again] = await sweep(rt)
    assert again != flag_id
    assert (await statuses(rt))[players[0]] == "withheld"


async def test_confirming_rejects_the_cpas_and_holds_those_that_qualify_later(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any
) -> None:
    players = await farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, players[0])
    [flag_id] = await sweep(rt)
    analyst = await make_staff("risk_analyst")

    payload = await review(gql, analyst.token, flag_id, "CONFIRMED", "bonus abuse ring")
    assert payload["flag"]["status"] == "confirmed"
    assert payload["flag"]["rejected"] == 1
    assert await statuses(rt) == {players[0]: "rejected"}

    # A player of the confirmed sub-id qualifies later: withheld at qualification, and put before staff.
    async with rt.database.session() as db:
        reason = await fraud.cpa_hold_reason(db, partner.id, "s1", players[1])
    assert reason is not None
    assert reason.startswith("sub-id confirmed fraudulent (linked_accounts, one_device)")
    await qualify(rt, partner, players[1], status="withheld")
    [flag_again] = await sweep(rt)
    [_, new] = await flags(rt)
    # The new flag carries the sub-id's current evidence, and the CPA that waits for a review.
    assert (new.id, new.reasons) == (flag_again, ["linked_accounts", "one_device", "withheld_unreviewed"])
    assert new.evidence["withheld_unreviewed"]["players"] == [{"player_id": str(players[1]), "detail": "withheld"}]
    assert await sweep(rt) == []

    again = await review(gql, analyst.token, flag_id, "CLEARED")
    assert error_codes_of(again) == ["INVALID_STATE"]


def error_codes_of(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_refusals_are_structured(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any, other_brand: Any
) -> None:
    await farm(rt, gql, signals, partner, "s1")
    [flag_id] = await sweep(rt)
    analyst = await make_staff("risk_analyst")
    elsewhere = await make_staff(("risk_analyst", "northstar"))

    assert error_codes_of(await review(gql, analyst.token, flag_id, "CLEARED", "  ")) == ["INVALID_INPUT"]
    assert error_codes_of(await review(gql, analyst.token, "not-an-id", "CLEARED")) == ["INVALID_INPUT"]
    assert error_codes_of(await review(gql, elsewhere.token, flag_id, "CLEARED")) == ["NOT_FOUND"]
    assert error_codes_of(await review(gql, analyst.token, uuid.uuid4(), "CLEARED")) == ["NOT_FOUND"]
    body = await gql(FLAG, {"id": str(flag_id)}, token=elsewhere.token)
    assert body["data"]["affiliateSubIdFlag"] is None
    body = await gql(FLAGS, {}, token=elsewhere.token)
    assert body["data"]["affiliateSubIdFlags"]["edges"] == []
    assert [f.status for f in await flags(rt)] == ["open"]


async def test_only_the_risk_desk_sees_or_reviews_flags(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any, make_player: Any
) -> None:
    await farm(rt, gql, signals, partner, "s1")
    [flag_id] = await sweep(rt)
    player = await make_player()
    for token in [(await make_staff("support")).token, (await make_staff("finance")).token, player.token]:
        body = await gql(FLAGS, {}, token=token)
        assert body["data"]["affiliateSubIdFlags"] is None
        assert "FORBIDDEN" in error_codes(body)
        body = await gql(REVIEW, {"input": {"flagId": str(flag_id), "verdict": "CLEARED", "note": "x"}}, token=token)
        assert "FORBIDDEN" in error_codes(body)
    assert [f.status for f in await flags(rt)] == ["open"]
    admin = await make_staff("brand_admin")  # through risk_analyst
    body = await gql(FLAGS, {}, token=admin.token)
    assert len(body["data"]["affiliateSubIdFlags"]["edges"]) == 1


async def test_the_flag_list_is_two_statements_a_page_whatever_its_size(
    rt: Any, gql: Any, signals: Signals, make_staff: Any, brand: Any
) -> None:
    analyst = await make_staff("risk_analyst")
    for n in range(3):
        partner = await make_partner(rt, brand.id, code=f"p{n}")
        await farm(rt, gql, signals, partner, f"s{n}")
    assert len(await sweep(rt)) == 3
    with recorded_statements(rt) as statements:
        body = await gql(FLAGS, {"first": 2}, token=analyst.token)
    page = body["data"]["affiliateSubIdFlags"]
    assert len(page["edges"]) == 2
    assert page["pageInfo"]["hasNextPage"] is True
    flag_reads = [s for s in statements if "affiliate_subid_flags" in s or "FROM affiliates" in s]
    assert len(flag_reads) == 2, flag_reads
    body = await gql(FLAGS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=analyst.token)
    assert len(body["data"]["affiliateSubIdFlags"]["edges"]) == 1
    body = await gql(FLAGS, {"status": "CLEARED"}, token=analyst.token)
    assert body["data"]["affiliateSubIdFlags"]["edges"] == []


async def test_confirming_rejects_a_cpa_that_qualified_while_the_flag_was_raised(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any
) -> None:
    """The CPA consumer read no flag, then the flag's transaction withheld what it saw and committed, then the
    consumer committed its CPA `qualified` (the two never wait for each other). Staff confirm before the next
    sweep withholds it: it must not stay payable on a sub-id confirmed fraudulent."""
    players = await farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, players[0])
    [flag_id] = await sweep(rt)
    await qualify(rt, partner, players[1])  # committed after the flag, decided before it
    analyst = await make_staff("risk_analyst")

    payload = await review(gql, analyst.token, flag_id, "CONFIRMED", "bonus abuse ring")
    assert payload["flag"]["rejected"] == 2
    assert await statuses(rt) == {players[0]: "rejected", players[1]: "rejected"}
    await sweep(rt)
    assert (await statuses(rt))[players[1]] == "rejected"


async def test_clearing_announces_the_released_cpas_so_their_qualification_postback_is_sent(
    rt: Any, gql: Any, signals: Signals, partner: Partner, make_staff: Any
) -> None:
    """The postbacks consumer sends a qualification postback on `affiliate.qualified` only; a CPA withheld
    and then cleared was never announced as qualified, so the partner never heard of it."""
    players = await farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, players[0])
    [flag_id] = await sweep(rt)
    analyst = await make_staff("risk_analyst")

    payload = await review(gql, analyst.token, flag_id, "CLEARED", "family sharing one tablet")
    assert payload["flag"]["released"] == 1
    async with rt.database.session() as db:
        rows = list(
            await db.execute(
                text("SELECT key, payload FROM outbox_events WHERE topic = 'affiliate.qualified' ORDER BY id")
            )
        )
    assert [(r.key, r.payload["sub_id"], r.payload["amount"]) for r in rows] == [(f"player:{players[0]}", "s1", 5000)]
