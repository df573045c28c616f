"""Benchmark 2: a player's lobby page and a back-office player profile over GraphQL.

    .venv/bin/python -m bench.lobby [--quick] [--profile] [--statements-only]

The page: the viewer, their balances, the lobby's three categories with 8 games each (24 games), and
their active bonuses when the schema has them. The profile: a staff member (superadmin) opening a
player's 360 in the back office, with the back office's own queries — every query of
admin/app/player.js, read from the JavaScript source as tests/backoffice reads it (so the benchmark
cannot drift from the screen) and sent at once, as the page's sections send them: contact data,
balances, the last 20 money movements with their postings, payments, rounds with their provider calls,
login sessions, RG, notes, bonuses and the audit trail. Each is sent by 16 concurrent clients (many
players, many profiles) to `croupier serve` (one worker).

Baselines in the same run, on the same server: `GET /healthz` (the HTTP stack alone) and the smallest
GraphQL query, `{ __typename }` (the GraphQL stack alone); the ratios say what the page costs beyond
the stack. SQL statements per request are counted in-process (an SQLAlchemy cursor hook) for three
page sizes: the count must not grow with the page. `--statements-only` seeds and counts, without load.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

from bench import common, profile, world
from tests.backoffice.documents import Document, admin_documents

CLIENTS = 16
PAGE = """
query Page($first: Int!) {
  me { id email firstName currency
       wallet { currency cash { amount currency } bonus { amount } withdrawalPending { amount } }
       %(bonuses)s }
  lobby(first: $first) { code title games { id code title type imageUrl tags provider { name } demoAvailable } }
}"""
PROFILE_FILE = "app/player.js"  # the back office's player 360
# The one-object reads bench.graphql_peer compares with PostGraphile (anonymous: no token to check).
BRANDS = "{ brands { code name } }"
GAME = "query Game($id: ID!, $brand: String) { game(id: $id, brand: $brand) { id code title } }"


def profile_documents() -> list[Document]:
    """Every query the player 360 sends, from the admin's source."""
    found = admin_documents()
    if found.problems:
        raise SystemExit(f"cannot read the back office's documents: {found.problems}")
    documents = [d for d in found.in_file(PROFILE_FILE) if d.kind == "query"]
    if not documents:
        raise SystemExit(f"no query found in admin/{PROFILE_FILE}")
    return documents


def profile_bodies(player_id: str, first: int) -> list[dict[str, Any]]:
    """The 360's requests for one player, each with the variables its document declares."""
    values = {"id": player_id, "first": first}
    return [
        {"query": d.text, "variables": {k: v for k, v in values.items() if k in d.variables}}
        for d in profile_documents()
    ]


SERVER_WORKERS = frozenset({"bonus-worker", "rg-worker", "outbox-relay"})  # server.py's background tasks
CATEGORIES = [("top", "Top games"), ("new", "New"), ("slots", "Slots")]


async def seed(database_url: str, players: int) -> Seeded:
    """Players with tokens, a superadmin's token, and the global ids of players with a history."""
    from services import wallet

    rt = common.runtime(database_url)
    try:
        place = await world.build(rt, players=players, balance=100_00, games=120)
        async with rt.database.transaction() as db:
            for position, (code, title) in enumerate(CATEGORIES):
                category = (
                    await db.execute(
                        text(
                            "INSERT INTO lobby_categories (id, code, title, position) "
                            "VALUES (gen_random_uuid(), :c, :t, :p) "
                            "RETURNING id"
                        ),
                        {"c": code, "t": title, "p": position},
                    )
                ).scalar_one()
                await db.execute(
                    text("""
                    INSERT INTO lobby_category_games (category_id, game_id, position)
                    SELECT :category, id, row_number() OVER (ORDER BY code) FROM games
                    WHERE code LIKE 'bench-slot%' ORDER BY code OFFSET :skip LIMIT 40"""),
                    {"category": category, "skip": position * 40},
                )
        tokens = await world.player_tokens(rt, place, place.seats[:200])
        staff_token = await world.superadmin_token(rt)
        profiled = place.seats[:50]
        for seat in profiled:  # a history of money movements to page through
            async with rt.database.transaction() as db:
                for _ in range(30):
                    await wallet.adjust(
                        db,
                        player_id=uuid.UUID(seat.user),
                        currency=world.CURRENCY,
                        amount=1_00,
                        adjustment_id=uuid.uuid4(),
                        actor=wallet.Actor("system"),
                        reason="bench",
                    )
        from strawberry import relay

        ids = [str(relay.GlobalID("Player", seat.user)) for seat in profiled]
        async with rt.database.session() as db:
            game_id = (await db.execute(text("SELECT id FROM games ORDER BY code LIMIT 1"))).scalar_one()
        return Seeded(tokens, staff_token, ids, str(relay.GlobalID("Game", str(game_id))))
    finally:
        await rt.close()


