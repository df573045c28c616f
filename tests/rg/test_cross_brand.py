"""One person, every brand: a time-out or self-exclusion at one brand covers the person's accounts at all
of the operator's brands (matched by email, name and date of birth, or phone), staff can impose one, and
a person who does not match is left alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.clock import clock
from services.rg.matching import email_key, name_key, phone_key
from tests.cashier.conftest import assert_ledger_ok
from tests.conftest import PASSWORD, REGISTER, error_codes
from tests.rg.conftest import LOGIN, deposit, licensed_brand, login, seat_for, u
from tests.rg.test_exclusions import SELF_EXCLUDE, TIME_OUT

BORN = date(1988, 4, 12)
MY_EXCLUSIONS = "{ me { responsibleGambling { exclusion { kind endsAt source active } } } }"
PLAYER_RG = """
query($id: ID!) { player(id: $id) { responsibleGambling {
  exclusion { kind endsAt source }
  history(first: 1) { edges { node { kind actorType details } } } } } }"""
IMPOSE = """
mutation($input: ImposeExclusionInput!) { imposeExclusion(input: $input) {
  exclusion { kind endsAt source active } errors { code field message } } }"""


@pytest.fixture
async def northstar(rt: Any) -> Any:
    """The operator's second brand, open to the same players as royal."""
    return await licensed_brand(rt, "northstar", ["DEFAULT"], ["MT", "SE", "GB"], ["EUR"])


