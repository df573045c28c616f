"""Catalogue sync from each provider's game list (docs/catalogue-sync.md): staff sync now and read every run's
report; the list adds, changes, withdraws (switched off, kept) and restores games; a failing list degrades alone;
the schedule syncs a provider once per period; the list's metadata drives launch (certified countries, bet
limits per currency)."""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from authz.subjects import SYSTEM
from core import processes
from core.clock import clock
from integrations.demo.provider import ensure_demo_provider_keys
from integrations.demo.provider.app import create_demo_provider
from integrations.demo.provider.game_list import DEMO_GAMES, GameList, mount_game_list
from models.games import CatalogueSyncRun, Game
from models.outbox import OutboxEvent
from services.providers import catalogue_sync
from tests import cli_process
from tests.conftest import StaffAccount, recorded_statements
from tests.games.conftest import gid
from tests.onboarding.conftest import add_provider, payload

# ---- providers' game lists over real HTTP: the demo provider's list module (integrations/demo/provider/
# game_list.py) mounted once per provider code on a small server in a thread of the test process, so the sync (in
# the app, or in a `croupier` child process) fetches it as it would a provider's.

CODES = ("acme", "brokenco", "junkco")


@dataclass
class GameLists:
    base: str
    lists: dict[str, GameList]

    def url(self, code: str) -> str:
        return f"{self.base}/{code}/games/list"

    def reset(self) -> None:
        for state in self.lists.values():
            state.games, state.failing = copy.deepcopy(DEMO_GAMES), False


@contextmanager
def served_game_lists() -> Iterator[GameLists]:
    """The lists of CODES served on a free port until the block ends."""
    root = FastAPI()
    lists: dict[str, GameList] = {}
    for code in CODES:
        sub = FastAPI()
        lists[code] = mount_game_list(sub, control=True)
        root.mount(f"/{code}", sub)
    port = processes.free_port()
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, name="game-list-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # a startup wait, not a test's sleep: the server binds in a few milliseconds
        assert time.monotonic() < deadline, "the game-list server did not start"
        time.sleep(0.005)
    try:
        yield GameLists(f"http://127.0.0.1:{port}", lists)
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def game_list_server() -> Iterator[GameLists]:
    with served_game_lists() as lists:
        yield lists


@pytest.fixture
def game_lists(game_list_server: GameLists) -> GameLists:
    game_list_server.reset()
    return game_list_server


def game(code: str, **changes: Any) -> dict[str, Any]:
    """A copy of a demo list entry with some fields changed."""
    entry = copy.deepcopy(next(g for g in DEMO_GAMES if g["game_code"] == code))
    return {**entry, **changes}


@pytest.fixture
async def content_manager(make_staff: Any) -> StaffAccount:
    account: StaffAccount = await make_staff(("content_manager", None))
    return account


RUN_FIELDS = """provider trigger status addedCount changedCount withdrawnCount restoredCount unchangedCount error
  added { code title changes { field old new } } changed { code changes { field old new } }
  withdrawn { code title } restored { code }"""
SYNC = (
    "mutation($input: SyncGameCatalogueInput!) { syncGameCatalogue(input: $input) { run { "
    + RUN_FIELDS
    + " } errors { code field message } } }"
)
RUNS = (
    "query($provider: String, $status: CatalogueSyncStatus, $first: Int) { catalogueSyncRuns(provider: $provider, "
    "status: $status, first: $first) { edges { node { " + RUN_FIELDS + " } } } }"
)
GAMES = """query($provider: String!) { catalogGames(provider: $provider, first: 50) { edges { node {
  code rtp enabled withdrawnAt features jurisdictions currencies minBets { amount currency } maxBets { amount currency }
} } } }"""
LAUNCH = """mutation($input: LaunchGameInput!) {
  launchGame(input: $input) { launchUrl errors { code field message } } }"""


async def _provider(gql: Any, token: str, lists: GameLists, code: str = "acme") -> None:
    await add_provider(
        gql, token, code, launchUrl=f"https://{code}.example/play", gameListUrl=lists.url(code), reason="sync test"
    )


async def _sync(gql: Any, token: str, code: str = "acme") -> dict[str, Any]:
    run: dict[str, Any] = payload(await gql(SYNC, {"input": {"provider": code}}, token=token), "syncGameCatalogue")[
        "run"
    ]
    return run


