"""`croupier risk list add|remove|show`: the lists from the command line, audited as the system, and
checked by the flows like entries added through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.risk.conftest import register
from tests.test_audit import run_cli


async def test_an_entry_added_from_the_command_line_blocks_until_removed(rt: Any, gql: Any) -> None:
    code, output = await run_cli(
        "risk", "list", "add", "block", "email_domain", "mailinator.com", "--reason", "disposable ring"
    )
    assert code == 0, output
    entry_id, list_name, kind, value = output.strip().splitlines()[-1].split()
    assert (list_name, kind, value) == ("block", "email_domain", "mailinator.com")
    assert [e["code"] for e in (await register(gql, "someone@mailinator.com"))["errors"]] == ["RISK_BLOCKED"]

    code, output = await run_cli("risk", "list", "show", "--list", "block")
    lines = output.strip().splitlines()
    assert lines[-1] == "1 entries"
    assert lines[-2].split("\t")[:4] == [entry_id, "block", "email_domain", "mailinator.com"]

    code, output = await run_cli("risk", "list", "remove", entry_id, "--reason", "false positive")
    assert (code, output.strip().splitlines()[-1]) == (0, f"removed {entry_id}")
    assert (await register(gql, "someone@mailinator.com"))["errors"] == []
    code, output = await run_cli("risk", "list", "show")
    assert output.strip().splitlines()[-1] == "0 entries"
    code, output = await run_cli("risk", "list", "show", "--all")
    assert output.strip().splitlines()[-1] == "1 entries"

    from sqlalchemy import text

    async with rt.database.session() as db:
        trail = (
            await db.execute(text("SELECT action, actor_type FROM audit_log WHERE action LIKE 'risk.%' ORDER BY seq"))
        ).all()
    assert [tuple(t) for t in trail] == [("risk.list_entry_added", "system"), ("risk.list_entry_removed", "system")]


async def test_a_bad_kind_or_value_is_refused(rt: Any) -> None:
    code, output = await run_cli("risk", "list", "add", "block", "planet", "mars", "--reason", "x")
    assert code != 0
    assert "use one of" in output
    code, output = await run_cli("risk", "list", "add", "block", "ip", "not-an-ip", "--reason", "x")
    assert code != 0
    assert "CIDR" in output
