"""The risk desk's held deposits outside GraphQL: `croupier risk deposits|release|decline` (services/risk/held.py
lists them with why; services/cashier/risk_holds.py decides, as the back office's buttons do), a refusal printed
with its code and field (exit 1), and the list's cost (two statements whatever its length)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from authz.subjects import SYSTEM
from services.risk import held
from tests.conftest import recorded_statements
from tests.risk.inline_support import DEPOSIT, add_rule, payment_uuid
from tests.test_audit import run_cli

HOLD_SECOND = {"occasion": "deposit", "by": "player", "count": 2, "minutes": 10}


async def deposit(gql: Any, psp: Any, player: Any, amount: str = "20.00") -> dict[str, Any]:
    given = {"amount": amount, "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
    body = await gql(DEPOSIT, {"input": given}, token=player.token)
    assert not body.get("errors"), body
    payment: dict[str, Any] = body["data"]["deposit"]["payment"]
    return payment


async def held_deposit(gql: Any, psp: Any, player: Any, amount: str = "30.00") -> str:
    """The player's second deposit in 10 minutes, held by the rule `hold-second` (HOLD_SECOND); its GraphQL id."""
    assert (await deposit(gql, psp, player))["status"] == "SUCCEEDED"
    second = await deposit(gql, psp, player, amount)
    assert second["status"] == "HELD"
    payment_id: str = second["id"]
    return payment_id


async def status_of(rt: Any, payment_id: str) -> tuple[str, str | None]:
    async with rt.database.session() as db:
        row = (
            await db.execute(text("SELECT status, failure_code FROM payments WHERE id = :id"), {"id": payment_id})
        ).one()
    return row.status, row.failure_code


async def audited(rt: Any, action: str) -> list[Any]:
    async with rt.database.session() as db:
        return list(
            (
                await db.execute(
                    text("SELECT actor_type, actor_id, reason FROM audit_log WHERE action = :a ORDER BY seq"),
                    {"a": action},
                )
            ).all()
        )


async def test_held_deposits_listed_released_and_declined_from_the_cli(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}, {"kind": "flag_review"}])
    first = await make_player(email="first.held@example.com")
    second = await make_player(email="second.held@example.com")
    to_release = str(payment_uuid(await held_deposit(gql, psp, first, "30.00")))
    to_decline = str(payment_uuid(await held_deposit(gql, psp, second, "45.50")))
    analyst = await make_staff("risk_analyst", login=False)
    support = await make_staff("support", login=False)

    code, output = await run_cli("risk", "deposits")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[-1] == "2 held deposits"
    rows = [line.split("\t") for line in lines[:-1]]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (to_release, str(first.uuid), "30.00 EUR", "card"),
        (to_decline, str(second.uuid), "45.50 EUR", "card"),
    ]
    assert rows[0][5] == "hold-second: 2 deposits by this player in 10 minutes"
    code, output = await run_cli("risk", "deposits", "--brand", "royal")
    assert (code, output.strip().splitlines()[-1]) == (0, "2 held deposits")
    code, output = await run_cli("risk", "deposits", "--brand", "northstar")
    assert (code, output.strip().splitlines()[-1]) == (0, "0 held deposits")

    # Refusals: the code and the field, exit 1, nothing decided.
    for args, expected in (
        (("--staff", support.email), "refused (NOT_ALLOWED): Only the risk desk decides on held deposits."),
        (
            ("--staff", analyst.email, "--reason", "ok"),
            "refused (INVALID_INPUT): reason: Say why (at least 3 characters).",
        ),
        (("--staff", "nobody@croupier.dev"), "refused (NOT_FOUND): staff:"),
    ):
        given = ("--reason", "known player", *args) if "--reason" not in args else args
        code, output = await run_cli("risk", "release", to_release, *given)
        assert code == 1, (args, output)
        assert expected in output, (args, output)
    assert await status_of(rt, to_release) == ("held", None)

    code, output = await run_cli("risk", "release", to_release, "--reason", "known player", "--staff", analyst.email)
    assert code == 0, output
    assert output.strip() == f"{to_release} succeeded"
    assert await status_of(rt, to_release) == ("succeeded", None)
    code, output = await run_cli("risk", "decline", to_release, "--reason", "too late", "--staff", analyst.email)
    assert code == 1
    assert "refused (INVALID_STATE): paymentId: Only a held deposit can be released or declined" in output

    code, output = await run_cli("risk", "decline", to_decline, "--reason", "money mule", "--staff", analyst.email)
    assert code == 0, output
    assert output.strip().startswith(f"{to_decline} failed RISK_DECLINED: ")
    assert await status_of(rt, to_decline) == ("failed", "RISK_DECLINED")

    [released] = await audited(rt, "risk.deposit_released")
    [declined] = await audited(rt, "risk.deposit_declined")
    assert (released.actor_type, released.actor_id, released.reason) == ("staff", analyst.id, "known player")
    assert (declined.actor_type, declined.reason) == ("staff", "money mule")
    code, output = await run_cli("risk", "deposits")
    assert output.strip() == "0 held deposits"


async def test_the_list_costs_two_statements_whatever_its_length(rt: Any, gql: Any, psp: Any, make_player: Any) -> None:
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])

    async def counted() -> tuple[int, int]:
        with recorded_statements(rt) as statements:
            found = await held.held_deposits(rt, SYSTEM)
        assert all(h.reasons[0].rule_code == "hold-second" for h in found)
        return len(found), len(statements)

    await held_deposit(gql, psp, await make_player())
    assert await counted() == (1, 2)
    for _ in range(4):
        await held_deposit(gql, psp, await make_player())
    assert await counted() == (5, 2)
