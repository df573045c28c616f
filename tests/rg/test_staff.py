"""The RG team: a player's RG view, interventions in the audit log, the risk-flag queue."""

from __future__ import annotations

from typing import Any

from services.rg import flags
from tests.conftest import error_codes
from tests.rg.conftest import RG, deposit, set_limit

PLAYER_RG = (
    RG
    + """
query($id: ID!) { player(id: $id) { responsibleGambling { ...RG
  history { edges { node { kind actorType details } } } flags { kind status } } } }"""
)
INTERVENE = """
mutation($input: RecordRgInterventionInput!) { recordRgIntervention(input: $input) {
  responsibleGambling { history(first: 1) { edges { node { kind details } } } } errors { code field } } }"""
QUEUE = "{ rgFlags { edges { node { id kind status details player { email } } } } }"
RESOLVE = """
mutation($input: ResolveRgFlagInput!) { resolveRgFlag(input: $input) { flag { status resolution }
  errors { code } } }"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { id status } errors { code } } }"""
CANCEL = """
mutation($input: CancelWithdrawalInput!) { cancelWithdrawal(input: $input) { payment { status } errors { code } } }"""


async def test_support_sees_the_rg_view_and_records_an_intervention(
    gql: Any, rt: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "DEPOSIT", "WEEK", amount="100.00")
    await set_limit(gql, player, "DEPOSIT", "WEEK", amount="300.00")  # pending
    await deposit(gql, player, psp, "40.00")
    support = await make_staff("support")
    body = await gql(PLAYER_RG, {"id": player.id}, token=support.token)
    assert "errors" not in body, body
    rg = body["data"]["player"]["responsibleGambling"]
    assert rg["limits"][0]["amount"] == {"amount": "100.00", "currency": "EUR"}
    assert rg["limits"][0]["pending"]["amount"]
    assert next(a for a in rg["activity"] if a["period"] == "WEEK")["deposited"] == {"amount": "40.00"}
    kinds = [e["node"]["kind"] for e in rg["history"]["edges"]]
    assert kinds == ["rg.limit_increase_requested", "rg.limit_set"]

    done = await gql(
        INTERVENE,
        {
            "input": {
                "playerId": player.id,
                "action": "CONTACTED",
                "note": "Called about rising deposits; agreed to keep the limit.",
            }
        },
        token=support.token,
    )
    payload = done["data"]["recordRgIntervention"]
    assert payload["errors"] == []
    assert payload["responsibleGambling"]["history"]["edges"][0]["node"]["kind"] == "rg.intervention"
    risk = await make_staff("risk_analyst")
    audit = await gql(
        '{ auditLog(filter: {action: "rg.intervention"}) { edges { node { action reason } } } }', token=risk.token
    )
    assert audit["data"]["auditLog"]["edges"][0]["node"]["reason"].startswith("Called about")
    empty = await gql(
        INTERVENE, {"input": {"playerId": player.id, "action": "WARNED", "note": " "}}, token=support.token
    )
    assert empty["data"]["recordRgIntervention"]["errors"][0]["field"] == "note"


async def test_roles_without_rg_access_do_not_see_it(gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    kyc = await make_staff("kyc_officer")
    body = await gql(
        "query($id: ID!) { player(id: $id) { responsibleGambling { limits { kind } } } }",
        {"id": player.id},
        token=kyc.token,
    )
    assert "FORBIDDEN" in error_codes(body)
    assert "FORBIDDEN" in error_codes(await gql(QUEUE, token=kyc.token))
    # Players read their own RG state but not the team's flags about them.
    mine = await gql("{ me { responsibleGambling { flags { kind } } } }", token=player.token)
    assert "FORBIDDEN" in error_codes(mine)


async def test_cancelled_withdrawals_raise_a_flag_the_team_resolves(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rt.settings, "withdrawal_auto_approve_below", {})  # every withdrawal waits for finance
    player = await make_player(balance="100.00 EUR")
    for _ in range(2):
        out = await gql(
            WITHDRAW, {"input": {"amount": "30.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
        )
        payment = out["data"]["requestWithdrawal"]["payment"]
        assert payment["status"] == "REQUESTED"
        cancelled = await gql(CANCEL, {"input": {"paymentId": payment["id"]}}, token=player.token)
        assert cancelled["data"]["cancelWithdrawal"]["payment"]["status"] == "CANCELLED"
    assert await flags.scan(rt) >= 1
    assert await flags.scan(rt) == 0  # one open flag per kind
    risk = await make_staff("risk_analyst")
    queue = (await gql(QUEUE, token=risk.token))["data"]["rgFlags"]["edges"]
    flag = next(e["node"] for e in queue if e["node"]["kind"] == "cancelled_withdrawals")
    assert flag["player"]["email"] == player.email
    assert flag["details"]["cancelled"] == 2
    resolved = await gql(
        RESOLVE, {"input": {"flagId": flag["id"], "resolution": "Spoke to the player."}}, token=risk.token
    )
    assert resolved["data"]["resolveRgFlag"]["flag"]["status"] == "RESOLVED"
    again = await gql(RESOLVE, {"input": {"flagId": flag["id"], "resolution": "twice"}}, token=risk.token)
    assert again["data"]["resolveRgFlag"]["errors"][0]["code"] == "INVALID_STATE"


async def test_cli_scan_flags_a_long_session(rt: Any, make_player: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from core.clock import clock
    from models.auth import AuthSession, SessionSpan
    from models.rg import RgFlag
    from tests.test_startup_and_cli import run_cli

    player = await make_player()
    async with rt.database.transaction() as db:  # logged in four hours ago, in use ever since
        session_id = (await db.scalars(select(AuthSession.id).where(AuthSession.subject_id == player.uuid))).one()
        await db.execute(
            update(SessionSpan)
            .where(SessionSpan.session_id == session_id)
            .values(started_at=clock.now() - timedelta(hours=4))
        )
    result = run_cli("rg", "scan")
    assert result.returncode == 0, result.stderr
    assert "1 new flags" in result.stdout
    async with rt.database.session() as db:
        flag = await db.scalar(select(RgFlag).where(RgFlag.player_id == player.uuid))
    assert flag is not None
    assert flag.kind == "long_session"
    assert flag.details["hours"] >= 4
