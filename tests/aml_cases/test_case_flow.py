"""AML cases through the public API: the investigator's and the MLRO's path, refusals, four eyes, audit."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from strawberry import relay

from models.audit import AuditRecord
from models.outbox import OutboxEvent
from services.aml import goaml_schema
from tests.aml_cases.conftest import ASSIGN, CLOSE, EVIDENCE, EXPORT, NOTE, OPEN, STATE, Desk


def gid(type_name: str, value: Any) -> str:
    return str(relay.GlobalID(type_name, str(value)))


async def audit_actions(rt: Any, case_id: str) -> list[str]:
    target = relay.GlobalID.from_id(case_id).node_id
    async with rt.database.session() as db:
        rows = await db.scalars(
            select(AuditRecord.action).where(AuditRecord.target_id == target).order_by(AuditRecord.seq)
        )
        return list(rows.all())


async def events_of(rt: Any, case_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    target = relay.GlobalID.from_id(case_id).node_id
    async with rt.database.session() as db:
        rows = await db.execute(
            select(OutboxEvent.topic, OutboxEvent.key, OutboxEvent.payload)
            .where(OutboxEvent.key == f"aml_case:{target}")
            .order_by(OutboxEvent.id)
        )
        return [(r[0], r[1], r[2]) for r in rows.all()]


async def test_a_case_goes_from_alert_to_a_filed_str_that_the_fius_schema_accepts(
    rt: Any, desk: Desk, make_player: Any, kyc: Any, mlro: Any, card_deposit: Any
) -> None:
    player = await make_player(firstName="Дмитрий", lastName="Иванов-Müller", email="dmitri@example.com")
    payment = await card_deposit(player, "950.00")

    opened = (
        await desk.ok(
            OPEN, kyc.token, playerId=player.id, summary="Deposits just under the threshold", caseType="structuring"
        )
    )["case"]
    assert (opened["state"], opened["outcome"], opened["overdue"], opened["restricted"]) == ("OPEN", None, False, False)
    case_id = opened["id"]
    assigned = (await desk.ok(ASSIGN, kyc.token, caseId=case_id, assigneeId=gid("StaffUser", kyc.id)))["case"]
    assert (assigned["state"], assigned["assignee"]) == ("INVESTIGATING", {"id": gid("StaffUser", kyc.id)})
    await desk.ok(NOTE, kyc.token, caseId=case_id, body="Three deposits of 950 EUR in two days.")
    await desk.ok(EVIDENCE, kyc.token, caseId=case_id, kind="PAYMENT", refId=str(payment.id), note="the third one")
    assert (await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED"))["case"]["state"] == "ESCALATED"
    closed = await desk.ok(CLOSE, mlro.token, caseId=case_id, outcome="SAR_FILED", reason="Reported to the FIU")
    assert (closed["case"]["state"], closed["case"]["outcome"]) == ("CLOSED", "SAR_FILED")

    sar = (await desk.ok(EXPORT, mlro.token, caseId=case_id))["sar"]
    assert sar["reportCode"] == "STR"
    assert sar["fileName"].endswith(".xml")
    xml = sar["xml"].encode()
    assert goaml_schema.problems(xml) == []  # the FIU's published schema accepts it
    assert b"<first_name>Dmitriy</first_name>" in xml  # the FIU's Latin-only names: transliterated
    assert b"<last_name>Ivanov-Muller</last_name>" in xml
    assert f"<transactionnumber>{payment.id}</transactionnumber>".encode() in xml
    assert b"<amount_local>950.00</amount_local>" in xml
    assert b"<indicator>ML002</indicator>" in xml

    assert await audit_actions(rt, case_id) == [
        "aml.case_opened",
        "aml.case_assigned",
        "aml.case_state_changed",
        "aml.case_note_added",
        "aml.case_evidence_added",
        "aml.case_state_changed",
        "aml.case_closed",
        "aml.sar_exported",
    ]
    events = await events_of(rt, case_id)
    assert [e[0] for e in events] == [
        "aml.case_opened",
        "aml.case_state_changed",
        "aml.case_state_changed",
        "aml.case_closed",
        "aml.sar_exported",
    ]
    # ids and codes only; the ids are masked first, since a random UUID may itself contain "950"
    text = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "<id>", str(events))
    for personal in ("Дмитрий", "dmitri@example.com", "950", "threshold"):
        assert personal not in text


async def test_an_alert_delivered_twice_opens_one_case(rt: Any, desk: Desk, make_player: Any, kyc: Any) -> None:
    from services.aml.cases import open_case

    player = await make_player()
    async with rt.database.transaction() as db:
        first = await open_case(
            db,
            player_id=player.uuid,
            source="monitoring",
            source_id="alert-7",
            summary="Rapid deposits",
            case_type_name="monitoring",
        )
    async with rt.database.transaction() as db:
        again = await open_case(
            db,
            player_id=player.uuid,
            source="monitoring",
            source_id="alert-7",
            summary="Rapid deposits",
            case_type_name="monitoring",
        )
    assert again.id == first.id
    staff = await desk.ok(
        OPEN,
        kyc.token,
        playerId=player.id,
        summary="From the alert",
        caseType="monitoring",
        source="monitoring",
        sourceId="alert-7",
    )
    assert staff["case"]["id"] == gid("AmlCase", first.id)
    assert [e[0] for e in await events_of(rt, gid("AmlCase", first.id))] == ["aml.case_opened"]
    assert await audit_actions(rt, gid("AmlCase", first.id)) == ["aml.case_opened"]


async def test_bad_steps_are_refused_with_codes_and_change_nothing(
    rt: Any, desk: Desk, make_player: Any, kyc: Any, mlro: Any, make_staff: Any
) -> None:
    player = await make_player()
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Odd play"))["case"]["id"]
    before = await audit_actions(rt, case_id)
    # sar_filed only after escalation; an unknown transition; a non-investigator assignee; a bad case type
    assert await desk.refused(CLOSE, mlro.token, caseId=case_id, outcome="SAR_FILED", reason="x") == "INVALID_STATE"
    assert await desk.refused(STATE, kyc.token, caseId=case_id, state="CLOSED") == "INVALID_STATE"
    support = await make_staff("support")
    assert await desk.refused(ASSIGN, kyc.token, caseId=case_id, assigneeId=gid("StaffUser", support.id)) == (
        "INVALID_INPUT"
    )
    assert await desk.refused(OPEN, kyc.token, playerId=player.id, summary="x", caseType="nope") == "INVALID_INPUT"
    assert await desk.refused(CLOSE, kyc.token, caseId=case_id, outcome="NO_ACTION", reason=" ") == "INVALID_INPUT"
    assert await audit_actions(rt, case_id) == before
    # once escalated, the case is the MLRO's
    await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED")
    assert await desk.refused(CLOSE, kyc.token, caseId=case_id, outcome="NO_ACTION", reason="fine") == "NOT_ALLOWED"
    assert await desk.refused(STATE, kyc.token, caseId=case_id, state="INVESTIGATING") == "NOT_ALLOWED"
    assert await desk.refused(STATE, mlro.token, caseId=case_id, state="OPEN") == "INVALID_STATE"
    # support cannot even reach the mutation (Casbin), nor read the queue
    body = await desk.gql(OPEN, {"input": {"playerId": player.id, "summary": "x"}}, token=support.token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await desk.gql("{ amlCases { edges { node { id } } } }", token=support.token)
    assert body["data"]["amlCases"] is None


async def test_not_reporting_an_escalated_case_takes_two_mlros(
    rt: Any, desk: Desk, make_player: Any, kyc: Any, mlro: Any, second_mlro: Any
) -> None:
    player = await make_player()
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="PEP match"))["case"]["id"]
    await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED")
    first = (await desk.ok(CLOSE, mlro.token, caseId=case_id, outcome="NO_ACTION", reason="Known, explained"))["case"]
    assert (first["state"], first["awaitingSecondMlro"]) == ("ESCALATED", True)
    assert await desk.refused(CLOSE, mlro.token, caseId=case_id, outcome="NO_ACTION", reason="again") == (
        "APPROVAL_REQUIRED"
    )
    done = (await desk.ok(CLOSE, second_mlro.token, caseId=case_id, outcome="NO_ACTION", reason="Agreed"))["case"]
    assert (done["state"], done["outcome"], done["awaitingSecondMlro"]) == ("CLOSED", "NO_ACTION", False)
    assert await desk.refused(EXPORT, mlro.token, caseId=case_id) == "INVALID_STATE"  # nothing to report
    assert await desk.refused(STATE, kyc.token, caseId=case_id, state="INVESTIGATING") == "INVALID_STATE"
    assert (await audit_actions(rt, case_id))[-2:] == ["aml.case_close_requested", "aml.case_closed"]