async def has_bonuses(http: httpx.AsyncClient, token: str) -> bool:
    answer = (
        await http.post(
            "/graphql",
            json={"query": '{ __type(name: "Player") { fields { name } } }'},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    return any(f["name"] == "bonuses" for f in (answer.get("data", {}).get("__type") or {}).get("fields", []))


async def served_has_bonuses(base: str, token: str) -> bool:
    async with httpx.AsyncClient(base_url=base) as http:
        return await has_bonuses(http, token)


def page_query(bonuses: bool) -> str:
    return PAGE % {"bonuses": "bonuses { __typename }" if bonuses else ""}


async def statements_per_request(database_url: str, player: str, staff: str, profile_id: str) -> dict[str, list[int]]:
    """SQL statements per request, counted in-process, for small, typical and large pages."""
    from server import create_app

    rt = common.runtime(database_url)
    # The load runs just used these tokens: the per-minute limits would refuse the counting requests.
    settings = rt.settings.model_copy(
        update={"requests_per_minute_per_subject": 100_000_000, "requests_per_minute_per_ip": 100_000_000}
    )
    app = create_app(settings)
    await rt.close()
    counted = {"n": 0}
    results: dict[str, list[int]] = {}
    async with app.router.lifespan_context(app):
        engine = app.state.rt.database.engine.sync_engine

        def count(*_: Any) -> None:
            task = asyncio.current_task()
            if task is None or task.get_name() not in SERVER_WORKERS:  # the request's own statements only
                counted["n"] += 1

        event.listen(engine, "before_cursor_execute", count)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            bonuses = await has_bonuses(http, player)

            async def statements(bodies: list[dict[str, Any]], token: str, brand: str | None) -> int:
                """The statements of these requests, one after another (after a first run: caches warm)."""
                headers = {"Authorization": f"Bearer {token}", **({"X-Croupier-Brand": brand} if brand else {})}
                total = 0
                for body in bodies:
                    await http.post("/graphql", json=body, headers=headers)
                    counted["n"] = 0
                    answer = (await http.post("/graphql", json=body, headers=headers)).json()
                    assert not answer.get("errors"), answer["errors"]
                    total += counted["n"]
                return total

            results["page (lobby of 6 / 24 / 96 games)"] = [
                await statements([{"query": page_query(bonuses), "variables": {"first": n}}], player, None)
                for n in (2, 8, 32)
            ]
            label = f"profile ({len(profile_documents())} queries; first: 5 / 20 / 100)"
            results[label] = [await statements(profile_bodies(profile_id, n), staff, world.BRAND) for n in (5, 20, 100)]
        event.remove(engine, "before_cursor_execute", count)
    return results


@dataclass(frozen=True)
class Seeded:
    tokens: list[str]  # players' access tokens
    staff_token: str  # a superadmin's
    profile_ids: list[str]  # global ids of players with a history
    game_id: str  # a game's global id (the one-object-by-id read)


def measured_requests(seeded: Seeded, page: str) -> list[tuple[str, Any]]:
    """What is measured, in order: (label, request of the n-th call)."""

    def health(_: int) -> common.Request:
        return ("GET", "/healthz", None, {})

    def typename(n: int) -> common.Request:
        return ("POST", "/graphql", {"query": "{ __typename }"}, {"Authorization": f"Bearer {seeded.tokens[n % 50]}"})

    def brands(_: int) -> common.Request:
        return ("POST", "/graphql", {"query": BRANDS}, {})

    def game(_: int) -> common.Request:
        return ("POST", "/graphql", {"query": GAME, "variables": {"id": seeded.game_id, "brand": world.BRAND}}, {})

    def player_page(n: int) -> common.Request:
        headers = {"Authorization": f"Bearer {seeded.tokens[n % len(seeded.tokens)]}"}
        return ("POST", "/graphql", {"query": page, "variables": {"first": 8}}, headers)

    def staff_profile(n: int) -> list[common.Request]:
        headers = {"Authorization": f"Bearer {seeded.staff_token}", "X-Croupier-Brand": world.BRAND}
        profile_id = seeded.profile_ids[n % len(seeded.profile_ids)]
        return [("POST", "/graphql", body, headers) for body in profile_bodies(profile_id, 20)]

    return [
        ("baseline GET /healthz", health),
        ("baseline { __typename }", typename),
        ("{ brands { code name } }", brands),
        ("one game by id (anonymous)", game),
        ("lobby page", player_page),
        ("back-office player 360 (pages)", staff_profile),
    ]


def main() -> None:
    args = common.arguments(
        __doc__ or "", players=2000, profile=False, statements_only=False, against="", reps=1
    ).parse_args()
    seconds = 6 if args.quick else 20
    print("\n".join(common.machine()))
    database_url = common.fresh_database(common.BENCH_DB)
    seeded = asyncio.run(seed(database_url, 300 if args.quick else args.players))
    if args.statements_only:
        report_statements(database_url, seeded)
        return
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(common.server(database_url))
        servers = [("", ours)]
        if args.against:
            before = stack.enter_context(common.server(database_url, checkout=Path(args.against).resolve()))
            servers = [(f"before ({args.against})", before), ("after (this checkout)", ours)]
        bonuses = asyncio.run(served_has_bonuses(ours.base, seeded.tokens[0]))
        page = page_query(bonuses)
        print(
            f"page: viewer, balances, 3 lobby categories × 8 games"
            f"{', active bonuses' if bonuses else ' (no bonuses in the schema yet)'}; {CLIENTS} clients, "
            f"{seconds} s each"
        )
        print(
            f"profile: the back office's player 360, {len(profile_documents())} queries of admin/{PROFILE_FILE} at once"
        )
        if args.against:
            print(f"each figure measured on both servers, interleaved ({args.reps} rep(s)), against the same database")
        requests = measured_requests(seeded, page)

        async def one(served: common.Served, request: Any, clients: int, run_seconds: float) -> common.Run:
            return await common.load(served.base, request, clients=clients, seconds=run_seconds, server_pid=served.pid)

        async def measure() -> None:
            # Warm-up: every kind of request once on each server (policy decisions, caches, pool).
            for _, served in servers:
                for _, request in requests:
                    await common.load(served.base, request, clients=4, seconds=1)
            profiled: dict[str, Path] = {}
            for clients, run_seconds in ((CLIENTS, seconds), (1, seconds / 2)):
                if clients == 1:
                    print("\none client (the time a request takes when nothing queues in front of it):")
                rates: dict[str, dict[str, list[common.Run]]] = {}
                for label, request in requests:
                    for rep in range(args.reps):
                        order = servers if rep % 2 == 0 else servers[::-1]
                        for name, served in order:
                            profile_this = args.profile and clients > 1 and served is ours and rep == 0
                            profile_this = profile_this and label in PROFILED
                            if profile_this:
                                with profile.recording(
                                    served.pid, PROFILED[label], seconds=max(4, int(run_seconds) - 2)
                                ) as path:
                                    run = await one(served, request, clients, run_seconds)
                                profiled[label] = path
                            else:
                                run = await one(served, request, clients, run_seconds)
                            rates.setdefault(label, {}).setdefault(name, []).append(run)
                            prefix = f"{name}: " if name else ""
                            print(f"{prefix + label:<34}{run.line()}", flush=True)
                    if args.against:
                        print(comparison(label, rates[label], [name for name, _ in servers]), flush=True)
            for label, path in profiled.items():
                print(f"\nprofile of the server serving {label} (py-spy):")
                print("\n".join(profile.summary(path)))

        asyncio.run(measure())
    report_statements(database_url, seeded)
    print("\ngoal (issue 8): p95 under 150 ms (the industry's wallet bar, applied to pages too); statements constant")
    print("goal (issue 15): the lobby page at least 4× the before figure at 16 clients, measured in one run")


PROFILED = {"lobby page": "lobby-page", "{ brands { code name } }": "brands"}


def comparison(label: str, runs: dict[str, list[common.Run]], names: list[str]) -> str:
    """After against before: requests per second and the server's CPU per request, over the reps."""
    before, after = (runs[name] for name in names)

    def rate(side: list[common.Run]) -> float:
        return sum(r.calls for r in side) / sum(r.seconds for r in side)

    def cpu(side: list[common.Run]) -> float:
        return 1000 * sum(r.server_cpu or 0.0 for r in side) / max(1, sum(r.calls for r in side))

    return (
        f"  => {label}: {rate(after) / rate(before):.2f}× the requests per second "
        f"({rate(before):.0f} → {rate(after):.0f}); server CPU a request {cpu(before):.2f} → {cpu(after):.2f} ms"
    )


def report_statements(database_url: str, seeded: Seeded) -> None:
    counts = asyncio.run(
        statements_per_request(database_url, seeded.tokens[0], seeded.staff_token, seeded.profile_ids[0])
    )
    print("\nSQL statements per request (in-process count; must not grow with the page):")
    for label, values in counts.items():
        print(f"  {label:<46} {' / '.join(map(str, values))}")


if __name__ == "__main__":
    main()
