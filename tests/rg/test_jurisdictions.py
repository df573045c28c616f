"""Each jurisdiction profile's rules, through registration, login, deposits and launches."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.rg.profiles import profiles
from tests.conftest import PASSWORD
from tests.rg.conftest import SOME_GAME, deposit, licensed_brand, login, my_rg, set_limit

REGISTER = """
mutation($input: RegisterPlayerInput!) { registerPlayer(input: $input) { player { id }
  errors { code field message limit { kind } } } }"""


async def _register(
    gql: Any, brand: str, email: str, country: str, currency: str, born: date = date(1990, 1, 1)
) -> dict[str, Any]:
    body = await gql(
        REGISTER,
        {
            "input": {
                "brand": brand,
                "email": email,
                "password": PASSWORD,
                "dateOfBirth": born.isoformat(),
                "country": country,
                "currency": currency,
            }
        },
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerPlayer"]
    return payload


def test_every_profile_is_complete() -> None:
    assert set(profiles()) == {"UK", "SE", "ON", "MT", "DK", "DEFAULT"}
    assert profiles()["SE"].increase_after_period_end
    assert profiles()["SE"].increase_cooling_off.total_seconds() == 72 * 3600
    for code in ("UK", "ON", "MT", "DK"):
        assert profiles()[code].increase_cooling_off.total_seconds() == 24 * 3600
    assert profiles()["ON"].minimum_age == 19
    assert profiles()["UK"].registers == ("gamstop",)
    assert profiles()["DK"].registers == ("rofus",)


async def test_players_get_their_countrys_profile(gql: Any, make_player: Any, nordic: Any) -> None:
    for country, currency, code in (
        ("GB", "GBP", "UK"),
        ("SE", "SEK", "SE"),
        ("CA", "CAD", "ON"),
        ("MT", "EUR", "MT"),
        ("DK", "EUR", "DK"),
    ):
        player = await make_player(brand_code="nordic", country=country, currency=currency)
        me = await gql("{ me { jurisdiction } }", token=player.token)
        assert me["data"]["me"]["jurisdiction"] == code


async def test_a_country_the_brand_is_not_licensed_for_is_refused(gql: Any, rt: Any) -> None:
    await licensed_brand(rt, "ukonly", ["UK"], ["GB", "MT"])
    refused = await _register(gql, "ukonly", "m@example.com", "MT", "EUR")
    assert refused["errors"][0]["code"] == "COUNTRY_NOT_ALLOWED"
    assert (await _register(gql, "ukonly", "g@example.com", "GB", "GBP"))["errors"] == []


async def test_ontario_players_must_be_19(gql: Any, nordic: Any) -> None:
    from core.clock import clock

    today = clock.now().date()
    eighteen = today.replace(year=today.year - 18) if not (today.month == 2 and today.day == 29) else date(2000, 1, 1)
    refused = await _register(gql, "nordic", "young@example.com", "CA", "CAD", born=eighteen)
    assert refused["errors"][0]["code"] == "UNDERAGE"
    assert (await _register(gql, "nordic", "young@example.com", "GB", "GBP", born=eighteen))["errors"] == []


@pytest.mark.parametrize(("country", "currency"), [("SE", "SEK"), ("DK", "EUR")])
async def test_a_required_deposit_limit_comes_before_deposits_and_play(
    gql: Any, psp: Any, make_player: Any, nordic: Any, country: str, currency: str
) -> None:
    player = await make_player(brand_code="nordic", country=country, currency=currency)
    rg = await my_rg(gql, player)
    assert rg["jurisdiction"]["requiredLimits"] == ["DEPOSIT"]
    refused = await deposit(gql, player, psp, "10.00", currency)
    assert refused["errors"][0]["code"] == "LIMIT_REQUIRED"
    launch = await gql(
        f'mutation {{ launchGame(input: {{gameId: "{SOME_GAME}", mode: REAL}}) {{ errors {{ code }} }} }}',
        token=player.token,
    )
    assert launch["data"]["launchGame"]["errors"][0]["code"] == "LIMIT_REQUIRED"
    await set_limit(gql, player, "DEPOSIT", "WEEK", amount="100.00")
    assert (await deposit(gql, player, psp, "10.00", currency))["payment"]["status"] == "SUCCEEDED"


async def test_national_registers_are_checked_at_registration_and_every_login(
    gql: Any, rt: Any, nordic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GAMSTOP (UK): Y refuses registration; P is allowed and flagged for the RG team.
    refused = await _register(gql, "nordic", "excluded@example.com", "GB", "GBP")
    assert refused["errors"][0]["code"] == "SELF_EXCLUDED"
    assert refused["errors"][0]["limit"]["kind"] == "register"
    returning = await _register(gql, "nordic", "returning@example.com", "GB", "GBP")
    assert returning["errors"] == []
    # Malta has no register: the same person registers there.
    assert (await _register(gql, "nordic", "excluded@example.com", "MT", "EUR"))["errors"] == []

    # ROFUS (Denmark) at login: someone registers, then signs up with ROFUS.
    assert (await _register(gql, "nordic", "dane@example.com", "DK", "EUR"))["errors"] == []
    monkeypatch.setattr(rt.settings, "rg_demo_register", "dane@example.com:Y")
    dane = type("P", (), {"brand": "nordic", "email": "dane@example.com"})()
    assert (await login(gql, dane))["errors"][0]["code"] == "SELF_EXCLUDED"
    # ... yet can still sign in to withdraw what is left.
    assert (await login(gql, dane, purpose="WITHDRAWAL"))["errors"] == []

    from sqlalchemy import select

    from models.rg import RgFlag

    async with rt.database.session() as db:
        kinds = [f.kind for f in (await db.scalars(select(RgFlag))).all()]
    assert kinds == ["previously_self_excluded"]


async def test_sweden_requires_reality_checks(gql: Any, make_player: Any, nordic: Any) -> None:
    swede = await make_player(brand_code="nordic", country="SE", currency="SEK")
    off = await gql("mutation { setRealityCheck(input: {minutes: 0}) { errors { code } } }", token=swede.token)
    assert off["data"]["setRealityCheck"]["errors"][0]["code"] == "LIMIT_REQUIRED"
    maltese = await make_player(brand_code="nordic", country="MT", currency="EUR")
    off = await gql(
        "mutation { setRealityCheck(input: {minutes: 0}) { errors { code } "
        "responsibleGambling { realityCheckMinutes } } }",
        token=maltese.token,
    )
    assert off["data"]["setRealityCheck"]["responsibleGambling"]["realityCheckMinutes"] == 0
