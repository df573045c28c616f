"""Launching games (real and demo) and the staff brand switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from strawberry import relay

from core.clock import clock
from models.audit import AuditRecord
from models.games import BrandGame, GameSession
from tests.conftest import error_codes
from tests.games.conftest import gid

LAUNCH = """
mutation($input: LaunchGameInput!) {
  launchGame(input: $input) { launchUrl session { id mode expiresAt } errors { code field message } }
}"""
SET_AVAILABILITY = """
mutation($input: SetGameAvailabilityInput!) {
  setGameAvailability(input: $input) {
    availability { enabled disabledCountries game { code } brand { code } }
    errors { code field message }
  }
}"""


async def launch(gql: Any, game: Any, mode: str = "REAL", *, token: str | None = None, **extra: Any) -> Any:
    body = await gql(LAUNCH, {"input": {"gameId": gid(game), "mode": mode, **extra}}, token=token)
    assert body.get("data"), body
    return body["data"]["launchGame"]


async def test_real_launch_creates_a_session_and_a_provider_url(
    rt: Any, gql: Any, make_player: Any, make_game: Any, settings: Any
) -> None:
    game = await make_game(code="northern-lights")
    player = await make_player(country="SE", currency="SEK")
    started = clock.now()
    launched = await launch(gql, game, token=player.token, lang="sv")
    assert launched["errors"] == []
    url = urlsplit(launched["launchUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://games.pinefox.example/launch"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["game"] == "northern-lights"
    assert query["mode"] == "real"
    assert query["currency"] == "SEK"
    assert query["lang"] == "sv"
    assert launched["session"]["mode"] == "REAL"
    async with rt.database.session() as db:
        session = await db.scalar(select(GameSession))
    assert session is not None
    assert session.token == query["token"]
    assert len(session.token) >= 32
    assert session.player_id == player.uuid
    assert query["user"] == str(player.uuid)  # the provider's wallet calls carry it back as `user`
    assert session.currency == "SEK"
    assert session.country == "SE"
    ttl = timedelta(seconds=settings.game_session_ttl_seconds)
    assert started + ttl <= session.expires_at <= clock.now() + ttl


async def test_launch_refusals_name_the_reason(
    rt: Any, gql: Any, make_player: Any, make_game: Any, switch: Any, brand: Any
) -> None:
    swede = await make_player(country="SE", currency="SEK")
    off = await make_game(enabled=False)
    brand_off = await make_game()
    await switch(brand.id, brand_off, enabled=False)
    off_in_se = await make_game()
    await switch(brand.id, off_in_se, disabled_countries=["SE"])
    malta_only = await make_game(countries=["MT"])
    eur_only = await make_game(currencies=["EUR"])
    cases = [
        (off, "GAME_NOT_AVAILABLE"),
        (brand_off, "GAME_NOT_AVAILABLE"),
        (off_in_se, "COUNTRY_NOT_ALLOWED"),
        (malta_only, "COUNTRY_NOT_ALLOWED"),
        (eur_only, "CURRENCY_NOT_ALLOWED"),
    ]
    for game, code in cases:
        refused = await launch(gql, game, token=swede.token)
        assert [e["code"] for e in refused["errors"]] == [code], (game.code, refused)
        assert refused["launchUrl"] is None
    # A currency the game lacks does not matter in demo mode (no money moves).
    assert (await launch(gql, eur_only, "DEMO", token=swede.token))["errors"] == []
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(GameSession)) == 1


async def test_blocked_players_cannot_launch(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, make_game: Any
) -> None:
    game = await make_game()
    player = await make_player()
    support = await make_staff("support")
    body = await gql(
        "mutation($input: SetPlayerStatusInput!) { setPlayerStatus(input: $input) { errors { code } } }",
        {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "fraud check"}},
        token=support.token,
    )
    assert body["data"]["setPlayerStatus"]["errors"] == []
    # The block revoked the player's sessions: their token no longer works at all.
    assert error_codes(await gql(LAUNCH, {"input": {"gameId": gid(game), "mode": "REAL"}}, token=player.token)) == [
        "UNAUTHENTICATED"
    ]
    # And the service refuses a blocked player even with a still-valid viewer (a token minted before the block).
    from authz.subjects import Viewer
    from core.errors import DomainError
    from models.games import GameMode
    from services import games

    viewer = Viewer(kind="player", id=player.uuid, brand_id=None, roles=frozenset({"player"}))
    with pytest.raises(DomainError) as refused:
        await games.launch(rt, viewer, game.id, GameMode.REAL)
    assert refused.value.code == "ACCOUNT_BLOCKED"


async def test_anonymous_demo_play(rt: Any, gql: Any, make_game: Any, brand: Any) -> None:
    game = await make_game(code="demo-slot")
    no_demo = await make_game(demo=False)
    launched = await launch(gql, game, "DEMO", brand="royal")
    assert launched["errors"] == []
    query = {k: v[0] for k, v in parse_qs(urlsplit(launched["launchUrl"]).query).items()}
    assert query["currency"] == "XXX"
    assert query["mode"] == "demo"
    async with rt.database.session() as db:
        session = await db.scalar(select(GameSession))
    assert session is not None
    assert session.player_id is None
    assert session.mode == "demo"
    assert [e["code"] for e in (await launch(gql, no_demo, "DEMO", brand="royal"))["errors"]] == ["GAME_NOT_AVAILABLE"]
    assert [e["field"] for e in (await launch(gql, game, "DEMO"))["errors"]] == ["brand"]
    # Real money needs a player.
    real = await gql(LAUNCH, {"input": {"gameId": gid(game), "mode": "REAL", "brand": "royal"}})
    assert error_codes(real) == ["UNAUTHENTICATED"]


async def test_launch_rejects_foreign_and_unknown_ids(gql: Any, make_player: Any) -> None:
    player = await make_player()
    body = await gql(LAUNCH, {"input": {"gameId": player.id, "mode": "REAL"}}, token=player.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    unknown = str(relay.GlobalID("Game", "0190a0a0-0000-7000-8000-000000000000"))
    body = await gql(LAUNCH, {"input": {"gameId": unknown, "mode": "REAL"}}, token=player.token)
    assert [e["code"] for e in body["data"]["launchGame"]["errors"]] == ["GAME_NOT_AVAILABLE"]


async def test_brand_admin_switches_a_game_off_audited(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, make_game: Any, brand: Any
) -> None:
    game = await make_game(code="northern-lights")
    admin = await make_staff("brand_admin")
    body = await gql(
        SET_AVAILABILITY,
        {
            "input": {
                "gameId": gid(game),
                "enabled": True,
                "disabledCountries": ["se", "FI"],
                "reason": "licence pending",
            }
        },
        token=admin.token,
    )
    payload = body["data"]["setGameAvailability"]
    assert payload["errors"] == []
    assert payload["availability"] == {
        "enabled": True,
        "disabledCountries": ["FI", "SE"],
        "game": {"code": "northern-lights"},
        "brand": {"code": "royal"},
    }
    swede = await make_player(country="SE", currency="SEK")
    assert [e["code"] for e in (await launch(gql, game, token=swede.token))["errors"]] == ["COUNTRY_NOT_ALLOWED"]

    body = await gql(
        SET_AVAILABILITY,
        {
            "input": {
                "gameId": gid(game),
                "brand": "royal",
                "enabled": False,
                "disabledCountries": [],
                "reason": "supplier dispute",
            }
        },
        token=admin.token,
    )
    assert body["data"]["setGameAvailability"]["errors"] == []
    async with rt.database.session() as db:
        records = (
            await db.scalars(
                select(AuditRecord).where(AuditRecord.action == "game.availability_changed").order_by(AuditRecord.seq)
            )
        ).all()
        row = await db.get(BrandGame, (brand.id, game.id))
    assert [(r.before, r.after, r.reason) for r in records] == [
        (
            {"enabled": True, "disabled_countries": []},
            {"enabled": True, "disabled_countries": ["FI", "SE"]},
            "licence pending",
        ),
        (
            {"enabled": True, "disabled_countries": ["FI", "SE"]},
            {"enabled": False, "disabled_countries": []},
            "supplier dispute",
        ),
    ]
    assert records[0].actor_id == admin.id
    assert row is not None
    assert row.enabled is False


async def test_set_game_availability_permissions_and_input(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, make_game: Any, other_brand: Any
) -> None:
    game = await make_game()
    player = await make_player()
    support = await make_staff("support")
    admin = await make_staff("brand_admin")
    superadmin = await make_staff(("superadmin", None))
    good = {"gameId": gid(game), "enabled": False, "disabledCountries": [], "reason": "test"}
    assert error_codes(await gql(SET_AVAILABILITY, {"input": good})) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(SET_AVAILABILITY, {"input": good}, token=player.token)) == ["FORBIDDEN"]
    assert error_codes(await gql(SET_AVAILABILITY, {"input": good}, token=support.token)) == ["FORBIDDEN"]

    async def refused(token: str, **change: Any) -> list[tuple[str, str | None]]:
        body = await gql(SET_AVAILABILITY, {"input": {**good, **change}}, token=token)
        return [(e["code"], e["field"]) for e in body["data"]["setGameAvailability"]["errors"]]

    assert await refused(admin.token, brand="northstar") == [("NOT_ALLOWED", "brand")]
    assert await refused(admin.token, reason=" ") == [("INVALID_INPUT", "reason")]
    assert await refused(admin.token, disabledCountries=["Sweden"]) == [("INVALID_INPUT", "disabledCountries")]
    assert await refused(superadmin.token) == [("INVALID_INPUT", "brand")]  # all brands: name one
    assert await refused(superadmin.token, brand="atlantis") == [("NOT_FOUND", "brand")]
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(BrandGame)) == 0
        assert (
            await db.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "game.availability_changed")
            )
            == 0
        )
    assert await refused(superadmin.token, brand="northstar") == []
