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
import uuid
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


async def seed(database_url: str, players: int) -> tuple[list[str], str, list[str]]:
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
        return tokens, staff_token, ids
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
    app = create_app(rt.settings)
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


def main() -> None:
    args = common.arguments(__doc__ or "", players=2000, profile=False, statements_only=False).parse_args()
    seconds = 6 if args.quick else 20
    print("\n".join(common.machine()))
    database_url = common.fresh_database(common.BENCH_DB)
    tokens, staff_token, profile_ids = asyncio.run(seed(database_url, 300 if args.quick else args.players))
    if args.statements_only:
        report_statements(database_url, tokens, staff_token, profile_ids)
        return
    with common.server(database_url) as served:
        bonuses = asyncio.run(served_has_bonuses(served.base, tokens[0]))
        page = page_query(bonuses)
        print(
            f"page: viewer, balances, 3 lobby categories × 8 games"
            f"{', active bonuses' if bonuses else ' (no bonuses in the schema yet)'}; {CLIENTS} clients, "
            f"{seconds} s each"
        )
        print(
            f"profile: the back office's player 360, {len(profile_documents())} queries of admin/{PROFILE_FILE} at once"
        )

        def player_page(n: int) -> common.Request:
            return (
                "POST",
                "/graphql",
                {"query": page, "variables": {"first": 8}},
                {"Authorization": f"Bearer {tokens[n % len(tokens)]}"},
            )

        def staff_profile(n: int) -> list[common.Request]:
            headers = {"Authorization": f"Bearer {staff_token}", "X-Croupier-Brand": world.BRAND}
            return [
                ("POST", "/graphql", body, headers) for body in profile_bodies(profile_ids[n % len(profile_ids)], 20)
            ]

        def health(_: int) -> common.Request:
            return ("GET", "/healthz", None, {})

        def typename(n: int) -> common.Request:
            return ("POST", "/graphql", {"query": "{ __typename }"}, {"Authorization": f"Bearer {tokens[n % 50]}"})

        async def measure() -> None:
            # Warm-up: the first GraphQL request of each role set evaluates the policy (~2 s, being fixed on main).
            for request in (player_page, staff_profile, typename):
                await common.load(served.base, request, clients=4, seconds=2)
            floor = await common.load(served.base, health, clients=CLIENTS, seconds=seconds)
            print(f"{'baseline GET /healthz':<34}{floor.line()}")
            graphql = await common.load(served.base, typename, clients=CLIENTS, seconds=seconds)
            print(f"{'baseline { __typename }':<34}{graphql.line(floor.rate)}")
            if args.profile:
                with profile.recording(served.pid, "lobby-page", seconds=max(4, seconds - 2)) as profiled:
                    run = await common.load(served.base, player_page, clients=CLIENTS, seconds=seconds)
            else:
                run = await common.load(served.base, player_page, clients=CLIENTS, seconds=seconds)
            print(f"{'lobby page':<34}{run.line(graphql.rate)}")
            run = await common.load(served.base, staff_profile, clients=CLIENTS, seconds=seconds)
            print(f"{'back-office player 360 (pages)':<34}{run.line(graphql.rate)}")
            # One client: the time a page takes when nothing queues in front of it.
            alone = await common.load(served.base, typename, clients=1, seconds=seconds / 2)
            print(f"{'{ __typename }, 1 client':<34}{alone.line()}")
            for label, request in (("lobby page, 1 client", player_page), ("player 360, 1 client", staff_profile)):
                run = await common.load(served.base, request, clients=1, seconds=seconds / 2)
                print(f"{label:<34}{run.line(alone.rate)}")
            if args.profile:
                print("\nprofile of the server serving the lobby page (py-spy):")
                print("\n".join(profile.summary(profiled)))

        asyncio.run(measure())
    report_statements(database_url, tokens, staff_token, profile_ids)
    print("\ngoal (issue 8): p95 under 150 ms (the industry's wallet bar, applied to pages too); statements constant")


def report_statements(database_url: str, tokens: list[str], staff_token: str, profile_ids: list[str]) -> None:
    counts = asyncio.run(statements_per_request(database_url, tokens[0], staff_token, profile_ids[0]))
    print("\nSQL statements per request (in-process count; must not grow with the page):")
    for label, values in counts.items():
        print(f"  {label:<46} {' / '.join(map(str, values))}")


if __name__ == "__main__":
    main()
