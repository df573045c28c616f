"""Importing a provider's game list (Hub88's /game/list shape) through GraphQL: a dry run reports the
difference and writes nothing; the import upserts by game code; importing the same list again changes
nothing; a changed list shows old → new; games missing from the list are reported and kept; a bad list
is refused whole, with each problem at its entry."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from models.games import Game
from tests.onboarding.conftest import IMPORT, add_provider, audit_rows, create_game, payload


def hub88_list() -> list[dict[str, Any]]:
    """Three games as Hub88's /game/list answers them (fields we do not use included)."""
    common = {
        "url_background": "https://cdn.hub88.example/bg.jpg",
        "platforms": ["GPL_DESKTOP", "GPL_MOBILE"],
        "freebet_support": True,
        "phoenix_jackpot_support": False,
        "blocked_countries": ["US"],
        "release_date": "2025-03-01",
        "paylines": 20,
        "supplier_identifier": {"game_id": "007", "game_code": "007007", "game_code_mobile": None},
    }
    return [
        {
            **common,
            "game_id": 101,
            "game_code": "clt_dragonrising",
            "name": "Dragon Rising",
            "category": "Video Slots",
            "product": "Crazy Tooth Studio",
            "rtp": "96.1",
            "volatility": 4,
            "enabled": True,
            "url_thumb": "https://cdn.hub88.example/dragon.jpg",
        },
        {
            **common,
            "game_id": 102,
            "game_code": "evo_lightningroulette",
            "name": "Lightning Roulette",
            "category": "Live Casino",
            "product": "Evolution",
            "rtp": 97.3,
            "volatility": None,
            "enabled": True,
            "url_thumb": None,
        },
        {
            **common,
            "game_id": 103,
            "game_code": "spb_aviator",
            "name": "Aviator",
            "category": "Crash Games",
            "product": "Spribe",
            "rtp": "97.00",
            "volatility": "medium",
            "enabled": True,
            "url_thumb": "https://cdn.hub88.example/aviator.jpg",
        },
    ]


async def catalog(rt: Any) -> dict[str, dict[str, Any]]:
    """Every game row as stored, by code (ids and timestamps included: 'nothing changed' means equal)."""
    async with rt.database.session() as db:
        rows = (await db.scalars(select(Game).order_by(Game.code))).all()
    return {g.code: g.model_dump() for g in rows}


async def run_import(gql: Any, token: str, games: Any, **extra: Any) -> dict[str, Any]:
    body = await gql(
        IMPORT, {"input": {"provider": "acme", "games": games, "currencies": ["EUR"], **extra}}, token=token
    )
    return payload(body, "importGames")


async def test_dry_run_reports_and_writes_nothing_then_the_import_adds_and_a_rerun_changes_nothing(
    rt: Any, gql: Any, content_manager: Any
) -> None:
    await add_provider(gql, content_manager.token, "acme")
    await create_game(gql, content_manager.token, "acme", code="old_classic", title="Old Classic")
    before, records = await catalog(rt), len(await audit_rows(rt))

    dry = await run_import(gql, content_manager.token, hub88_list(), dryRun=True)
    assert dry["errors"] == []
    report = dry["report"]
    assert (report["provider"], report["dryRun"]) == ("acme", True)
    assert [a["code"] for a in report["added"]] == ["clt_dragonrising", "evo_lightningroulette", "spb_aviator"]
    dragon = {c["field"]: c["new"] for c in report["added"][0]["changes"]}
    assert dragon == {
        "title": "Dragon Rising",
        "type": "slot",
        "rtp": "96.10",
        "volatility": "high",
        "minBets": {},
        "maxBets": {},
        "contributionCategory": "slots",
        "countries": [],
        "currencies": ["EUR"],
        "demoAvailable": True,
        "imageUrl": "https://cdn.hub88.example/dragon.jpg",
        "tags": ["crazy-tooth-studio"],
        "enabled": True,
        "features": [],  # a Hub88 list carries no features, jurisdictions or bet limits (a sync's list may)
        "jurisdictions": [],
    }
    assert all(c["old"] is None for c in report["added"][0]["changes"])
    roulette = {c["field"]: c["new"] for c in report["added"][1]["changes"]}
    assert (roulette["type"], roulette["volatility"], roulette["demoAvailable"], roulette["contributionCategory"]) == (
        "live",
        "medium",
        False,
        "live",
    )
    assert (report["changed"], report["unchanged"], report["missing"]) == ([], [], ["old_classic"])
    assert await catalog(rt) == before
    assert len(await audit_rows(rt)) == records

    done = (await run_import(gql, content_manager.token, hub88_list(), reason="first sync"))["report"]
    assert done["dryRun"] is False
    assert {a["code"]: a["changes"] for a in done["added"]} == {a["code"]: a["changes"] for a in report["added"]}
    after = await catalog(rt)
    assert sorted(after) == ["clt_dragonrising", "evo_lightningroulette", "old_classic", "spb_aviator"]
    assert (after["spb_aviator"]["type"], after["spb_aviator"]["rtp_basis_points"]) == ("crash", 9700)
    assert after["old_classic"] == before["old_classic"]  # missing from the list: kept as it was
    imported = [r for r in await audit_rows(rt) if r.action == "game_provider.catalog_imported"]
    assert [(r.after, r.reason) for r in imported] == [
        (
            {
                "code": "acme",
                "added": ["clt_dragonrising", "evo_lightningroulette", "spb_aviator"],
                "changed": {},
                "unchanged": 0,
                "missing": ["old_classic"],
            },
            "first sync",
        )
    ]

    records = len(await audit_rows(rt))
    again = (await run_import(gql, content_manager.token, hub88_list()))["report"]
    assert (again["added"], again["changed"]) == ([], [])
    assert again["unchanged"] == ["clt_dragonrising", "evo_lightningroulette", "spb_aviator"]
    assert await catalog(rt) == after
    assert len(await audit_rows(rt)) == records


