"""What one GraphQL read costs the server, measured in one process with no load around it.

    BENCH_DB=croupier_bench_reads BENCH_REDIS=redis://127.0.0.1:6379/1 .venv/bin/python -m bench.graphql_calls

The reads of `bench.lobby` and `bench.graphql_peer` — the lobby page (a player's token), `{ brands { code name } }`
(anonymous, and with the superadmin's token as bench.graphql_peer sends it), one game by id (anonymous, and with a
player's token) and `{ __typename }` — go through the whole ASGI application, called directly with no HTTP client
or socket around it, one after another. Per request: this process's CPU (`time.process_time`), which a machine
shared with other work disturbs far less than requests per second. For the same-hour baseline, run this
file with another checkout first on the module path, alternating with this one, on the database the first
run seeded (`--reuse`; its tokens last 12 hours):
`cd /tmp && PYTHONPATH=/work/main /work/main/.venv/bin/python /work/wt/read/bench/graphql_calls.py --reuse`.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import orjson

from bench import common, lobby, world
from bench.wallet_calls import Asgi


async def measure(database_url: str, seeded: lobby.Seeded, calls: int, warmup: int) -> dict[str, float]:
    from server import create_app

    rt = common.runtime(database_url)
    # bench.lobby's server settings: no rate limit to meet (the hit on Redis is still made and counted)
    rt.settings = rt.settings.model_copy(
        update={"requests_per_minute_per_subject": 100_000_000, "requests_per_minute_per_ip": 100_000_000}
    )
    app = create_app(rt.settings)
    app.state.rt = rt
    client = Asgi(app)
    page = lobby.page_query(True)
    game = {"query": lobby.GAME, "variables": {"id": seeded.game_id, "brand": world.BRAND}}
    peer_document = "query Game($id: ID!) { game(id: $id) { id code title } }"
    peer_game = {"query": peer_document, "variables": {"id": seeded.game_id}}
    staff = {"authorization": f"Bearer {seeded.staff_token}"}

    def player(n: int) -> dict[str, str]:
        return {"authorization": f"Bearer {seeded.tokens[n % len(seeded.tokens)]}"}

    reads: list[tuple[str, Any]] = [
        ("lobby page", lambda n: ({"query": page, "variables": {"first": 8}}, player(n))),
        ("{ brands { code name } }", lambda n: ({"query": lobby.BRANDS}, {})),
        ("brands, superadmin (peer)", lambda n: ({"query": lobby.BRANDS}, staff)),
        ("one game by id (anonymous)", lambda n: (game, {})),
        ("game by id, player (peer)", lambda n: (peer_game, player(n))),
        ("{ __typename }", lambda n: ({"query": "{ __typename }"}, player(n))),
    ]
    figures: dict[str, float] = {}
    try:
        for label, request in reads:

            async def run(count: int, request: Any = request, label: str = label) -> None:
                for n in range(count):
                    body, headers = request(n)
                    status, answer = await client.post(
                        "/graphql", orjson.dumps(body), {"content-type": "application/json", **headers}
                    )
                    if status != 200 or b'"errors"' in answer:
                        raise SystemExit(f"{label}: {status} {answer[:300]!r}")

            await run(warmup)
            before = time.process_time()
            await run(calls)
            figures[label] = 1000 * (time.process_time() - before) / calls
    finally:
        await rt.close()
    return figures


def main() -> None:
    parser = common.arguments(__doc__ or "", calls=1000, warmup=200, reps=3, players=300, reuse=False)
    args = parser.parse_args()
    saved = common.DATA_DIR / f"graphql_calls-{common.BENCH_DB}.json"
    if args.reuse and saved.exists():  # the database seeded by an earlier run (of either checkout)
        database_url = common.url(common.BENCH_DB)
        seeded = lobby.Seeded(**orjson.loads(saved.read_bytes()))
    else:  # tokens that outlive a session of measuring (ACCESS_TOKEN_TTL_SECONDS, read by the seeding runtime)
        os.environ.setdefault("ACCESS_TOKEN_TTL_SECONDS", str(12 * 3600))
        database_url = common.fresh_database(common.BENCH_DB)
        seeded = asyncio.run(lobby.seed(database_url, args.players))
        common.analyze(database_url)
        common.DATA_DIR.mkdir(exist_ok=True)
        saved.write_bytes(orjson.dumps(seeded.__dict__))
    results: dict[str, list[float]] = {}
    for _ in range(args.reps):
        for label, ms in asyncio.run(measure(database_url, seeded, args.calls, args.warmup)).items():
            results.setdefault(label, []).append(ms)
    for label, values in results.items():
        print(f"{label:<30} server CPU a request {min(values):6.3f} ms (reps: {', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