async def _games(gql: Any, token: str, code: str = "acme") -> dict[str, dict[str, Any]]:
    edges = payload(await gql(GAMES, {"provider": code}, token=token), "catalogGames")["edges"]
    return {e["node"]["code"]: e["node"] for e in edges}


def _counts(run: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (
        run["addedCount"],
        run["changedCount"],
        run["withdrawnCount"],
        run["restoredCount"],
        run["unchangedCount"],
    )


async def test_a_sync_adds_changes_withdraws_and_restores_games_and_reports_each_run(
    rt: Any, gql: Any, content_manager: Any, game_lists: GameLists
) -> None:
    token = content_manager.token
    await _provider(gql, token, game_lists)

    first = await _sync(gql, token)
    assert (first["status"], first["trigger"], _counts(first)) == ("SUCCEEDED", "STAFF", (2, 0, 0, 0, 0))
    assert sorted(g["code"] for g in first["added"]) == ["demo-dice", "demo-slot"]
    games = await _games(gql, token)
    slot = games["demo-slot"]
    assert slot["rtp"] == "96.33"
    assert slot["enabled"]
    assert slot["withdrawnAt"] is None
    assert slot["features"] == ["paylines", "provably-fair"]
    assert slot["jurisdictions"] == ["DE", "FI", "GB", "MT", "SE"]
    assert slot["currencies"] == ["EUR", "SEK", "USD"]  # playable at once in the currencies its limits name
    assert {m["currency"]: m["amount"] for m in slot["minBets"]} == {"EUR": "0.10", "SEK": "1.00", "USD": "0.10"}

    # The provider changes its list: a new RTP and limits, one game gone, one new.
    lists = game_lists.lists["acme"]
    lists.games = [
        game("demo-slot", rtp="96.50", bet_limits={"EUR": {"min": "0.20", "max": "50.00"}}),
        game("demo-slot", game_code="demo-crash", name="Demo Crash", category="Crash Games", rtp="97"),
    ]
    second = await _sync(gql, token)
    assert _counts(second) == (1, 1, 1, 0, 0)
    assert second["changed"] == [
        {
            "code": "demo-slot",
            "changes": [
                {"field": "rtp", "old": "96.33", "new": "96.50"},
                {"field": "minBets", "old": {"EUR": "0.10", "SEK": "1.00", "USD": "0.10"}, "new": {"EUR": "0.20"}},
                {
                    "field": "maxBets",
                    "old": {"EUR": "100.00", "SEK": "1000.00", "USD": "100.00"},
                    "new": {"EUR": "50.00"},
                },
            ],
        }
    ]
    assert second["withdrawn"] == [{"code": "demo-dice", "title": "Demo Dice"}]
    games = await _games(gql, token)
    assert games["demo-dice"]["enabled"] is False
    assert games["demo-dice"]["withdrawnAt"]
    assert games["demo-slot"]["currencies"] == ["EUR", "SEK", "USD"]  # the currencies stay staff's

    third = await _sync(gql, token)  # the same list again: nothing changes, nothing is withdrawn twice
    assert _counts(third) == (0, 0, 0, 0, 2)

    lists.games = [*lists.games, copy.deepcopy(DEMO_GAMES[1])]  # demo-dice is listed again
    fourth = await _sync(gql, token)
    assert _counts(fourth) == (0, 0, 0, 1, 2)
    assert fourth["restored"] == [{"code": "demo-dice"}]
    games = await _games(gql, token)
    assert games["demo-dice"]["enabled"] is True
    assert games["demo-dice"]["withdrawnAt"] is None

    body = await gql(RUNS, {"provider": "acme", "first": 10}, token=token)
    runs = [e["node"] for e in payload(body, "catalogueSyncRuns")["edges"]]
    assert [_counts(r) for r in runs] == [_counts(fourth), _counts(third), _counts(second), _counts(first)]
    async with rt.database.session() as db:
        topics = list((await db.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic.like("catalogue.%")))).all())
    assert sorted(set(topics)) == [
        "catalogue.game_added",
        "catalogue.game_changed",
        "catalogue.game_restored",
        "catalogue.game_withdrawn",
        "catalogue.synced",
    ]
    assert topics.count("catalogue.synced") == 4
    assert topics.count("catalogue.game_added") == 3