async def test_a_changed_list_shows_old_and_new_and_switches_off_but_never_on(
    rt: Any, gql: Any, content_manager: Any
) -> None:
    await add_provider(gql, content_manager.token, "acme")
    await run_import(gql, content_manager.token, hub88_list())
    # Staff set bet limits and switch the roulette off; the provider then renames one game and retires one.
    async with rt.database.transaction() as db:
        dragon = (await db.scalars(select(Game).where(Game.code == "clt_dragonrising"))).one()
        dragon.max_bet = {"EUR": "100.00"}
        roulette = (await db.scalars(select(Game).where(Game.code == "evo_lightningroulette"))).one()
        roulette.enabled = False
    changed_list = copy.deepcopy(hub88_list())
    changed_list[0].update(name="Dragon Rising Deluxe", rtp=95.5)
    changed_list[2].update(enabled=False)
    del changed_list[0]["url_thumb"]  # an absent field changes nothing

    dry = (await run_import(gql, content_manager.token, changed_list, dryRun=True))["report"]
    changes = {d["code"]: {c["field"]: (c["old"], c["new"]) for c in d["changes"]} for d in dry["changed"]}
    assert changes == {
        "clt_dragonrising": {"title": ("Dragon Rising", "Dragon Rising Deluxe"), "rtp": ("96.10", "95.50")},
        "spb_aviator": {"enabled": (True, False)},
    }
    assert dry["unchanged"] == ["evo_lightningroulette"]  # listed as enabled, kept off: the list never switches on

    await run_import(gql, content_manager.token, changed_list)
    after = await catalog(rt)
    assert (after["clt_dragonrising"]["title"], after["clt_dragonrising"]["rtp_basis_points"]) == (
        "Dragon Rising Deluxe",
        9550,
    )
    assert after["clt_dragonrising"]["max_bet"] == {"EUR": "100.00"}  # staff's field, untouched
    assert after["clt_dragonrising"]["image_url"] == "https://cdn.hub88.example/dragon.jpg"
    assert after["spb_aviator"]["enabled"] is False
    assert after["evo_lightningroulette"]["enabled"] is False
    imported = [r.after for r in await audit_rows(rt) if r.action == "game_provider.catalog_imported"]
    assert imported[-1]["changed"] == {"clt_dragonrising": ["rtp", "title"], "spb_aviator": ["enabled"]}


async def test_a_bad_list_is_refused_whole_with_each_problem_at_its_entry(
    rt: Any, gql: Any, content_manager: Any
) -> None:
    await add_provider(gql, content_manager.token, "acme")
    games = hub88_list()
    games[1]["category"] = "Virtual Sports"
    games[2]["rtp"] = "lots"
    games.append({"game_code": "clt_dragonrising", "name": "Twice", "category": "Slots", "rtp": 96})
    games.append({"name": "No code", "category": "Slots"})
    games.append("not an object")
    games.append({"game_code": "long", "name": "N" * 201, "category": "Slots", "rtp": 96, "url_thumb": "cdn://x.png"})
    refused = await run_import(gql, content_manager.token, games)
    assert refused["report"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID_INPUT", "games[1].category"),
        ("INVALID_INPUT", "games[2].rtp"),
        ("INVALID_INPUT", "games[3].game_code"),
        ("INVALID_INPUT", "games[4].game_code"),
        ("INVALID_INPUT", "games[5]"),
        ("INVALID_INPUT", "games[6].name"),
    ]
    assert "Virtual Sports" in refused["errors"][0]["message"]
    assert await catalog(rt) == {}

    # A new game needs its RTP; the file is refused before anything is written.
    no_rtp = hub88_list()
    no_rtp[1]["rtp"] = None
    refused = await run_import(gql, content_manager.token, no_rtp)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "games[1].rtp")]
    assert await catalog(rt) == {}
    for shape in ({"games": hub88_list()}, "[]", 42):
        refused = await run_import(gql, content_manager.token, shape)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "games")], shape
    unknown = await gql(IMPORT, {"input": {"provider": "nobody", "games": []}}, token=content_manager.token)
    assert [(e["code"], e["field"]) for e in payload(unknown, "importGames")["errors"]] == [("NOT_FOUND", "provider")]
    # Nothing of it reached the audit log either.
    assert not [r for r in await audit_rows(rt) if r.action == "game_provider.catalog_imported"]
