"""Regressions for holes found in review: each test is an attack that used to work."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from tests.conftest import PASSWORD, error_codes

LOGIN = """mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } errors { code } } }"""


async def test_padding_the_brand_code_does_not_reset_the_account_lockout(gql: Any, make_player: Any, rt: Any) -> None:
    player = await make_player()
    for _ in range(rt.settings.login_failures_per_account):
        await gql(LOGIN, {"input": {"brand": "royal", "email": player.email, "password": "wrong-guess-1"}})
    for brand in ("royal", "royal ", " royal", "ROYAL"):
        body = await gql(LOGIN, {"input": {"brand": brand, "email": player.email, "password": PASSWORD}})
        assert error_codes(body) == ["RATE_LIMITED"], brand


async def test_parallel_guesses_cannot_all_slip_past_the_lockout(gql: Any, make_player: Any, rt: Any) -> None:
    import asyncio

    player = await make_player()
    bodies = await asyncio.gather(
        *(
            gql(LOGIN, {"input": {"brand": "royal", "email": player.email, "password": f"guess-{i}-x"}})
            for i in range(12)
        )
    )
    judged = [b for b in bodies if b.get("data") and b["data"]["login"]]  # password actually checked
    assert len(judged) <= rt.settings.login_failures_per_account


async def test_a_brand_admin_cannot_disable_staff_who_also_work_elsewhere(
    gql: Any, make_staff: Any, other_brand: Any
) -> None:
    admin = await make_staff("brand_admin")
    shared = await make_staff("marketing", ("brand_admin", "northstar"))
    local = await make_staff("support")
    query = """mutation($input: SetStaffStatusInput!) { setStaffStatus(input: $input) {
        staff { status } errors { code } } }"""
    for target, expected in ((shared, ["NOT_ALLOWED"]), (local, [])):
        body = await gql(
            query,
            {
                "input": {
                    "staffId": str(relay.GlobalID("StaffUser", str(target.id))),
                    "status": "DISABLED",
                    "reason": "test",
                }
            },
            token=admin.token,
        )
        assert [e["code"] for e in body["data"]["setStaffStatus"]["errors"]] == expected


async def test_marketing_cannot_learn_emails_through_the_filter(gql: Any, make_player: Any, make_staff: Any) -> None:
    await make_player(email="secret@example.com")
    marketing = await make_staff("marketing")
    body = await gql(
        """query($e: String) { players(filter: {email: $e}) { edges { node { id } } } }""",
        {"e": "se*"},
        token=marketing.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    support = await make_staff("support")
    allowed = await gql(
        """query($e: String) { players(filter: {email: $e}) { edges { node { id } } } }""",
        {"e": "se*"},
        token=support.token,
    )
    assert len(allowed["data"]["players"]["edges"]) == 1


async def test_crafted_audit_ids_are_bad_input_not_internal(gql: Any, make_staff: Any) -> None:
    risk = await make_staff("risk_analyst")
    for node_id in ("²", "9" * 30):
        body = await gql(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": str(relay.GlobalID("AuditRecord", node_id))},
            token=risk.token,
        )
        assert "INTERNAL" not in error_codes(body), body
        assert body["data"] == {"node": None}


async def test_password_changes_do_not_lock_out_the_honest_user(gql: Any, make_player: Any, rt: Any) -> None:
    player = await make_player()
    password = PASSWORD
    change = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) { changed errors { code } } }"""
    for i in range(rt.settings.login_failures_per_account + 2):
        new = f"another-horse-{i}x"
        body = await gql(change, {"input": {"currentPassword": password, "newPassword": new}}, token=player.token)
        assert body["data"]["changePassword"]["changed"] is True, body
        password = new


async def test_a_brand_admin_sees_only_their_brands_grants_of_a_colleague(
    gql: Any, make_staff: Any, other_brand: Any
) -> None:
    admin = await make_staff("brand_admin")
    colleague = await make_staff("marketing", ("brand_admin", "northstar"))
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on StaffUser { roles { role brand { code } } } } }",
        {"id": str(relay.GlobalID("StaffUser", str(colleague.id)))},
        token=admin.token,
    )
    assert body["data"]["node"]["roles"] == [{"role": "MARKETING", "brand": {"code": "royal"}}]
