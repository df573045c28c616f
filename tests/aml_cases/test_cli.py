"""`croupier aml export-sar` writes the same schema-valid draft the GraphQL export returns."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from strawberry import relay

from services.aml import goaml_schema
from tests.aml_cases.conftest import CLOSE, OPEN, STATE, Desk
from tests.cli_process import run_async


async def croupier(*args: str) -> subprocess.CompletedProcess[str]:
    return await run_async("aml", *args)  # a warm forked CLI process (tests/cli_process.py)


async def test_export_sar_from_the_command_line(
    desk: Desk, make_player: Any, kyc: Any, mlro: Any, tmp_path: Path
) -> None:
    player = await make_player(firstName="Γιώργος", lastName="Παπαδόπουλος")
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="PEP, unexplained wealth", caseType="pep"))[
        "case"
    ]["id"]
    raw_id = relay.GlobalID.from_id(case_id).node_id
    refused = await croupier("export-sar", raw_id)  # not escalated: nothing to report yet
    assert (refused.returncode, "INVALID_STATE" in refused.stderr) == (1, True), refused
    await desk.ok(STATE, kyc.token, caseId=case_id, state="ESCALATED")
    await desk.ok(CLOSE, mlro.token, caseId=case_id, outcome="SAR_FILED", reason="filed")
    out = tmp_path / "sar.xml"
    done = await croupier("export-sar", raw_id, "--out", str(out))
    assert done.returncode == 0, (done.stdout, done.stderr)
    xml = out.read_bytes()
    assert goaml_schema.problems(xml) == []
    assert b"<report_code>SAR</report_code>" in xml  # no payments linked: the activity of a person
    assert b"<first_name>Giorgos</first_name>" in xml
    assert mlro.email.encode() in xml  # the MLRO who closed it reports
