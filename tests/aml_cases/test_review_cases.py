"""Review of issue 16's AML cases: what an investigator or a hostile text could do that the rules forbid."""

from __future__ import annotations

from typing import Any

from services.aml import goaml_schema
from tests.aml_cases.conftest import CLOSE, EXPORT, OPEN, RESTRICT, STATE, Desk


async def test_review_a_case_the_mlro_sent_back_is_not_closed_by_an_investigator_alone(
    rt: Any, desk: Desk, make_player: Any, kyc: Any, mlro: Any, second_mlro: Any
) -> None:
    """Once escalated, not reporting a case is the MLRO's decision with four eyes: sending it back for more
    investigation must not hand the investigator the decision (nor the lifting of its restriction)."""
    from services.aml.restrictions import aml_restriction

    player = await make_player()
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Layering through deposits"))["case"]["id"]
    await desk.ok(RESTRICT, kyc.token, caseId=case_id, restricted=True, reason="pending the MLRO")
    await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED")
    await desk.ok(STATE, mlro.token, caseId=case_id, state="INVESTIGATING", reason="get the bank statements")

    refused = await desk.refused(CLOSE, kyc.token, caseId=case_id, outcome="NO_ACTION", reason="statements fine")
    assert refused == "INVALID_STATE"
    async with rt.database.session() as db:
        assert await aml_restriction(db, player.uuid) is not None  # still restricted

    # The way through: back to the MLRO, who decides with a second MLRO.
    await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED")
    await desk.ok(CLOSE, mlro.token, caseId=case_id, outcome="NO_ACTION", reason="statements explain it")
    done = (await desk.ok(CLOSE, second_mlro.token, caseId=case_id, outcome="NO_ACTION", reason="agreed"))["case"]
    assert (done["state"], done["outcome"], done["restricted"]) == ("CLOSED", "NO_ACTION", False)


async def test_review_a_sar_draft_with_control_characters_in_the_texts_is_still_valid_xml(
    desk: Desk, make_player: Any, kyc: Any, mlro: Any
) -> None:
    """Text pasted from a document carries characters XML 1.0 cannot hold (a vertical tab, a form feed, an
    escape): the export drops them instead of failing with a server error."""
    player = await make_player(firstName="Ann\x0b", lastName="O'Brien <&>")
    summary = "Deposits\x0b just under\x0c the threshold\x1b[0m"
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary=summary))["case"]["id"]
    await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED")

    sar = (await desk.ok(EXPORT, mlro.token, caseId=case_id, action="Restricted\x01 pending review"))["sar"]

    xml = sar["xml"].encode()
    assert goaml_schema.problems(xml) == []
    assert b"<reason>Deposits just under the threshold[0m</reason>" in xml
    assert b"<action>Restricted pending review</action>" in xml
    assert b"<last_name>O'Brien</last_name>" in xml
