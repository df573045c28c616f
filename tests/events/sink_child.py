"""The NATS sink's runner in a process of its own, for the tests that kill it: `python -m tests.events.sink_child`.

Configured by the environment as the platform is (DATABASE_URL, REDIS_URL, NATS_*), plus the runner's
pace (SINK_CLAIM_IDLE_MS, SINK_SWEEP_GRACE_SECONDS) and SINK_PAUSE_FILE: when set, the first batch
JetStream acknowledged is written to that file (its event ids) and the process then waits forever, as if
frozen between the broker's acknowledgements and the database commit, for the test to SIGKILL it there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core import outbox
from core.consumers import Event, Runner
from core.redis import create_redis
from core.settings import get_settings
from services.nats_sink import NatsSink


@dataclass
class PausingSink(NatsSink):
    pause_file: Path | None = None

    async def publish(self, events: Sequence[Event]) -> None:
        await super().publish(events)
        if self.pause_file is not None:
            self.pause_file.write_text(",".join(str(e.id) for e in events))
            await asyncio.Event().wait()  # published, never recorded: the test kills the process here


async def main() -> None:
    settings = get_settings()
    sink = NatsSink.from_settings(settings)
    assert sink is not None, "NATS_URL is not set"
    assert settings.database_url, "DATABASE_URL is not set"
    assert settings.redis_url, "REDIS_URL is not set"
    pause = os.environ.get("SINK_PAUSE_FILE")
    sink = PausingSink(
        url=sink.url,
        stream=sink.stream,
        prefix=sink.prefix,
        duplicate_window=sink.duplicate_window,
        timeout=sink.timeout,
        pause_file=Path(pause) if pause else None,
    )
    runner = Runner(
        sink,
        outbox.asyncpg_dsn(settings.database_url),
        create_redis(settings.redis_url),
        claim_idle_ms=int(os.environ.get("SINK_CLAIM_IDLE_MS", "200")),
        sweep_every=0.2,
        sweep_grace=float(os.environ.get("SINK_SWEEP_GRACE_SECONDS", "1")),
        batch=int(os.environ.get("SINK_BATCH", "100")),
        retry_seconds=0.2,
    )
    await runner.run()


if __name__ == "__main__":
    asyncio.run(main())
