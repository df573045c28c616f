"""Erasure by pseudonymisation: identifiers gone from every table, retained data kept and marked until the
sweep, refusals with their codes, the books and the audit chain intact, idempotent, no more logins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.aml_cases.conftest import OPEN, Desk
from tests.conftest import PASSWORD, error_codes, fund
from tests.kyc_documents.conftest import stored_objects
from tests.privacy.conftest import ERASE, PRIVACY, REJECT, REQUEST, cli, give, tables_holding
from tests.rg.test_cross_brand import northstar, register  # noqa: F401  (fixture: the operator's other brand)
from tests.rg.test_exclusions import SELF_EXCLUDE
from tests.risk.conftest import Signals, signals  # noqa: F401  (fixture: the risk-signals consumer)

LOGIN = """mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } errors { code } } }"""
REFRESH = """mutation($input: RefreshTokenInput!) { refreshToken(input: $input) { tokens { accessToken }
  errors { code } } }"""
HELD = {"identity", "kyc_documents", "transactions", "aml", "staff_notes"}


async def erase(gql: Any, dpo: Any, player: Any, reason: str = "GDPR art. 17 request #4711") -> dict[str, Any]:
    body = await gql(ERASE, {"input": {"playerId": player.id, "reason": reason}}, token=dpo.token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["erasePlayer"]
    return payload


async def audit_count(rt: Any) -> int:
    async with rt.database.session() as db:
        count: int = await db.scalar(text("SELECT count(*) FROM audit_log"))
    return count


async def test_erasure_removes_contact_details_everywhere_and_holds_the_rest_until_the_sweep(
    rt: Any,
    gql: Any,
    seed: Any,
    dpo: Any,
    signals: Signals,  # noqa: F811
) -> None:
    seeded = await seed()
    bystander = await seed()
    await signals.drain()  # risk's signals, the postal address's among them, hold the player's details too
    assert set(await tables_holding(rt, seeded.street)) >= {"players", "risk_signals"}
    assert (await tables_holding(rt, seeded.player.email)) != {}  # the search finds what is there

    # The player asks; the data-protection officer carries it out.
    asked = await gql(REQUEST, {"input": {"reason": "please forget me"}}, token=seeded.player.token)
    assert asked["data"]["requestDataErasure"]["request"]["status"] == "REQUESTED", asked
    erased = await erase(gql, dpo, seeded.player)
    assert erased["errors"] == [], erased
    privacy = erased["privacy"]
    assert privacy["pseudonym"].startswith("erased-")
    assert privacy["erasedAt"]
    assert {h["category"] for h in privacy["holds"]} == HELD  # no exclusion: no RG match keys kept
    assert all(h["releasedAt"] is None for h in privacy["holds"])
    assert [(r["kind"], r["status"]) for r in privacy["requests"]] == [("ERASURE", "COMPLETED")]

    # Contact details: nowhere but the audit log, whose hash chain covers them (docs/privacy.md).
    for identifier in (seeded.player.email, seeded.phone):
        assert set(await tables_holding(rt, identifier)) <= {"audit_log"}, identifier
    # Identity is kept under AML retention, and marked so: the names are still on the player.
    assert "players" in await tables_holding(rt, seeded.first_name)
    # So is the postal address (customer due diligence verifies it with the identity), and risk's copy of it.
    assert set(await tables_holding(rt, seeded.street)) == {"players", "risk_signals"}
    assert (await tables_holding(rt, bystander.player.email)).keys() >= {"players"}  # others untouched

    stored = [p for p in stored_objects(rt) if str(seeded.player.uuid) in str(p)]
    assert len(stored) == 1  # the identity document's file is kept until the sweep

    # Five years and a day later the sweep erases what was held; running it again does nothing.
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "UPDATE privacy_holds SET retained_until = retained_until - make_interval(days => :days) "
                "WHERE player_id = :p"
            ),
            {"days": 5 * 366, "p": seeded.player.uuid},
        )
    code, out, err = await cli("privacy", "sweep")
    assert code == 0, (out, err)
    assert f"{len(HELD)} held categories erased" in out
    code, out, err = await cli("privacy", "sweep")
    assert (code, out.strip().splitlines()[-1]) == (0, "0 held categories erased"), (out, err)
    for identifier in (seeded.first_name, seeded.last_name, seeded.player.email, seeded.phone, seeded.street):
        assert set(await tables_holding(rt, identifier)) <= {"audit_log"}, identifier
    assert "players" in await tables_holding(rt, bystander.first_name)
    assert set(await tables_holding(rt, bystander.street)) == {"players", "risk_signals"}
    assert [p for p in stored_objects(rt) if str(seeded.player.uuid) in str(p)] == []
    assert [p for p in stored_objects(rt) if str(bystander.player.uuid) in str(p)] != []
    state = (await gql(PRIVACY, {"id": seeded.player.id}, token=dpo.token))["data"]["playerPrivacy"]
    assert all(h["releasedAt"] for h in state["holds"])

    # The books and the audit chain are as sound as before.
    for command in (("ledger", "verify"), ("audit", "verify")):
        code, out, err = await cli(*command)
        assert code == 0, (command, out, err)


async def test_the_erased_player_cannot_sign_in_again(gql: Any, seed: Any, dpo: Any) -> None:
    seeded = await seed()
    assert (await erase(gql, dpo, seeded.player))["errors"] == []
    login = await gql(LOGIN, {"input": {"brand": "royal", "email": seeded.player.email, "password": PASSWORD}})
    assert [e["code"] for e in login["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]
    refresh = await gql(REFRESH, {"input": {"refreshToken": seeded.player.refresh_token}})
    assert refresh["data"]["refreshToken"]["tokens"] is None, refresh
    assert error_codes(await gql("{ me { id } }", token=seeded.player.token)) != []


async def test_erasing_twice_changes_nothing_the_second_time(rt: Any, gql: Any, seed: Any, dpo: Any) -> None:
    seeded = await seed()
    first = await erase(gql, dpo, seeded.player)
    records = await audit_count(rt)
    second = await erase(gql, dpo, seeded.player, reason="asked again")
    assert second == first
    assert await audit_count(rt) == records


async def test_erasure_is_refused_with_a_code_while_aml_money_or_a_case_holds_the_player(
    rt: Any, gql: Any, seed: Any, dpo: Any, make_staff: Any
) -> None:
    seeded = await seed()
    await give(rt, seeded.player, "10.00 EUR")
    refused = await erase(gql, dpo, seeded.player)
    assert [(e["code"], e["message"]) for e in refused["errors"]] == [
        ("ERASURE_BALANCE", "10.00 EUR in the cash account")
    ]
    await fund(rt, seeded.player, -1000, "EUR")
    officer = await make_staff("kyc_officer")
    await Desk(gql).ok(OPEN, officer.token, playerId=seeded.player.id, summary="again", caseType="structuring")
    refused = await erase(gql, dpo, seeded.player)
    assert [e["code"] for e in refused["errors"]] == ["ERASURE_AML_HOLD"]
    # The CLI prints every blocker with its code and exits 1; nothing was erased.
    code, out, err = await cli("privacy", "erase", str(seeded.player.uuid), "--reason", "request #1")
    assert (code, err.strip()) == (1, "ERASURE_AML_HOLD: 1 AML case(s) about the player are open"), out
    state = (await gql(PRIVACY, {"id": seeded.player.id}, token=dpo.token))["data"]["playerPrivacy"]
    assert (state["erasedAt"], state["holds"]) == (None, [])
    # The officer may refuse the player's request instead, with a reason.
    await gql(REQUEST, {"input": {}}, token=seeded.player.token)
    body = await gql(REJECT, {"input": {"playerId": seeded.player.id, "reason": "AML hold"}}, token=dpo.token)
    assert body["data"]["rejectDataErasure"]["request"] == {"kind": "ERASURE", "status": "REJECTED"}, body


async def test_a_filed_sar_blocks_erasure(rt: Any, gql: Any, seed: Any, dpo: Any, make_staff: Any) -> None:
    from tests.aml_cases.conftest import CLOSE, STATE

    seeded = await seed()
    desk, officer, mlro = Desk(gql), await make_staff("kyc_officer"), await make_staff("mlro")
    case = (await desk.ok(OPEN, officer.token, playerId=seeded.player.id, summary="s", caseType="structuring"))["case"]
    await desk.ok(STATE, officer.token, caseId=case["id"], state="ESCALATED")
    await desk.ok(CLOSE, mlro.token, caseId=case["id"], outcome="SAR_FILED", reason="filed")
    refused = await erase(gql, dpo, seeded.player)
    assert [(e["code"], e["message"]) for e in refused["errors"]] == [
        ("ERASURE_AML_HOLD", "a SAR was filed about the player")
    ]


async def test_erasure_from_the_command_line_prints_what_it_holds(rt: Any, seed: Any) -> None:
    seeded = await seed()
    code, out, err = await cli("privacy", "erase", seeded.player.email, "--reason", "request #7")
    assert code == 0, (out, err)
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"{seeded.player.uuid} erased as erased-")
    assert sorted(line.split()[1] for line in lines[1:]) == sorted(HELD)
    async with rt.database.session() as db:
        row = (
            await db.execute(text("SELECT actor_type, reason, after FROM audit_log WHERE action = 'privacy.erased'"))
        ).one()
        event = await db.scalar(text("SELECT payload FROM outbox_events WHERE topic = 'privacy.erased'"))
    assert (row.actor_type, row.reason) == ("system", "request #7")
    assert sorted(h["category"] for h in event["held"]) == sorted(HELD)
    assert event["erased"] == ["contact", "responsible_gambling"]


WITHDRAW = """mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { status } errors { code } } }"""


async def test_a_withdrawal_in_flight_blocks_erasure_and_the_command_line_names_every_blocker(
    gql: Any, make_player: Any, psp: Any
) -> None:
    player = await make_player(balance="3000.00 EUR")
    asked = await gql(
        WITHDRAW, {"input": {"amount": "2500.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
    )
    assert asked["data"]["requestWithdrawal"]["payment"]["status"] in ("REQUESTED", "WAITING_FOR_KYC"), asked
    code, out, err = await cli("privacy", "erase", str(player.uuid), "--reason", "request #3")
    assert code == 1, (out, err)
    assert sorted(err.strip().splitlines()) == [
        "ERASURE_BALANCE: 2500.00 EUR in the withdrawal_pending account",
        "ERASURE_BALANCE: 500.00 EUR in the cash account",
        "ERASURE_PAYMENT_PENDING: 1 withdrawal(s) still in flight",
    ]


async def test_the_privacy_view_reads_in_a_fixed_number_of_statements(rt: Any, gql: Any, seed: Any, dpo: Any) -> None:
    from tests.conftest import recorded_statements

    counts = []
    for _ in range(2):
        seeded = await seed()
        await gql(REQUEST, {"input": {}}, token=seeded.player.token)
        assert (await erase(gql, dpo, seeded.player))["errors"] == []
        with recorded_statements(rt) as statements:
            body = await gql(PRIVACY, {"id": seeded.player.id}, token=dpo.token)
        assert len(body["data"]["playerPrivacy"]["holds"]) == len(HELD)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 4, counts  # the player, their requests, their holds (and the session's)


async def test_an_excluded_players_erasure_keeps_the_exclusion_reaching_them(
    gql: Any,
    make_player: Any,
    dpo: Any,
    northstar: Any,  # noqa: F811
) -> None:

    excluded = await make_player(email="zoe.pace@gmail.com")
    answer = await gql(SELF_EXCLUDE, {"input": {"length": "ONE_YEAR", "confirm": True}}, token=excluded.token)
    assert answer["data"]["selfExclude"]["errors"] == [], answer
    erased = await erase(gql, dpo, excluded)
    assert {h["category"] for h in erased["privacy"]["holds"]} == HELD | {"responsible_gambling"}
    # The same person registering at the operator's other brand is still recognised and refused.
    again = await register(gql, "northstar", "zoe.pace@gmail.com")
    assert [e["code"] for e in again["errors"]] == ["SELF_EXCLUDED"], again