async def test_a_failing_list_degrades_alone_and_the_cli_syncs_every_provider(
    rt: Any, gql: Any, content_manager: Any, game_lists: GameLists
) -> None:
    token = content_manager.token
    for code in ("acme", "brokenco"):
        await _provider(gql, token, game_lists, code)
    await add_provider(gql, token, "junkco")  # its URL set from the command line
    done = cli_process.run("providers", "set-game-list", "junkco", game_lists.url("junkco"), env=dict(os.environ))
    assert done.stdout.strip() == f"junkco game list: {game_lists.url('junkco')}", (done.stdout, done.stderr)
    game_lists.lists["brokenco"].failing = True  # its list answers 503
    game_lists.lists["junkco"].games = [{"game_code": "x", "name": "X", "category": "Bingo"}]  # no RTP: refused

    done = cli_process.run("providers", "sync", env=dict(os.environ), timeout=120)
    assert done.returncode == 1, (done.stdout, done.stderr)  # a provider failed; the others were synced
    assert "acme: added 2, changed 0, withdrawn 0, restored 0, unchanged 0" in done.stdout
    assert "+ demo-slot" in done.stdout
    assert "brokenco: FAILED: the list answered HTTP 503" in done.stdout
    assert "junkco: FAILED: games[0].rtp" in done.stdout
    async with rt.database.session() as db:
        runs = {r.provider_code: r for r in (await db.scalars(select(CatalogueSyncRun))).all()}
        codes = set((await db.scalars(select(Game.code))).all())
    assert {c: r.status for c, r in runs.items()} == {"acme": "succeeded", "brokenco": "failed", "junkco": "failed"}
    assert runs["acme"].trigger == "cli"
    assert runs["brokenco"].error == "the list answered HTTP 503"
    assert codes == {"demo-slot", "demo-dice"}  # junkco's refused list wrote nothing

    body = await gql(RUNS, {"status": "FAILED", "first": 10}, token=token)
    failed = [e["node"] for e in payload(body, "catalogueSyncRuns")["edges"]]
    assert sorted(r["provider"] for r in failed) == ["brokenco", "junkco"]

    game_lists.lists["acme"].games = []  # an empty list would withdraw the whole catalogue: refused
    done = cli_process.run("providers", "sync", "acme", env=dict(os.environ), timeout=120)
    assert done.returncode == 1, done.stdout
    assert "acme: FAILED: games: The list is empty" in done.stdout
    async with rt.database.session() as db:
        assert all((await db.scalars(select(Game.enabled))).all())

    game_lists.reset()
    done = cli_process.run("providers", "sync", "acme", env=dict(os.environ), timeout=120)
    assert done.returncode == 0, done.stdout
    assert "unchanged 2" in done.stdout


async def test_the_schedule_syncs_each_provider_once_per_period(
    rt: Any, gql: Any, content_manager: Any, game_lists: GameLists, settings: Any
) -> None:
    await _provider(gql, content_manager.token, game_lists)
    period = timedelta(seconds=settings.catalogue_sync_interval_seconds)

    async def sweep() -> list[CatalogueSyncRun]:  # one step of the server's loop (catalogue_sync.run)
        return await catalogue_sync.sync_all(rt, SYSTEM, trigger="schedule", due_before=clock.now() - period)

    assert [r.trigger for r in await sweep()] == ["schedule"]
    assert await sweep() == []  # synced within the period (another replica's sweep sees the same)
    clock.advance(period + timedelta(seconds=1))
    assert [r.unchanged for r in await sweep()] == [2]


async def test_launch_follows_the_lists_certified_countries_and_bet_limits(
    rt: Any, gql: Any, content_manager: Any, game_lists: GameLists, make_player: Any
) -> None:
    await _provider(gql, content_manager.token, game_lists)
    await _sync(gql, content_manager.token)
    async with rt.database.session() as db:
        slot = (await db.scalars(select(Game).where(Game.code == "demo-slot"))).one()

    async def launch(**player: Any) -> list[str]:
        account = await make_player(**player)
        body = await gql(LAUNCH, {"input": {"gameId": gid(slot), "mode": "REAL"}}, token=account.token)
        return [e["code"] for e in body["data"]["launchGame"]["errors"]]

    assert await launch(country="MT", currency="EUR") == []
    assert await launch(country="SE", currency="SEK") == []
    # The provider's next list: no longer certified in Great Britain, and no SEK limits (the game still takes
    # SEK, which is staff's, but the provider has nothing to offer in it).
    game_lists.lists["acme"].games = [
        game("demo-slot", jurisdictions=["MT", "SE"], bet_limits={"EUR": {"min": "0.10", "max": "100.00"}})
    ]
    await _sync(gql, content_manager.token)
    assert await launch(country="GB", currency="EUR") == ["GAME_NOT_CERTIFIED"]
    assert await launch(country="SE", currency="SEK") == ["GAME_LIMITS_MISSING"]
    assert await launch(country="MT", currency="EUR") == []


