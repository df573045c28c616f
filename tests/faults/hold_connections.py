"""Hold most of a PostgreSQL server's connections, as a busy neighbour would, until stopped.

    python -m tests.faults.hold_connections postgresql://postgres@127.0.0.1:5432/postgres --leave 25

opens idle connections until only `--leave` of the server's `max_connections` are free (counting what
other clients already use), prints `holding N of M connections, L free`, and keeps them until SIGTERM
or Ctrl-C. tests/faults/test_connection_pressure.py runs one; to check the whole suite the same way,
run one against a PostgreSQL of your own and point the suite at it with CROUPIER_TEST_POSTGRES
(docs/testing.md).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import asyncpg


async def hold(url: str, leave: int) -> None:
    probe = await asyncpg.connect(url, timeout=30)
    limit = int(await probe.fetchval("SHOW max_connections"))
    in_use = int(await probe.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"))
    in_use -= 1  # the probe itself, closed now
    await probe.close()
    wanted = max(0, limit - in_use - leave)
    held = [await asyncpg.connect(url, timeout=30) for _ in range(wanted)]
    print(f"holding {len(held)} of {limit} connections, {limit - in_use - len(held)} free", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for connection in held:
        await connection.close(timeout=5)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="an admin URL of the server (postgresql://…/postgres)")
    parser.add_argument("--leave", type=int, required=True, help="connections to leave free")
    arguments = parser.parse_args(argv)
    asyncio.run(hold(arguments.url, arguments.leave))


if __name__ == "__main__":
    main(sys.argv[1:])
