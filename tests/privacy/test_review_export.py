"""Review of the data export (issue 16 item 9): what the player's own copy must not tell them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from tests.kyc.conftest import HIGH_RISK, decide
from tests.privacy.conftest import EXPORT, MINE


async def test_review_the_players_own_copy_does_not_tell_them_staff_marked_them_high_risk(
    gql: Any, make_player: Any, make_staff: Any
) -> None:
    marked, unmarked = await make_player(), await make_player()
    officer = await make_staff("kyc_officer")
    await decide(gql, officer, HIGH_RISK, marked, highRisk=True, reason="PEP relative, source of funds unclear")

    copies = []
    for player in (marked, unmarked):
        body = await gql(MINE, token=player.token)
        assert "errors" not in body, body
        copies.append(body["data"]["myDataExport"])

    marked_copy = json.dumps(copies[0])
    assert "source of funds unclear" not in marked_copy  # the officer's reason, in the audit record
    assert "kyc.set_high_risk" not in marked_copy
    # The state's row holds the rest of their verification, not the mark (as Kyc.highRisk is denied).
    [state] = copies[0]["categories"]["kyc"]["kyc_states"]
    assert state["level"] == "registered"
    assert "high_risk" not in marked_copy
    assert "high_risk" not in json.dumps(copies[1])
    # Staff (the data-protection officer) still get the full record.
    dpo = await make_staff("dpo")
    staff = await gql(EXPORT, {"input": {"playerId": marked.id}}, token=dpo.token)
    document = staff["data"]["exportPlayerData"]["export"]
    assert document["categories"]["kyc"]["kyc_states"][0]["high_risk"] is True
    assert "kyc.set_high_risk" in [r["action"] for r in document["categories"]["audit"]["audit_log"]]


async def test_review_the_staff_export_reads_every_table_that_names_a_player(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player, dpo = await make_player(), await make_staff("dpo")
    body = await gql(EXPORT, {"input": {"playerId": player.id}}, token=dpo.token)
    document = body["data"]["exportPlayerData"]["export"]
    exported = {table for tables in document["categories"].values() for table in tables}
    async with rt.database.session() as db:
        naming = set(
            await db.scalars(
                text(
                    "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND column_name = 'player_id'"
                )
            )
        )
    assert naming - exported == set()