async def test_staff_set_the_game_list_url_and_a_provider_without_one_is_refused(
    gql: Any, content_manager: Any, game_lists: GameLists
) -> None:
    token = content_manager.token
    await add_provider(gql, token, "acme", launchUrl="https://acme.example/play")
    body = await gql(SYNC, {"input": {"provider": "acme"}}, token=token)
    assert [e["code"] for e in body["data"]["syncGameCatalogue"]["errors"]] == ["INVALID_STATE"]
    update = """mutation($input: UpdateGameProviderInput!) { updateGameProvider(input: $input) {
      provider { gameListUrl } errors { code field } } }"""
    body = await gql(update, {"input": {"provider": "acme", "gameListUrl": "ftp://nope"}}, token=token)
    assert body["data"]["updateGameProvider"]["errors"] == [{"code": "INVALID_INPUT", "field": "gameListUrl"}]
    body = await gql(update, {"input": {"provider": "acme", "gameListUrl": game_lists.url("acme")}}, token=token)
    assert payload(body, "updateGameProvider")["provider"]["gameListUrl"] == game_lists.url("acme")
    assert (await _sync(gql, token))["status"] == "SUCCEEDED"


async def test_the_sync_runs_list_costs_the_same_statements_whatever_the_page_size(
    rt: Any, gql: Any, content_manager: Any, game_lists: GameLists
) -> None:
    token = content_manager.token
    await _provider(gql, token, game_lists)
    for _ in range(6):
        await _sync(gql, token)
    await gql(RUNS, {"first": 1}, token=token)  # warm the role set's decisions

    async def statements(size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(RUNS, {"first": size}, token=token)
        assert len(payload(body, "catalogueSyncRuns")["edges"]) == size
        return len(seen)

    assert await statements(1) == await statements(6)


async def test_the_demo_provider_serves_its_game_list(tmp_path: Any) -> None:
    private_key, _ = ensure_demo_provider_keys(tmp_path)
    app = create_demo_provider(platform_url="http://croupier.test", private_key_path=private_key, control=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo.test") as http:
        assert (await http.get("/games/list")).json() == DEMO_GAMES
        assert (await http.put("/control/games", json=[DEMO_GAMES[0]])).json() == {"games": 1}
        assert [g["game_code"] for g in (await http.get("/games/list")).json()] == ["demo-slot"]
        await http.post("/control/games/fail")
        assert (await http.get("/games/list")).status_code == 503


async def test_a_malformed_url_in_a_game_list_or_from_staff_is_a_structured_refusal(
    gql: Any, make_staff: Any, game_lists: GameLists
) -> None:
    token = (await make_staff(("content_manager", None))).token
    await _provider(gql, token, game_lists)
    update = """mutation($input: UpdateGameProviderInput!) { updateGameProvider(input: $input) {
      errors { code field } } }"""
    body = await gql(update, {"input": {"provider": "acme", "gameListUrl": "http://[oops/list"}}, token=token)
    assert "errors" not in body, body  # was INTERNAL: urlsplit's ValueError
    assert body["data"]["updateGameProvider"]["errors"] == [{"code": "INVALID_INPUT", "field": "gameListUrl"}]

    game_lists.lists["acme"].games = [game("demo-slot", url_thumb="http://[oops/thumb.png")]
    body = await gql(SYNC, {"input": {"provider": "acme"}}, token=token)
    assert "errors" not in body, body  # was INTERNAL
    run = payload(body, "syncGameCatalogue")["run"]
    assert run["status"] == "FAILED"
    assert run["error"].startswith("games[0].url_thumb:"), run