async def register(gql: Any, brand: str, email: str, **extra: Any) -> dict[str, Any]:
    form = {"brand": brand, "email": email, "password": PASSWORD, "dateOfBirth": BORN.isoformat()}
    body = await gql(
        REGISTER.replace("errors { code field message }", "errors { code field message limit { kind resetsAt } }"),
        {"input": {**form, "country": "MT", "currency": "EUR", **extra}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerPlayer"]
    return payload


async def exclusion_of(gql: Any, staff: Any, player: Any) -> dict[str, Any] | None:
    body = await gql(PLAYER_RG, {"id": player.id}, token=staff.token)
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["player"]["responsibleGambling"]["exclusion"]
    return found


async def legacy_exclusion(rt: Any, player: Any) -> None:
    """A self-exclusion recorded at one brand only, as before the brands were linked (nothing copied)."""
    from models.rg import RgExclusion

    now = clock.now()
    async with rt.database.transaction() as db:
        db.add(
            RgExclusion(
                player_id=player.uuid,
                kind="self_exclusion",
                starts_at=now,
                ends_at=now + timedelta(days=365),
                source="player",
            )
        )


def test_the_match_keys_normalise_email_name_and_phone() -> None:
    assert email_key(" Ann.Smith+casino@GoogleMail.com ") == email_key("annsmith@gmail.com") == "annsmith@gmail.com"
    assert email_key("ann.smith+vip@example.com") == "ann.smith@example.com"  # dots count outside Gmail
    assert email_key("ann.smith@example.com") != email_key("annsmith@example.com")
    assert name_key(" Anne-Marie ", "O'Néil") == name_key("anne marie", "ONEIL") == "annemarie|oneil"
    assert name_key("Anne", None) is None  # a first name alone identifies nobody
    assert phone_key("+44 7700 900123", "MT") == phone_key("0044 7700-900123", "SE") == "447700900123"
    assert phone_key("07700 900123", "GB") == "447700900123"  # national form, the player's country code
    assert phone_key("+44 (0)7700 900123", "SE") == phone_key("0044 07700 900123", "GB") == "447700900123"
    assert phone_key("+39 06 1234 5678", "GB") == "390612345678"  # Italy dials its leading 0 from abroad
    assert phone_key("12345", "GB") is None


async def test_a_person_excluded_at_one_brand_cannot_register_at_another(
    gql: Any, make_player: Any, northstar: Any
) -> None:
    excluded = await make_player(email="ann.smith@gmail.com", born=BORN)
    assert (await gql(SELF_EXCLUDE, {"input": {"length": "ONE_YEAR", "confirm": True}}, token=excluded.token))["data"][
        "selfExclude"
    ]["errors"] == []

    # The case: same email, date of birth and country at the other brand.
    same = await register(gql, "northstar", "ann.smith@gmail.com")
    assert same["player"] is None
    assert same["errors"][0]["code"] == "SELF_EXCLUDED"
    assert same["errors"][0]["limit"]["kind"] == "self_exclusion"
    assert same["errors"][0]["limit"]["resetsAt"]
    # The same Gmail mailbox written differently is the same person.
    assert (await register(gql, "northstar", "AnnSmith+northstar@googlemail.com"))["errors"][0][
        "code"
    ] == "SELF_EXCLUDED"
    # Someone else entirely registers as usual.
    other = await register(gql, "northstar", "bob@example.com")
    assert other["errors"] == []


async def test_an_exclusion_reaches_every_matching_account_and_its_bets(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, northstar: Any, aggregator: Any, hub88_provider: Any
) -> None:
    royal = await make_player(email="ann@example.com", born=BORN)
    # Her account at northstar: another email, the same phone (written the national way).
    by_phone = await make_player(brand_code="northstar", email="a.s@example.net", born=BORN, phone="+356 2123 4567")
    await gql('mutation { updateProfile(input: {phone: "0035621234567"}) { errors { code } } }', token=royal.token)
    # A stranger with her name but another birthday.
    stranger = await make_player(
        brand_code="northstar", email="other@example.com", born=date(1990, 1, 1), firstName="Ann", lastName="Smith"
    )
    seat = await seat_for(rt, hub88_provider, by_phone, balance=5_000)
    stranger_seat = await seat_for(rt, hub88_provider, stranger, balance=5_000)
    assert (await aggregator.call("transaction/bet", seat.bet(u(100))))["status"] == "RS_OK"

    taken = (await gql(TIME_OUT, {"input": {"length": "WEEK"}}, token=royal.token))["data"]["takeTimeOut"]
    assert taken["errors"] == []

    # The northstar account has the same time-out as a row of its own: its login ended, its bets are refused.
    assert "UNAUTHENTICATED" in error_codes(await gql("{ me { id } }", token=by_phone.token))
    refused = await login(gql, by_phone)
    assert refused["errors"][0]["code"] == "TIMED_OUT"
    assert (await aggregator.call("transaction/bet", seat.bet(u(100))))["status"] == "RS_ERROR_USER_DISABLED"
    support = await make_staff(("superadmin", None))  # sees every brand
    copied = await exclusion_of(gql, support, by_phone)
    assert copied == {"kind": "TIME_OUT", "endsAt": taken["exclusion"]["endsAt"], "source": "linked_account"}
    history = (await gql(PLAYER_RG, {"id": by_phone.id}, token=support.token))["data"]["player"]
    assert history["responsibleGambling"]["history"]["edges"][0]["node"]["details"]["origin_player_id"] == str(
        royal.uuid
    )
    # The stranger plays on.
    assert await exclusion_of(gql, support, stranger) is None
    assert (await login(gql, stranger))["errors"] == []
    assert (await aggregator.call("transaction/bet", stranger_seat.bet(u(100))))["status"] == "RS_OK"
    # It ends when the original ends, at both brands.
    clock.advance(timedelta(days=7, hours=1))
    assert (await login(gql, by_phone))["errors"] == []
    await assert_ledger_ok(rt)


async def test_login_and_deposit_extend_an_exclusion_found_at_a_matching_account(
    gql: Any, rt: Any, psp: Any, make_player: Any, northstar: Any, aggregator: Any, hub88_provider: Any
) -> None:
    excluded = await make_player(email="ann@example.com", born=BORN, firstName="Ann", lastName="Smith")
    by_name = await make_player(
        brand_code="northstar", email="a.smith@example.net", born=BORN, firstName="ANN", lastName=" smith"
    )
    by_phone = await make_player(brand_code="northstar", email="as@example.org", born=BORN, phone="+356 9912 3456")
    await gql('mutation { updateProfile(input: {phone: "99123456"}) { errors { code } } }', token=excluded.token)
    seat = await seat_for(rt, hub88_provider, by_name, balance=5_000)
    await legacy_exclusion(rt, excluded)  # at royal only, and nothing copied yet

    # Login at northstar finds the match by name and date of birth: refused, and copied to this account,
    # so the provider's bet with the game session it already had is refused too.
    refused = await login(gql, by_name)
    assert refused["tokens"] is None
    assert refused["errors"][0]["code"] == "SELF_EXCLUDED"
    assert (await aggregator.call("transaction/bet", seat.bet(u(100))))["status"] == "RS_ERROR_USER_DISABLED"
    # Her account matched by phone is hers too: copied at the same time, its login ended.
    assert "UNAUTHENTICATED" in error_codes(await gql(MY_EXCLUSIONS, token=by_phone.token))

    # A deposit by an account matched by phone (still logged in): refused, and copied.
    bob = await make_player(email="bob@example.com", born=BORN, phone="+356 9988 7766")
    by_phone = await make_player(brand_code="northstar", email="robert@example.org", born=BORN, phone="99887766")
    await legacy_exclusion(rt, bob)
    paid = await deposit(gql, by_phone, psp, "20.00")
    assert paid["payment"] is None
    assert paid["errors"][0]["code"] == "SELF_EXCLUDED"
    assert "UNAUTHENTICATED" in error_codes(await gql(MY_EXCLUSIONS, token=by_phone.token))
    signed_in = await login(gql, by_phone, purpose="WITHDRAWAL")  # taking money out stays open
    mine = await gql(MY_EXCLUSIONS, token=signed_in["tokens"]["accessToken"])
    assert mine["data"]["me"]["responsibleGambling"]["exclusion"]["source"] == "linked_account"
    await assert_ledger_ok(rt)


async def test_a_profile_change_that_matches_an_excluded_person_extends_the_exclusion(
    gql: Any, make_player: Any, northstar: Any
) -> None:
    excluded = await make_player(email="ann@example.com", born=BORN, firstName="Ann", lastName="Smith")
    later = await make_player(brand_code="northstar", email="x@example.net", born=BORN)
    await gql(SELF_EXCLUDE, {"input": {"length": "PERMANENT", "confirm": True}}, token=excluded.token)
    assert (await login(gql, later))["errors"] == []  # no match yet

    changed = await gql(
        'mutation { updateProfile(input: {firstName: "Ann", lastName: "Smith"}) { errors { code } } }',
        token=later.token,
    )
    assert changed["data"]["updateProfile"]["errors"] == []
    assert "UNAUTHENTICATED" in error_codes(await gql("{ me { id } }", token=later.token))
    again = await gql(
        LOGIN, {"input": {"brand": "northstar", "email": later.email, "password": PASSWORD, "purpose": "PLAY"}}
    )
    assert again["data"]["login"]["errors"][0]["code"] == "SELF_EXCLUDED"
    assert again["data"]["login"]["errors"][0]["limit"]["resetsAt"] is None  # permanent, as the original


async def test_staff_impose_an_exclusion_with_a_reason_audited_across_brands(
    gql: Any, make_player: Any, make_staff: Any, northstar: Any
) -> None:
    player = await make_player(email="ann@example.com", born=BORN)
    elsewhere = await make_player(brand_code="northstar", email="Ann@Example.com ", born=BORN)
    support = await make_staff("support")

    no_reason = await gql(
        IMPOSE, {"input": {"playerId": player.id, "selfExclusion": "ONE_YEAR", "reason": " "}}, token=support.token
    )
    assert no_reason["data"]["imposeExclusion"]["errors"][0]["field"] == "reason"
    both = await gql(
        IMPOSE,
        {"input": {"playerId": player.id, "selfExclusion": "ONE_YEAR", "timeOut": "DAY", "reason": "x"}},
        token=support.token,
    )
    assert both["data"]["imposeExclusion"]["errors"][0]["code"] == "INVALID_INPUT"
    kyc = await make_staff("kyc_officer")
    denied = await gql(IMPOSE, {"input": {"playerId": player.id, "timeOut": "DAY", "reason": "x"}}, token=kyc.token)
    assert "FORBIDDEN" in error_codes(denied)
    assert (await login(gql, elsewhere))["errors"] == []  # nothing happened yet

    done = await gql(
        IMPOSE,
        {
            "input": {
                "playerId": player.id,
                "selfExclusion": "ONE_YEAR",
                "reason": "Asked by phone to be excluded from all our casinos.",
            }
        },
        token=support.token,
    )
    payload = done["data"]["imposeExclusion"]
    assert payload["errors"] == []
    assert payload["exclusion"]["kind"] == "SELF_EXCLUSION"
    assert payload["exclusion"]["source"] == "staff"
    assert (await login(gql, player))["errors"][0]["code"] == "SELF_EXCLUDED"
    assert (await login(gql, elsewhere))["errors"][0]["code"] == "SELF_EXCLUDED"

    # On the player's RG history, with who and why; and in the audit log, for both accounts.
    rg = (await gql(PLAYER_RG, {"id": player.id}, token=support.token))["data"]["player"]["responsibleGambling"]
    entry = rg["history"]["edges"][0]["node"]
    assert entry["kind"] == "rg.self_exclusion_started"
    assert entry["actorType"] == "staff"
    assert entry["details"]["reason"].startswith("Asked by phone")
    superadmin = await make_staff(("superadmin", None))
    audit = await gql(
        '{ auditLog(filter: {action: "rg.self_exclusion_started"}) { edges { node { actorType reason after } } } }',
        token=superadmin.token,
    )
    records = [e["node"] for e in audit["data"]["auditLog"]["edges"]]
    assert len(records) == 2
    assert {r["actorType"] for r in records} == {"staff"}
    assert all(r["reason"].startswith("Asked by phone") for r in records)
    assert {r["after"]["source"] for r in records} == {"staff", "linked_account"}
